"""The Spark engine in the stack (`-c engine=spark`, infra/spark.py), checked against the synthesised template:
the default stack has none of it; with it, one state machine runs the EMR Serverless job and then the ETL task
on the same stage prefix, every failure reaches the failed-runs queue and the existing alarms, and the job's
role reaches raw/, stage/ and its logs only."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Annotations, Match, Template

from tests.helpers import REPO
from tests.infra.test_deploy_path import _chosen, _state_machine

NEW_ACCOUNT_EMR_SERVERLESS_VCPU = 16      # "Max concurrent vCPUs per account", a new account's default
EXECUTION = "run-42"                      # the execution name the walk through the definition uses
PUBLISHED = {"startJobRun.sync": {"JobRunId": "j-1"}, "runTask.sync": {"Containers": [{"ExitCode": 0}]}}


@pytest.fixture(scope="module")
def spark():
    """The dev stage with -c engine=spark: one synth, shared by this module's tests."""
    from infra.app import build

    app, stack = build({"stage": "dev", "engine": "spark"})
    assembly = app.synth()
    return stack, Template.from_stack(stack), Path(assembly.directory) / f"{stack.stack_name}.template.json"


# -- a walk through the definition: the two intrinsic functions' results are what the task and job receive --

def _split_arguments(text: str) -> list[str]:
    depth, quoted, start, parts = 0, False, 0, []
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    return [*parts, text[start:].strip()] if text.strip() else parts


def _path(state: dict, path: str):
    value = state
    for name in [p for p in path.removeprefix("$").split(".") if p]:
        value = value[name]
    return value


def _evaluate(expression: str, state: dict):
    """The subset of Amazon States Language intrinsics the definition uses, by their documented meaning."""
    expression = expression.strip()
    if expression.startswith("'"):
        return expression[1:-1]
    if expression.startswith("$$.Execution."):
        return {"Name": EXECUTION, "Id": f"execution:{EXECUTION}"}[expression.removeprefix("$$.Execution.")]
    if expression.startswith("$"):
        return _path(state, expression)
    if expression in ("false", "true"):
        return expression == "true"
    name, _, rest = expression.partition("(")
    args = [_evaluate(a, state) for a in _split_arguments(rest[:-1])]
    if name == "States.Format":
        pieces = args[0].split("{}")
        assert len(pieces) == len(args), expression
        return "".join(p + str(a) for p, a in zip(pieces, [*args[1:], ""]))
    if name == "States.JsonMerge":
        assert args[2] is False, "a shallow merge"
        return {**args[0], **args[1]}
    if name == "States.Array":
        return args
    if name == "States.JsonToString":
        return json.dumps(args[0])
    if name == "States.UUID":
        return "uuid"
    raise AssertionError(f"unexpected intrinsic {name}")


def _parameters(parameters, state: dict):
    if isinstance(parameters, dict):
        return {k.removesuffix(".$"): _evaluate(v, state) if k.endswith(".$") else _parameters(v, state)
                for k, v in parameters.items()}
    if isinstance(parameters, list):
        return [_parameters(v, state) for v in parameters]
    return parameters


def _with_result(state: dict, result_path: str | None, result) -> dict:
    if result_path == "$":
        return result
    if result_path is None:
        return state
    return {**state, result_path.removeprefix("$."): result}


def _walk(definition: dict, start: dict, results: dict[str, object]) -> tuple[list[tuple[str, dict]], str]:
    """Run the definition on one input: each task's resolved parameters, in order, and the final state's name.
    results: each task resource's answer (by the resource's last segment)."""
    states, name, state, calls = definition["States"], definition["StartAt"], start, []
    while True:
        step = states[name]
        if step["Type"] == "Pass":
            state = _with_result(state, step.get("ResultPath", "$"), _parameters(step["Parameters"], state))
        elif step["Type"] == "Task":
            call = _parameters(step["Parameters"], state)
            kind = step["Resource"].rsplit(":", 1)[-1]
            calls.append((kind, call))
            state = _with_result(state, step.get("ResultPath", "$"), results.get(kind))
        elif step["Type"] == "Choice":
            name = _chosen(step, state)
            continue
        else:
            return calls, name
        name = step["Next"]


def _application(template) -> dict:
    [application] = template.find_resources("AWS::EMRServerless::Application").values()
    return application["Properties"]


def _policy_statements(template, role_id: str) -> list[dict]:
    return [s for p in template.find_resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _arn(resource) -> str:
    """A policy resource as text, each token named (<LogicalId> or <LogicalId.Attribute>)."""
    if isinstance(resource, str):
        return resource
    if "Fn::Join" in resource:
        return "".join(_arn(part) for part in resource["Fn::Join"][1])
    if "Fn::GetAtt" in resource:
        return "<{}.{}>".format(*resource["Fn::GetAtt"])
    if "Ref" in resource:
        return f"<{resource['Ref']}>"
    return json.dumps(resource, sort_keys=True)


def _grants(statements: list[dict]) -> set[tuple]:
    """(action, resource, condition) for every pair a statement allows."""
    out = set()
    for s in statements:
        assert s["Effect"] == "Allow"
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        out |= {(a, _arn(r), json.dumps(s.get("Condition"), sort_keys=True)) for a in actions for r in resources}
    return out


def _bucket(template) -> str:
    [key] = template.find_resources("AWS::S3::Bucket",
                                    {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}}).keys()
    return key


def _id(template, kind: str, **properties) -> str:
    [key] = template.find_resources(kind, {"Properties": properties} if properties else None).keys()
    return key


# -- the default stack ---------------------------------------------------------------------------------------

def test_the_default_stack_has_no_spark_engine(synthesized):
    _, template, _ = synthesized
    resources = template.to_json()["Resources"].values()
    assert not [r["Type"] for r in resources if r["Type"].split("::")[1] in ("EMRServerless", "EMR", "Glue", "ECR")
                or r["Type"] == "Custom::CDKECRDeployment"]
    definition = _state_machine(template)
    assert definition["States"][definition["StartAt"]]["Resource"].endswith(":states:::ecs:runTask.sync")
    assert "emr-serverless" not in json.dumps(definition)


def test_an_engine_other_than_pandas_or_spark_fails_the_synth_naming_the_switch():
    from infra.app import build

    with pytest.raises(ValueError, match=r"engine='flink'.*pandas or spark"):
        build({"stage": "dev", "engine": "flink"})


# -- with -c engine=spark ------------------------------------------------------------------------------------

def test_one_state_machine_runs_the_job_then_the_task_on_the_same_stage_prefix(spark):
    """The rule's input: the job reads raw/ and writes stage/<execution name>/, then the task gets the event
    with that prefix (and the input's own keys), and exit code 0 ends in success."""
    _, template, _ = spark
    [machine_id] = template.find_resources("AWS::StepFunctions::StateMachine").keys()
    [rule] = template.find_resources("AWS::Events::Rule").values()
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": machine_id}
    trigger = json.loads(target["Input"])
    calls, end = _walk(_state_machine(template), trigger, PUBLISHED)
    assert [kind for kind, _ in calls] == ["startJobRun.sync", "runTask.sync"]
    assert _state_machine(template)["States"][end]["Type"] == "Succeed"
    (_, job), (_, task) = calls
    stage, bucket = f"stage/{EXECUTION}/", f"<{_bucket(template)}>"
    assert job["JobDriver"]["SparkSubmit"]["EntryPointArguments"] == [
        "--data-dir", f"s3://{bucket}/raw", "--stage", f"s3://{bucket}/{stage}"]
    assert job["ApplicationId"] == f"<['{_id(template, 'AWS::EMRServerless::Application')}', 'ApplicationId']>"
    assert job["Name"] == EXECUTION
    [environment] = task["Overrides"]["ContainerOverrides"][0]["Environment"]
    from etl_job.aws_task import EVENT_VARIABLE

    assert environment["Name"] == EVENT_VARIABLE
    assert json.loads(environment["Value"]) == {"trigger": "raw/READY", "ratings_stage": stage}
    on_demand, _ = _walk(_state_machine(template), {"skip_training": True}, PUBLISHED)
    assert json.loads(on_demand[1][1]["Overrides"]["ContainerOverrides"][0]["Environment"][0]["Value"]) == {
        "skip_training": True, "ratings_stage": stage}


def test_the_job_runs_the_repositorys_spark_entry_point_in_the_image_on_its_python(spark):
    """The entry point is the image's copy of etl_job/spark/job.py, the image is built FROM the base image of
    the application's release, and PySpark runs the Python the image installs."""
    _, template, _ = spark
    job = next(s for s in _state_machine(template)["States"].values()
               if s.get("Resource", "").endswith("emr-serverless:startJobRun.sync"))
    entry = job["Parameters"]["JobDriver"]["SparkSubmit"]["EntryPoint"]
    dockerfile = (REPO / "infra" / "spark.Dockerfile").read_text()
    copied = dict(re.findall(r"^COPY (etl_job|streamlens) (\S+)$", dockerfile, re.M))
    assert entry == f"local://{copied['etl_job']}/spark/job.py"
    application = _application(template)
    assert re.fullmatch(r"emr-7\.\d+\.\d+", application["ReleaseLabel"]) and application["Type"] == "SPARK"
    [base] = re.findall(r"^FROM (\S+)$", dockerfile, re.M)
    assert base == f"public.ecr.aws/emr-serverless/spark/{application['ReleaseLabel']}:latest"
    [defaults] = application["RuntimeConfiguration"]
    python = defaults["Properties"]["spark.executorEnv.PYSPARK_PYTHON"]
    assert defaults["Properties"]["spark.emr-serverless.driverEnv.PYSPARK_PYTHON"] == python
    installed = re.search(r"dnf install -y (python3\.\d+) ", dockerfile).group(1)
    assert python == f"/usr/bin/{installed}"
    assert f"{installed} -m pip install" in dockerfile and "etl_job/requirements.txt" in dockerfile


def test_the_application_stops_when_idle_stays_within_a_new_accounts_quota_and_logs_to_cloudwatch(spark):
    _, template, _ = spark
    application = _application(template)
    assert application["AutoStopConfiguration"]["Enabled"] is True
    assert 0 < application["AutoStopConfiguration"]["IdleTimeoutMinutes"] <= 30
    assert "InitialCapacity" not in application, "no pre-initialised workers billing while they wait"
    vcpu = int(application["MaximumCapacity"]["Cpu"].removesuffix(" vCPU"))
    assert vcpu <= NEW_ACCOUNT_EMR_SERVERLESS_VCPU
    defaults = application["RuntimeConfiguration"][0]["Properties"]
    workers = 1 + int(defaults["spark.dynamicAllocation.maxExecutors"])
    assert workers * int(defaults["spark.executor.cores"]) <= vcpu, "the driver and every executor fit the cap"
    logging = application["MonitoringConfiguration"]["CloudWatchLoggingConfiguration"]
    assert logging["Enabled"] is True
    group = template.to_json()["Resources"][logging["LogGroupName"]["Ref"]]
    assert group["Properties"]["RetentionInDays"] == 90


def test_the_image_comes_from_the_stacks_own_repository_which_only_emr_serverless_may_pull(spark):
    """EMR Serverless pulls only from a repository whose policy lets its service principal in; the image is
    copied there before the application is created or updated."""
    _, template, _ = spark
    repository_id = _id(template, "AWS::ECR::Repository")
    [resource] = template.find_resources("AWS::EMRServerless::Application").values()
    assert f"{{\"Ref\": \"{repository_id}\"}}" in json.dumps(resource["Properties"]["ImageConfiguration"])
    [copy_id] = template.find_resources("Custom::CDKECRDeployment").keys()
    assert copy_id in resource["DependsOn"]
    policy = template.to_json()["Resources"][repository_id]["Properties"]["RepositoryPolicyText"]
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    assert sorted(statement["Action"]) == ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"]
    assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]
    assert ":emr-serverless:" in _arn(statement["Condition"]["StringLike"]["aws:SourceArn"])


def test_every_failure_before_publishing_reaches_the_failed_runs_queue_and_fails_the_run(spark):
    """The job (it failed, was cancelled, timed out, or never started) and the task both catch everything into
    the one report; a bad exit code too. Before the task nothing can publish: see the job role's test."""
    _, template, _ = spark
    definition = _state_machine(template)
    states = definition["States"]
    queue_id = _id(template, "AWS::SQS::Queue")
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task" and "sqs:sendMessage" not in s["Resource"]}
    assert len(tasks) == 2
    for name, task in tasks.items():
        assert "Retry" not in task, name
        [catch] = task["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        report = states[catch["Next"]]
        assert report["Parameters"]["QueueUrl"] == f"<{queue_id}>"
        assert report["Parameters"]["MessageBody"]["state.$"] == "$"
        assert states[report["Next"]]["Type"] == "Fail"
        assert 0 < task["TimeoutSeconds"] < definition["TimeoutSeconds"], name
    job = next(s for s in tasks.values() if "emr-serverless" in s["Resource"])
    assert job["Parameters"]["ExecutionTimeoutMinutes"] * 60 < job["TimeoutSeconds"]
    failed = {**PUBLISHED, "runTask.sync": {"Containers": [{"ExitCode": 1}]}}
    _, end = _walk(definition, {"trigger": "raw/READY"}, failed)
    assert states[end]["Type"] == "Fail"


def test_the_existing_alarms_watch_the_one_state_machine(spark):
    _, template, _ = spark
    [machine_id] = template.find_resources("AWS::StepFunctions::StateMachine").keys()
    alarms = {a["Properties"]["AlarmName"]: a["Properties"]
              for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    for name, metric in (("streamlens-dev-etl-failed", "ExecutionsFailed"),
                         ("streamlens-dev-etl-timed-out", "ExecutionsTimedOut")):
        assert alarms[name]["MetricName"] == metric
        assert alarms[name]["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}]
    queue_id = _id(template, "AWS::SQS::Queue")
    assert alarms["streamlens-dev-etl-failed-runs"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]


def test_the_job_role_reads_raw_writes_stage_and_its_logs_and_nothing_else(spark):
    _, template, _ = spark
    role_id = _id(template, "AWS::IAM::Role", Description=Match.string_like_regexp("Spark job"))
    role = template.to_json()["Resources"][role_id]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "emr-serverless.amazonaws.com"} and "ManagedPolicyArns" not in role
    bucket, none = f"<{_bucket(template)}.Arn>", "null"
    [group_id] = [k for k, v in template.find_resources("AWS::Logs::LogGroup").items()
                  if k.startswith("SparkLogs")]
    writes = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
    assert _grants(_policy_statements(template, role_id)) == {
        ("s3:GetObject", f"{bucket}/raw", none), ("s3:GetObject", f"{bucket}/raw/*", none),
        *((a, f"{bucket}/{key}", none) for a in writes for key in ("stage", "stage/*")),
        ("s3:ListBucket", bucket, none),
        *((a, f"<{group_id}.Arn>", none) for a in ("logs:CreateLogStream", "logs:PutLogEvents",
                                                   "logs:DescribeLogStreams")),
        ("logs:DescribeLogGroups", "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*", none),
    }


def test_the_state_machine_may_run_this_application_only_and_pass_the_job_role_to_emr_serverless_only(spark):
    _, template, _ = spark
    machine = next(iter(template.find_resources("AWS::StepFunctions::StateMachine").values()))
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    grants = _grants(_policy_statements(template, role_id))
    application = f"<{_id(template, 'AWS::EMRServerless::Application')}.Arn>"
    emr = {g for g in grants if g[0].startswith("emr-serverless:")}
    assert emr == {("emr-serverless:StartJobRun", application, "null"),
                   ("emr-serverless:GetJobRun", f"{application}/jobruns/*", "null"),
                   ("emr-serverless:CancelJobRun", f"{application}/jobruns/*", "null")}
    job_role = _id(template, "AWS::IAM::Role", Description=Match.string_like_regexp("Spark job"))
    assert ("iam:PassRole", f"<{job_role}.Arn>",
            json.dumps({"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}})) in grants
    assert {g[1] for g in grants if g[0] == "events:PutRule"} >= {
        "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/StepFunctionsGetEventsForEMRServerlessJobRule"}


def test_the_task_reads_the_stage_and_the_stage_expires(spark):
    from infra.spark import STAGE_DAYS

    _, template, _ = spark
    [task] = template.find_resources("AWS::ECS::TaskDefinition").values()
    grants = _grants(_policy_statements(template, task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]))
    assert ("s3:GetObject", f"<{_bucket(template)}.Arn>/stage/*", "null") in grants
    assert not [g for g in grants if "stage" in g[1] and g[0] in ("s3:PutObject", "s3:DeleteObject")]
    [bucket] = template.find_resources("AWS::S3::Bucket",
                                       {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}}).values()
    rules = [r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == "stage/"]
    assert {json.dumps(r, sort_keys=True) for r in rules} == {
        json.dumps({"Id": "spark-stage", "Prefix": "stage/", "Status": "Enabled", "ExpirationInDays": STAGE_DAYS,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}, sort_keys=True),
        json.dumps({"Id": "spark-stage-markers", "Prefix": "stage/", "Status": "Enabled",
                    "ExpiredObjectDeleteMarker": True}, sort_keys=True)}
    assert 1 <= STAGE_DAYS <= 30


def test_no_role_the_etl_runs_with_allows_a_wildcard_action(spark):
    """The job's, the state machine's and the task's roles (CDK's own deployment helpers aside)."""
    _, template, _ = spark
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    [task] = template.find_resources("AWS::ECS::TaskDefinition").values()
    roles = (_id(template, "AWS::IAM::Role", Description=Match.string_like_regexp("Spark job")),
             machine["Properties"]["RoleArn"]["Fn::GetAtt"][0], task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0])
    actions = {action for role in roles for action, _, _ in _grants(_policy_statements(template, role))}
    assert "emr-serverless:StartJobRun" in actions and not [a for a in actions if "*" in a]


def test_cdk_nag_finds_nothing_unsuppressed_with_spark(spark):
    stack, template, _ = spark
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert not errors, [e.entry.data for e in errors]
    assert not warnings, [w.entry.data for w in warnings]
    reasons = [rule["reason"] for r in template.to_json()["Resources"].values()
               for rule in r.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])]
    assert reasons and all(len(reason) > 40 for reason in reasons)


def test_cfn_lint_knows_every_property_of_the_spark_stack(spark):
    """The EMR Serverless application and the copy are L1 and third-party: cfn-lint checks their properties
    against CloudFormation's schemas (W3005 as in test_infra.py)."""
    _, _, template_file = spark
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(template_file),
                             "--ignore-checks", "W3005"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
