"""The options of an ETL run, apart from the stages: the command lines parse them without importing the
stages' libraries (scikit-learn, matplotlib, surprise: seconds of imports), which load only when a run starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .catalog import InputError

if TYPE_CHECKING:
    from .training import TrainConfig


@dataclass
class EtlOptions:
    train: bool = True
    sample_ratings: int = 200_000     # generated when the data folder has no ratings
    sample_users: int = 5_000
    seed: int = 42
    train_config: TrainConfig | None = None   # None: chosen by the number of ratings (etl_job.training.config_for)
    accept_shrink: bool = False      # publish even if a catalog disappears or shrinks (etl_job.release_guard)
    engine: str = "pandas"           # "spark": the ratings stages and the training on Apache Spark (etl_job/spark)
    # A key prefix of the bucket: the ratings read as the Spark job staged them (etl_job/stage.py) instead of
    # from the files (the ETL task in AWS under -c engine=spark).
    ratings_stage: str | None = None


ENGINES = ("pandas", "spark")


def check_engine(engine: str) -> None:
    """Refuse an unknown engine, or the Spark engine where pyspark or Java is missing, before any work."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "spark":
        from .spark.session import spark_missing

        if reason := spark_missing():
            raise InputError(f"--engine spark: {reason}")
