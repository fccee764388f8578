"""The deploy path as the README writes it, checked against the synthesised template: the outputs it looks
up, what the bucket keeps, an ETL that deploys on a new account and whose failures are seen, and functions
that tell a missing release from a missing permission."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import REPO

DEPLOY_DOCS = ("README.md",)            # docs/infrastructure.md points at the README for the commands


def _looked_up_outputs(text: str) -> set[str]:
    """Every output key a `describe-stacks --query` of the docs selects."""
    return set(re.findall(r"OutputKey==`?'([A-Za-z]+)'", text))


@pytest.mark.parametrize("doc", DEPLOY_DOCS)
def test_every_output_the_deploy_instructions_look_up_exists_by_that_exact_name(synthesized, doc):
    _, template, _ = synthesized
    looked_up = _looked_up_outputs((REPO / doc).read_text(encoding="utf-8"))
    assert {"BucketName", "ApiUrl", "EtlLogGroup"} <= looked_up, looked_up
    assert "ends_with(OutputKey" not in (REPO / doc).read_text(encoding="utf-8")
    assert looked_up <= set(template.to_json()["Outputs"])


def test_the_stack_outputs_have_stable_documented_names(synthesized):
    _, template, _ = synthesized
    outputs = template.to_json()["Outputs"]
    assert {"ApiUrl", "WebUrl", "BucketName", "EtlStateMachine", "EtlLogGroup", "EtlFailedRuns"} <= set(outputs)
    assert not [name for name in outputs if re.search(r"[0-9A-F]{8}$", name)], "no generated suffix"


def _releases_bucket(template) -> dict:
    [bucket] = template.find_resources("AWS::S3::Bucket",
                                       {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}}).values()
    return bucket["Properties"]


def test_pruned_releases_expire_and_overwritten_objects_keep_three_versions(synthesized):
    """A pruned release is one noncurrent version per key (each key is its own): a rule that keeps the newest
    3 noncurrent versions would keep it for ever."""
    from infra.storage import OLD_VERSION_DAYS, PRUNED_RELEASE_DAYS

    _, template, _ = synthesized
    rules = {r["Id"]: r for r in _releases_bucket(template)["LifecycleConfiguration"]["Rules"]}
    pruned = rules["pruned-releases"]
    assert pruned["Prefix"] == "releases/" and pruned["Status"] == "Enabled"
    assert pruned["NoncurrentVersionExpiration"] == {"NoncurrentDays": PRUNED_RELEASE_DAYS}
    assert rules["pruned-release-markers"] == {"Id": "pruned-release-markers", "Prefix": "releases/",
                                               "ExpiredObjectDeleteMarker": True, "Status": "Enabled"}
    kept = {r["Prefix"]: r["NoncurrentVersionExpiration"] for r in rules.values()
            if r["Id"].startswith("old-versions-")}
    assert kept == {p: {"NoncurrentDays": OLD_VERSION_DAYS, "NewerNoncurrentVersions": 3}
                    for p in ("manifest.json", "raw/", "locks/etl.json", "refused-run.json")}
    prefixes = [r.get("Prefix", "") for r in rules.values() if "NoncurrentVersionExpiration" in r]
    assert not [(a, b) for a in prefixes for b in prefixes if a != b and a.startswith(b)], "rules do not overlap"
    assert rules["unfinished-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


# Fargate's CPU (units) -> the task memories (MiB) it can take (AWS Fargate task size table).
FARGATE_SIZES = {256: (512, 1024, 2048), 512: tuple(range(1024, 4097, 1024)), 1024: tuple(range(2048, 8193, 1024)),
                 2048: tuple(range(4096, 16385, 1024)), 4096: tuple(range(8192, 30721, 1024)),
                 8192: tuple(range(16384, 61441, 4096)), 16384: tuple(range(32768, 122881, 8192))}
NEW_ACCOUNT_LAMBDA_MB = 3008            # the function memory many new accounts get until a quota increase
NEW_ACCOUNT_FARGATE_VCPU = 6            # Fargate On-Demand vCPU, the default of a new account


def _etl_task(template) -> dict:
    [task] = template.find_resources("AWS::ECS::TaskDefinition").values()
    return task["Properties"]


def _state_machine(template) -> dict:
    """The state machine's definition, every CloudFormation token replaced by a placeholder naming it."""
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else f"<{next(iter(p.values()))}>" for p in parts))


def _value(document: dict, path: str):
    """A JSONPath of dotted names and [index] (all a Choice here uses) in a state; KeyError when absent."""
    value = document
    for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", path.removeprefix("$")):
        value = value[name] if name else value[int(index)]
    return value


def _chosen(choice: dict, state: dict) -> str:
    """The next state of a Choice, for the rules it holds (And, IsPresent, NumericEquals)."""
    def holds(rule: dict) -> bool:
        if "And" in rule:
            return all(holds(r) for r in rule["And"])
        try:
            value = _value(state, rule["Variable"])
        except (KeyError, IndexError):
            return rule.get("IsPresent") is False
        if "IsPresent" in rule:
            return rule["IsPresent"]
        return value == rule["NumericEquals"]
    return next((rule["Next"] for rule in choice["Choices"] if holds(rule)), choice["Default"])


def test_the_etl_runs_within_a_new_accounts_default_quotas_with_room_over_its_measured_peak(synthesized):
    """No function above the memory of a new account and none reserving concurrency; the ETL a Fargate task of
    a size Fargate offers, within a new account's Fargate vCPU, and at least twice the peak memory the ETL
    benchmark measured at production scale (bench/results/etl.json)."""
    _, template, _ = synthesized
    functions = [f["Properties"] for f in template.find_resources("AWS::Lambda::Function").values()]
    assert max(f.get("MemorySize", 128) for f in functions) <= NEW_ACCOUNT_LAMBDA_MB
    assert not [f for f in functions if "ReservedConcurrentExecutions" in f]
    task = _etl_task(template)
    cpu, memory = int(task["Cpu"]), int(task["Memory"])
    assert task["RequiresCompatibilities"] == ["FARGATE"] and memory in FARGATE_SIZES[cpu]
    assert cpu / 1024 <= NEW_ACCOUNT_FARGATE_VCPU
    measured = json.loads((REPO / "bench" / "results" / "etl.json").read_text())["etl_with_training"]
    assert memory >= 2 * measured["peak_rss_mb"], measured["peak_rss_mb"]


def test_a_failed_run_is_not_retried_and_reaches_the_failed_runs_queue_whatever_failed(synthesized):
    """The task waited for (.sync), not retried; an error (the task could not start, a time-out) and an exit code
    other than 0 both send the state to the queue and fail the execution; exit code 0 succeeds."""
    _, template, _ = synthesized
    definition = _state_machine(template)
    states = definition["States"]
    run = states[definition["StartAt"]]
    assert run["Resource"] == "arn:<AWS::Partition>:states:::ecs:runTask.sync" and "Retry" not in run
    assert run["Parameters"]["LaunchType"] == "FARGATE" and run["TimeoutSeconds"] <= definition["TimeoutSeconds"]
    [catch] = run["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    report = states[catch["Next"]]
    [queue_id] = template.find_resources("AWS::SQS::Queue").keys()
    assert report["Resource"].endswith(":states:::sqs:sendMessage")
    assert report["Parameters"]["QueueUrl"] == f"<{queue_id}>" and report["Parameters"]["MessageBody"]["state.$"] == "$"
    assert states[report["Next"]]["Type"] == "Fail"
    choice = states[run["Next"]]
    stopped = {"StoppedReason": "Essential container in task exited"}
    assert states[_chosen(choice, {"task": {"Containers": [{"ExitCode": 0}], **stopped}})]["Type"] == "Succeed"
    for exit_code in (1, 2, 3, 137):
        assert _chosen(choice, {"task": {"Containers": [{"ExitCode": exit_code}], **stopped}}) == catch["Next"]
    assert _chosen(choice, {"task": {"Containers": [{}], "StoppedReason": "CannotPullContainerError"}}) == \
        catch["Next"]


def test_the_rule_starts_the_state_machine_and_an_event_it_cannot_deliver_is_a_failed_run(synthesized):
    _, template, _ = synthesized
    [rule] = template.find_resources("AWS::Events::Rule").values()
    [target] = rule["Properties"]["Targets"]
    [machine_id] = template.find_resources("AWS::StepFunctions::StateMachine").keys()
    [queue_id] = template.find_resources("AWS::SQS::Queue").keys()
    assert target["Arn"] == {"Ref": machine_id}
    assert json.loads(target["Input"]) == {"trigger": "raw/READY"}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert rule["Properties"]["EventPattern"]["detail"]["object"] == {"key": ["raw/READY"]}


def test_the_task_runs_the_images_command_which_the_etl_cli_knows(synthesized):
    """The image's CMD is a command of python -m etl_job; the task does not override it, and passes the
    execution's input in the variable that command reads."""
    from etl_job.__main__ import build_parser
    from etl_job.aws_task import EVENT_VARIABLE

    _, template, _ = synthesized
    [command] = re.findall(r"^CMD (\[.*\])$", (REPO / "infra" / "etl.Dockerfile").read_text(), re.MULTILINE)
    assert json.loads(command)[:3] == ["python", "-m", "etl_job"]
    assert build_parser().parse_args(json.loads(command)[3:]).func.__name__ == "cmd_task"
    [container] = _etl_task(template)["ContainerDefinitions"]
    assert "Command" not in container and "EntryPoint" not in container
    run = _state_machine(template)["States"]["RunTask"]
    [override] = run["Parameters"]["Overrides"]["ContainerOverrides"]
    assert override["Name"] == container["Name"]
    assert override["Environment"] == [{"Name": EVENT_VARIABLE, "Value.$": "States.JsonToString($)"}]


def test_the_etl_image_is_built_for_linux_amd64_like_its_task(synthesized):
    """Built on an Apple-silicon machine, an image without a platform would be arm64 and fail on x86_64."""
    _, template, path = synthesized
    assert _etl_task(template)["RuntimePlatform"] == {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"}
    assets = json.loads(path.with_name(path.name.replace(".template.json", ".assets.json")).read_text())
    [image] = assets["dockerImages"].values()
    assert image["source"]["platform"] == "linux/amd64"


def _web_origin(template) -> dict:
    [distribution] = template.find_resources("AWS::CloudFront::Distribution").keys()
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}


def _preflight_origins(template) -> list:
    options = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "OPTIONS"}})
    return [response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"]
            for method in options.values() for response in method["Properties"]["Integration"]["IntegrationResponses"]]


def _function_origins(template) -> dict[str, object]:
    from infra.data_api import FUNCTIONS

    names = {f"streamlens-dev-{spec.name}" for spec in FUNCTIONS}
    return {f["Properties"]["FunctionName"]: f["Properties"]["Environment"]["Variables"].get("STREAMLENS_CORS_ORIGINS")
            for f in template.find_resources("AWS::Lambda::Function").values()
            if f["Properties"].get("FunctionName") in names}


def test_cors_names_the_web_interfaces_origin_only_by_default(synthesized):
    """Every route's preflight (API Gateway) and every function's answers (its CORS middleware) allow the
    page the stack serves, not any page."""
    from infra.data_api import FUNCTIONS

    _, template, _ = synthesized
    web = _web_origin(template)
    quoted = {"Fn::Join": ["", ["'https://", web["Fn::Join"][1][1], "'"]]}
    preflights = _preflight_origins(template)
    routes = {route for spec in FUNCTIONS for route in (*spec.routes, *spec.post_routes)}
    assert len(preflights) == len(routes) and all(origin == quoted for origin in preflights)
    origins = _function_origins(template)
    assert len(origins) == len(FUNCTIONS) and all(value == web for value in origins.values())


def test_cors_origins_from_context_replace_the_web_origin():
    from aws_cdk.assertions import Template

    from infra.app import build

    template = Template.from_stack(build({"stage": "dev", "corsOrigins": "https://a.example, https://b.example:8443"})[1])
    assert set(_function_origins(template).values()) == {"https://a.example,https://b.example:8443"}
    assert {json.dumps(o) for o in _preflight_origins(template)} != {json.dumps(_web_origin(template))}
    for bad in ("a.example", "https://a.example/path", ","):
        with pytest.raises(ValueError, match="corsOrigins"):
            build({"stage": "dev", "corsOrigins": bad})
