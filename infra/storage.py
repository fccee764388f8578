"""The releases bucket (with raw/ for uploaded inputs) and its access-log bucket."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions
from constructs import Construct

from streamlens.layout import ETL_LOCK, MANIFEST, REFUSED_RUN, RELEASES

from .common import keeps_data, private_bucket

RAW = "raw/"
PRUNED_RELEASE_DAYS = 7
OLD_VERSION_DAYS = 30


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        keep = keeps_data(stage)
        self.access_logs = private_bucket(
            self, "AccessLogs", keep=keep,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,   # log delivery granted by bucket policy, no ACL
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        )
        NagSuppressions.add_resource_suppressions(self.access_logs, [{
            "id": "AwsSolutions-S1",
            "reason": "This is the access-log bucket itself; logging it into itself would loop.",
        }])
        self.bucket = private_bucket(
            self, "Releases", self.access_logs, "releases-bucket/", keep=keep,
            bucket_name=f"streamlens-{stage}-{Aws.ACCOUNT_ID}-{Aws.REGION}",
            versioned=True,
            event_bridge_enabled=True,
            lifecycle_rules=[
                # The ETL deletes releases beyond the last few itself. Every object of a release has a key of
                # its own, so a deleted release is one noncurrent version per key: it expires after
                # PRUNED_RELEASE_DAYS (a "keep the newest 3 versions" rule would keep it for ever), and the
                # delete markers left behind go with it.
                s3.LifecycleRule(id="pruned-releases", prefix=RELEASES,
                                 noncurrent_version_expiration=Duration.days(PRUNED_RELEASE_DAYS)),
                s3.LifecycleRule(id="pruned-release-markers", prefix=RELEASES, expired_object_delete_marker=True),
                # What is overwritten in place (the live manifest, the uploaded inputs, the run lock, the last
                # refusal) keeps its last 3 versions (a rollback's history, the previous uploads), and older ones
                # for OLD_VERSION_DAYS. The rules' prefixes do not overlap.
                *(s3.LifecycleRule(id=f"old-versions-{name}", prefix=prefix,
                                   noncurrent_version_expiration=Duration.days(OLD_VERSION_DAYS),
                                   noncurrent_versions_to_retain=3)
                  for name, prefix in (("manifest", MANIFEST), ("raw", RAW), ("lock", ETL_LOCK),
                                       ("refusal", REFUSED_RUN))),
                s3.LifecycleRule(id="unfinished-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )
