"""The staged ratings: what the Spark job (etl_job/spark/job.py) hands the ETL task in AWS (`-c engine=spark`,
infra/spark.py). The job reads and validates the ratings; the task (etl_job/aws_task.py, event key
`ratings_stage`) reads what it staged instead of the ratings files and goes on with the stages that grow with
the catalog only. Under the stage prefix:

    ratings/*.parquet   the clean ratings, latest per (user, title): user, item, rating, timestamp, file, line
    scores.parquet      each title's score and rating count (title_scores' frame)
    ratings.json        the ratings' quality report (QualityReport.to_dict), their origin, the files' checksums,
                        and the catalog they were validated against (its titles and their ids' sha256)
    rejects.csv         the report's rejects CSV, as it renders it

No pickles: the stage is data, read back into the same objects the pandas engine makes. A stage validated
against another catalog than the one the task cleans is refused: the items are catalog positions.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pandas as pd

from streamlens.storage import ObjectNotFound, ObjectStore

from .catalog import InputError
from .quality import QualityReport
from .ratings import clean_frame

RATINGS_DIR = "ratings/"
STAGED_COLUMNS = ("user", "item", "rating", "timestamp", "file", "line")   # file and line: arrival order
SCORES = "scores.parquet"
SUMMARY = "ratings.json"
REJECTS = "rejects.csv"


def catalog_sha256(title_ids: pd.Series) -> str:
    """The catalog's ids in their order: the item positions of the staged ratings are positions in it."""
    return hashlib.sha256("\n".join(title_ids.astype(str)).encode()).hexdigest()


def stage_summary(report: QualityReport, origin: dict, checksums: dict, title_ids: pd.Series) -> dict[str, Any]:
    return {"report": report.to_dict(), "origin": origin, "checksums": checksums,
            "catalog": {"titles": len(title_ids), "ids_sha256": catalog_sha256(title_ids)}}


def read_stage(store: ObjectStore, prefix: str, title_ids: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                QualityReport, dict, dict]:
    """(ratings in arrival order, scores, report, origin, checksums) of the stage under prefix, which must
    have been validated against the catalog of title_ids."""
    prefix = prefix if prefix.endswith("/") else f"{prefix}/"
    try:
        summary = json.loads(store.get(f"{prefix}{SUMMARY}"))
    except ObjectNotFound as exc:
        raise InputError(f"no staged ratings at {prefix}{SUMMARY}: the Spark job (etl_job/spark/job.py) "
                         "writes them, their summary last, before the task runs") from exc
    expected = {"titles": len(title_ids), "ids_sha256": catalog_sha256(title_ids)}
    if summary["catalog"] != expected:
        raise InputError(f"the staged ratings at {prefix} were validated against another catalog "
                         f"({summary['catalog']['titles']:,} titles) than this run's ({expected['titles']:,}): "
                         "run the Spark job again on the same raw/ upload")
    parts = sorted(o.key for o in store.list(f"{prefix}{RATINGS_DIR}") if o.key.endswith(".parquet"))
    frames = [pd.read_parquet(io.BytesIO(store.get(key))) for key in parts]
    clean = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({c: [] for c in STAGED_COLUMNS})
    clean = clean.sort_values(["file", "line"], kind="stable")
    ratings = clean_frame(clean["user"], clean["item"], clean["rating"], clean["timestamp"])
    scores = pd.read_parquet(io.BytesIO(store.get(f"{prefix}{SCORES}")))
    report = QualityReport.from_dict(summary["report"], store.get(f"{prefix}{REJECTS}"))
    return ratings, scores, report, summary["origin"], summary["checksums"]
