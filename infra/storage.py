"""The releases bucket (with raw/ for uploaded inputs) and its access-log bucket."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions
from constructs import Construct

from .common import private_bucket


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = private_bucket(
            self, "AccessLogs",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,   # log delivery granted by bucket policy, no ACL
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        )
        NagSuppressions.add_resource_suppressions(self.access_logs, [{
            "id": "AwsSolutions-S1",
            "reason": "This is the access-log bucket itself; logging it into itself would loop.",
        }])
        self.bucket = private_bucket(
            self, "Releases", self.access_logs, "releases-bucket/",
            bucket_name=f"streamlens-{stage}-{Aws.ACCOUNT_ID}-{Aws.REGION}",
            versioned=True,
            event_bridge_enabled=True,
            lifecycle_rules=[
                # The ETL deletes releases beyond the last few itself; versioning keeps what it
                # deleted or overwrote (manifests included) for 30 days, the newest 3 versions longer.
                s3.LifecycleRule(id="old-versions", noncurrent_version_expiration=Duration.days(30),
                                 noncurrent_versions_to_retain=3),
                s3.LifecycleRule(id="unfinished-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )
