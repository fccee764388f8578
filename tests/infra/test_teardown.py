"""Teardown by stage: `cdk destroy` removes a dev stack completely (its buckets emptied first, its log groups
deleted), and a prod stack's buckets and logs outlive it."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from infra.app import build

KEPT_TYPES = ("AWS::S3::Bucket", "AWS::Logs::LogGroup")


@pytest.fixture(scope="module")
def prod() -> Template:
    return Template.from_stack(build({"stage": "prod"})[1])


def _resources(template: Template, kind: str) -> dict[str, dict]:
    return template.find_resources(kind)


def test_a_dev_stack_leaves_nothing_behind(synthesized):
    _, dev, _ = synthesized
    resources = dev.to_json()["Resources"]
    retained = {r["Type"] for r in resources.values() if r.get("DeletionPolicy") == "Retain"}
    # The one exception, CDK's default on purpose: API Gateway's logging role is a setting of the whole account
    # and region, which other APIs there use too; deleting it with this stack would stop their logs.
    assert retained == {"AWS::ApiGateway::Account", "AWS::IAM::Role"}
    [role] = [k for k, r in resources.items() if r.get("DeletionPolicy") == "Retain" and r["Type"] == "AWS::IAM::Role"]
    assert role.startswith("DataApiCloudWatchRole")
    buckets = _resources(dev, "AWS::S3::Bucket")
    assert len(buckets) == 3 and all(b["DeletionPolicy"] == "Delete" for b in buckets.values())
    emptied = {r["Properties"]["BucketName"]["Ref"] for r in _resources(dev, "Custom::S3AutoDeleteObjects").values()}
    assert emptied == set(buckets), "every bucket is emptied (all versions) before it is deleted"
    log_groups = _resources(dev, "AWS::Logs::LogGroup")
    assert log_groups and all(g["DeletionPolicy"] == "Delete" for g in log_groups.values())


def test_a_prod_stack_keeps_its_buckets_and_logs(prod):
    for kind in KEPT_TYPES:
        kept = _resources(prod, kind)
        assert kept and all(r["DeletionPolicy"] == "Retain" for r in kept.values()), kind
    assert not _resources(prod, "Custom::S3AutoDeleteObjects")
