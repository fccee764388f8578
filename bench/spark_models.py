"""Parity of the models fitted on Spark with the single-machine ones, on the same splits.

Run: python bench/spark_models.py [--data DIR] [--generated N]. Writes bench/results/spark_models.json.
Needs pyspark and Java 17 (requirements-spark.txt).

Two data sets: MovieLens ratings_small.csv (real, read as the ETL reads it: clean_movielens_ratings) and ratings
generated over the sample catalogs (etl_job.sample_data, 200,000 ratings from 5,000 users by default, as the
local run generates them). On each:
- the rating predictor: surprise SVD (the parameters the ETL's small search settles on) against Spark MLlib's ALS
  with biases (each value of SPARK_GRID) on the SAME holdout (etl_job.model_selection.holdout), held-out RMSE,
  BaselineOnly and the global mean beside them;
- the ranking model: implicit's ALS against Spark MLlib's implicit ALS, the same parameters (the ETL's small
  ranking grid), on the SAME per-user split, precision@10 through evaluate_topn as served, popularity and random
  beside them; each fitted with several seeds, so the gap is read against the seed-to-seed spread.
The tolerance (etl_job/spark/models.py RMSE_TOLERANCE, PRECISION_TOLERANCE; docs/recommender.md) is checked here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results" / "spark_models.json"

from etl_job.model_selection import holdout, score_baselines  # noqa: E402
from etl_job.progress import Progress  # noqa: E402
from etl_job.ranker import RankConfig, _model_scorer, fit_als, to_ranking_model  # noqa: E402
from etl_job.spark.models import PRECISION_TOLERANCE, RMSE_TOLERANCE, fit_explicit, fit_ranker  # noqa: E402
from etl_job.spark.training import SPARK_GRID  # noqa: E402
from etl_job.svd import export_svd, fit_svd  # noqa: E402
from etl_job.topn_eval import evaluate_topn, make_split, popularity_scorer, random_scorer  # noqa: E402
from etl_job.training import SMALL_CONFIG  # noqa: E402

SVD_PARAMS = {"n_factors": 50, "n_epochs": 40, "lr_all": 0.01, "reg_all": 0.1}   # SMALL_CONFIG's grid, its best
RANK_PARAMS = SMALL_CONFIG.ranking.grid[0]
SEEDS = (42, 7)


def ratings_small(data: Path) -> tuple[pd.DataFrame, np.ndarray] | None:
    from etl_job.quality import QualityReport
    from etl_job.ratings import clean_movielens_ratings

    path = data / "movies" / "ratings_small.csv"
    if not path.exists():
        return None
    clean = clean_movielens_ratings(path.read_bytes(), "movies/ratings_small.csv", QualityReport("ratings_small"))
    items, ids = pd.factorize(clean["movieId"])
    return pd.DataFrame({"user": clean["userId"], "item": items, "rating": clean["rating"]}), ids.astype(str)


def generated(n_ratings: int, n_users: int) -> tuple[pd.DataFrame, np.ndarray]:
    from etl_job.catalog import clean_catalogs, read_input_csv
    from etl_job.quality import QualityReport
    from etl_job.ratings import clean_ratings
    from etl_job.sample_data import generate_ratings, write_sample_catalogs
    from etl_job.sources import CATALOG_DIR, DataSource

    with tempfile.TemporaryDirectory() as folder:
        write_sample_catalogs(Path(folder) / CATALOG_DIR)
        raw = {code: read_input_csv(data, code) for code, data in DataSource(folder).catalogs().items()}
    titles = clean_catalogs(raw, QualityReport("catalogs"))
    ratings = generate_ratings(titles, n_ratings, n_users, seed=42)
    valid = clean_ratings([ratings.assign(movieId=ratings["movieId"].astype("category"))], titles["id"],
                          QualityReport("ratings"))
    return valid[["user", "item", "rating"]].astype({"rating": np.float64}), titles["id"].to_numpy()


def spark_frame(spark, users, items, ratings):
    return spark.createDataFrame(pd.DataFrame({"user": np.asarray(users, dtype=np.int64),
                                               "item": np.asarray(items, dtype=np.int64),
                                               "rating": np.asarray(ratings, dtype=np.float64)}))


def predictor_parity(spark, frame: pd.DataFrame) -> dict:
    split = holdout(frame, len(frame), 0.2, seed=42)
    truth = np.asarray([r for _, _, r in split.testset])

    def rmse(model) -> float:
        predicted = np.asarray([model.estimate(u, i) for u, i, _ in split.testset])
        return round(float(np.sqrt(np.mean((predicted - truth) ** 2))), 5)

    out: dict = {"holdout": {"test_size": 0.2, "seed": 42, "train": split.trainset.n_ratings,
                             "test": len(split.testset)}}
    t0 = time.perf_counter()
    out["surprise_svd"] = {"params": SVD_PARAMS, "rmse": rmse(export_svd(fit_svd(SVD_PARAMS, split.trainset, 42))),
                           "seconds": round(time.perf_counter() - t0, 1)}
    print("surprise svd", out["surprise_svd"], flush=True)
    train = pd.DataFrame(split.trainset.build_testset(), columns=["user", "item", "rating"])
    df = spark_frame(spark, train["user"], train["item"], train["rating"]).cache()
    out["spark_als_with_biases"] = []
    for reg in SPARK_GRID["regParam"]:
        params = {"rank": SPARK_GRID["rank"][0], "maxIter": SPARK_GRID["maxIter"][0], "regParam": reg}
        t0 = time.perf_counter()
        fitted = fit_explicit(df, params, 42).export()
        out["spark_als_with_biases"].append({"params": params, "rmse": rmse(fitted),
                                             "seconds": round(time.perf_counter() - t0, 1)})
        print("spark als", out["spark_als_with_biases"][-1], flush=True)
    df.unpersist()
    baselines = score_baselines(split, Progress(quiet=True))
    out["baselines"] = {name: b["rmse"] for name, b in baselines.items()}
    best = min(r["rmse"] for r in out["spark_als_with_biases"])
    out["gap_best_spark_minus_svd"] = round(best - out["surprise_svd"]["rmse"], 5)
    out["within_tolerance"] = bool(out["gap_best_spark_minus_svd"] <= RMSE_TOLERANCE)
    return out


def ranker_parity(spark, frame: pd.DataFrame, ids: np.ndarray) -> dict:
    config = RankConfig()
    split = make_split(frame["user"].to_numpy(), frame["item"].to_numpy(), frame["rating"].to_numpy(), len(ids),
                       config.test_share, config.seed)
    train = split.part(False)
    df = spark_frame(spark, *train).cache()
    scorers, seconds = {}, {}
    for seed in SEEDS:
        t0 = time.perf_counter()
        als = fit_als(*train, split.n_users, split.n_items, RANK_PARAMS, RankConfig(seed=seed))
        scorers[f"implicit_seed_{seed}"] = _model_scorer(to_ranking_model(als, RANK_PARAMS))
        seconds[f"implicit_seed_{seed}"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        scorers[f"spark_seed_{seed}"] = _model_scorer(fit_ranker(df, RANK_PARAMS, seed, len(ids), config.iterations))
        seconds[f"spark_seed_{seed}"] = round(time.perf_counter() - t0, 1)
        print("fitted seed", seed, seconds, flush=True)
    df.unpersist()
    scorers["popularity"] = popularity_scorer(split)
    scorers["random"] = random_scorer(len(ids), config.seed)
    got = evaluate_topn(split, scorers, config.k, config.threshold, tie_key=ids, max_users=config.eval_max_users,
                        seed=config.seed)["all"]
    implicit = [got[f"implicit_seed_{s}"]["precision"] for s in SEEDS]
    mllib = [got[f"spark_seed_{s}"]["precision"] for s in SEEDS]
    ratio = float(np.mean(mllib) / np.mean(implicit))
    return {"params": RANK_PARAMS, "iterations": config.iterations, "k": config.k, "threshold": config.threshold,
            "users_ranked": got["popularity"]["users"], "metrics": got, "fit_seconds": seconds,
            "precision_implicit_mean": round(float(np.mean(implicit)), 4),
            "precision_spark_mean": round(float(np.mean(mllib)), 4),
            "seed_spread_implicit": round(float(np.ptp(implicit)), 4),
            "seed_spread_spark": round(float(np.ptp(mllib)), 4),
            "ratio_spark_to_implicit": round(ratio, 4),
            "spark_beats_popularity": bool(min(mllib) > got["popularity"]["precision"]),
            "within_tolerance": bool(ratio >= 1 - PRECISION_TOLERANCE)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data",
                        default=os.environ.get("STREAMLENS_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--generated", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=5_000)
    args = parser.parse_args()
    from etl_job.spark.session import get_session

    spark = get_session()
    datasets = {}
    small = ratings_small(Path(args.data))
    if small is not None:
        datasets["ratings_small"] = small
    datasets["generated"] = generated(args.generated, args.users)
    result: dict = {"tolerance": {"rmse_above_svd": RMSE_TOLERANCE, "precision_below_implicit": PRECISION_TOLERANCE},
                    "spark_grid": SPARK_GRID, "datasets": {}}
    for name, (frame, ids) in datasets.items():
        started = time.perf_counter()
        print(f"{name}: {len(frame):,} ratings", flush=True)
        result["datasets"][name] = {"ratings": len(frame), "users": int(frame["user"].nunique()),
                                    "titles": len(ids), "predictor": predictor_parity(spark, frame),
                                    "ranker": ranker_parity(spark, frame, ids)}
        result["datasets"][name]["seconds"] = round(time.perf_counter() - started, 1)
    result["within_tolerance"] = all(d["predictor"]["within_tolerance"] and d["ranker"]["within_tolerance"]
                                     and d["ranker"]["spark_beats_popularity"] for d in result["datasets"].values())
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "spark_master": "local[2]",
                         "load_average_at_end": os.getloadavg()}
    result["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {RESULTS.relative_to(REPO)}; within tolerance: {result['within_tolerance']}")
    spark.stop()
    return 0 if result["within_tolerance"] else 1


if __name__ == "__main__":
    sys.exit(main())
