"""The ETL in AWS: the same etl_job code as a container-image Lambda.

Why a Lambda and not a Fargate task: at production scale (real catalogs, 11
million ratings) the whole ETL with training takes about 3 minutes and 5 GB
(bench/results/etl.json), well inside Lambda's 15 minutes and 10 GB; a Lambda
needs no VPC, cluster or task definition and costs nothing at rest. The image
carries pandas, pyarrow and scikit-surprise, beyond the 250 MB zip limit. If
the data grew about four-fold, the same image runs unchanged as a Fargate task.
Synthesising only stages the Dockerfile; the image is built at deploy time.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Size
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as _lambda
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

from streamlens.layout import ETL_LOCK, MANIFEST, REFUSED_RUN, RELEASES

from .common import function_role, streamlens_environment

REPO = Path(__file__).resolve().parents[1]
READY_MARKER = "raw/READY"
IMAGE_EXCLUDES = [".git", ".venv", ".local", "cdk.out", "**/node_modules", "layers/build", "bench", "tests",
                  "**/__pycache__", ".pytest_cache", "*.egg-info"]


class Etl(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, bucket: s3.IBucket,
                 keep_releases: int = 3) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.THREE_MONTHS)
        self.failed_runs = sqs.Queue(self, "FailedRuns", queue_name=f"streamlens-{stage}-etl-failed-runs",
                                     retention_period=Duration.days(14), enforce_ssl=True,
                                     encryption=sqs.QueueEncryption.SQS_MANAGED)
        role = function_role(self, "Role", log_group,
                             "streamlens ETL: reads raw/, writes releases/, the manifest, its run lock and refusals")
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects("raw/*")]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            resources=[bucket.arn_for_objects(f"{RELEASES}*"), bucket.arn_for_objects(MANIFEST),
                       bucket.arn_for_objects(ETL_LOCK),                  # the run lock (etl_job/lock.py)
                       bucket.arn_for_objects(REFUSED_RUN)]))             # the last refusal (etl_job/release_guard.py)
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": ["raw/*", f"{RELEASES}*", RELEASES, MANIFEST]}}))
        self.function = _lambda.DockerImageFunction(
            self, "Function",
            function_name=f"streamlens-{stage}-etl",
            code=_lambda.DockerImageCode.from_image_asset(str(REPO), file="infra/etl.Dockerfile",
                                                          exclude=IMAGE_EXCLUDES,
                                                          platform=ecr_assets.Platform.LINUX_AMD64),
            architecture=_lambda.Architecture.X86_64,
            memory_size=8192,
            ephemeral_storage_size=Size.gibibytes(2),
            timeout=Duration.minutes(15),
            # One run at a time is the S3 lock's job (etl_job/lock.py): a reserved concurrency of 1 fails to
            # deploy on accounts whose concurrency quota is 10. A failed run is not retried: the ETL's S3
            # client already retries what is transient, and what fails after that (an input refused, a code
            # fault) fails again at the same cost; it goes to the failed-runs queue, and the next upload runs.
            retry_attempts=0,
            on_failure=destinations.SqsDestination(self.failed_runs),
            role=role,
            log_group=log_group,
            logging_format=_lambda.LoggingFormat.JSON,
            environment=streamlens_environment(bucket, STREAMLENS_DATA_DIR=f"s3://{bucket.bucket_name}/raw",
                                               STREAMLENS_KEEP_RELEASES=str(keep_releases)),
            description="streamlens ETL: clean, score, slice, train, publish a release",
        )
        self.rule = events.Rule(
            self, "RawDataReady",
            description=f"Run the ETL when {READY_MARKER} is written after an upload under raw/",
            event_pattern=events.EventPattern(
                source=["aws.s3"], detail_type=["Object Created"],
                detail={"bucket": {"name": [bucket.bucket_name]}, "object": {"key": [READY_MARKER]}}),
            targets=[targets.LambdaFunction(self.function, retry_attempts=0)],
        )
        NagSuppressions.add_resource_suppressions(self.failed_runs, [
            {"id": "AwsSolutions-SQS3", "reason": "This queue is itself where failed ETL runs go (the Lambda's "
                                                   "on-failure destination); nothing consumes it to fail again."},
        ])
        NagSuppressions.add_resource_suppressions(role, [
            {"id": "AwsSolutions-IAM5", "reason": "Release ids are created at run time, so the ETL's grants name "
                                                   "the raw/ and releases/ prefixes; log streams live in its own "
                                                   "group.",
             "applies_to": [{"regex": "/^Resource::(<.*>|arn:.*)(/raw/\\*|/releases/\\*|:\\*)$/g"}]},
        ], apply_to_children=True)
