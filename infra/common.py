"""What the constructs share: private buckets, a Lambda role that may write only its own logs,
and the environment that points streamlens at the releases bucket."""

from __future__ import annotations

import jsii
from aws_cdk import IAspect, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct


def function_role(scope: Construct, construct_id: str, log_group: logs.ILogGroup, description: str) -> iam.Role:
    role = iam.Role(scope, construct_id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                    description=description)
    role.add_to_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                           resources=[log_group.log_group_arn, f"{log_group.log_group_arn}:*"]))
    return role


def streamlens_environment(bucket: s3.IBucket, **extra: str) -> dict[str, str]:
    """The real S3 (empty endpoint), this stack's bucket, plus per-function settings."""
    return {"STREAMLENS_BUCKET": bucket.bucket_name, "STREAMLENS_S3_ENDPOINT": "", **extra}


def keeps_data(stage: str) -> bool:
    """prod keeps its buckets and logs when the stack is deleted; dev is removed completely by `cdk destroy`."""
    return stage == "prod"


def private_bucket(scope: Construct, construct_id: str, access_logs: s3.IBucket | None = None,
                   logs_prefix: str | None = None, *, keep: bool, **extra) -> s3.Bucket:
    """Encrypted, no public access, SSL only, access logs to access_logs. keep: retained when the stack is
    deleted; otherwise deleted with it, emptied first (every version) by CDK's auto-delete custom resource."""
    return s3.Bucket(scope, construct_id, encryption=s3.BucketEncryption.S3_MANAGED,
                     block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
                     server_access_logs_bucket=access_logs, server_access_logs_prefix=logs_prefix,
                     removal_policy=RemovalPolicy.RETAIN if keep else RemovalPolicy.DESTROY,
                     auto_delete_objects=not keep, **extra)


@jsii.implements(IAspect)
class LogsGoWithTheStack:
    """A log group is kept when its stack is deleted (CDK's default); in a stage that keeps no data it goes."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, logs.CfnLogGroup):
            node.apply_removal_policy(RemovalPolicy.DESTROY)
