"""Deterministic raw movies data in the shape of "The Movies Dataset":
movies_metadata.csv (24 columns, nested values as Python-literal strings) and
credits.csv (cast and crew lists), with the defects of the full original:
missing release dates, repeated ids, rows shifted across columns, names with
quotes and accents. Used for machines without the real files and, at full
size (45,466 movies, about 190 MB of credits), for the scale benchmark.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .movies import CREDIT_COLUMNS, META_COLUMNS
from .sample_data import write_csv

_WORDS = ("night", "river", "shadow", "summer", "king", "secret", "city", "garden", "storm", "heart", "winter",
          "road", "island", "dream", "fire", "stone", "ghost", "star", "ocean", "mountain", "echo", "glass")
_PEOPLE = ("Ana Ortiz", "Ben Berg", "Chen Kim", "Dara Novak", "Élodie Moreau", "Fatima Okafor", "Gus Haas",
           "Hana Sato", "Shaquille O'Neal", "Zoë Kravitz", "Jürgen Bauer", "Kofi Adeyemi", "Lena Lund", "Mateo Reyes",
           "Nia Costa", "Omar Patel", "Priya Rossi", "Quinn Wright", "Rosa Duarte", "Sam Fischer", "Tariq Silva")
_GENRES = ("Drama", "Comedy", "Action", "Documentary", "Horror", "Romance", "Thriller", "Animation",
           "Science Fiction", "Family", "Music", "Crime", "Fantasy", "Adventure")
_COUNTRIES = (("US", "United States of America"), ("GB", "United Kingdom"), ("FR", "France"), ("JP", "Japan"),
              ("DE", "Germany"), ("IN", "India"), ("ES", "Spain"), ("CI", "Côte d'Ivoire"))
_LANGUAGES = (("en", "English"), ("fr", "Français"), ("ja", "日本語"), ("de", "Deutsch"), ("es", "Español"))
_COMPANIES = ("Pixar Animation Studios", "Warner Bros.", "Studio Ghibli", "Gaumont", "Lumière Films",
              "Paramount Pictures", "Miramax", "Toho", "A24", "Bavaria Film")
_JOBS = (("Directing", "Director"), ("Writing", "Screenplay"), ("Production", "Producer"),
         ("Sound", "Original Music Composer"), ("Camera", "Director of Photography"), ("Editing", "Editor"),
         ("Art", "Production Design"), ("Crew", "Stunts"))


_SYLLABLES = ("ka", "lo", "mi", "ren", "tas", "vo", "dre", "sul", "ni", "gor", "pa", "the", "ux", "bel", "cor",
              "fa", "zin", "mor", "lu", "ter")
VOCABULARY = 30_000     # overview words: Zipf-distributed like real prose, so a few are everywhere


def _word(k: int) -> str:
    """k written in base len(_SYLLABLES), a syllable per digit: a distinct, pronounceable made-up word."""
    word = ""
    while True:
        k, digit = divmod(k, len(_SYLLABLES))
        word += _SYLLABLES[digit]
        if k == 0:
            return word


def _person(rng, k: int) -> str:
    return f"{_PEOPLE[k % len(_PEOPLE)]} {k // len(_PEOPLE)}" if k >= len(_PEOPLE) else _PEOPLE[k]


# The first sample movie has the title of a real one, so that a documented example (the README's
# /movies/recommendation?titulo=toy story) answers on the sample and on the real catalog alike.
ANCHOR_TITLE = "Toy Story"


def _title(k: int, generated: str) -> str:
    """The k-th movie's title (the generator's draws stay the same for every other movie)."""
    return ANCHOR_TITLE if k == 0 else generated


def _movie_rows(n: int, rng: np.random.Generator) -> tuple[list[dict], list[dict]]:
    meta, credits = [], []
    vocabulary = np.asarray([_word(k) for k in range(VOCABULARY)])
    zipf = np.cumsum(1.0 / np.arange(1, VOCABULARY + 1))
    zipf /= zipf[-1]
    for k in range(n):
        movie_id = str(100 + k)
        budget = int(rng.choice([0, 0, int(rng.integers(1, 300)) * 1_000_000]))
        revenue = int(budget * rng.uniform(0, 5)) if budget and rng.random() < 0.7 else 0
        genres = [{"id": int(10 + g), "name": _GENRES[g]}
                  for g in rng.choice(len(_GENRES), rng.integers(1, 4), replace=False)]
        countries = [{"iso_3166_1": c, "name": name} for c, name in
                     (_COUNTRIES[i] for i in rng.choice(len(_COUNTRIES), rng.integers(1, 3), replace=False))]
        languages = [{"iso_639_1": c, "name": name} for c, name in
                     (_LANGUAGES[i] for i in rng.choice(len(_LANGUAGES), rng.integers(1, 3), replace=False))]
        companies = [{"name": _COMPANIES[i], "id": int(i)} for i in rng.choice(len(_COMPANIES), rng.integers(0, 4),
                                                                               replace=False)]
        series = k // 40                # about 4 movies of every 40 share one collection, as in TMDB
        collection = ({"id": 5000 + series, "name": f"The {_WORDS[series % len(_WORDS)].capitalize()} {series} "
                                                   "Collection", "poster_path": "/p.jpg",
                       "backdrop_path": "/b.jpg"} if rng.random() < 0.1 else "")
        year = int(rng.integers(1920, 2018))
        meta.append({
            "adult": "False", "belongs_to_collection": str(collection) if collection else "",
            "budget": str(budget), "genres": str(genres), "homepage": "", "id": movie_id,
            "imdb_id": f"tt{int(movie_id):07d}", "original_language": languages[0]["iso_639_1"],
            "original_title": f"{rng.choice(_WORDS).capitalize()} {k}",
            "overview": " ".join(vocabulary[np.searchsorted(zipf, rng.random(rng.integers(20, 60)))]),
            "popularity": f"{rng.uniform(0, 30):.6f}",
            "poster_path": f"/{k}.jpg", "production_companies": str(companies),
            "production_countries": str(countries),
            "release_date": f"{year}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}",
            "revenue": str(revenue), "runtime": f"{rng.integers(70, 180)}.0", "spoken_languages": str(languages),
            "status": "Released", "tagline": " ".join(rng.choice(_WORDS, 5)).capitalize(),
            "title": _title(k, " ".join(w.capitalize() for w in rng.choice(_WORDS, rng.integers(1, 4))) + f" {k}"),
            "video": "False", "vote_average": f"{rng.uniform(1, 9):.1f}", "vote_count": str(int(rng.integers(0, 5000))),
        })
        cast = [{"cast_id": c, "character": f"Role {c}", "credit_id": f"{k:012x}{c:012x}", "gender": int(c % 3),
                 "id": int(p), "name": _person(rng, int(p)), "order": c,
                 "profile_path": f"/{p}.jpg"} for c, p in enumerate(rng.integers(0, 5000, rng.integers(5, 20)))]
        crew = [{"credit_id": f"{k:012x}{c:012x}", "department": d, "gender": int(c % 3), "id": int(p), "job": j,
                 "name": _person(rng, int(p)), "profile_path": f"/{p}.jpg"}
                for c, (p, (d, j)) in enumerate(zip(rng.integers(0, 5000, 40),
                                                    [_JOBS[0]] + [_JOBS[i] for i in rng.integers(0, len(_JOBS), 39)]))]
        credits.append({"cast": str(cast), "crew": str(crew[: int(rng.integers(3, 24))]), "id": movie_id})
    return meta, credits


def _inject_defects(meta: list[dict], credits: list[dict]) -> None:
    """The full original's problems: no date, repeated ids, rows shifted across columns."""
    for row in meta[7::97]:
        row["release_date"] = ""
    meta.append(dict(meta[3]))
    credits.append(dict(credits[3]))
    for row in meta[11::211]:
        row.update({"id": row["release_date"], "budget": row["poster_path"], "genres": "Released",
                    "release_date": "1"})


def write_sample_movies(folder: Path, n_movies: int = 300, seed: int = 11) -> list[Path]:
    """movies_metadata.csv and credits.csv into folder (the data folder's movies/)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta, credits = _movie_rows(n_movies, np.random.default_rng(seed))
    _inject_defects(meta, credits)
    return [write_csv(folder / "movies_metadata.csv", meta, META_COLUMNS),
            write_csv(folder / "credits.csv", credits, CREDIT_COLUMNS)]
