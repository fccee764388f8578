"""The streamlens stack: storage, the data API and the ETL, for one stage."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from cdk_nag import NagSuppressions
from constructs import Construct

from .data_api import DataApi
from .etl import Etl
from .storage import Storage


class StreamlensStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, **kwargs) -> None:
        super().__init__(scope, construct_id, description=f"streamlens ({stage})", **kwargs)
        self.storage = Storage(self, "Storage", stage=stage)
        self.data_api = DataApi(self, "DataApi", stage=stage, bucket=self.storage.bucket)
        self.etl = Etl(self, "Etl", stage=stage, bucket=self.storage.bucket)
        CfnOutput(self, "BucketName", value=self.storage.bucket.bucket_name)
        CfnOutput(self, "EtlFunction", value=self.etl.function.function_name)
        CfnOutput(self, "EtlLogGroup", value=self.etl.log_group.log_group_name)
        for child in self.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                NagSuppressions.add_resource_suppressions(child, [{
                    "id": "AwsSolutions-IAM4",
                    "reason": "CDK's own custom resource that turns on the bucket's EventBridge notifications at "
                              "deploy time; CDK creates its role with the AWS managed basic execution policy.",
                }], apply_to_children=True)
