"""The releases bucket (with raw/ for uploaded inputs) and its access-log bucket."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions
from constructs import Construct


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,   # log delivery granted by bucket policy, no ACL
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        NagSuppressions.add_resource_suppressions(self.access_logs, [{
            "id": "AwsSolutions-S1",
            "reason": "This is the access-log bucket itself; logging it into itself would loop.",
        }])
        self.bucket = s3.Bucket(
            self, "Releases",
            bucket_name=f"streamlens-{stage}-{Aws.ACCOUNT_ID}-{Aws.REGION}",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="releases-bucket/",
            event_bridge_enabled=True,
            lifecycle_rules=[
                # The ETL deletes releases beyond the last few itself; versioning keeps what it
                # deleted or overwrote (manifests included) for 30 days, the newest 3 versions longer.
                s3.LifecycleRule(id="old-versions", noncurrent_version_expiration=Duration.days(30),
                                 noncurrent_versions_to_retain=3),
                s3.LifecycleRule(id="unfinished-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
