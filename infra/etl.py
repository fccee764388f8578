"""The ETL in AWS: the same etl_job code as a Fargate task, started by a Step Functions state machine on demand
or when `raw/READY` lands.

Why Fargate and not a Lambda: with training, the ETL's peak memory grows with the ratings (5.6 GB at 11
million, docs/scale.md). Many new accounts cap a function at 3,008 MB until a quota increase, and a
Lambda stops at 10,240 MB and 15 minutes whatever the quota. A Fargate task of 2 vCPU and 16 GB runs within
a new account's default quotas (6 vCPU of Fargate On-Demand), has no time limit, and grows to 120 GB by
changing two numbers. It needs a network: one VPC of public subnets, no NAT gateway (the task takes a public
IP to reach ECR and CloudWatch Logs, and reaches S3 through a free gateway endpoint), no inbound rule.

Why a state machine: it waits for the task (the .sync pattern), checks its exit code, and sends a failed run,
whatever failed (the task, its start, its exit code, a time-out), to the failed-runs queue; its executions
are the ETL's metrics. One run at a time is the S3 lock's job (etl_job/lock.py), not a concurrency limit.
Synthesising only stages the Dockerfile; the image is built at deploy time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from cdk_nag import NagSuppressions
from constructs import Construct

from etl_job.aws_task import EVENT_VARIABLE
from streamlens.layout import ETL_LOCK, MANIFEST, REFUSED_RUN, RELEASES

from .common import streamlens_environment

if TYPE_CHECKING:
    from .spark import SparkJob

REPO = Path(__file__).resolve().parents[1]
READY_MARKER = "raw/READY"
IMAGE_EXCLUDES = [".git", ".venv", ".local", "cdk.out", "**/node_modules", "layers/build", "bench", "tests",
                  "**/__pycache__", ".pytest_cache", "*.egg-info", "mutants"]
# 2 vCPU is the ETL's parallelism (the grid search's two workers); 16 GB, the most 2 vCPU take, is about three
# times the peak at 11 million ratings. Fargate bills per second: about $0.15 an hour, $0.01 a 4-minute run.
TASK_CPU = 2048
TASK_MEMORY_MIB = 16384
# At 11 million ratings a run takes about 4 minutes; two hours is a run gone wrong, not a slow one.
RUN_TIMEOUT = Duration.hours(2)
CONTAINER = "etl"


class Etl(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, bucket: s3.IBucket,
                 keep_releases: int = 3, spark: SparkJob | None = None) -> None:
        """spark: the Spark engine's job (infra/spark.py), run before the task, which then reads its stage."""
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.THREE_MONTHS)
        self.failed_runs = sqs.Queue(self, "FailedRuns", queue_name=f"streamlens-{stage}-etl-failed-runs",
                                     retention_period=Duration.days(14), enforce_ssl=True,
                                     encryption=sqs.QueueEncryption.SQS_MANAGED)
        self.role = self._task_role(bucket)
        if spark:
            spark.grant_read_stage(self.role)
        self.vpc = self._network()
        self.cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc, cluster_name=f"streamlens-{stage}-etl",
                                   container_insights_v2=ecs.ContainerInsights.ENABLED)
        self.task_definition = ecs.FargateTaskDefinition(
            self, "Task", family=f"streamlens-{stage}-etl", cpu=TASK_CPU, memory_limit_mib=TASK_MEMORY_MIB,
            task_role=self.role,
            runtime_platform=ecs.RuntimePlatform(cpu_architecture=ecs.CpuArchitecture.X86_64,
                                                 operating_system_family=ecs.OperatingSystemFamily.LINUX))
        self.container = self.task_definition.add_container(
            "Etl", container_name=CONTAINER,
            image=ecs.ContainerImage.from_asset(str(REPO), file="infra/etl.Dockerfile", exclude=IMAGE_EXCLUDES,
                                                platform=ecr_assets.Platform.LINUX_AMD64),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="etl", log_group=self.log_group,
                                            mode=ecs.AwsLogDriverMode.NON_BLOCKING),
            environment=streamlens_environment(bucket, STREAMLENS_DATA_DIR=f"s3://{bucket.bucket_name}/raw",
                                               STREAMLENS_KEEP_RELEASES=str(keep_releases)))
        self.security_group = ec2.SecurityGroup(self, "TaskSecurityGroup", vpc=self.vpc, allow_all_outbound=True,
                                                description="streamlens ETL task: no inbound traffic")
        self.state_machine = self._state_machine(stage, spark)
        self.rule = events.Rule(
            self, "RawDataReady",
            description=f"Run the ETL when {READY_MARKER} is written after an upload under raw/",
            event_pattern=events.EventPattern(
                source=["aws.s3"], detail_type=["Object Created"],
                detail={"bucket": {"name": [bucket.bucket_name]}, "object": {"key": [READY_MARKER]}}),
            # An event that cannot start an execution (after EventBridge's own retries) is a run that never
            # happened: it goes to the failed-runs queue like a run that failed.
            targets=[targets.SfnStateMachine(self.state_machine,
                                             input=events.RuleTargetInput.from_object({"trigger": READY_MARKER}),
                                             dead_letter_queue=self.failed_runs)],
        )
        self._suppress()

    def _task_role(self, bucket: s3.IBucket) -> iam.Role:
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                        description="streamlens ETL: reads raw/, writes releases/, the manifest, its run lock and "
                                    "refusals")
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects("raw/*")]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            resources=[bucket.arn_for_objects(f"{RELEASES}*"), bucket.arn_for_objects(MANIFEST),
                       bucket.arn_for_objects(ETL_LOCK),                  # the run lock (etl_job/lock.py)
                       bucket.arn_for_objects(REFUSED_RUN)]))             # the last refusal (etl_job/release_guard.py)
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": ["raw/*", f"{RELEASES}*", RELEASES, MANIFEST]}}))
        return role

    def _network(self) -> ec2.Vpc:
        """Public subnets in two zones (Fargate picks one with capacity), flow logs of what is refused."""
        vpc = ec2.Vpc(self, "Network", max_azs=2, nat_gateways=0, restrict_default_security_group=False,
                      subnet_configuration=[ec2.SubnetConfiguration(name="etl", subnet_type=ec2.SubnetType.PUBLIC,
                                                                    cidr_mask=24)],
                      gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(
                          service=ec2.GatewayVpcEndpointAwsService.S3)})
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH)
        vpc.add_flow_log("Rejected", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                         traffic_type=ec2.FlowLogTrafficType.REJECT)
        return vpc

    def _state_machine(self, stage: str, spark: SparkJob | None) -> sfn.StateMachine:
        """Run the task and wait; exit code 0 is a run that published, anything else (or no exit code: the task
        never started) a failure, reported to the queue with the whole state. No retry: the ETL's S3 client
        already retries what is transient, and a refused input or a code fault fails again at the same cost;
        the next upload runs again.

        With spark, the same machine first names the run's stage prefix and runs the Spark job, which writes it;
        the task's event is the input plus that prefix. A failed job goes to the same report, before anything is
        published, and the existing alarms see this machine's failures and time-outs."""
        event = sfn.JsonPath.object_at(spark.EVENT if spark else "$")
        run = tasks.EcsRunTask(
            self, "RunTask", integration_pattern=sfn.IntegrationPattern.RUN_JOB, cluster=self.cluster,
            task_definition=self.task_definition,
            launch_target=tasks.EcsFargateLaunchTarget(platform_version=ecs.FargatePlatformVersion.LATEST),
            assign_public_ip=True, subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[self.security_group],
            container_overrides=[tasks.ContainerOverride(
                container_definition=self.container,
                environment=[tasks.TaskEnvironmentVariable(
                    name=EVENT_VARIABLE, value=sfn.JsonPath.json_to_string(event))])],
            result_path="$.task", task_timeout=sfn.Timeout.duration(RUN_TIMEOUT))
        report = tasks.SqsSendMessage(self, "ReportFailure", queue=self.failed_runs, result_path=sfn.JsonPath.DISCARD,
                                      message_body=sfn.TaskInput.from_object({
                                          "execution": sfn.JsonPath.execution_id,
                                          "state": sfn.JsonPath.object_at("$")}))
        failed = sfn.Fail(self, "RunFailed", error="EtlRunFailed",
                          cause="The ETL task failed or did not start: its log group says why, and the run is in "
                                "the failed-runs queue")
        run.add_catch(report, errors=[sfn.Errors.ALL], result_path="$.error")
        published = sfn.Condition.and_(sfn.Condition.is_present("$.task.Containers[0].ExitCode"),
                                       sfn.Condition.number_equals("$.task.Containers[0].ExitCode", 0))
        definition: sfn.IChainable = run.next(sfn.Choice(self, "Published?")
                                              .when(published, sfn.Succeed(self, "Done"))
                                              .otherwise(report.next(failed)))
        timeout = RUN_TIMEOUT.plus(Duration.minutes(10))
        if spark:
            definition = spark.states(self, report).next(definition)
            timeout = timeout.plus(spark.timeout)
        machine_logs = logs.LogGroup(self, "StateMachineLogs", retention=logs.RetentionDays.THREE_MONTHS)
        machine = sfn.StateMachine(self, "StateMachine", state_machine_name=f"streamlens-{stage}-etl",
                                   definition_body=sfn.DefinitionBody.from_chainable(definition),
                                   timeout=timeout, tracing_enabled=True,
                                   logs=sfn.LogOptions(destination=machine_logs, level=sfn.LogLevel.ALL))
        if spark:
            spark.grant_run(machine)
        return machine

    def _suppress(self) -> None:
        NagSuppressions.add_resource_suppressions(self.failed_runs, [
            {"id": "AwsSolutions-SQS3", "reason": "This queue is itself where failed ETL runs go (the state "
                                                   "machine's failure branch and the rule's dead letters); "
                                                   "nothing consumes it to fail again."},
        ])
        NagSuppressions.add_resource_suppressions(self.role, [
            {"id": "AwsSolutions-IAM5", "reason": "Release ids are created at run time, so the ETL's grants name "
                                                   "the raw/ and releases/ prefixes.",
             "applies_to": [{"regex": "/^Resource::(<.*>|arn:.*)(/raw/\\*|/releases/\\*)$/g"}]},
        ], apply_to_children=True)
        NagSuppressions.add_resource_suppressions(self.task_definition, [
            {"id": "AwsSolutions-ECS2", "reason": "The environment holds the bucket's name and the ETL's settings, "
                                                   "no secret."},
            {"id": "AwsSolutions-IAM5", "reason": "CDK's execution role: ecr:GetAuthorizationToken has no resource "
                                                   "to name.", "applies_to": ["Resource::*"]},
        ], apply_to_children=True)
        NagSuppressions.add_resource_suppressions(self.state_machine, [
            {"id": "AwsSolutions-IAM5", "reason": "CDK's grants for the .sync pattern: X-Ray, the log delivery "
                                                   "and the ECS task's managed rule have no narrower resource.",
             "applies_to": ["Resource::*"]},
        ], apply_to_children=True)
