"""CDK entry point (cdk.json runs `python3 -m infra.app`). The stage comes from
context: `cdk synth -c stage=prod`; names of the stack, bucket, API and
functions derive from it. Two switches, off by default: `-c apiKeys=true`
(the recommender's routes need an API key of a usage plan) and `-c waf=true`
(a WAF with AWS managed rules in front of the API). `-c alarmEmail=ops@example.com`
subscribes that address to the alarms' SNS topic. `-c corsOrigins=...` (comma-separated
origins, or `*`) opens the API to other pages than the web interface's. `-c engine=spark`
runs the ratings stages of the ETL on EMR Serverless before the task (infra/spark.py); pandas, the
default, runs the whole ETL in the task. cdk-nag's AWS Solutions checks run on every synth."""

from __future__ import annotations

import re

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks

from .stack import StreamlensStack

STAGES = ("dev", "prod")
# Feature flags the stack relies on: server access logs are granted by bucket policy, not by ACL.
FEATURE_FLAGS = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
ENGINES = ("pandas", "spark")


def _flag(app: App, name: str) -> bool:
    """A boolean context switch: -c name=true (the CLI passes strings)."""
    value = app.node.try_get_context(name)
    if value in (None, False, "false", "False", "0", ""):
        return False
    if value in (True, "true", "True", "1"):
        return True
    raise ValueError(f"context {name}={value!r}: use true or false")


def _email(app: App, name: str) -> str | None:
    """An e-mail address from context, or None; a typo fails the synth rather than the subscription."""
    value = app.node.try_get_context(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not EMAIL.fullmatch(value):
        raise ValueError(f"context {name}={value!r}: not an e-mail address (like ops@example.com)")
    return value


def _origins(app: App, name: str) -> list[str] | None:
    """-c corsOrigins=https://a.example,https://b.example (or *): the pages that may call the API, instead of
    the web interface's origin alone."""
    value = app.node.try_get_context(name)
    if value in (None, ""):
        return None
    origins = [o.strip() for o in str(value).split(",") if o.strip()]
    bad = [o for o in origins if o != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?", o)]
    if not origins or bad:
        raise ValueError(f"context {name}={value!r}: use * or comma-separated origins like https://app.example.com "
                         f"(scheme and host, no path); refused: {', '.join(bad) or 'none given'}")
    return origins


def _engine(app: App, name: str) -> str:
    """-c engine=spark (or pandas, the default): what runs the ETL's ratings stages in the stack."""
    value = app.node.try_get_context(name)
    if value in (None, ""):
        return ENGINES[0]
    if value not in ENGINES:
        raise ValueError(f"context {name}={value!r}: use {' or '.join(ENGINES)}")
    return str(value)


def build(context: dict | None = None) -> tuple[App, StreamlensStack]:
    app = App(context={**FEATURE_FLAGS, **(context or {})})
    stage = app.node.try_get_context("stage") or "dev"
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; valid stages: {', '.join(STAGES)}")
    stack = StreamlensStack(app, f"streamlens-{stage}", stage=stage,
                            api_keys=_flag(app, "apiKeys"), waf=_flag(app, "waf"),
                            alarm_email=_email(app, "alarmEmail"), cors_origins=_origins(app, "corsOrigins"),
                            engine=_engine(app, "engine"),
                            env=Environment(account=app.node.try_get_context("account"),
                                            region=app.node.try_get_context("region")))
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app, stack


if __name__ == "__main__":
    build()[0].synth()
