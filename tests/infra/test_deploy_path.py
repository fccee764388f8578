"""The deploy path as the README writes it, checked against the synthesised template: the outputs it looks
up, what the bucket keeps, an ETL that deploys on a new account and whose failures are seen, and functions
that tell a missing release from a missing permission."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import REPO

DEPLOY_DOCS = ("README.md",)            # docs/infrastructure.md points at the README for the commands


def _looked_up_outputs(text: str) -> set[str]:
    """Every output key a `describe-stacks --query` of the docs selects."""
    return set(re.findall(r"OutputKey==`?'([A-Za-z]+)'", text))


@pytest.mark.parametrize("doc", DEPLOY_DOCS)
def test_every_output_the_deploy_instructions_look_up_exists_by_that_exact_name(synthesized, doc):
    _, template, _ = synthesized
    looked_up = _looked_up_outputs((REPO / doc).read_text(encoding="utf-8"))
    assert {"BucketName", "ApiUrl", "EtlLogGroup"} <= looked_up, looked_up
    assert "ends_with(OutputKey" not in (REPO / doc).read_text(encoding="utf-8")
    assert looked_up <= set(template.to_json()["Outputs"])


def test_the_stack_outputs_have_stable_documented_names(synthesized):
    _, template, _ = synthesized
    outputs = template.to_json()["Outputs"]
    assert {"ApiUrl", "WebUrl", "BucketName", "EtlFunction", "EtlLogGroup", "EtlFailedRuns"} <= set(outputs)
    assert not [name for name in outputs if re.search(r"[0-9A-F]{8}$", name)], "no generated suffix"


def _releases_bucket(template) -> dict:
    [bucket] = template.find_resources("AWS::S3::Bucket",
                                       {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}}).values()
    return bucket["Properties"]


def test_pruned_releases_expire_and_overwritten_objects_keep_three_versions(synthesized):
    """A pruned release is one noncurrent version per key (each key is its own): a rule that keeps the newest
    3 noncurrent versions would keep it for ever."""
    from infra.storage import OLD_VERSION_DAYS, PRUNED_RELEASE_DAYS

    _, template, _ = synthesized
    rules = {r["Id"]: r for r in _releases_bucket(template)["LifecycleConfiguration"]["Rules"]}
    pruned = rules["pruned-releases"]
    assert pruned["Prefix"] == "releases/" and pruned["Status"] == "Enabled"
    assert pruned["NoncurrentVersionExpiration"] == {"NoncurrentDays": PRUNED_RELEASE_DAYS}
    assert rules["pruned-release-markers"] == {"Id": "pruned-release-markers", "Prefix": "releases/",
                                               "ExpiredObjectDeleteMarker": True, "Status": "Enabled"}
    kept = {r["Prefix"]: r["NoncurrentVersionExpiration"] for r in rules.values()
            if r["Id"].startswith("old-versions-")}
    assert kept == {p: {"NoncurrentDays": OLD_VERSION_DAYS, "NewerNoncurrentVersions": 3}
                    for p in ("manifest.json", "raw/", "locks/etl.json", "refused-run.json")}
    prefixes = [r.get("Prefix", "") for r in rules.values() if "NoncurrentVersionExpiration" in r]
    assert not [(a, b) for a in prefixes for b in prefixes if a != b and a.startswith(b)], "rules do not overlap"
    assert rules["unfinished-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def _etl(template) -> dict:
    [etl] = template.find_resources("AWS::Lambda::Function", {"Properties": {"PackageType": "Image"}}).values()
    return etl["Properties"]


def test_the_etl_reserves_no_concurrency_retries_nothing_and_sends_failures_to_a_queue(synthesized):
    _, template, _ = synthesized
    assert "ReservedConcurrentExecutions" not in _etl(template)
    [config] = template.find_resources("AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["MaximumRetryAttempts"] == 0
    [queue_id] = template.find_resources("AWS::SQS::Queue").keys()
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    [target] = next(iter(template.find_resources("AWS::Events::Rule").values()))["Properties"]["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0


def test_the_etl_image_is_built_for_linux_amd64_like_its_function(synthesized):
    """Built on an Apple-silicon machine, an image without a platform would be arm64 and fail on x86_64."""
    _, template, path = synthesized
    assert _etl(template)["Architectures"] == ["x86_64"]
    assets = json.loads(path.with_name(path.name.replace(".template.json", ".assets.json")).read_text())
    [image] = assets["dockerImages"].values()
    assert image["source"]["platform"] == "linux/amd64"


def _web_origin(template) -> dict:
    [distribution] = template.find_resources("AWS::CloudFront::Distribution").keys()
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}


def _preflight_origins(template) -> list:
    options = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "OPTIONS"}})
    return [response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"]
            for method in options.values() for response in method["Properties"]["Integration"]["IntegrationResponses"]]


def _function_origins(template) -> dict[str, object]:
    from infra.data_api import FUNCTIONS

    names = {f"streamlens-dev-{spec.name}" for spec in FUNCTIONS}
    return {f["Properties"]["FunctionName"]: f["Properties"]["Environment"]["Variables"].get("STREAMLENS_CORS_ORIGINS")
            for f in template.find_resources("AWS::Lambda::Function").values()
            if f["Properties"].get("FunctionName") in names}


def test_cors_names_the_web_interfaces_origin_only_by_default(synthesized):
    """Every route's preflight (API Gateway) and every function's answers (its CORS middleware) allow the
    page the stack serves, not any page."""
    from infra.data_api import FUNCTIONS

    _, template, _ = synthesized
    web = _web_origin(template)
    quoted = {"Fn::Join": ["", ["'https://", web["Fn::Join"][1][1], "'"]]}
    preflights = _preflight_origins(template)
    routes = {route for spec in FUNCTIONS for route in (*spec.routes, *spec.post_routes)}
    assert len(preflights) == len(routes) and all(origin == quoted for origin in preflights)
    origins = _function_origins(template)
    assert len(origins) == len(FUNCTIONS) and all(value == web for value in origins.values())


def test_cors_origins_from_context_replace_the_web_origin():
    from aws_cdk.assertions import Template

    from infra.app import build

    template = Template.from_stack(build({"stage": "dev", "corsOrigins": "https://a.example, https://b.example:8443"})[1])
    assert set(_function_origins(template).values()) == {"https://a.example,https://b.example:8443"}
    assert {json.dumps(o) for o in _preflight_origins(template)} != {json.dumps(_web_origin(template))}
    for bad in ("a.example", "https://a.example/path", ","):
        with pytest.raises(ValueError, match="corsOrigins"):
            build({"stage": "dev", "corsOrigins": bad})
