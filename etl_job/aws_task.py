"""The ETL's entry point in AWS: `python -m etl_job task`, the command of the Fargate task that the state
machine of infra/etl.py starts on demand, or when a `raw/READY` marker lands after an upload under `raw/`.

The execution's input reaches the task as JSON in STREAMLENS_ETL_EVENT (the state machine's container
override); the state machine reads the task's exit code (etl_job.__main__.run_command: 0 published, 2 input
refused, 3 another run holds the lock, 1 anything else, with its traceback in the log)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from streamlens.config import get_settings
from streamlens.storage import ObjectStore

from .catalog import InputError
from .options import EtlOptions
from .progress import Progress
from .sources import DataSource

EVENT_VARIABLE = "STREAMLENS_ETL_EVENT"
FLAGS = ("skip_training", "accept_shrink")

log = logging.getLogger("streamlens.etl")


def event_from_environment() -> dict[str, Any]:
    """The execution's input; no variable is an empty event (every default). Other keys (the trigger's own,
    such as "trigger") are ignored; a flag that is not a boolean is refused rather than guessed."""
    text = os.environ.get(EVENT_VARIABLE, "").strip() or "{}"
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{EVENT_VARIABLE} is not JSON ({exc.msg} at character {exc.pos}): {text[:200]!r}") \
            from None
    if not isinstance(event, dict):
        raise InputError(f"{EVENT_VARIABLE} must be a JSON object, not {type(event).__name__}")
    for flag in FLAGS:
        if flag in event and not isinstance(event[flag], bool):
            raise InputError(f"{EVENT_VARIABLE}: {flag} must be true or false, not {event[flag]!r}")
    if "data" in event and not (isinstance(event["data"], str) and event["data"].startswith("s3://")):
        raise InputError(f"{EVENT_VARIABLE}: data must be an s3:// prefix, not {event['data']!r}")
    stage = event.get("ratings_stage")
    if stage is not None and not (isinstance(stage, str) and stage.strip("/") and "://" not in stage):
        raise InputError(f"{EVENT_VARIABLE}: ratings_stage must be a key prefix of the bucket (the Spark job's "
                         f"stage, e.g. 'stage/<execution>/'), not {stage!r}")
    return event


def run_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """event may set "data" (an s3:// prefix), "skip_training", "accept_shrink" (publish even if a catalog
    disappears or shrinks: etl_job.release_guard) and "ratings_stage" (the Spark job's staged ratings, read
    instead of the ratings files: etl_job/stage.py); defaults come from the environment."""
    from .pipeline import run_etl  # the stages' libraries load when a run starts (etl_job/options.py)

    settings = get_settings()
    location = event.get("data") or settings.data_dir or f"s3://{settings.bucket}/raw"
    log.info("ETL started on %s", location)
    summary = run_etl(DataSource(location), ObjectStore.from_settings(settings), settings,
                      EtlOptions(train=not event.get("skip_training", False),
                                 accept_shrink=event.get("accept_shrink", False),
                                 ratings_stage=event.get("ratings_stage")), Progress())
    log.info("ETL published release %s", summary["release_id"])
    return summary
