"""Similar titles for each catalog: neighbours, serving bundle and model-card section."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from streamlens.similar import DEFAULT_N, build_similar_bundle
from streamlens.text import work_key

from .progress import Progress
from .similar_eval import evaluate
from .similar_titles import (
    MAX_NEIGHBOURS,
    MOVIE_FIELDS,
    STREAMING_FIELDS,
    ContentField,
    Neighbours,
    content_matrix,
    nearest_neighbours,
)


def _section(fields: tuple[ContentField, ...], matrix, seconds: float, figures: dict, **extra: Any) -> dict:
    return {"fields": [asdict(f) for f in fields], "titles": matrix.shape[0], "features": matrix.shape[1],
            "neighbours_stored": MAX_NEIGHBOURS, "evaluated_top_n": DEFAULT_N,
            "build_seconds": round(seconds, 2), "evaluation": figures, **extra}


def streaming_similar(titles: pd.DataFrame, scores: pd.DataFrame,
                      progress: Progress | None = None) -> tuple[bytes, dict, Neighbours]:
    """Neighbours over all platforms and within each; one work (same title, type and year) listed once.
    The neighbours over all platforms are returned too: the ranking model reaches unrated titles through them."""
    started = time.perf_counter()
    matrix = content_matrix(titles, STREAMING_FIELDS)
    works = pd.factorize(pd.Series([work_key(t, k, y) for t, k, y in
                                    zip(titles["title"], titles["type"], titles["release_year"])]))[0]
    platforms = titles["platform"].astype(str).to_numpy()
    groups = {name: platforms == name for name in np.unique(platforms)}
    found = nearest_neighbours(matrix, works=works, groups=groups, progress=progress)
    seconds = time.perf_counter() - started
    bundle = build_similar_bundle(titles["id"].to_numpy(), titles["title"].to_numpy(), titles["release_year"],
                                  scores["rating_count"].to_numpy(), found, platforms=platforms,
                                  display_titles=titles["display_title"].to_numpy())
    genre = next(f for f in STREAMING_FIELDS if f.column == "listed_in")
    figures = evaluate(titles, found["all"].index, genre, DEFAULT_N)
    return bundle, _section(STREAMING_FIELDS, matrix, seconds, figures,
                            works_merged=int(len(titles) - works.max() - 1)), found["all"]


def movies_similar(movies: pd.DataFrame, ratings: pd.DataFrame | None, ratings_info: dict) -> tuple[bytes, dict]:
    started = time.perf_counter()
    matrix = content_matrix(movies, MOVIE_FIELDS)
    found = nearest_neighbours(matrix)
    seconds = time.perf_counter() - started
    bundle = build_similar_bundle(movies["id"].to_numpy(), movies["title"].to_numpy(), movies["release_year"],
                                  movies["vote_count"].to_numpy(), found)
    genre = next(f for f in MOVIE_FIELDS if f.column == "genres")
    figures = evaluate(movies, found["all"].index, genre, DEFAULT_N, collection_column="collection",
                       ratings=ratings)
    return bundle, _section(MOVIE_FIELDS, matrix, seconds, figures, ratings=ratings_info)
