"""The ETL's entry point in AWS (a container-image Lambda): on demand, or when a
`raw/READY` marker lands after new raw data was uploaded under `raw/`."""

from __future__ import annotations

import logging
from typing import Any

from streamlens.config import get_settings
from streamlens.storage import ObjectStore

from .pipeline import EtlOptions, run_etl
from .progress import Progress
from .sources import DataSource

log = logging.getLogger("streamlens.etl")


def handler(event: dict[str, Any] | None, context: Any = None) -> dict[str, Any]:
    """event may set "data" (an s3:// prefix), "skip_training" and "accept_shrink" (publish even if a catalog
    disappears or shrinks: etl_job.release_guard); defaults come from the environment."""
    event = event if isinstance(event, dict) else {}
    settings = get_settings()
    location = event.get("data") or settings.data_dir or f"s3://{settings.bucket}/raw"
    log.info("ETL started on %s", location)
    summary = run_etl(DataSource(location), ObjectStore.from_settings(settings), settings,
                      EtlOptions(train=not event.get("skip_training", False),
                                 accept_shrink=event.get("accept_shrink") is True), Progress())
    log.info("ETL published release %s", summary["release_id"])
    return summary
