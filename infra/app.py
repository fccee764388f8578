"""CDK entry point (cdk.json runs `python3 -m infra.app`). The stage comes from
context: `cdk synth -c stage=prod`; names of the stack, bucket, API and
functions derive from it. cdk-nag's AWS Solutions checks run on every synth."""

from __future__ import annotations

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks

from .stack import StreamlensStack

STAGES = ("dev", "prod")
# Feature flags the stack relies on: server access logs are granted by bucket policy, not by ACL.
FEATURE_FLAGS = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}


def build(context: dict | None = None) -> tuple[App, StreamlensStack]:
    app = App(context={**FEATURE_FLAGS, **(context or {})})
    stage = app.node.try_get_context("stage") or "dev"
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; valid stages: {', '.join(STAGES)}")
    stack = StreamlensStack(app, f"streamlens-{stage}", stage=stage,
                            env=Environment(account=app.node.try_get_context("account"),
                                            region=app.node.try_get_context("region")))
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app, stack


if __name__ == "__main__":
    build()[0].synth()
