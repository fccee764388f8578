"""What every streamlens Lambda shares: a role that may write only its own logs,
and the environment that points streamlens at the releases bucket."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct


def function_role(scope: Construct, construct_id: str, log_group: logs.ILogGroup, description: str) -> iam.Role:
    role = iam.Role(scope, construct_id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                    description=description)
    role.add_to_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                           resources=[log_group.log_group_arn, f"{log_group.log_group_arn}:*"]))
    return role


def streamlens_environment(bucket: s3.IBucket, **extra: str) -> dict[str, str]:
    """The real S3 (empty endpoint), this stack's bucket, plus per-function settings."""
    return {"STREAMLENS_BUCKET": bucket.bucket_name, "STREAMLENS_S3_ENDPOINT": "", **extra}
