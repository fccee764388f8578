"""Deterministic sample data, so everything runs on a machine with no data.

`generate_ratings` writes ratings in the production schema for any catalog:
users cluster around tastes over the `listed_in` genres, user activity and
title popularity follow power laws, and ratings mix user bias, title quality
and taste match, so that a recommender has real structure to learn.
`write_sample_catalogs` writes a small catalog in the raw export format with
every defect the real exports show (and a few more the cleaner must catch).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from streamlens.platforms import PLATFORMS

from .catalog import RAW_COLUMNS
from .ratings import RATING_COLUMNS

_START = int(datetime(2015, 1, 1, tzinfo=UTC).timestamp())
_END = int(datetime(2021, 12, 31, tzinfo=UTC).timestamp())


def _genre_matrix(listed_in: pd.Series) -> np.ndarray:
    """Row-normalised item x genre indicator matrix."""
    genres = listed_in.fillna("").str.lower().str.split(r"\s*,\s*")
    vocab = sorted({g for gs in genres for g in gs if g})
    index = {g: k for k, g in enumerate(vocab)}
    matrix = np.zeros((len(listed_in), max(1, len(vocab))), dtype=np.float32)
    for row, gs in enumerate(genres):
        for g in gs:
            if g:
                matrix[row, index[g]] = 1.0
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


HEAVY_USER_RATINGS = 300


def _sample_without_replacement(user: int, count: int, log_weights: np.ndarray, n_items: int,
                                rng: np.random.Generator) -> np.ndarray:
    """Gumbel top-k: count distinct items drawn with probability proportional to weight."""
    count = min(int(count), n_items)
    keys = log_weights + rng.gumbel(size=n_items)
    items = np.argpartition(-keys, count - 1)[:count]
    return user * np.int64(n_items) + items


def generate_ratings(
    titles: pd.DataFrame,
    n_ratings: int,
    n_users: int,
    seed: int = 42,
    n_tastes: int = 24,
    unknown_fraction: float = 0.0005,
) -> pd.DataFrame:
    """Ratings for titles (columns `id`, `listed_in`), schema userId,rating,timestamp,movieId.

    A small `unknown_fraction` of rows name ids absent from the catalog, as
    production exports do, so the ETL's unknown-id accounting is exercised.
    """
    rng = np.random.default_rng(seed)
    n_items = len(titles)
    if n_items == 0 or n_users <= 0 or n_ratings <= 0:
        raise ValueError("need at least one title, one user and one rating")
    n_users = min(n_users, n_ratings)
    genres = _genre_matrix(titles["listed_in"])

    popularity = 1.0 / (rng.permutation(n_items) + 8.0) ** 0.9
    quality = rng.normal(0.0, 0.35, n_items)
    tastes = rng.dirichlet(np.full(genres.shape[1], 0.3), n_tastes).astype(np.float32)
    affinity = genres @ tastes.T                                  # items x tastes
    affinity = (affinity - affinity.mean()) / (affinity.std() + 1e-9)

    shape = rng.pareto(1.1, n_users) + 1.0
    cap = max(1, int(n_items * 0.6))
    scale = n_ratings / shape.sum()
    for _ in range(30):  # rescale until the capped activities add up to the target
        activity = np.clip(np.round(shape * scale), 1, cap)
        if activity.sum() >= n_ratings or activity.min() == cap:
            break
        scale *= n_ratings / activity.sum()
    activity = activity.astype(np.int64)
    taste_of_user = rng.integers(0, n_tastes, n_users)
    user_bias = rng.normal(0.0, 0.3, n_users)
    whole_stars = rng.random(n_users) < 0.55

    log_weights = np.log(popularity)[:, None] + 0.9 * affinity      # items x tastes
    heavy = activity > HEAVY_USER_RATINGS
    parts = [_sample_without_replacement(int(u), activity[u], log_weights[:, taste_of_user[u]], n_items, rng)
             for u in np.flatnonzero(heavy)]
    light = np.where(heavy, 0, activity)
    keys = np.empty(0, dtype=np.int64)
    wanted = light
    for _ in range(6):  # light users: draw with replacement, drop repeats, top up the shortfall
        drawn = []
        for taste in range(n_tastes):
            members = np.flatnonzero((taste_of_user == taste) & (wanted > 0))
            if members.size == 0:
                continue
            counts = wanted[members]
            p = np.exp(log_weights[:, taste] - log_weights[:, taste].max())
            items = rng.choice(n_items, size=int(counts.sum()), p=p / p.sum())
            drawn.append(np.repeat(members, counts).astype(np.int64) * n_items + items)
        keys = np.unique(np.concatenate([keys, *drawn]))
        wanted = np.maximum(light - np.bincount(keys // n_items, minlength=n_users), 0)
        if wanted.sum() <= light.sum() * 0.002:
            break
    keys = np.concatenate([keys, *parts])
    if keys.size > n_ratings:
        keys = np.sort(rng.choice(keys, size=n_ratings, replace=False))
    users, items = keys // n_items, keys % n_items

    score = (user_bias[users] + quality[items]
             + 0.45 * affinity[items, taste_of_user[users]] + rng.normal(0.0, 0.5, users.size))
    score += 3.6 - score.mean()
    halves = np.where(whole_stars[users], np.round(score), np.round(score * 2) / 2)
    rating = np.clip(halves, 0.5, 5.0)
    rating = np.where(whole_stars[users] & (rating < 1.0), 1.0, rating)

    first = rng.integers(_START, _END - 86_400, n_users)
    span = _END - first[users]
    timestamp = first[users] + (rng.random(users.size) ** 2 * span).astype(np.int64)

    movie_ids = titles["id"].to_numpy(dtype=object)[items]
    n_unknown = round(users.size * unknown_fraction)
    if n_unknown:
        rows = rng.choice(users.size, n_unknown, replace=False)
        movie_ids[rows] = [f"x{k}" for k in rng.integers(1, 10**6, n_unknown)]
    return pd.DataFrame({
        "userId": (users + 1).astype(np.int64),
        "rating": rating.astype(np.float64),
        "timestamp": timestamp.astype(np.int64),
        "movieId": movie_ids,
    })


def write_ratings(ratings: pd.DataFrame, folder: Path, rows_per_file: int = 2_000_000) -> list[Path]:
    """Split ratings over several CSV files, as production delivers them."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for part, start in enumerate(range(0, len(ratings), rows_per_file), start=1):
        path = folder / f"ratings_{part:04d}.csv"
        table = pa.Table.from_pandas(ratings.iloc[start:start + rows_per_file][RATING_COLUMNS], preserve_index=False)
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
        paths.append(path)
    return paths


# --- sample catalog ----------------------------------------------------------

_WORDS = ("night", "river", "shadow", "summer", "king", "secret", "city", "garden", "storm", "heart",
          "winter", "road", "island", "dream", "fire", "stone", "ghost", "star", "ocean", "mountain",
          "echo", "glass", "crown", "wolf", "silver", "last", "lost", "hidden", "broken", "golden")
_FIRST = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "June", "Kofi", "Lena",
          "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vera", "Wes", "Yuki")
_LAST = ("Ortiz", "Berg", "Kim", "Novak", "Silva", "Okafor", "Haas", "Sato", "Moreau", "Reyes", "Patel",
         "Lund", "Costa", "Fischer", "Nakamura", "Duarte", "Bauer", "Adeyemi", "Rossi", "Wright")
_GENRES = ("Drama", "Comedy", "Action", "Documentary", "Kids", "Horror", "Romance", "Thriller",
           "Animation", "Science Fiction", "Family", "Music", "Sports", "Anime", "Crime")
_COUNTRIES = ("United States", "United Kingdom", "India", "Canada", "France", "Japan", "South Korea",
              "Spain", "Germany", "Mexico")
_RATINGS = ("TV-MA", "TV-14", "TV-PG", "R", "PG-13", "PG", "G", "TV-Y7", "TV-G")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _sample_platform(code: str, n_titles: int, rng: np.random.Generator) -> list[dict[str, str]]:
    people = [f"{first} {last}" for first in _FIRST for last in _LAST]
    star_pool = people[: max(12, n_titles // 6)]
    rows = []
    for k in range(1, n_titles + 1):
        is_movie = rng.random() < 0.68
        year = int(rng.integers(1950, 2022)) if rng.random() < 0.3 else int(rng.integers(2012, 2022))
        added_year = max(year, int(rng.integers(2015, 2022)))
        cast = rng.choice(star_pool, size=int(rng.integers(1, 6)), replace=False)
        seasons = int(rng.integers(1, 6))
        rows.append({
            "show_id": f"s{k}",
            "type": "Movie" if is_movie else "TV Show",
            "title": " ".join(w.capitalize() for w in rng.choice(_WORDS, size=int(rng.integers(2, 4)))) + f" {k}",
            "director": str(rng.choice(people)) if is_movie and rng.random() < 0.8 else "",
            "cast": ", ".join(cast),
            "country": ", ".join(rng.choice(_COUNTRIES, size=int(rng.integers(1, 3)), replace=False)),
            "date_added": f"{_MONTHS[int(rng.integers(0, 12))]} {int(rng.integers(1, 29))}, {added_year}",
            "release_year": str(year),
            "rating": str(rng.choice(_RATINGS)),
            "duration": f"{int(rng.integers(70, 150))} min" if is_movie else
                        f"{seasons} Season{'s' if seasons > 1 else ''}",
            "listed_in": ", ".join(rng.choice(_GENRES, size=int(rng.integers(1, 4)), replace=False)),
            "description": f"A story of {' and '.join(rng.choice(_WORDS, size=2))} set in {rng.choice(_COUNTRIES)}.",
        })
    return rows


def _inject_defects(code: str, rows: list[dict[str, str]]) -> None:
    """Every defect of the real exports, plus ones the cleaner must reject."""
    def movie(i):
        return [r for r in rows if r["type"] == "Movie"][i]

    def show(i):
        return [r for r in rows if r["type"] == "TV Show"][i]

    rows[0]["rating"] = ""                                        # null rating -> g
    rows[1]["date_added"] = " " + rows[1]["date_added"] + "  "   # stray spaces
    rows[2]["date_added"] = ""                                    # empty date
    rows[3]["date_added"] = "2021-03-30"                          # other formats
    rows[4]["date_added"] = "30 March 2021"
    rows[5]["date_added"] = "Mar 30, 2021"
    rows[6]["country"] = ", " + rows[6]["country"] + ","          # stray commas
    rows[7]["title"] = "\u200b" + rows[7]["title"]               # invisible characters
    rows[8]["cast"] = rows[8]["cast"].replace(", ", ",\xa0 ", 1)
    rows[9]["director"], rows[9]["cast"] = "1", "1"               # QA placeholder names
    movie(3)["rating"], movie(3)["duration"] = movie(3)["duration"], ""   # duration in rating column
    if code == "h":
        for r in rows:
            r["cast"] = ""                                        # a whole column empty on one platform
        movie(4)["rating"], movie(4)["duration"] = "2 Seasons", ""          # repair: a "movie" with seasons
        movie(5)["director"] = movie(5)["description"]                    # description in director column
        movie(6)["duration"] = ""                                          # missing, unrecoverable duration
    if code == "a":
        for r in rows[::3]:
            r["country"] = ""
    rows[-1]["date_added"] = "03/04/2021"                         # reject: ambiguous day/month
    rows[-2]["date_added"] = "sometime in 2021"                   # reject: unparseable date
    rows[-3]["release_year"] = "20x1"                              # reject: bad year
    show(2)["duration"] = "45 min"                                 # reject: show measured in minutes
    rows.append(dict(rows[10]))                                    # reject: duplicate show_id
    rows.append({**rows[11], "show_id": rows[11]["show_id"].upper()})   # reject: the same id in capitals


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    """Rows written as a raw export is: a header, then every field quoted where needed."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_sample_catalogs(folder: Path, titles_per_platform: int = 300, seed: int = 7) -> list[Path]:
    """Raw catalogs named as published, in `folder` (the data folder's streaming/)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for offset, platform in enumerate(PLATFORMS):
        rng = np.random.default_rng(seed + offset)
        rows = _sample_platform(platform.code, titles_per_platform, rng)
        _inject_defects(platform.code, rows)
        paths.append(write_csv(folder / platform.filename, rows, RAW_COLUMNS))
    return paths
