"""The Spark engine in AWS (`-c engine=spark`): the stages whose cost grows with the ratings run as one EMR
Serverless job before today's Fargate task, in the same state machine (infra/etl.py). Why EMR Serverless and
not AWS Glue, and what a run costs: docs/scale.md, "Spark in AWS".

The job runs in a custom image (infra/spark.Dockerfile): EMR Serverless's base image of the release, plus
Python 3.11 (the base has 3.9; this code needs 3.11), the ETL's packages and this repository's `streamlens`
and `etl_job`. An image rather than a packed environment in S3, because a packed virtual environment brings
its packages but not its interpreter, and the EMR runtime has none recent enough. EMR Serverless pulls only
from a repository whose policy lets its service principal in, which CDK's bootstrap repository does not:
the image asset is built into CDK's repository at deploy time as the ETL's is, then copied (cdk-ecr-deployment)
into this stack's own repository, which has that policy.

The job reads raw/ and writes the staged ratings under stage/<execution name>/; the Fargate task reads them
and publishes. stage/ expires after STAGE_DAYS: a failed run's half-written stage goes by itself, and a
successful one is kept a week to look at.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_emrserverless as emrs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from cdk_ecr_deployment import DockerImageName, ECRDeployment
from cdk_nag import NagSuppressions
from constructs import Construct

from .common import keeps_data
from .etl import IMAGE_EXCLUDES, REPO

STAGE = "stage/"
STAGE_DAYS = 7
# Spark 3.5 (EMR Serverless 7.11.0); the job's code is written against the pyspark of requirements-spark.txt.
RELEASE_LABEL = "emr-7.11.0"
PYTHON = "/usr/bin/python3.11"                     # installed by infra/spark.Dockerfile
ENTRY_POINT = "local:///app/etl_job/spark/job.py"  # the image's copy of this repository's etl_job/spark/job.py
# Workers of 4 vCPU and 16 GB (4 GB per core, Spark's usual ratio for shuffles and ALS). A new account may run
# 16 vCPU of EMR Serverless at once ("Max concurrent vCPUs per account", adjustable): the driver and three
# executors. The application's cap is that quota, so a job never waits on capacity it cannot get.
WORKER_VCPU = 4
WORKER_MEMORY_GB = 16
MAX_VCPU = 16
# docs/scale.md's estimate (measured throughput, training included): 100 million ratings take about 43 minutes
# of 16 vCPU, 1 billion about 6.5 hours (81 minutes at 64 vCPU). Two hours covers 100 million with room;
# 1 billion needs the quota raised first.
JOB_TIMEOUT = Duration.hours(2)
# Capacity is created per job (no pre-initialised workers: they bill while they wait); the application itself
# stops once idle for this long.
IDLE_STOP_MINUTES = 10
JOB_LOG_PREFIX = "spark"


class SparkJob(Construct):
    """The EMR Serverless application, its image, the job's role and logs, and the states that run the job."""

    EVENT = "$.event"                 # what the task receives: the input and its ratings_stage
    # What the job adds to the state machine's time-out: its own, and a start that waits on capacity.
    timeout = JOB_TIMEOUT.plus(Duration.minutes(20))

    def __init__(self, scope: Construct, construct_id: str, *, stage: str, bucket: s3.Bucket) -> None:
        super().__init__(scope, construct_id)
        self.bucket = bucket
        self.log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.THREE_MONTHS)
        keep = keeps_data(stage)
        self.repository = ecr.Repository(
            self, "Images", repository_name=f"streamlens-{stage}-spark", image_scan_on_push=True,
            lifecycle_rules=[ecr.LifecycleRule(max_image_count=3, description="the image in use and two before")],
            removal_policy=RemovalPolicy.RETAIN if keep else RemovalPolicy.DESTROY, empty_on_delete=not keep)
        # The service pulls the image when the application starts, for this account's applications only.
        self.repository.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("emr-serverless.amazonaws.com")],
            actions=["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                        "StringLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:emr-serverless:{Aws.REGION}:"
                                                        f"{Aws.ACCOUNT_ID}:/applications/*"}}))
        image = ecr_assets.DockerImageAsset(self, "Image", directory=str(REPO), file="infra/spark.Dockerfile",
                                            exclude=IMAGE_EXCLUDES, platform=ecr_assets.Platform.LINUX_AMD64)
        self.image_uri = self.repository.repository_uri_for_tag(image.asset_hash)
        copy = ECRDeployment(self, "CopyImage", src=DockerImageName(image.image_uri),
                             dest=DockerImageName(self.image_uri))
        self.role = self._job_role()
        self.application = emrs.CfnApplication(
            self, "Application", name=f"streamlens-{stage}-etl-spark", release_label=RELEASE_LABEL, type="SPARK",
            architecture="X86_64",
            image_configuration=emrs.CfnApplication.ImageConfigurationInputProperty(image_uri=self.image_uri),
            auto_start_configuration=emrs.CfnApplication.AutoStartConfigurationProperty(enabled=True),
            auto_stop_configuration=emrs.CfnApplication.AutoStopConfigurationProperty(
                enabled=True, idle_timeout_minutes=IDLE_STOP_MINUTES),
            maximum_capacity=emrs.CfnApplication.MaximumAllowedResourcesProperty(
                cpu=f"{MAX_VCPU} vCPU", memory=f"{MAX_VCPU // WORKER_VCPU * WORKER_MEMORY_GB} GB"),
            runtime_configuration=[emrs.CfnApplication.ConfigurationObjectProperty(
                classification="spark-defaults", properties=self._spark_defaults())],
            monitoring_configuration=emrs.CfnApplication.MonitoringConfigurationProperty(
                cloud_watch_logging_configuration=emrs.CfnApplication.CloudWatchLoggingConfigurationProperty(
                    enabled=True, log_group_name=self.log_group.log_group_name,
                    log_stream_name_prefix=JOB_LOG_PREFIX)))
        self.application.node.add_dependency(copy)
        self.application_arn = self.application.attr_arn
        # Like releases/, each key under stage/ is written once: expiring it leaves a noncurrent version (gone a
        # day later) and a delete marker (removed once alone).
        bucket.add_lifecycle_rule(id="spark-stage", prefix=STAGE, expiration=Duration.days(STAGE_DAYS),
                                  noncurrent_version_expiration=Duration.days(1))
        bucket.add_lifecycle_rule(id="spark-stage-markers", prefix=STAGE, expired_object_delete_marker=True)
        self._suppress()

    @staticmethod
    def _spark_defaults() -> dict[str, str]:
        """Fixed-size workers, scaled by dynamic allocation within the application's cap; PySpark on the
        image's Python 3.11 on the driver and the executors."""
        return {
            "spark.driver.cores": str(WORKER_VCPU), "spark.driver.memory": f"{WORKER_MEMORY_GB - 2}g",
            "spark.executor.cores": str(WORKER_VCPU), "spark.executor.memory": f"{WORKER_MEMORY_GB - 2}g",
            "spark.dynamicAllocation.enabled": "true",
            "spark.dynamicAllocation.maxExecutors": str(MAX_VCPU // WORKER_VCPU - 1),
            "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": PYTHON,
            "spark.executorEnv.PYSPARK_PYTHON": PYTHON,
        }

    def _job_role(self) -> iam.Role:
        """What the job touches and nothing else: it reads raw/, writes stage/, and writes its log group.

        The exact keys `raw` and `stage` (no slash) are there because Spark's S3 file system asks for the object
        of a directory's own name before listing under it, and a request without permission answers 403, which
        it takes as an error where 404 means "a directory". Listing names the whole bucket for the same reason:
        S3 answers 404 for a missing key only to a principal that may list the bucket (names, no content).
        """
        role = iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("emr-serverless.amazonaws.com"),
                        description="streamlens Spark job: reads raw/, writes stage/, writes its log group")
        bucket = self.bucket
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[bucket.arn_for_objects("raw"), bucket.arn_for_objects("raw/*")]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            resources=[bucket.arn_for_objects(STAGE.rstrip("/")), bucket.arn_for_objects(f"{STAGE}*")]))
        role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[self.log_group.log_group_arn]))
        # EMR Serverless checks that the configured group exists before a job writes to it.
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:DescribeLogGroups"],
            resources=[f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"]))
        return role

    def states(self, scope: Construct, report: sfn.IChainable) -> sfn.Chain:
        """Name the run's stage prefix and the task's event, then run the job; a failed job (or one that never
        started) goes to report.

        A Pass state adds objects, not strings: the first puts {"ratings_stage": "stage/<execution name>/"}
        under $.ratings_stage, the second merges that over the input (the second object's keys win) into
        EVENT, so the event is the input with ratings_stage a string, whatever the job's state adds beside it."""
        name = sfn.Pass(scope, "NameStage", result_path="$.ratings_stage", parameters={
            "ratings_stage": sfn.JsonPath.format(f"{STAGE}{{}}/", sfn.JsonPath.execution_name)})
        event = sfn.Pass(scope, "TaskEvent", parameters={
            self.EVENT.removeprefix("$."): sfn.JsonPath.json_merge(sfn.JsonPath.object_at("$"),
                                                                   sfn.JsonPath.object_at("$.ratings_stage"))})
        job = self._run_state(scope, f"{self.EVENT}.ratings_stage")
        job.add_catch(report, errors=[sfn.Errors.ALL], result_path="$.error")
        return name.next(event).next(job)

    def _run_state(self, scope: Construct, ratings_stage: str) -> sfn.CustomState:
        """The job run, waited for (Step Functions' optimised integration .sync, which CDK has no task for).

        ratings_stage: the JSONPath of the stage prefix. A run that fails, is cancelled or passes JOB_TIMEOUT
        fails the state. Its result goes beside the event, under $.spark (a custom state cannot discard it)."""
        bucket = self.bucket.bucket_name
        return sfn.CustomState(scope, "RunSparkJob", state_json={
            "Type": "Task",
            "Resource": f"arn:{Aws.PARTITION}:states:::emr-serverless:startJobRun.sync",
            "Parameters": {
                "ApplicationId": self.application.attr_application_id,
                "ExecutionRoleArn": self.role.role_arn,
                "Name.$": "$$.Execution.Name",
                "ClientToken.$": "States.UUID()",
                "ExecutionTimeoutMinutes": int(JOB_TIMEOUT.to_minutes()),
                "JobDriver": {"SparkSubmit": {
                    "EntryPoint": ENTRY_POINT,
                    "EntryPointArguments.$": f"States.Array('--data-dir', 's3://{bucket}/raw', '--stage', "
                                             f"States.Format('s3://{bucket}/{{}}', {ratings_stage}))",
                }},
            },
            "ResultPath": "$.spark",
            # The job's own time-out stops it; this one covers a start that never answers.
            "TimeoutSeconds": int(JOB_TIMEOUT.plus(Duration.minutes(10)).to_seconds()),
        })

    def grant_run(self, machine: sfn.StateMachine) -> None:
        """What the .sync integration needs (Step Functions' documented policy for EMR Serverless): start a
        run of this application, follow and cancel its runs, the managed rule that reports their end, and
        passing the job's role to EMR Serverless only."""
        machine.add_to_role_policy(iam.PolicyStatement(actions=["emr-serverless:StartJobRun"],
                                                       resources=[self.application_arn]))
        machine.add_to_role_policy(iam.PolicyStatement(actions=["emr-serverless:GetJobRun",
                                                                "emr-serverless:CancelJobRun"],
                                                       resources=[f"{self.application_arn}/jobruns/*"]))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:rule/"
                       "StepFunctionsGetEventsForEMRServerlessJobRule"]))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[self.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}))
        NagSuppressions.add_resource_suppressions(machine, [
            {"id": "AwsSolutions-IAM5", "reason": "The job runs' ids are made at run time: the state machine may "
                                                   "follow and cancel the runs of this one application.",
             "applies_to": [{"regex": "/^Resource::<.*Application.*\\.Arn>/jobruns/\\*$/g"}]},
        ], apply_to_children=True)

    def grant_read_stage(self, role: iam.Role) -> None:
        """The Fargate task reads the staged ratings (a Parquet folder: its objects and their names)."""
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"],
                                               resources=[self.bucket.arn_for_objects(f"{STAGE}*")]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{STAGE}*"]}}))
        NagSuppressions.add_resource_suppressions(role, [
            {"id": "AwsSolutions-IAM5", "reason": "The stage prefix holds one folder per execution, named at run "
                                                   "time.",
             "applies_to": [{"regex": "/^Resource::(<.*>|arn:.*)/stage/\\*$/g"}]},
        ], apply_to_children=True)

    def _suppress(self) -> None:
        NagSuppressions.add_resource_suppressions(self.role, [
            {"id": "AwsSolutions-IAM5", "reason": "The job reads every upload under raw/ and writes one folder per "
                                                   "execution under stage/, named at run time; EMR Serverless "
                                                   "looks its log group up among the account's.",
             "applies_to": [{"regex": "/^Resource::(<.*>|arn:.*)/(raw|stage)/\\*$/g"},
                            {"regex": "/^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                                      "log-group:\\*$/g"}]},
        ], apply_to_children=True)
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKECRDeployment"):
                NagSuppressions.add_resource_suppressions(child, [
                    {"id": "AwsSolutions-IAM4", "reason": "cdk-ecr-deployment's own copying function (deploy time "
                                                           "only), created with the AWS managed basic execution "
                                                           "policy."},
                    {"id": "AwsSolutions-IAM5", "reason": "cdk-ecr-deployment's copying function reads CDK's "
                                                           "asset repository and pushes to this one; "
                                                           "ecr:GetAuthorizationToken has no resource to name."},
                ], apply_to_children=True)
