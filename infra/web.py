"""The web interface: the static files of web/ in a private bucket, served by CloudFront through
origin access control, with the API's URL written into config.js at deploy time."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import NagSuppressions
from constructs import Construct

from .common import private_bucket

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


class WebUi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, api_url: str, access_logs: s3.IBucket,
                 keep: bool) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(self, "Site", access_logs, "web-bucket/", keep=keep)
        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment="streamlens web interface",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        self.deployment = s3deploy.BucketDeployment(
            self, "Files",
            destination_bucket=self.bucket,
            sources=[s3deploy.Source.asset(str(WEB_DIR), exclude=["config.js"]),
                     s3deploy.Source.data("config.js", f'window.STREAMLENS_API = "{api_url}";\n')],
            distribution=self.distribution,
            distribution_paths=["/*"],
        )
        self.origin = f"https://{self.distribution.distribution_domain_name}"
        CfnOutput(self, "WebUrl", value=f"{self.origin}/",
                  description="the web interface").override_logical_id("WebUrl")
        self._suppress()

    def _suppress(self) -> None:
        NagSuppressions.add_resource_suppressions(self.distribution, [
            {"id": "AwsSolutions-CFR1", "reason": "A public catalog browser: no country is excluded."},
            {"id": "AwsSolutions-CFR2", "reason": "Static files only; the WAF option belongs to the API "
                                                  "(the reliability issue), which serves the data."},
            {"id": "AwsSolutions-CFR3", "reason": "Standard CloudFront logs need an ACL-enabled bucket; the "
                                                  "site bucket's S3 access logs record every origin read."},
            {"id": "AwsSolutions-CFR4", "reason": "The default *.cloudfront.net certificate (no custom domain) "
                                                  "cannot pin TLS 1.2; viewers are redirected to HTTPS."},
        ])
        stack = self.distribution.stack
        NagSuppressions.add_resource_suppressions_by_path(stack, [
            f"{stack.node.path}/Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C",
        ], [
            {"id": "AwsSolutions-IAM4", "reason": "CDK's BucketDeployment handler (copies web/ at deploy time) "
                                                  "uses the AWS managed basic execution policy."},
            {"id": "AwsSolutions-IAM5", "reason": "CDK's BucketDeployment handler reads the staged asset and "
                                                  "writes the site bucket's objects (object wildcards)."},
            {"id": "AwsSolutions-L1", "reason": "The BucketDeployment handler's runtime is chosen by CDK."},
        ], apply_to_children=True)
