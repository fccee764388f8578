"""Configuration defaults make the local run work; AWS gets the real S3."""

from __future__ import annotations

import pytest

from streamlens.combined_app import load_handler
from streamlens.config import LOCAL_S3_ENDPOINT, get_settings

VARS = ("STREAMLENS_S3_ENDPOINT", "STREAMLENS_BUCKET", "STREAMLENS_PREFIX", "STREAMLENS_KEEP_RELEASES",
        "AWS_EXECUTION_ENV", "STREAMLENS_DATA_DIR")


@pytest.fixture
def clean_env(monkeypatch):
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_local_defaults(clean_env):
    settings = get_settings()
    assert settings.s3_endpoint == LOCAL_S3_ENDPOINT and settings.bucket == "streamlens-local"
    assert settings.manifest_key == "manifest.json" and settings.releases_prefix == "releases/"
    assert settings.keep_releases == 3 and settings.data_dir is None


def test_inside_aws_the_endpoint_is_the_real_s3(clean_env):
    clean_env.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")
    clean_env.setenv("STREAMLENS_BUCKET", "streamlens-prod-123456789012-eu-west-1")
    settings = get_settings()
    assert settings.s3_endpoint is None and settings.bucket == "streamlens-prod-123456789012-eu-west-1"


@pytest.mark.parametrize("bucket", [None, ""])
def test_inside_aws_a_missing_bucket_fails_at_cold_start_never_the_local_default(clean_env, bucket):
    clean_env.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")
    if bucket is not None:
        clean_env.setenv("STREAMLENS_BUCKET", bucket)
    with pytest.raises(RuntimeError, match="STREAMLENS_BUCKET is not set"):
        get_settings()
    with pytest.raises(RuntimeError, match="STREAMLENS_BUCKET is not set"):
        load_handler("get_actor")               # the module builds its Lambda entry at import: the cold start


def test_prefix_and_overrides(clean_env):
    clean_env.setenv("STREAMLENS_PREFIX", "/prod/")
    clean_env.setenv("STREAMLENS_S3_ENDPOINT", "")
    clean_env.setenv("STREAMLENS_KEEP_RELEASES", "5")
    settings = get_settings()
    assert settings.manifest_key == "prod/manifest.json" and settings.releases_prefix == "prod/releases/"
    assert settings.s3_endpoint is None and settings.keep_releases == 5


def test_malformed_numbers_name_the_variable(clean_env):
    clean_env.setenv("STREAMLENS_KEEP_RELEASES", "three")
    with pytest.raises(ValueError, match="STREAMLENS_KEEP_RELEASES must be an integer"):
        get_settings()
