"""Alarms and a dashboard, so that failures are seen: a failed ETL run, an API answering 5xx or slowly, and
any function erroring or throttled. Every alarm notifies one SNS topic, which -c alarmEmail=... subscribes
an address to. Native aws_cloudwatch only: no monitoring library to pin and install.

The topic is not encrypted at rest: CloudWatch can publish to an encrypted topic only if the key's policy lets
cloudwatch.amazonaws.com use the key, which the AWS managed key alias/aws/sns does not (the notifications
would be dropped silently), and a customer managed key would cost about as much as the whole stack at rest.
An alarm's message holds its name, its metric and the threshold: nothing the key would protect.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as _lambda
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from cdk_nag import NagSuppressions
from constructs import Construct

from .etl import Etl

PERIOD = Duration.minutes(5)
# Every 5xx of this API is a fault: bad parameters answer 4xx, and a function that crashes or times out gives
# 502/504 (503 is "no release published yet"). 1 % of a 5-minute period's requests is a real problem, not noise.
SERVER_ERROR_RATE = 0.01
# Warm answers take about a millisecond and a cold start at most 1 s (docs/benchmarks.md), plus in AWS the
# download of the recommender's 120 MB bundle (1 to 2 s). At 5 s, half the query functions' 10 s timeout,
# a p99 is neither a cold start in a quiet period nor too late: requests are near their timeouts.
LATENCY_P99_MS = 5000


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, api: apigw.RestApi,
                 functions: Mapping[str, _lambda.IFunction], etl: Etl, alarm_email: str | None = None) -> None:
        """functions: the data API's, by name; the ETL is watched through its state machine and its queue."""
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "AlarmTopic", topic_name=f"streamlens-{stage}-alarms",
                               display_name=f"streamlens {stage} alarms", enforce_ssl=True)
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        NagSuppressions.add_resource_suppressions(self.topic, [
            {"id": "AwsSolutions-SNS2", "reason": "CloudWatch cannot publish to a topic under the AWS managed "
                                                   "SNS key, and a customer managed key is not worth it for "
                                                   "messages holding only alarm names and metric values."},
        ])
        CfnOutput(self, "AlarmTopicArn", value=self.topic.topic_arn,
                  description="SNS topic every alarm notifies").override_logical_id("AlarmTopic")
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []
        self._stage = stage

        for name, fn in functions.items():
            self._alarm(f"{name}-errors", fn.metric_errors(period=PERIOD, statistic="Sum"), 1,
                        f"{name} raised an error: its log group has the traceback.")
            self._alarm(f"{name}-throttles", fn.metric_throttles(period=PERIOD, statistic="Sum"), 1,
                        f"{name} was throttled: the account's concurrency is used up.")
        machine = etl.state_machine
        self._alarm("etl-failed", machine.metric_failed(period=PERIOD, statistic="Sum"), 1,
                    "An ETL run failed: the task's log group (output EtlLogGroup) says why and the run is in the "
                    "failed-runs queue; the live release stays, and the next upload runs again.")
        self._alarm("etl-timed-out", machine.metric_timed_out(period=PERIOD, statistic="Sum"), 1,
                    "An ETL run passed the state machine's time-out and was stopped; the live release stays.")
        queue_depth = etl.failed_runs.metric_approximate_number_of_messages_visible(period=PERIOD,
                                                                                    statistic="Maximum")
        self._alarm("etl-failed-runs", queue_depth, 0,
                    "Failed ETL runs are waiting in the failed-runs queue (output EtlFailedRuns); the alarm stays "
                    "on until they are read and deleted.", cw.ComparisonOperator.GREATER_THAN_THRESHOLD)
        api_stage = api.deployment_stage
        self._alarm("api-5xx-rate", api_stage.metric_server_error(period=PERIOD, statistic="Average"),
                    SERVER_ERROR_RATE, "More than 1 % of the API's requests answered 5xx in 5 minutes.")
        self._alarm("api-latency-p99", api_stage.metric_latency(period=PERIOD, statistic="p99"), LATENCY_P99_MS,
                    f"The API's p99 latency passed {LATENCY_P99_MS} ms over 5 minutes.",
                    cw.ComparisonOperator.GREATER_THAN_THRESHOLD)

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"streamlens-{stage}")
        self._widgets(api_stage, functions, etl)

    def _alarm(self, name: str, metric: cw.IMetric, threshold: float, description: str,
               comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD) -> None:
        """One 5-minute period decides; no data (no traffic, no run) is no failure."""
        alarm = cw.Alarm(self, f"{name}Alarm", alarm_name=f"streamlens-{self._stage}-{name}", metric=metric,
                         threshold=threshold, evaluation_periods=1, comparison_operator=comparison,
                         treat_missing_data=cw.TreatMissingData.NOT_BREACHING, alarm_description=description)
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)

    def _widgets(self, api_stage: apigw.Stage, functions: Mapping[str, _lambda.IFunction], etl: Etl) -> None:
        def graph(title: str, metrics: list[cw.IMetric], width: int = 8) -> cw.GraphWidget:
            return cw.GraphWidget(title=title, left=metrics, width=width, height=6)

        def each(metric: str, statistic: str) -> list[cw.IMetric]:
            return [fn.metric(metric, period=PERIOD, statistic=statistic, label=name)
                    for name, fn in functions.items()]

        self.dashboard.add_widgets(cw.AlarmStatusWidget(alarms=list(self.alarms), title="Alarms", width=24))
        self.dashboard.add_widgets(
            graph("API requests", [api_stage.metric_count(period=PERIOD, statistic="Sum", label="requests")]),
            graph("API 4xx and 5xx", [api_stage.metric_client_error(period=PERIOD, statistic="Sum", label="4xx"),
                                      api_stage.metric_server_error(period=PERIOD, statistic="Sum", label="5xx")]),
            graph("API latency (ms)", [api_stage.metric_latency(period=PERIOD, statistic=p, label=p)
                                       for p in ("p50", "p99")]))
        self.dashboard.add_widgets(graph("Function invocations", each("Invocations", "Sum"), 12),
                                   graph("Function errors", each("Errors", "Sum"), 12))
        self.dashboard.add_widgets(graph("Function throttles", each("Throttles", "Sum"), 12),
                                   graph("Function duration p99 (ms)", each("Duration", "p99"), 12))
        memory = cw.Metric(namespace="ECS/ContainerInsights", metric_name="MemoryUtilized", period=PERIOD,
                           statistic="Maximum", label="peak MB",
                           dimensions_map={"ClusterName": etl.cluster.cluster_name,
                                           "TaskDefinitionFamily": etl.task_definition.family})
        self.dashboard.add_widgets(
            graph("ETL run time (ms)", [etl.state_machine.metric_time(period=PERIOD, statistic="Maximum",
                                                                      label="longest run")], 6),
            graph("ETL runs", [etl.state_machine.metric_succeeded(period=PERIOD, statistic="Sum", label="published"),
                               etl.state_machine.metric_failed(period=PERIOD, statistic="Sum", label="failed"),
                               etl.state_machine.metric_timed_out(period=PERIOD, statistic="Sum",
                                                                  label="timed out")], 6),
            graph("ETL task memory (MB)", [memory], 6),
            graph("ETL failed-runs queue", [etl.failed_runs.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum", label="messages")], 6))
