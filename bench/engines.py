"""The two engines side by side: the ETL on pandas and on Spark (local[2]), at 11 and 30 million generated
ratings, wall seconds and peak memory per stage, one fresh process per run.

Run: python bench/engines.py [--sizes 11000000,30000000] [--train] (make bench-engines); needs make spark-deps
and Java 17. Writes bench/results/engines.json (with --train, engines_trained.json) after each run;
docs/scale.md reads it (the throughput per core behind the estimate for 100 million and 1 billion ratings).

Without training by default, because the stages that grow with the ratings and differ between the engines are the
reading, validating, de-duplicating and scoring of the ratings (the "ratings validated" stage); the model fits'
parity and cost are bench/spark_models.py's. The data and the measuring are bench/etl_scale.py's: the real
catalogs beside generated ratings (.local/bench-scale-<ratings>), the RSS of the ETL process and of its
descendants (Spark's JVM is one) sampled from /proc, attributed to the stage whose progress line comes next.
Both engines run back to back on the same files, so their ratio holds on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from etl_bench import REPO, add_shared_flag, embedded_s3, prepare_data, real_catalogs
from etl_scale import USERS_PER_RATING, by_stage, code_state, load, machine, run_etl

RESULTS = REPO / "bench" / "results" / "engines.json"
TRAINED = REPO / "bench" / "results" / "engines_trained.json"
SIZES = (11_000_000, 30_000_000)
ENGINES = ("pandas", "spark")
RATINGS_STAGE = "ratings validated"
# local[2] on this machine: both cores; the driver's heap sized for 30 million collected ratings.
SPARK_ENV = {"STREAMLENS_SPARK_MASTER": "local[2]", "STREAMLENS_SPARK_DRIVER_MEMORY": "10g"}
CORES = {"pandas": 1, "spark": 2}   # pandas validates in one process; local[2] runs two tasks at once


def measure(size: int, engine: str, shared: Path, hz: float, train: bool) -> dict:
    users = round(size * USERS_PER_RATING)
    folder = REPO / ".local" / f"bench-scale-{size}"
    prepare_data(folder, shared, size, users)
    with embedded_s3("bench-engines") as env:
        before, code = load(), code_state()
        run = run_etl(folder, {**env, **SPARK_ENV}, hz, ("--engine", engine) if train else
                      ("--skip-training", "--engine", engine))
        after = load()
    stages = by_stage(run["lines"])
    ratings = stages.get(RATINGS_STAGE, {})
    counts = (run["summary"] or {}).get("counts", {})
    return {"engine": engine, "trained": train, "ratings_generated": size, "users_generated": users, "code": code,
            "load_average_1_5_15": {"before": before, "after": after}, "exit_code": run["exit_code"],
            "seconds": run["seconds"], "peak_rss_mb": run["peak_rss_mb"],
            "sampled_peak_tree_rss_mb": run["sampled_peak_tree_rss_mb"], "startup_seconds": run["startup_seconds"],
            "rows": {"ratings": counts.get("ratings"), "ratings_rejects": counts.get("ratings_rejects")},
            "ratings_stage": {**ratings, "ratings_per_second_per_core":
                              round(size / ratings["seconds"] / CORES[engine]) if ratings.get("seconds") else None},
            "stages": stages, "stderr_other_tail": run["stderr_other_tail"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--engines", default=",".join(ENGINES))
    add_shared_flag(parser)
    parser.add_argument("--hz", type=float, default=20.0)
    parser.add_argument("--train", action="store_true",
                        help="train the models too (the ETL's default; minutes more per run on Spark)")
    parser.add_argument("--out", default=None, help=f"default {RESULTS.name}, with --train {TRAINED.name}")
    args = parser.parse_args()
    shared = real_catalogs(args.shared)
    if shared is None:
        return 0
    out = Path(args.out or (TRAINED if args.train else RESULTS))
    result: dict = {"what": f"ETL {'with' if args.train else 'without'} training on each engine: wall seconds and "
                            "peak RSS per stage",
                    "method": "bench/etl_scale.py's sampling; Spark local[2] with a 10 GB driver heap; "
                              "ratings_per_second_per_core = ratings / the ratings stage's seconds / the cores it "
                              "used (pandas 1, Spark 2)",
                    "machine": machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": []}
    failed = False
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        for engine in args.engines.split(","):
            print(f"{size:,} ratings on {engine} (load {load()})", flush=True)
            row = measure(size, engine, shared, args.hz, args.train)
            result["runs"].append(row | {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=1) + "\n")     # after each run: a long bench keeps what it has
            failed |= row["exit_code"] != 0
            stage = row["ratings_stage"]
            print(f"  exit {row['exit_code']}, {row['seconds']} s, peak tree {row['sampled_peak_tree_rss_mb']:,} MB; "
                  f"ratings stage {stage.get('seconds')} s / {stage.get('peak_tree_rss_mb')} MB", flush=True)
    print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
