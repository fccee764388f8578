"""Every setting streamlens reads from the environment, in one place.

Defaults make a local run work with no AWS account: the bucket lives in the
embedded S3 (moto server) on localhost. Inside AWS (``AWS_EXECUTION_ENV`` is
set by Lambda and Fargate) the endpoint defaults to the real S3.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .layout import MANIFEST, RELEASES

LOCAL_S3_PORT = 5050
LOCAL_S3_ENDPOINT = f"http://127.0.0.1:{LOCAL_S3_PORT}"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def _number(name: str, default, kind=int):
    """An int or float setting; a malformed value fails loudly, naming the variable."""
    raw = _env(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    bucket: str
    s3_endpoint: str | None
    region: str
    prefix: str
    data_dir: str | None
    keep_releases: int
    manifest_ttl_seconds: float
    recommend_threshold: float
    root_path: str
    cors_origins: tuple[str, ...]      # origins whose pages may call the API (the web interface's)
    etl_lock_seconds: float            # lease of the ETL's lock, renewed while the run lives
    max_catalog_shrink: float          # share of a catalog's live titles a new release may lose unasked

    @property
    def manifest_key(self) -> str:
        return f"{self.prefix}{MANIFEST}"

    @property
    def releases_prefix(self) -> str:
        return f"{self.prefix}{RELEASES}"


def _default_endpoint() -> str | None:
    return None if os.environ.get("AWS_EXECUTION_ENV") else LOCAL_S3_ENDPOINT


def _bucket() -> str:
    """The local default only outside AWS: a function or ETL run deployed without its bucket setting would
    otherwise look for the local bucket and fail later with a misleading S3 error."""
    bucket = _env("STREAMLENS_BUCKET")
    if bucket:
        return bucket
    if os.environ.get("AWS_EXECUTION_ENV"):
        raise RuntimeError("STREAMLENS_BUCKET is not set: inside AWS it must name the releases bucket (the stack "
                           "sets it on every function); the local default streamlens-local applies only outside AWS")
    return "streamlens-local"


def get_settings() -> Settings:
    """Read the environment now, so tests and long-lived processes see changes."""
    endpoint = _env("STREAMLENS_S3_ENDPOINT")
    if endpoint is None:
        endpoint = _default_endpoint()
    prefix = (_env("STREAMLENS_PREFIX", "") or "").strip("/")
    return Settings(
        bucket=_bucket(),
        s3_endpoint=endpoint or None,
        region=_env("AWS_REGION") or _env("AWS_DEFAULT_REGION") or "us-east-1",
        prefix=f"{prefix}/" if prefix else "",
        data_dir=_env("STREAMLENS_DATA_DIR") or None,
        keep_releases=max(1, _number("STREAMLENS_KEEP_RELEASES", 3)),
        manifest_ttl_seconds=max(0.0, _number("STREAMLENS_MANIFEST_TTL_SECONDS", 30.0, float)),
        recommend_threshold=_number("STREAMLENS_RECOMMEND_THRESHOLD", 3.5, float),
        root_path=(_env("STREAMLENS_ROOT_PATH", "") or "").rstrip("/"),
        etl_lock_seconds=max(1.0, _number("STREAMLENS_ETL_LOCK_SECONDS", 1200.0, float)),
        max_catalog_shrink=min(1.0, max(0.0, _number("STREAMLENS_MAX_CATALOG_SHRINK", 0.2, float))),
        cors_origins=tuple(o.strip() for o in (_env("STREAMLENS_CORS_ORIGINS", "*") or "*").split(",") if o.strip()),
    )
