"""The Spark job of the stack's Spark engine (`-c engine=spark`, infra/spark.py). EMR Serverless runs

    spark-submit etl_job/spark/job.py --data-dir s3://<bucket>/raw --stage s3://<bucket>/stage/<execution>/

It cleans the catalogs on the driver (their titles are what the ratings are validated against), reads,
validates, de-duplicates and scores every ratings file on Spark (etl_job/spark/ratings.py, the pandas
engine's rules), fits both models with Spark MLlib as `--engine spark` does (etl_job/spark/training.py; the
similar titles the ranking model falls back on are computed here too: they grow with the catalog only), and
stages the result (etl_job/stage.py); the ETL task then reads the stage (event key ratings_stage) and
publishes, training nothing. The stage's summary is written last: a half-written stage has none,
and the task refuses it. Exit codes as the ETL's commands (etl_job.__main__.run_command): 0 staged, 2 input
refused (a file that cannot be trusted, say), 1 anything else, with its traceback in the job's log.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from etl_job.__main__ import run_command
from etl_job.options import EtlOptions
from etl_job.pipeline import ValidRatings, clean_catalog_files, ratings_frames, to_parquet, train_models
from etl_job.progress import Progress
from etl_job.quality import QualityReport
from etl_job.similar_catalogs import streaming_similar
from etl_job.sources import DataSource
from etl_job.spark.ratings import validate_with_spark
from etl_job.stage import RATINGS_DIR, REJECTS, SCORES, STAGED_COLUMNS, SUMMARY, model_files, stage_summary
from etl_job.training import config_for
from streamlens.config import get_settings
from streamlens.storage import ObjectStore, split_s3_url


def _writer(stage: str):
    """put(name, bytes) under the stage: an s3:// prefix (EMR's role may write there) or a local folder."""
    if stage.startswith("s3://"):
        bucket, prefix = split_s3_url(stage)
        store = ObjectStore(bucket)
        return lambda name, body: store.put(f"{prefix}{name}", body)
    folder = Path(stage)

    def put(name: str, body: bytes) -> None:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
    return put


def stage_run(data_dir: str, stage: str, train: bool = True, spark=None) -> dict:
    """Validate the ratings of data_dir on Spark, fit the models unless not train, and stage both; returns the
    stage's summary."""
    say = Progress()
    source = DataSource(data_dir)
    titles = clean_catalog_files(source, QualityReport("catalogs"))
    report = QualityReport("ratings")
    frames, origin = ratings_frames(source, titles, EtlOptions(), report)
    staged = validate_with_spark(source, None if origin["origin"] == "files" else frames[0], titles["id"],
                                 report, spark)
    del frames
    say("ratings validated", rows_in=report.rows_in.get("ratings", 0), rejected=report.total_rejected)
    base = stage if stage.startswith("s3://") else str(Path(stage).resolve())
    staged.clean.select(*STAGED_COLUMNS).write.mode("overwrite").parquet(f"{base.rstrip('/')}/{RATINGS_DIR}")
    put = _writer(stage)
    put(SCORES, to_parquet(staged.scores))
    put(REJECTS, report.rejects_csv())
    threshold = None
    if train:
        threshold = get_settings().recommend_threshold
        valid = ValidRatings(staged.to_pandas(), staged.scores, report, origin, staged.clean)
        neighbours = streaming_similar(titles, staged.scores, say)[2]
        config = replace(config_for(len(valid.ratings)), recommend_threshold=threshold)
        for name, body in model_files(train_models(titles, valid, config, neighbours, say)).items():
            put(name, body)
    summary = stage_summary(report, origin, source.checksums, titles["id"], threshold)
    put(SUMMARY, json.dumps(summary, default=str).encode())
    return summary


def _run(args) -> int:
    summary = stage_run(args.data_dir, args.stage, train=not args.no_train)
    report = summary["report"]
    print(f"staged {sum(report['rows_out'].values()):,} ratings ({report['rows_rejected']:,} rejected)"
          f"{' and the models' if summary['models'] else ''} in {args.stage}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="etl_job/spark/job.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="the raw data: an s3:// prefix or a local folder")
    parser.add_argument("--stage", required=True, help="where to stage the ratings: an s3:// prefix or a folder")
    parser.add_argument("--no-train", action="store_true",
                        help="stage the ratings only: the task then trains with pandas, on the driver")
    parser.set_defaults(func=_run)
    return parser


if __name__ == "__main__":
    sys.exit(run_command(build_parser(), None))
