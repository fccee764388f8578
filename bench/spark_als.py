"""Spark MLlib's ALS throughput on this machine: the r_als of docs/scale.md's estimate, measured, not assumed.

Run: python bench/spark_als.py [--sizes 1000000,4000000] (make bench-spark-als); needs make spark-deps and Java 17.
Writes bench/results/spark_als.json.

The two full fits the Spark engine makes on every rating (etl_job/spark/training.py), with the parameters it
makes them with: the rating predictor (fit_explicit: the biases' rounds, then explicit ALS at SPARK_GRID's
rank, exported to the served factor format) and the ranking model (fit_ranker: implicit ALS at the default
ranking grid's middle size, 64 factors, RankConfig's iterations). Generated ratings over the sample catalogs
(bench/spark_models.py's), cached in Spark before the clock starts, local[2]. Each fit is timed at two sizes:
the difference between them divided into the difference of ratings is the marginal throughput, free of Spark's
per-job overhead, which is what grows a cluster's bill with the ratings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from etl_bench import REPO
from etl_scale import USERS_PER_RATING
from spark_models import generated, spark_frame

from etl_job.ranker import RankConfig
from etl_job.spark.models import fit_explicit, fit_ranker
from etl_job.spark.training import SPARK_GRID

RESULTS = REPO / "bench" / "results" / "spark_als.json"
SIZES = (1_000_000, 4_000_000)
CORES = 2                                           # local[2]
PREDICTOR = {k: v[0] for k, v in SPARK_GRID.items()}
RANKER = RankConfig().grid[1]
ITERATIONS = {"predictor": PREDICTOR["maxIter"], "ranker": RankConfig().iterations}


def _fits(spark, size: int) -> dict:
    frame, ids = generated(size, max(1, round(size * USERS_PER_RATING)))
    ratings = spark_frame(spark, frame["user"], frame["item"], frame["rating"]).cache()
    rows = ratings.count()
    seconds = {}
    started = time.perf_counter()
    fit_explicit(ratings, PREDICTOR, seed=42, item_ids=ids).export()
    seconds["predictor"] = time.perf_counter() - started
    started = time.perf_counter()
    fit_ranker(ratings, RANKER, seed=42, n_items=len(ids), iterations=ITERATIONS["ranker"])
    seconds["ranker"] = time.perf_counter() - started
    ratings.unpersist()
    return {"ratings": rows, "users": int(frame["user"].nunique()), "titles": len(ids),
            "seconds": {k: round(v, 1) for k, v in seconds.items()},
            "rating_iterations_per_second_per_core": {
                k: round(rows * ITERATIONS[k] / v / CORES) for k, v in seconds.items()},
            "load_average_1_5_15": os.getloadavg()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    os.environ.setdefault("STREAMLENS_SPARK_DRIVER_MEMORY", "8g")
    from etl_job.spark.session import get_session

    spark = get_session(f"local[{CORES}]", app_name="streamlens-bench-als")
    runs = []
    for size in sizes:
        runs.append(_fits(spark, size))
        print(json.dumps(runs[-1]), flush=True)
    spark.stop()
    low, high = runs[0], runs[-1]
    marginal = {k: round((high["ratings"] - low["ratings"]) * ITERATIONS[k]
                         / max(1e-9, high["seconds"][k] - low["seconds"][k]) / CORES) for k in ITERATIONS}
    result = {"params": {"predictor": PREDICTOR, "ranker": RANKER, "iterations": ITERATIONS}, "runs": runs,
              "marginal_rating_iterations_per_second_per_core": marginal,
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "spark_master": f"local[{CORES}]"},
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    RESULTS.write_text(json.dumps(result, indent=1))
    print(f"wrote {RESULTS.relative_to(REPO)}: marginal {marginal} rating-iterations per second and core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
