"""All S3 access goes through here, so the ETL, the functions and the tests
share one client setup (endpoint, retries, local credentials).

Clients come from botocore itself, not boto3: boto3 adds resources and the transfer manager (s3transfer,
multiprocessing), which nothing here uses and which a function's cold start would import for nothing."""

from __future__ import annotations

import builtins
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass

import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from .config import Settings, get_settings


class ObjectNotFound(KeyError):
    """The key does not exist in the bucket (or the bucket does not exist)."""


class DeleteFailed(RuntimeError):
    """S3 refused to delete some of the keys of a batch delete."""


class PreconditionFailed(RuntimeError):
    """A conditional write lost: the key already exists, or no longer has the expected ETag."""


_MISSING_CODES = {"NoSuchKey", "404", "NoSuchBucket", "NotFound"}
_PRECONDITION_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


@dataclass(frozen=True)
class Patience:
    """How long a caller waits for S3: the ETL can wait, a function answering a request cannot."""
    connect_timeout: float = 3
    read_timeout: float = 20
    attempts: int = 4


ETL = Patience()
COLD_LOAD = Patience(connect_timeout=1, read_timeout=2, attempts=2)   # a 503 well inside a 10 s Lambda
WARM_CHECK = Patience(connect_timeout=0.5, read_timeout=1, attempts=1)  # a warm copy is served regardless


@functools.cache
def _loader() -> botocore.loaders.Loader:
    """botocore's data loader, shared by every client: S3's model and endpoint rules are read and parsed
    once per process (boto3's default session did the same)."""
    return botocore.loaders.create_loader()


def make_client(settings: Settings | None = None, patience: Patience = ETL):
    settings = settings or get_settings()
    kwargs = {
        "region_name": settings.region,
        "config": Config(
            retries={"max_attempts": patience.attempts, "mode": "standard"},
            connect_timeout=patience.connect_timeout,
            read_timeout=patience.read_timeout,
        ),
    }
    if settings.s3_endpoint:
        kwargs["endpoint_url"] = settings.s3_endpoint
        # The embedded S3 accepts any key; a fresh machine has none configured.
        if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
            kwargs["aws_access_key_id"] = "local"
            kwargs["aws_secret_access_key"] = "local"
    session = botocore.session.get_session()      # credentials are resolved when a client is made
    session.register_component("data_loader", _loader())
    return session.create_client("s3", **kwargs)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class ObjectStore:
    """A bucket seen as a key/bytes store."""

    def __init__(self, bucket: str, client=None):
        self.bucket = bucket
        self.client = client or make_client()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, patience: Patience = ETL) -> ObjectStore:
        settings = settings or get_settings()
        return cls(settings.bucket, make_client(settings, patience))

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> int:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return len(body)

    def put_if(self, key: str, body: bytes, *, absent: bool = False, etag: str | None = None,
               content_type: str = "application/json") -> str:
        """S3 conditional write: only if the key does not exist (absent=True) or still has this ETag.
        Returns the new ETag; raises PreconditionFailed when another writer got there first."""
        condition = {"IfNoneMatch": "*"} if absent else {"IfMatch": etag}
        try:
            response = self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                                              **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _PRECONDITION_CODES:
                raise PreconditionFailed(key) from exc
            raise
        return response["ETag"]

    def get(self, key: str) -> bytes:
        return self.get_with_etag(key)[0]

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                raise ObjectNotFound(key) from exc
            raise
        return response["Body"].read(), response["ETag"]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield ObjectInfo(obj["Key"], obj["Size"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return
            raise

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        """Immediate 'sub-folders' of prefix, as full prefixes ending in '/'."""
        paginator = self.client.get_paginator("list_objects_v2")
        found: list[str] = []
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                found.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return []
            raise
        return found

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under prefix. A quiet batch delete answers 200 and lists only the keys it could not
        delete (AccessDenied, ...): those fail the call, never pass as deleted."""
        keys = [o.key for o in self.list(prefix)]
        failed: list[dict] = []
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            failed += response.get("Errors", [])
        if failed:
            first = failed[0]
            raise DeleteFailed(f"could not delete {len(failed)} of {len(keys)} objects under {prefix}: "
                               f"{first.get('Key')} ({first.get('Code')}: {first.get('Message')})")
        return len(keys)


def split_s3_url(url: str) -> tuple[str, str]:
    """'s3://bucket/some/prefix' -> ('bucket', 'some/prefix/')."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, key = url[5:].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    key = key.strip("/")
    return bucket, f"{key}/" if key else ""
