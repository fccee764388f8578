"""What the constructs share: private buckets, a Lambda role that may write only its own logs,
and the environment that points streamlens at the releases bucket."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
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


def private_bucket(scope: Construct, construct_id: str, access_logs: s3.IBucket | None = None,
                   logs_prefix: str | None = None, **extra) -> s3.Bucket:
    """Encrypted, no public access, SSL only, kept when the stack is deleted; access logs to access_logs."""
    return s3.Bucket(scope, construct_id, encryption=s3.BucketEncryption.S3_MANAGED,
                     block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
                     server_access_logs_bucket=access_logs, server_access_logs_prefix=logs_prefix,
                     removal_policy=RemovalPolicy.RETAIN, **extra)
