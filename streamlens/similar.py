"""Similar titles, served by lookup in the neighbours the ETL precomputed
(etl_job.similar_titles): the Lambda never compares a title with the catalog.

One bundle per catalog: every title's id, display title, match key, year and
popularity, and per group ("all", and each platform for the streaming
catalog) the positions and cosine similarities of its nearest neighbours.
A title that several entries share is resolved to the most popular one
(TMDB vote count, or rating count), narrowed by `year` when given; the
others are listed so that a caller can pick.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import BadParameter, NotFound
from .queries import check_year, platform_name
from .text import closest, match_key

DEFAULT_N = 5
MAX_N = 20


def _pack(strings) -> np.ndarray:
    """Strings as UTF-8 JSON bytes: a numpy unicode array stores 4 bytes per character of the longest."""
    return np.frombuffer(json.dumps([str(v) for v in strings], ensure_ascii=False).encode(), dtype=np.uint8)


def _unpack(packed: np.ndarray) -> np.ndarray:
    return np.asarray(json.loads(packed.tobytes().decode()), dtype=object)


def build_similar_bundle(ids: np.ndarray, titles: np.ndarray, years: np.ndarray, popularity: np.ndarray,
                         neighbours: dict[str, Any], platforms: np.ndarray | None = None,
                         display_titles: np.ndarray | None = None) -> bytes:
    """neighbours: group name -> etl_job.similar_titles.Neighbours; display_titles: the titles as people read
    them, where `titles` are the brief's lowercase ones (the streaming catalog)."""
    arrays: dict[str, Any] = {"ids": _pack(ids), "titles": _pack(titles),
                              "keys": _pack([match_key(t) for t in titles]),
                              "years": np.asarray(years, dtype=np.int32),
                              "popularity": np.nan_to_num(np.asarray(popularity, dtype=np.float64))}
    if platforms is not None:
        arrays["platforms"] = np.asarray(platforms).astype(str)
    if display_titles is not None:
        arrays["display_titles"] = _pack(display_titles)
    for group, found in neighbours.items():
        found.save_to(arrays, group)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)      # uncompressed: a cold start reads it as is
    return buffer.getvalue()


@dataclass
class SimilarTitles:
    ids: np.ndarray
    titles: np.ndarray
    keys: np.ndarray
    years: np.ndarray
    popularity: np.ndarray
    neighbours: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    platforms: np.ndarray | None = None
    display_titles: np.ndarray | None = None
    _by_key: dict[str, list[int]] | None = field(default=None, init=False, repr=False)
    _names: dict[str, str] = field(default_factory=dict, init=False, repr=False)   # match key -> display title
    _by_id: dict[str, int] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_bytes(cls, bundle: bytes) -> SimilarTitles:
        with np.load(io.BytesIO(bundle), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        groups = [k.removeprefix("neighbours_") for k in arrays if k.startswith("neighbours_")]
        return cls(ids=_unpack(arrays["ids"]), titles=_unpack(arrays["titles"]), keys=_unpack(arrays["keys"]),
                   years=arrays["years"],
                   popularity=arrays["popularity"], platforms=arrays.get("platforms"),
                   display_titles=_unpack(arrays["display_titles"]) if "display_titles" in arrays else None,
                   neighbours={g: arrays[f"neighbours_{g}"] for g in groups},
                   scores={g: arrays[f"scores_{g}"] for g in groups})

    def _index(self) -> dict[str, list[int]]:
        if self._by_key is None:
            by_key: dict[str, list[int]] = defaultdict(list)
            for position, key in enumerate(self.keys.tolist()):
                by_key[key].append(position)
            popularity, ids = self.popularity.tolist(), self.ids.tolist()
            self._by_key = {key: sorted(rows, key=lambda k: (-popularity[k], ids[k])) if len(rows) > 1 else rows
                            for key, rows in by_key.items()}
            shown = self.titles if self.display_titles is None else self.display_titles
            self._names = {key: str(shown[rows[0]]) for key, rows in self._by_key.items()}
        return self._by_key

    def describe(self, k: int) -> dict[str, Any]:
        info = {"id": str(self.ids[k]), "title": str(self.titles[k]), "release_year": int(self.years[k])}
        if self.display_titles is not None:
            info["display_title"] = str(self.display_titles[k])
        if self.platforms is not None:
            info["platform"] = str(self.platforms[k])
        return info

    def by_id(self, title_id: str, parameter: str = "title_id") -> int:
        if self._by_id is None:
            self._by_id = {tid: k for k, tid in enumerate(self.ids.tolist())}
        k = self._by_id.get(str(title_id).strip().lower())
        if k is None:
            raise NotFound(f"unknown {parameter} {title_id!r}", parameter=parameter)
        return k

    def find(self, title: str | None, year: int | None = None, parameter: str = "title") -> tuple[int, list[int]]:
        """(the entry the title means, the other entries with that title), most popular first."""
        check_year(year)
        key = match_key(title or "")
        if not key:
            raise BadParameter(parameter, f"{parameter} must not be empty", "a title in the catalog")
        matches = self._index().get(key)
        if not matches:
            suggestions = closest(key, self._names)
            hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
            raise NotFound(f"no title matches {title!r}{hint}", parameter=parameter, suggestions=suggestions)
        if year is not None:
            dated = [k for k in matches if int(self.years[k]) == year]
            if not dated:
                years = sorted({int(self.years[k]) for k in matches})
                raise NotFound(f"{self.titles[matches[0]]!r} is not from {year}; years: {years}",
                               parameter="year", suggestions=years)
            matches = dated + [k for k in matches if k not in dated]
        return matches[0], matches[1:]

    def similar(self, k: int, n: int, group: str = "all") -> list[dict[str, Any]]:
        if not 1 <= n <= MAX_N:
            raise BadParameter("n", f"n must be between 1 and {MAX_N}", f"1..{MAX_N}")
        found: list[dict[str, Any]] = []
        if group not in self.neighbours:    # a platform with no titles in this release: nothing is like it
            return found
        for position, score in zip(self.neighbours[group][k][:n].tolist(), self.scores[group][k][:n].tolist()):
            if position < 0:
                break
            found.append({**self.describe(position), "similarity": round(float(score), 3)})
        return found


def recomendacion(movies: SimilarTitles, titulo: str, n: int = DEFAULT_N, year: int | None = None) -> dict[str, Any]:
    """The movies catalog: the n most similar movies, as a list of titles and with details."""
    k, others = movies.find(titulo, year, parameter="titulo")
    similar = movies.similar(k, n)
    movie = movies.describe(k)
    named = f"{movie['title']} ({movie['release_year']})"
    message = (f"Películas similares a {named}: {', '.join(s['title'] for s in similar)}" if similar else
               f"{named} no tiene contenido suficiente (sinopsis, géneros, reparto) para recomendar similares")
    return {"titulo": titulo, "movie": movie, "recommendations": [s["title"] for s in similar],
            "similar": similar, "other_matches": [movies.describe(o) for o in others], "message": message}


def similar_titles(catalog: SimilarTitles, title: str | None = None, title_id: str | None = None,
                   n: int = DEFAULT_N, platform: str | None = None, year: int | None = None) -> dict[str, Any]:
    """The streaming catalog: titles like one title (by title text or id), optionally on one platform."""
    if (title is None) == (title_id is None):
        raise BadParameter("title", "give exactly one of title and title_id",
                           "title (a title's text) or title_id (e.g. 'ns1')")
    check_year(year)
    others: list[int]
    if title_id is not None:
        if year is not None:
            raise BadParameter("year", "year narrows a title given as text; title_id already names one entry",
                               "no year with title_id")
        k, others = catalog.by_id(title_id), []
    else:
        k, others = catalog.find(title, year)
    name = platform_name(platform)
    return {"source": catalog.describe(k), "platform": name, "n": n,
            "similar": catalog.similar(k, n, name or "all"),
            "other_matches": [catalog.describe(o) for o in others]}
