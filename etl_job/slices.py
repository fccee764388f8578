"""One small slice per query, precomputed and keyed for a direct lookup.

Slices are JSON so that a query Lambda needs neither pandas nor pyarrow: a
cold start downloads kilobytes and answers with a dict lookup (or a bisect).
Keys join the filters with '|', '*' standing for "any" (see streamlens.layout).
Ties are broken here, once, so every answer is deterministic:
longest duration, then title A-Z, then id A-Z; most appearances, then name A-Z.
"""

from __future__ import annotations

from collections import Counter
from itertools import product

import pandas as pd

from streamlens.layout import ANY, slice_key
from streamlens.platforms import PLATFORMS


def max_duration_slice(titles: pd.DataFrame) -> dict:
    """For every combination of (platform | any, year | any, duration type): the longest title."""
    timed = titles.dropna(subset=["duration_int", "duration_type"])
    timed = timed.assign(duration_int=timed["duration_int"].astype(int),
                         duration_type=timed["duration_type"].astype(str),
                         platform=timed["platform"].astype(str))
    ranked = timed.sort_values(["duration_int", "title", "id"], ascending=[False, True, True])
    answers: dict[str, list] = {}
    for platform_any, year_any in product((False, True), repeat=2):
        keys = ["duration_type"] + ([] if platform_any else ["platform"]) + ([] if year_any else ["release_year"])
        for _, row in ranked.drop_duplicates(subset=keys, keep="first").iterrows():
            key = slice_key(ANY if platform_any else row["platform"],
                            ANY if year_any else int(row["release_year"]), row["duration_type"])
            answers[key] = [row["title"], row["id"], row["platform"], int(row["release_year"]),
                            int(row["duration_int"]), row["duration_type"]]
    return {"fields": ["title", "id", "platform", "release_year", "duration_int", "duration_type"],
            "answers": answers}


def score_count_slice(titles: pd.DataFrame, scores: pd.DataFrame) -> dict:
    """Sorted scores of the scored movies of each (platform, year): count = len - bisect_right."""
    movies = titles[titles["type"].astype(str) == "movie"].merge(scores, on="id")
    movies = movies.dropna(subset=["score"])
    answers = {
        slice_key(platform, int(year)): sorted(float(s) for s in group["score"])
        for (platform, year), group in movies.groupby([movies["platform"].astype(str), "release_year"])
    }
    return {"answers": answers}


def count_platform_slice(titles: pd.DataFrame) -> dict:
    movies = titles[titles["type"].astype(str) == "movie"]
    counts = movies["platform"].astype(str).value_counts()
    return {"answers": {p.name: int(counts.get(p.name, 0)) for p in PLATFORMS}}


def _top_actor(casts: pd.Series) -> dict | None:
    counter = Counter(name.strip() for cast in casts.dropna() for name in set(cast.split(",")) if name.strip())
    if not counter:
        return None
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    best = ranked[0][1]
    return {"actor": ranked[0][0], "appearances": best,
            "ties": [name for name, count in ranked[1:] if count == best]}


def actor_slice(titles: pd.DataFrame) -> dict:
    """The actor in most titles per (platform, year) and per platform over all years."""
    titles = titles.assign(platform=titles["platform"].astype(str))
    answers: dict[str, dict] = {}
    for (platform, year), group in titles.groupby(["platform", "release_year"]):
        top = _top_actor(group["cast"])
        if top:
            answers[slice_key(platform, int(year))] = top
    for platform, group in titles.groupby("platform"):
        top = _top_actor(group["cast"])
        if top:
            answers[slice_key(platform, ANY)] = top
    without_cast = sorted(p.name for p in PLATFORMS
                          if p.name in set(titles["platform"])
                          and titles.loc[titles["platform"] == p.name, "cast"].isna().all())
    empty = sorted(p.name for p in PLATFORMS if p.name not in set(titles["platform"]))
    return {"answers": answers, "platforms_without_cast": without_cast, "platforms_without_titles": empty}


def build_slices(titles: pd.DataFrame, scores: pd.DataFrame) -> dict[str, dict]:
    return {
        "get_max_duration": max_duration_slice(titles),
        "get_score_count": score_count_slice(titles, scores),
        "get_count_platform": count_platform_slice(titles),
        "get_actor": actor_slice(titles),
    }


# The title routes show what people read: the display columns (the export's case) travel, the lowercase ones
# are their .lower() (etl_job.catalog) and are derived on load (streamlens.titles), not shipped twice.
TITLE_FIELDS = ["id", "display_title", "platform", "type", "release_year", "duration_int", "duration_type", "rating",
                "display_listed_in", "display_director", "display_cast", "display_country", "date_added",
                "display_description", "score", "rating_count"]


def title_index(titles: pd.DataFrame, scores: pd.DataFrame, movie_examples: dict[str, str] | None = None) -> dict:
    """Every title's details with its score, for title search and title pages (rows in catalog order), and
    the movies catalog's examples for the web forms (etl_job.movie_slices.movie_examples)."""
    frame = titles.merge(scores, on="id", how="left")[TITLE_FIELDS]
    columns = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in TITLE_FIELDS]
    return {"fields": TITLE_FIELDS, "rows": [list(row) for row in zip(*columns)],
            "movie_examples": movie_examples or {}}
