"""The streamlens stack: storage, the data API, the ETL, the web interface and their monitoring, for one stage."""

from __future__ import annotations

from aws_cdk import Aspects, CfnOutput, Stack
from cdk_nag import NagSuppressions
from constructs import Construct

from .common import LogsGoWithTheStack, keeps_data
from .data_api import DataApi
from .etl import Etl
from .monitoring import Monitoring
from .storage import Storage
from .web import WebUi


class StreamlensStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, api_keys: bool = False,
                 waf: bool = False, alarm_email: str | None = None, cors_origins: list[str] | None = None,
                 engine: str = "pandas", **kwargs) -> None:
        """cors_origins: the origins whose pages may call the API; by default the web interface's only.
        engine: "spark" runs the ratings stages as an EMR Serverless job before the ETL task (infra/spark.py)."""
        super().__init__(scope, construct_id, description=f"streamlens ({stage})", **kwargs)
        self.storage = Storage(self, "Storage", stage=stage)
        self.data_api = DataApi(self, "DataApi", stage=stage, bucket=self.storage.bucket, api_keys=api_keys,
                                waf=waf)
        self.spark = None
        if engine == "spark":     # imported here: its image copier (cdk-ecr-deployment) serves this engine only
            from .spark import SparkJob

            self.spark = SparkJob(self, "Spark", stage=stage, bucket=self.storage.bucket)
        self.etl = Etl(self, "Etl", stage=stage, bucket=self.storage.bucket, spark=self.spark)
        self.web = WebUi(self, "Web", api_url=self.data_api.api.url, access_logs=self.storage.access_logs,
                         keep=keeps_data(stage))
        self.data_api.allow_origins(cors_origins or [self.web.origin])
        self.monitoring = Monitoring(self, "Monitoring", stage=stage, api=self.data_api.api,
                                     functions=self.data_api.functions, etl=self.etl, alarm_email=alarm_email)
        CfnOutput(self, "BucketName", value=self.storage.bucket.bucket_name)
        CfnOutput(self, "EtlStateMachine", value=self.etl.state_machine.state_machine_arn,
                  description="Step Functions state machine that runs the ETL task (start-execution, input {})")
        CfnOutput(self, "EtlLogGroup", value=self.etl.log_group.log_group_name)
        CfnOutput(self, "EtlFailedRuns", value=self.etl.failed_runs.queue_url,
                  description="SQS queue receiving the ETL runs that failed")
        if not keeps_data(stage):
            Aspects.of(self).add(LogsGoWithTheStack())
        for child in self.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                NagSuppressions.add_resource_suppressions(child, [{
                    "id": "AwsSolutions-IAM4",
                    "reason": "CDK's own custom resource that turns on the bucket's EventBridge notifications at "
                              "deploy time; CDK creates its role with the AWS managed basic execution policy.",
                }], apply_to_children=True)
