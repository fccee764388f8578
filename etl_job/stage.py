"""The staged ratings: what the Spark job (etl_job/spark/job.py) hands the ETL task in AWS (`-c engine=spark`,
infra/spark.py). The job reads and validates the ratings; the task (etl_job/aws_task.py, event key
`ratings_stage`) reads what it staged instead of the ratings files and goes on with the stages that grow with
the catalog only. Under the stage prefix:

    ratings/*.parquet   the clean ratings, latest per (user, title): user, item, rating, timestamp, file, line
    scores.parquet      each title's score and rating count (title_scores' frame)
    ratings.json        the ratings' quality report (QualityReport.to_dict), their origin, the files' checksums,
                        and the catalog they were validated against (its titles and their ids' sha256)
    rejects.csv         the report's rejects CSV, as it renders it
    models/             the models the job fitted with Spark MLlib (unless run with --no-train): predictor.npz
                        (the served factor format), ranking.npz (RankingModel.to_arrays) and card.json

No pickles: the stage is data, read back into the same objects the pandas engine makes. A stage validated
against another catalog than the one the task cleans is refused: the items are catalog positions; so are
models trained with another liked-rating threshold than the task's (STREAMLENS_RECOMMEND_THRESHOLD).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamlens.factor_model import FactorModel
from streamlens.ranking import RankingModel
from streamlens.storage import ObjectNotFound, ObjectStore

from .catalog import InputError
from .quality import QualityReport
from .ratings import clean_frame
from .training import TrainedModels

RATINGS_DIR = "ratings/"
STAGED_COLUMNS = ("user", "item", "rating", "timestamp", "file", "line")   # file and line: arrival order
SCORES = "scores.parquet"
SUMMARY = "ratings.json"
REJECTS = "rejects.csv"
PREDICTOR = "models/predictor.npz"
RANKING = "models/ranking.npz"
CARD = "models/card.json"


@dataclass
class Stage:
    """A stage read back: what _validate_ratings would have made, and the staged models, if any."""
    ratings: pd.DataFrame       # in arrival order, as clean_ratings returns them
    scores: pd.DataFrame
    report: QualityReport
    origin: dict
    checksums: dict
    models: TrainedModels | None


def catalog_sha256(title_ids: pd.Series) -> str:
    """The catalog's ids in their order: the item positions of the staged ratings are positions in it."""
    return hashlib.sha256("\n".join(title_ids.astype(str)).encode()).hexdigest()


def stage_summary(report: QualityReport, origin: dict, checksums: dict, title_ids: pd.Series,
                  threshold: float | None) -> dict[str, Any]:
    """threshold: the liked rating the staged models were trained with; None when none were staged."""
    return {"report": report.to_dict(), "origin": origin, "checksums": checksums,
            "catalog": {"titles": len(title_ids), "ids_sha256": catalog_sha256(title_ids)},
            "models": None if threshold is None else {"recommend_threshold": threshold}}


def model_files(models: TrainedModels) -> dict[str, bytes]:
    """The staged models' files, by their names under the stage."""
    ranking = io.BytesIO()
    np.savez(ranking, **models.ranking.to_arrays())
    return {PREDICTOR: models.predictor.to_npz(), RANKING: ranking.getvalue(),
            CARD: json.dumps(models.card, default=str).encode()}


def _read_models(store: ObjectStore, prefix: str, staged: dict | None, threshold: float) -> TrainedModels | None:
    if staged is None:
        return None
    if staged["recommend_threshold"] != threshold:
        raise InputError(f"the models staged at {prefix} count a rating of {staged['recommend_threshold']} or more "
                         f"as liked, this run {threshold}: set the same STREAMLENS_RECOMMEND_THRESHOLD for the "
                         "Spark job and the task, or run the task with skip_training")
    with np.load(io.BytesIO(store.get(f"{prefix}{RANKING}")), allow_pickle=False) as ranking:
        arrays = dict(ranking)
    return TrainedModels(FactorModel.from_npz(store.get(f"{prefix}{PREDICTOR}")), RankingModel.from_arrays(arrays),
                         json.loads(store.get(f"{prefix}{CARD}")))


def read_stage(store: ObjectStore, prefix: str, title_ids: pd.Series, threshold: float,
               with_models: bool = True) -> Stage:
    """The stage under prefix, which must have been validated against the catalog of title_ids (and its models,
    when with_models, trained with this liked-rating threshold)."""
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
    models = _read_models(store, prefix, summary.get("models"), threshold) if with_models else None
    return Stage(ratings, scores, report, summary["origin"], summary["checksums"], models)
