"""Top-n evaluation as served, on real and generated ratings (the ETL's own code: etl_job/ranker.py).

Run: make bench-topn (or python bench/topn_eval.py [--generated N]). Writes bench/results/topn_eval.json.

On MovieLens `ratings_small.csv` (real) and on ratings generated for the real streaming catalogs: each
user's ratings split 80/20 (seed 42), every title the user did not rate in the training part ranked,
relevant = held-out rating >= 3.5. Rankers: the served ALS model, popularity (most-rated unseen titles),
the SVD ranking as served before (every title by predicted rating) and random, all through the route's
ranking function. For reference on ratings_small only, EASE (a closed-form item-item model, numpy): it
inverts a dense titles x titles matrix, which at the streaming catalog's 23,000 titles takes minutes
and gigabytes, so it is measured here and not served.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]
RESULTS = REPO / "bench" / "results" / "topn_eval.json"

from etl_job.ranker import RankConfig, train_ranker  # noqa: E402
from etl_job.topn_eval import evaluate_topn, make_split  # noqa: E402
from etl_job.training import TUNED_SVD  # noqa: E402   the SVD the ETL chooses on ratings_small (lowest RMSE)


def ease_scores(split, lam: float):
    """EASE (Steck 2019): B = I - P / diag(P), P = (X^T X + lam I)^-1, X the ratings / 5."""
    users, items, ratings = split.part(False)
    x = sparse.csr_matrix((ratings / 5.0, (users, items)), shape=(split.n_users, split.n_items))
    gram = (x.T @ x).toarray()
    gram[np.diag_indices_from(gram)] += lam
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    b[np.diag_indices_from(b)] = 0.0
    return lambda u, rated, values: (values / 5.0) @ b[rated]


def ratings_small(path: Path) -> dict:
    frame = pd.read_csv(path)
    items, ids = pd.factorize(frame["movieId"])
    t0 = time.perf_counter()
    result = train_ranker(frame["userId"].to_numpy(), items, frame["rating"].to_numpy(), len(ids),
                          RankConfig(svd_params=TUNED_SVD, eval_max_users=3_000), tie_key=ids.astype(str).to_numpy(),
                          final_fit=False)
    card = {**result.card, "seconds": round(time.perf_counter() - t0, 1)}
    split = make_split(frame["userId"].to_numpy(), items, frame["rating"].to_numpy(), len(ids), 0.2, 42)
    t0 = time.perf_counter()
    ease = evaluate_topn(split, {"ease_lambda_100": ease_scores(split, 100.0)}, 10, 3.5,
                         tie_key=ids.astype(str).to_numpy())["all"]
    card["reference_not_served"] = {**ease, "seconds": round(time.perf_counter() - t0, 1)}
    return card


def generated(shared: Path, n_ratings: int, n_users: int) -> dict:
    from etl_job.catalog import clean_catalogs
    from etl_job.pipeline import read_catalog_frames
    from etl_job.quality import QualityReport
    from etl_job.ratings import clean_ratings
    from etl_job.sample_data import generate_ratings
    from etl_job.similar_titles import STREAMING_FIELDS, content_matrix, nearest_neighbours
    from etl_job.sources import DataSource

    titles = clean_catalogs(read_catalog_frames(DataSource(str(shared))), QualityReport("catalogs"))
    raw = generate_ratings(titles, n_ratings, n_users, seed=42)
    ratings = clean_ratings([raw.assign(movieId=raw["movieId"].astype("category"))], titles["id"],
                            QualityReport("ratings"))
    neighbours = nearest_neighbours(content_matrix(titles, STREAMING_FIELDS))["all"]
    t0 = time.perf_counter()
    result = train_ranker(ratings["user"].to_numpy(), ratings["item"].to_numpy(), ratings["rating"].to_numpy(),
                          len(titles), RankConfig(svd_params={"n_factors": 50, "n_epochs": 20, "lr_all": 0.01,
                                                              "reg_all": 0.1},   # the ETL's choice at scale
                                                  eval_max_ratings=2_000_000, eval_max_users=3_000),
                          tie_key=titles["id"].to_numpy(), groups=titles["platform"].astype(str).to_numpy(),
                          neighbours=neighbours.index, similarity=neighbours.score, final_fit=False)
    return {**result.card, "ratings": len(ratings), "users": n_users, "titles": len(titles),
            "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generated", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--shared",
                        default=os.environ.get("STREAMLENS_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    args = parser.parse_args()
    shared = Path(args.shared)
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
           "ratings_small": ratings_small(shared / "movies" / "ratings_small.csv"),
           "generated": generated(shared, args.generated, args.users)}
    RESULTS.write_text(json.dumps(out, indent=1, default=str))
    for name in ("ratings_small", "generated"):
        figures = out[name]["evaluation"]["all"]
        print(name, {ranker: (m["precision"], m["recall"], m["ndcg"], m["hit_rate"], m["coverage"])
                     for ranker, m in figures.items()})
    print("EASE on ratings_small:", out["ratings_small"]["reference_not_served"])


if __name__ == "__main__":
    main()
