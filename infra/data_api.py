"""One Lambda per query and the recommender, behind an API Gateway REST API.

Memory: the query functions read a JSON slice of kilobytes and import no
numpy: 256 MB answers in well under a millisecond warm (bench/). The
recommender holds the factors and every user's rated titles (about 70 MB at
11 million ratings) and ranks with numpy: 1024 MB, which also buys CPU. The
two similar-titles functions look up precomputed neighbours (a numpy bundle
of about 1 MB for the movies and 16 MB for the streaming catalog): 512 MB.
Timeouts cover a cold start that downloads the slice (about 1 s) with margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as _lambda
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from cdk_nag import NagSuppressions
from constructs import Construct

from streamlens.layout import MANIFEST, READS, RELEASES

from .common import function_role, streamlens_environment
from .layer_assets import layer_code

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    routes: tuple[str, ...]       # GET routes
    layers: tuple[str, ...]
    memory: int = 256
    post_routes: tuple[str, ...] = ()
    timeout: int = 10
    code_root: str = ""           # default functions/<name>
    handler: str = "handler.handler"

    @property
    def environment(self) -> dict[str, str]:
        """Its own variables: numpy's OpenBLAS on one thread. A 22,936 x 64 matrix by a vector is about a
        millisecond of memory-bound work, and threads on less than a vCPU (a 1 GB function has 0.58) only wait
        for each other: the recommender's top-10 took 12 ms at p50 instead of 2.3 (docs/benchmarks.md)."""
        return {"OPENBLAS_NUM_THREADS": "1"} if "numpy" in self.layers else {}

    @property
    def reads(self) -> tuple[str, ...]:
        """The release objects it may read (names or patterns): streamlens.layout.READS, the one table."""
        return READS[self.name]


FUNCTIONS = (
    FunctionSpec("get_max_duration", ("/max-duration",), ("api", "streamlens")),
    FunctionSpec("get_score_count", ("/score-count",), ("api", "streamlens")),
    FunctionSpec("get_count_platform", ("/count-platform",), ("api", "streamlens")),
    FunctionSpec("get_actor", ("/actor",), ("api", "streamlens")),
    FunctionSpec("recommender", ("/recommend", "/users/{user_id}/recommendations"), ("api", "numpy", "streamlens"),
                 memory=1024, timeout=15, post_routes=("/recommendations",)),
    *(FunctionSpec(name, (route,), ("api", "streamlens")) for name, route in (
        ("peliculas_idioma", "/movies/language"), ("peliculas_duracion", "/movies/duration"),
        ("franquicia", "/movies/franchise"), ("peliculas_pais", "/movies/country"),
        ("productoras_exitosas", "/movies/production-company"), ("get_director", "/movies/director"))),
    *(FunctionSpec(name, (route,), ("api", "numpy", "streamlens"), memory=512)
      for name, route in (("recomendacion", "/movies/recommendation"), ("similar", "/similar"))),
    FunctionSpec("reports", ("/reports", "/reports/{name}"), ("api", "streamlens")),
    FunctionSpec("titles", ("/titles", "/titles/{title_id}", "/catalog"), ("api", "streamlens"), memory=512),
    # docs imports every function's router to assemble the OpenAPI document, so it needs every layer
    FunctionSpec("docs", ("/docs", "/openapi.json"), ("api", "numpy", "streamlens"), code_root="functions",
                 handler="docs/handler.handler", memory=512),
)


KEYED_FUNCTIONS = ("recommender",)
WAF_MANAGED_RULES = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                     "AWSManagedRulesAmazonIpReputationList")


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(cloud_watch_metrics_enabled=True, metric_name=name,
                                                    sampled_requests_enabled=True)


class DataApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, bucket: s3.IBucket,
                 manifest_ttl_seconds: int = 30, throttle_rate: int = 100, throttle_burst: int = 200,
                 api_keys: bool = False, waf: bool = False) -> None:
        """api_keys: the recommender's routes need an API key of a usage plan; waf: a WAF web ACL with
        AWS managed rules and a per-IP rate limit in front of the API (both off by default)."""
        super().__init__(scope, construct_id)
        self.layers = {
            name: _lambda.LayerVersion(
                self, f"{name.capitalize()}Layer", code=layer_code(name),
                compatible_runtimes=[_lambda.Runtime.PYTHON_3_12],
                compatible_architectures=[_lambda.Architecture.X86_64],
                description=f"streamlens {name} layer (layers/build.py)")
            for name in sorted({layer for spec in FUNCTIONS for layer in spec.layers})
        }
        self.functions: dict[str, _lambda.Function] = {}
        for spec in FUNCTIONS:
            self.functions[spec.name] = self._function(spec, stage, bucket, manifest_ttl_seconds)

        access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.api = apigw.RestApi(
            self, "Api",
            rest_api_name=f"streamlens-{stage}",
            description="streamlens public API: catalog queries and recommendations",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=stage,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False),
            ),
        )
        self.routes: list[apigw.Resource] = []
        for spec in FUNCTIONS:
            integration = apigw.LambdaIntegration(self.functions[spec.name])
            for method, routes in (("GET", spec.routes), ("POST", spec.post_routes)):
                for route in routes:
                    resource = self.api.root.resource_for_path(route)
                    resource.add_method(method, integration,
                                        api_key_required=api_keys and spec.name in KEYED_FUNCTIONS)
                    self.routes.append(resource)
        self.api.node.try_remove_child("Endpoint")     # RestApi's own output, with a generated name: ApiUrl instead
        CfnOutput(self, "ApiUrl", value=self.api.url,
                  description="base URL of the API (stage included)").override_logical_id("ApiUrl")
        if api_keys:
            self._usage_plan(stage)
        if waf:
            self._waf(stage)
        self._suppress(waf)

    def _usage_plan(self, stage: str) -> None:
        """The recommender's routes for key holders only, each key throttled and given a daily quota."""
        plan = self.api.add_usage_plan(
            "RecommenderPlan", name=f"streamlens-{stage}-recommender",
            throttle=apigw.ThrottleSettings(rate_limit=20, burst_limit=40),
            quota=apigw.QuotaSettings(limit=100_000, period=apigw.Period.DAY))
        plan.add_api_stage(stage=self.api.deployment_stage)
        key = self.api.add_api_key("RecommenderKey", api_key_name=f"streamlens-{stage}-recommender")
        plan.add_api_key(key)
        CfnOutput(self, "RecommenderApiKeyId", value=key.key_id,
                  description="aws apigateway get-api-key --include-value --api-key <id> gives the key")

    def _waf(self, stage: str) -> None:
        """AWS managed rules (common exploits, known bad inputs, IP reputation) and 1,000 requests per
        5 minutes per client IP, on the API's stage."""
        def managed(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name, priority=priority, override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=(
                    wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(vendor_name="AWS", name=name))),
                visibility_config=_visibility(name))

        rate = wafv2.CfnWebACL.RuleProperty(
            name="per-ip-rate", priority=0, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=(
                wafv2.CfnWebACL.RateBasedStatementProperty(limit=1000, aggregate_key_type="IP"))),
            visibility_config=_visibility("per-ip-rate"))
        acl = wafv2.CfnWebACL(
            self, "Waf", name=f"streamlens-{stage}-api", scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"streamlens-{stage}-api"),
            rules=[rate, *(managed(name, k) for k, name in enumerate(WAF_MANAGED_RULES, start=1))])
        wafv2.CfnWebACLAssociation(self, "WafAssociation", resource_arn=self.api.deployment_stage.stage_arn,
                                   web_acl_arn=acl.attr_arn)

    def allow_origins(self, origins: list[str]) -> None:
        """The pages that may call the API from a browser: every route's preflight (API Gateway) and every
        function's answers (streamlens.api's CORS middleware, STREAMLENS_CORS_ORIGINS) name these origins only."""
        for resource in dict.fromkeys(self.routes):
            resource.add_cors_preflight(allow_origins=origins, allow_methods=["GET", "POST", "OPTIONS"],
                                        allow_headers=["Content-Type", "Accept"])
        for function in self.functions.values():
            function.add_environment("STREAMLENS_CORS_ORIGINS", ",".join(origins))

    def _function(self, spec: FunctionSpec, stage: str, bucket: s3.IBucket, ttl: int) -> _lambda.Function:
        log_group = logs.LogGroup(self, f"{spec.name}Logs", retention=logs.RetentionDays.ONE_MONTH)
        role = function_role(self, f"{spec.name}Role", log_group,
                             f"streamlens {spec.name}: its own logs and its own slice, nothing else")
        if spec.reads:
            role.add_to_policy(iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(MANIFEST),
                           *(bucket.arn_for_objects(f"{RELEASES}*/{pattern}") for pattern in spec.reads)]))
            # Without s3:ListBucket S3 answers a missing key with 403 AccessDenied, so before the first ETL run
            # a function would report a permission problem instead of "no release is published yet" (503). A
            # prefix condition cannot narrow it (a GetObject carries no s3:prefix); listing names reads nothing.
            role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        code_root = REPO / (spec.code_root or f"functions/{spec.name}")
        return _lambda.Function(
            self, spec.name,
            function_name=f"streamlens-{stage}-{spec.name}",
            runtime=_lambda.Runtime.PYTHON_3_12,
            architecture=_lambda.Architecture.X86_64,
            handler=spec.handler,
            code=_lambda.Code.from_asset(str(code_root), exclude=["__pycache__", "*.pyc"]),
            layers=[self.layers[name] for name in spec.layers],
            memory_size=spec.memory,
            timeout=Duration.seconds(spec.timeout),
            role=role,
            log_group=log_group,
            logging_format=_lambda.LoggingFormat.JSON,
            environment=streamlens_environment(bucket, STREAMLENS_MANIFEST_TTL_SECONDS=str(ttl),
                                               STREAMLENS_ROOT_PATH=f"/{stage}", **spec.environment),
            description=f"streamlens {spec.name}: {', '.join(spec.routes)}",
        )

    def _suppress(self, waf: bool) -> None:
        stack = Stack.of(self)
        NagSuppressions.add_resource_suppressions(self.api, [
            {"id": "AwsSolutions-APIG2", "reason": "Each function validates its own parameters and answers 400/422 "
                                                    "naming the parameter and its valid values (tested)."},
            {"id": "AwsSolutions-APIG4", "reason": "A public, read-only API over public catalog data by design; "
                                                    "the recommender can require API keys (-c apiKeys=true)."},
            {"id": "AwsSolutions-COG4", "reason": "Public read-only API: no user pool to authorise against."},
            *([] if waf else [{"id": "AwsSolutions-APIG3", "reason": "Stage throttling protects the API; the WAF "
                                                                      "is switched on with -c waf=true."}]),
        ], apply_to_children=True)
        NagSuppressions.add_resource_suppressions_by_path(stack, f"{self.api.node.path}/CloudWatchRole/Resource", [
            {"id": "AwsSolutions-IAM4", "reason": "API Gateway's account-level logging role needs the AWS managed "
                                                   "AmazonAPIGatewayPushToCloudWatchLogs policy.",
             "applies_to": ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                            "AmazonAPIGatewayPushToCloudWatchLogs"]},
        ])
        for fn in self.functions.values():
            NagSuppressions.add_resource_suppressions(fn, [
                {"id": "AwsSolutions-L1", "reason": "Python 3.12 is the runtime the code, the layers and the tests "
                                                     "target; moving runtime is a deliberate change."},
            ])
            assert fn.role is not None      # each function is given its own role (_function)
            NagSuppressions.add_resource_suppressions(fn.role, [
                {"id": "AwsSolutions-IAM5", "reason": "Release ids are created by each ETL run, so a function's "
                                                       "read grant names its own slice prefix under releases/*; "
                                                       "log streams are created at run time in its own log group.",
                 "applies_to": [{"regex": "/^Resource::(<.*>|arn:.*)(/releases/\\*/.*|:\\*)$/g"}]},
            ], apply_to_children=True)
