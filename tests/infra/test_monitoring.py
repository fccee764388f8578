"""Failures are seen: the alarms, their one SNS topic and its optional e-mail subscription, and the dashboard,
checked against the synthesised template."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Annotations, Match, Template

EMAIL = "ops@example.com"


@pytest.fixture(scope="module")
def emailed():
    """The same stage with -c alarmEmail=...: a second synth, shared by this module's tests."""
    from infra.app import build

    app, stack = build({"stage": "dev", "alarmEmail": EMAIL})
    app.synth()
    return stack, Template.from_stack(stack)


def _alarms(template) -> list[dict]:
    return [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]


def _function_ids(template) -> dict[str, str]:
    """Logical id of each function, by its name in infra.data_api.FUNCTIONS."""
    return {f["Properties"]["FunctionName"].removeprefix("streamlens-dev-"): key
            for key, f in template.find_resources("AWS::Lambda::Function").items()
            if "FunctionName" in f["Properties"]}


def _topic_id(template) -> str:
    [topic_id] = template.find_resources("AWS::SNS::Topic").keys()
    return topic_id


def _on(alarms: list[dict], namespace: str, metric: str, dimensions: list[dict]) -> list[dict]:
    return [a for a in alarms if a["Namespace"] == namespace and a["MetricName"] == metric
            and a["Dimensions"] == dimensions]


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_its_own_errors_and_throttles_alarm(synthesized, metric):
    from infra.data_api import FUNCTIONS

    _, template, _ = synthesized
    ids = _function_ids(template)
    names = [spec.name for spec in FUNCTIONS]
    assert set(names) <= set(ids)
    alarms = _alarms(template)
    for name in names:
        [alarm] = _on(alarms, "AWS/Lambda", metric, [{"Name": "FunctionName", "Value": {"Ref": ids[name]}}])
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1), name
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1), name
        assert alarm["AlarmName"] == f"streamlens-dev-{name}-{metric.lower()}"


def _stage_dimensions(template) -> list[dict]:
    [stage_id] = template.find_resources("AWS::ApiGateway::Stage", {"Properties": {"StageName": "dev"}}).keys()
    [api] = template.find_resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["Name"] == "streamlens-dev"
    return [{"Name": "ApiName", "Value": "streamlens-dev"}, {"Name": "Stage", "Value": {"Ref": stage_id}}]


def test_the_api_alarms_on_a_5xx_rate_of_this_stage(synthesized):
    """The Average of 5XXError is the share of requests that answered 5xx."""
    _, template, _ = synthesized
    [alarm] = _on(_alarms(template), "AWS/ApiGateway", "5XXError", _stage_dimensions(template))
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Average", 300, 0.01)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_api_alarms_on_a_p99_latency_well_under_the_function_timeouts(synthesized):
    from infra.data_api import FUNCTIONS
    from infra.monitoring import LATENCY_P99_MS

    _, template, _ = synthesized
    [alarm] = _on(_alarms(template), "AWS/ApiGateway", "Latency", _stage_dimensions(template))
    assert (alarm["ExtendedStatistic"], alarm["Period"], alarm["Threshold"]) == ("p99", 300, LATENCY_P99_MS)
    assert "Statistic" not in alarm and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert 1000 < LATENCY_P99_MS <= min(spec.timeout for spec in FUNCTIONS) * 1000 / 2


def test_a_failed_etl_run_alarms_on_the_state_machine_and_on_the_failed_runs_queue(synthesized):
    """A run that fails (the Fail state: the task's exit code, an error) or passes its time-out alarms on its
    execution's metric, and stays visible through the queue's until the message is read."""
    _, template, _ = synthesized
    alarms = _alarms(template)
    [machine_id] = template.find_resources("AWS::StepFunctions::StateMachine").keys()
    on_machine = [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}]
    for metric, name in (("ExecutionsFailed", "etl-failed"), ("ExecutionsTimedOut", "etl-timed-out")):
        [alarm] = _on(alarms, "AWS/States", metric, on_machine)
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1), metric
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["AlarmName"] == f"streamlens-dev-{name}"
    assert "failed-runs queue" in _on(alarms, "AWS/States", "ExecutionsFailed", on_machine)[0]["AlarmDescription"]
    [queue_id] = template.find_resources("AWS::SQS::Queue").keys()
    [queued] = _on(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                   [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}])
    assert (queued["Statistic"], queued["Period"], queued["Threshold"]) == ("Maximum", 300, 0)
    assert queued["ComparisonOperator"] == "GreaterThanThreshold"


def test_every_alarm_notifies_the_one_topic_and_no_data_is_no_alarm(synthesized):
    from infra.data_api import FUNCTIONS

    _, template, _ = synthesized
    alarms = _alarms(template)
    assert len(alarms) == 2 * len(FUNCTIONS) + 3 + 2       # each function's 2, the ETL's 3, the API's 2
    topic = {"Ref": _topic_id(template)}
    assert all(a["AlarmActions"] == [topic] for a in alarms), [a["AlarmName"] for a in alarms]
    assert all(a["TreatMissingData"] == "notBreaching" for a in alarms)
    assert len({a["AlarmName"] for a in alarms}) == len(alarms)
    assert template.to_json()["Outputs"]["AlarmTopic"]["Value"] == topic


def test_the_topic_refuses_publishing_without_tls(synthesized):
    _, template, _ = synthesized
    [policy] = template.find_resources("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": _topic_id(template)}]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_email_subscription_exists_only_with_the_context_value(synthesized, emailed):
    synthesized[1].resource_count_is("AWS::SNS::Subscription", 0)
    stack, template = emailed
    [subscription] = template.find_resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {"Protocol": "email", "Endpoint": EMAIL,
                                          "TopicArn": {"Ref": _topic_id(template)}}
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert not errors and not warnings, [e.entry.data for e in [*errors, *warnings]]


@pytest.mark.parametrize("value", ["ops", "ops@example", "@example.com", "ops@@example.com", "ops@example.com.",
                                   "ops @example.com", "ops@example.com,dev@example.com", 42])
def test_an_alarm_email_that_is_not_an_address_fails_naming_the_context_key(value):
    from infra.app import build

    with pytest.raises(ValueError, match="context alarmEmail="):
        build({"stage": "dev", "alarmEmail": value})


def test_the_dashboard_shows_the_api_every_function_the_etl_and_its_queue(synthesized):
    _, template, _ = synthesized
    [dashboard] = template.find_resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "streamlens-dev"
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    text = "".join(part for part in parts if isinstance(part, str))
    tokens = [json.dumps(part) for part in parts if not isinstance(part, str)]
    for metric in ("Count", "4XXError", "5XXError", "Latency", "Invocations", "Errors", "Throttles", "Duration",
                   "ApproximateNumberOfMessagesVisible", "ExecutionTime", "ExecutionsSucceeded", "ExecutionsFailed",
                   "ExecutionsTimedOut", "MemoryUtilized"):
        assert f'"{metric}"' in text, metric
    assert '"stat":"p50"' in text and '"stat":"p99"' in text
    for name, key in _function_ids(template).items():
        assert tokens.count(json.dumps({"Ref": key})) >= 4, name
    [machine_id] = template.find_resources("AWS::StepFunctions::StateMachine").keys()
    assert tokens.count(json.dumps({"Ref": machine_id})) >= 4, "run time, published, failed, timed out"
    [cluster_id] = template.find_resources("AWS::ECS::Cluster").keys()
    assert json.dumps({"Ref": cluster_id}) in tokens and '"TaskDefinitionFamily","streamlens-dev-etl"' in text
    [queue_id] = template.find_resources("AWS::SQS::Queue").keys()
    assert json.dumps({"Fn::GetAtt": [queue_id, "QueueName"]}) in tokens
    alarm_ids = template.find_resources("AWS::CloudWatch::Alarm").keys()
    assert all(json.dumps({"Fn::GetAtt": [key, "Arn"]}) in tokens for key in alarm_ids)
