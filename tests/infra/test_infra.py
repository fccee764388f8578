"""The CDK stack, synthesised offline: template assertions, cdk-nag, cfn-lint, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
from aws_cdk.assertions import Annotations, Match, Template

from streamlens.layout import READS
from tests.helpers import REPO

MOVIE_FUNCTIONS = {"peliculas_idioma": "/movies/language", "peliculas_duracion": "/movies/duration",
                   "franquicia": "/movies/franchise", "peliculas_pais": "/movies/country",
                   "productoras_exitosas": "/movies/production-company", "get_director": "/movies/director"}
SIMILAR_FUNCTIONS = {"recomendacion": "/movies/recommendation", "similar": "/similar"}
QUERY_FUNCTIONS = ("get_max_duration", "get_score_count", "get_count_platform", "get_actor", *MOVIE_FUNCTIONS,
                   *SIMILAR_FUNCTIONS, "reports", "titles")
ROUTES = {"/max-duration": "get_max_duration", "/score-count": "get_score_count",
          "/count-platform": "get_count_platform", "/actor": "get_actor", "/recommend": "recommender",
          "/users/{user_id}/recommendations": "recommender", "/docs": "docs", "/openapi.json": "docs",
          "/reports": "reports", "/reports/{name}": "reports",
          "/titles": "titles", "/titles/{title_id}": "titles", "/catalog": "titles",
          **{route: name for name, route in {**MOVIE_FUNCTIONS, **SIMILAR_FUNCTIONS}.items()}}


def _functions(template) -> dict[str, dict]:
    return {f["Properties"].get("FunctionName", key): f["Properties"]
            for key, f in template.find_resources("AWS::Lambda::Function").items()}


def _by_name(template, name: str) -> tuple[str, dict]:
    for key, f in template.find_resources("AWS::Lambda::Function").items():
        if f["Properties"].get("FunctionName") == f"streamlens-dev-{name}":
            return key, f["Properties"]
    raise AssertionError(f"no function {name}")


def test_one_function_per_query_plus_recommender_and_docs(synthesized):
    """The ETL is a Fargate task (tests/infra/test_deploy_path.py), not a function."""
    _, template, _ = synthesized
    functions = _functions(template)
    ours = {n for n in functions if str(n).startswith("streamlens-dev-")}
    assert ours == {f"streamlens-dev-{n}" for n in (*QUERY_FUNCTIONS, "recommender", "docs")}
    for name in (*QUERY_FUNCTIONS, "recommender"):
        _, props = _by_name(template, name)
        assert props["Runtime"] == "python3.12" and props["Handler"] == "handler.handler"
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert props["Environment"]["Variables"]["STREAMLENS_S3_ENDPOINT"] == ""
    _, recommender = _by_name(template, "recommender")
    _, query = _by_name(template, "get_actor")
    assert len(recommender["Layers"]) == 3 and len(query["Layers"]) == 2, "numpy only where it is needed"
    assert query["MemorySize"] == 256 and recommender["MemorySize"] == 1024
    for name in SIMILAR_FUNCTIONS:
        _, lookup = _by_name(template, name)
        assert len(lookup["Layers"]) == 3 and lookup["MemorySize"] == 512
    from infra.data_api import FUNCTIONS

    docs = next(spec for spec in FUNCTIONS if spec.name == "docs")
    assert set(docs.layers) == {layer for spec in FUNCTIONS for layer in spec.layers}, \
        "the docs function imports every router, so it needs every layer"
    for group in template.find_resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] in (30, 90)


def test_every_route_is_a_get_on_its_own_function(synthesized):
    _, template, _ = synthesized
    resources = template.find_resources("AWS::ApiGateway::Resource")
    paths = {}

    def full_path(key):
        props = resources[key]["Properties"]
        parent = props["ParentId"]
        prefix = full_path(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{props['PathPart']}"

    for key in resources:
        paths[key] = full_path(key)
    methods = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "GET"}})
    seen = {}
    for method in methods.values():
        props = method["Properties"]
        path = paths[props["ResourceId"]["Ref"]]
        uri = json.dumps(props["Integration"]["Uri"])
        key, _ = _by_name(template, ROUTES[path])
        assert key in uri, f"{path} must integrate with {ROUTES[path]}"
        seen[path] = True
    assert set(seen) == set(ROUTES)


def test_api_gateway_routes_are_the_local_routes(synthesized):
    from infra.data_api import FUNCTIONS
    from streamlens.combined_app import build_app

    deployed = {(method, route) for spec in FUNCTIONS if spec.name != "docs"
                for method, routes in (("get", spec.routes), ("post", spec.post_routes)) for route in routes}
    assert deployed == {(method, path) for path, operations in build_app().openapi()["paths"].items()
                        for method in operations}


def test_the_visitor_route_is_a_post_to_the_recommender(synthesized):
    _, template, _ = synthesized
    posts = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "POST"}})
    key, _ = _by_name(template, "recommender")
    assert len(posts) == 1 and key in json.dumps(next(iter(posts.values()))["Properties"]["Integration"]["Uri"])


def _statements(template, function: str) -> list[dict]:
    """The statements of the function's role; the ETL's are its Fargate task's role."""
    if function == "etl":
        [task] = template.find_resources("AWS::ECS::TaskDefinition").values()
        role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    else:
        role = _by_name(template, function)[1]["Role"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::Policy")
    return [s for p in policies.values() if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _bucket_id(template) -> str:
    [key] = template.find_resources("AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": {}}})
    return key


def _s3_resources(statement) -> list[str]:
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return ["".join(part if isinstance(part, str) else "<bucket>" for part in r["Fn::Join"][1]) for r in resources]


def _s3_statements(template, function: str) -> list[dict]:
    return [s for s in _statements(template, function)
            if any(str(a).startswith("s3:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]


@pytest.mark.parametrize("function", sorted(set(READS) - {"docs"}))
def test_each_function_reads_only_what_the_layout_table_grants_it_and_the_manifest(synthesized, function):
    """The template's read grants are streamlens.layout.READS (tests/integration/test_query_function.py runs every route
    and checks the handlers read nothing else)."""
    _, template, _ = synthesized
    s3 = _s3_statements(template, function)
    gets = [s for s in s3 if s["Action"] == "s3:GetObject"]
    lists = [s for s in s3 if s["Action"] == "s3:ListBucket"]
    assert len(s3) == 2 and len(gets) == len(lists) == 1 and {s["Effect"] for s in s3} == {"Allow"}
    assert sorted(_s3_resources(gets[0])) == sorted(["<bucket>/manifest.json",
                                                     *(f"<bucket>/releases/*/{p}" for p in READS[function])])
    assert lists[0]["Resource"] == {"Fn::GetAtt": [_bucket_id(template), "Arn"]}     # names only, no object


def test_the_read_grants_name_exact_objects_beside_the_reports_family(synthesized):
    _, template, _ = synthesized
    assert sorted(_s3_resources(_s3_statements(template, "get_actor")[0])) == [
        "<bucket>/manifest.json", "<bucket>/releases/*/slices/get_actor/slice.json"]
    assert sorted(_s3_resources(_s3_statements(template, "recommender")[0])) == [
        "<bucket>/manifest.json", "<bucket>/releases/*/models/recommender/model.npz",
        "<bucket>/releases/*/slices/recommender/bundle.npz"]
    assert sorted(_s3_resources(_s3_statements(template, "reports")[0])) == [
        "<bucket>/manifest.json", "<bucket>/releases/*/reports/*"]
    assert _s3_statements(template, "docs") == []


def test_the_stack_and_the_layout_table_name_the_same_functions():
    from infra.data_api import FUNCTIONS

    assert {spec.name for spec in FUNCTIONS} == set(READS)
    assert all(spec.reads == READS[spec.name] for spec in FUNCTIONS)


def test_only_the_etl_can_write_and_only_under_its_prefixes(synthesized):
    _, template, _ = synthesized
    for name in (*QUERY_FUNCTIONS, "recommender", "docs"):
        actions = {a for s in _statements(template, name)
                   for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
        assert not actions & {"s3:PutObject", "s3:DeleteObject", "s3:*"}, name
    writes = [s for s in _statements(template, "etl") if "s3:PutObject" in s["Action"]]
    assert len(writes) == 1
    from etl_job.lock import LOCK_NAME
    from etl_job.release_guard import REFUSED_RUN

    assert sorted(_s3_resources(writes[0])) == sorted([f"<bucket>/{LOCK_NAME}", "<bucket>/manifest.json",
                                                        f"<bucket>/{REFUSED_RUN}", "<bucket>/releases/*"])


def test_bucket_is_private_encrypted_versioned_logged_and_ssl_only(synthesized):
    _, template, _ = synthesized
    buckets = template.find_resources("AWS::S3::Bucket",
                                      {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}})
    assert len(buckets) == 1
    props = next(iter(buckets.values()))["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                       "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    [encryption] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "DestinationBucketName" in props["LoggingConfiguration"]
    policies = template.find_resources("AWS::S3::BucketPolicy")
    assert all(any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
                   and s["Effect"] == "Deny"
                   for s in p["Properties"]["PolicyDocument"]["Statement"]) for p in policies.values())


def test_stage_throttling_cors_and_access_logs(synthesized):
    _, template, _ = synthesized
    stage = next(iter(template.find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    assert stage["StageName"] == "dev" and "AccessLogSetting" in stage
    settings = stage["MethodSettings"][0]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (100, 200)
    options = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "OPTIONS"}})
    assert len(options) >= len(ROUTES)
    template.has_output("*", {"Value": Match.any_value(), "Description": Match.string_like_regexp("base URL")})


def test_cdk_nag_finds_nothing_unsuppressed_and_every_suppression_has_a_reason(synthesized):
    stack, template, _ = synthesized
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert not errors, [e.entry.data for e in errors]
    assert not warnings, [w.entry.data for w in warnings]
    reasons = [rule["reason"] for r in template.to_json()["Resources"].values()
               for rule in r.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])]
    assert reasons and all(len(reason) > 40 for reason in reasons)


def test_cfn_lint_is_clean(synthesized):
    """W3005 is ignored: it flags the redundant DependsOn that CDK itself writes from every Lambda
    function to its role; the template is otherwise clean, warnings included."""
    _, _, template_file = synthesized
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(template_file),
                             "--ignore-checks", "W3005"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_stages_name_everything(synthesized):
    from infra.app import build

    _, prod = build({"stage": "prod"})
    functions = Template.from_stack(prod).find_resources("AWS::Lambda::Function").values()
    names = {f["Properties"].get("FunctionName") for f in functions}
    assert "streamlens-prod-recommender" in names and prod.stack_name == "streamlens-prod"
    with pytest.raises(ValueError, match="valid stages: dev, prod"):
        build({"stage": "qa"})


def test_layers_keep_every_function_under_the_lambda_limit(synthesized):
    result = subprocess.run([sys.executable, str(REPO / "layers" / "build.py"), "--check"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    from infra.data_api import FUNCTIONS

    assert result.stdout.count("(ok;") == len(FUNCTIONS)


def test_web_interface_is_a_private_bucket_behind_cloudfront_with_the_api_url_injected(synthesized):
    _, template, _ = synthesized
    resources = template.to_json()["Resources"]
    [(oac_id, _)] = template.find_resources("AWS::CloudFront::OriginAccessControl").items()
    [(_, distribution)] = template.find_resources("AWS::CloudFront::Distribution").items()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    [origin] = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    site_id = origin["DomainName"]["Fn::GetAtt"][0]
    site = resources[site_id]["Properties"]
    assert site["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                      "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    policy = next(r["Properties"]["PolicyDocument"] for r in resources.values()
                  if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": site_id})
    allowed = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    reads = [s for s in allowed if "s3:GetObject" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert [s["Principal"] for s in reads] == [{"Service": "cloudfront.amazonaws.com"}]
    others = [s for s in allowed if s not in reads]      # dev: CDK's auto-delete role empties the bucket at destroy
    assert all("AutoDeleteObjects" in json.dumps(s["Principal"]) for s in others)
    assert "AWS:SourceArn" in reads[0]["Condition"]["StringEquals"], "only this distribution may read"
    [deployment] = template.find_resources("Custom::CDKBucketDeployment").values()
    markers = json.dumps(deployment["Properties"]["SourceMarkers"])
    api_id = next(iter(template.find_resources("AWS::ApiGateway::RestApi")))
    assert api_id in markers, "config.js gets the API's URL at deploy time"
    assert deployment["Properties"]["DestinationBucketName"] == {"Ref": site_id}


@pytest.fixture(scope="module")
def hardened():
    from infra.app import build

    app, stack = build({"stage": "prod", "apiKeys": "true", "waf": "true"})
    app.synth()
    return stack, Template.from_stack(stack)


def test_api_keys_switch_guards_only_the_recommender_with_a_usage_plan(hardened, synthesized):
    _stack, template = hardened
    methods = template.find_resources("AWS::ApiGateway::Method")
    keyed = {m["Properties"]["ResourceId"]["Ref"] for m in methods.values() if m["Properties"].get("ApiKeyRequired")}
    resources = template.find_resources("AWS::ApiGateway::Resource")
    parts = {rid: r["Properties"]["PathPart"] for rid, r in resources.items()}
    assert {parts[r] for r in keyed} == {"recommend", "recommendations"}
    [plan] = template.find_resources("AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Quota"] == {"Limit": 100000, "Period": "DAY"}
    assert plan["Properties"]["Throttle"] == {"BurstLimit": 40, "RateLimit": 20}
    template.resource_count_is("AWS::ApiGateway::ApiKey", 1)
    template.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)
    _, default = synthesized[0], synthesized[1]
    default.resource_count_is("AWS::ApiGateway::UsagePlan", 0)
    methods = default.find_resources("AWS::ApiGateway::Method").values()
    assert not any(m["Properties"].get("ApiKeyRequired") for m in methods)


def test_waf_switch_puts_managed_rules_and_a_rate_limit_in_front_of_the_api(hardened, synthesized):
    stack, template = hardened
    [acl] = template.find_resources("AWS::WAFv2::WebACL").values()
    rules = acl["Properties"]["Rules"]
    managed = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in rules
               if "ManagedRuleGroupStatement" in r["Statement"]}
    assert managed == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                       "AWSManagedRulesAmazonIpReputationList"}
    [rate] = [r for r in rules if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"] == {"Limit": 1000, "AggregateKeyType": "IP"}
    assert "Block" in rate["Action"]
    [association] = template.find_resources("AWS::WAFv2::WebACLAssociation").values()
    assert "Stage" in json.dumps(association["Properties"]["ResourceArn"])
    synthesized[1].resource_count_is("AWS::WAFv2::WebACL", 0)
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert not errors and not warnings, [e.entry.data for e in [*errors, *warnings]]


def test_switches_refuse_values_that_are_not_booleans():
    from infra.app import build

    with pytest.raises(ValueError, match="waf='yes please'"):
        build({"waf": "yes please"})
