"""Why the similar-movies weights are what they are: the chosen weights against
variants, on the real partial movies files and ratings_small.csv.

Run: make bench-similar (or python bench/similar_weights.py [--data ../shared/data]).
Writes bench/results/similar_weights.json. For each weighting, the top 5 of
every movie: how often they share its collection and its genres, and, over
(user, movie rated >= 4, neighbour) triples, how often the user rated the
neighbour and rated it >= 4. The same figures for the random and genre-only
baselines come from the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "similar_weights.json"

from etl_job.movies import clean_movies, movie_ratings  # noqa: E402
from etl_job.quality import QualityReport  # noqa: E402
from etl_job.ratings import clean_movielens_ratings  # noqa: E402
from etl_job.similar_eval import evaluate  # noqa: E402
from etl_job.similar_titles import MOVIE_FIELDS, content_matrix, nearest_neighbours  # noqa: E402
from etl_job.sources import DataSource  # noqa: E402

VARIANTS = {
    "chosen": {},
    "genres 0.5": {"genres": 0.5},
    "overview 2.0": {"overview": 2.0},
    "genres and people 0.3": {"genres": 0.3, "cast": 0.3, "directors": 0.3},
    "no collection": {"collection": 0.0},
    "text only (overview, title, tagline)": {"genres": 0.0, "collection": 0.0, "cast": 0.0, "directors": 0.0},
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.environ.get("STREAMLENS_SHARED_DATA",
                                                        str(REPO.parent / "shared" / "data")))
    args = parser.parse_args()
    source = DataSource(args.data)
    files, rating_files = source.movies(), source.movie_ratings()
    if files is None or rating_files is None:
        print(f"{args.data} has no movies/movies_metadata.csv with ratings_small.csv and links.csv", file=sys.stderr)
        return 2
    meta, credits = (pd.read_csv(io.BytesIO(d), dtype=str, keep_default_na=False) if d else None for d in files)
    movies = clean_movies(meta, credits, QualityReport("movies"))
    small = clean_movielens_ratings(rating_files[0], "movies/ratings_small.csv", QualityReport("ratings_small"))
    ratings, info = movie_ratings(small, rating_files[1], movies["id"].to_numpy())
    genre = next(f for f in MOVIE_FIELDS if f.column == "genres")
    variants = {}
    for name, change in VARIANTS.items():
        fields = [dataclasses.replace(f, weight=change.get(f.column, f.weight)) for f in MOVIE_FIELDS]
        fields = [f for f in fields if f.weight > 0]
        found = nearest_neighbours(content_matrix(movies, fields), k=5)["all"].index
        figures = evaluate(movies, found, genre, 5, collection_column="collection", ratings=ratings)
        variants[name] = {"weights": {f.column: f.weight for f in fields}, **figures["content"]}
        baselines = {k: v for k, v in figures.items() if k != "content"}
        line = variants[name]
        print(f"{name:38s} collection {line['collection']['share']:.3f}  genres {line['genres']['share_any']:.3f}  "
              f"neighbour rated {line['ratings']['neighbour_rated']:.4f}  "
              f"liked when rated {line['ratings']['rated_neighbour_liked']:.4f}")
    result = {"movies": len(movies), "ratings": info, "variants": variants, "baselines": baselines,
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
