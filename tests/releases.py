"""Releases built once per test session and copied into each test module's own bucket.

The ETL is the slow part of most integration tests; a module that only reads a release gets a copy of one
built once, in its own moto bucket, so that no module sees another's writes."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from streamlens.storage import ObjectStore
from tests.aws import moto_bucket


@dataclass(frozen=True)
class Published:
    """Every object the ETL wrote (key -> body and content type) and the run's summary."""
    objects: dict[str, tuple[bytes, str]]
    summary: dict

    def copy_into(self, store: ObjectStore) -> None:
        for key, (body, content_type) in self.objects.items():
            store.put(key, body, content_type)


def publish_once(folder: Path, options: EtlOptions) -> Published:
    with moto_bucket("session-release") as (settings, store):
        summary = run_etl(DataSource(str(folder)), store, settings, options, Progress(io.StringIO()))
        objects = {}
        for info in store.list(""):
            response = store.client.get_object(Bucket=store.bucket, Key=info.key)
            objects[info.key] = (response["Body"].read(), response["ContentType"])
    return Published(objects, summary)
