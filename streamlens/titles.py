"""Title search and title pages over the title index slice (etl_job.slices.title_index): the streaming
catalog's titles with their scores.

A work is one title, type and year, whichever platforms list it (streamlens.text.work_key): search lists a
work once, with every platform it is on, and a title's page says where else to watch it. The slice carries
the text as the catalog writes it (`display_title`...); the lowercase fields the other routes answer with
are its .lower(), exactly as the ETL computes them, and are derived here on load.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .errors import BadParameter, NotFound
from .platforms import PLATFORMS
from .queries import DURATION_TYPES, platform_name
from .text import closest, match_key, work_key

MAX_LIMIT = 20
SUMMARY = ("id", "title", "display_title", "platform", "type", "release_year", "score", "rating_count")
DISPLAYED = ("title", "director", "cast", "country", "listed_in", "description")     # each also as display_<name>


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


@dataclass
class TitleIndex:
    fields: list[str]
    rows: list[list]
    movie_examples: dict[str, str] = field(default_factory=dict)   # the movies forms' (etl_job.movie_slices)
    _col: dict[str, int] = field(init=False, repr=False)          # field name -> column
    _keys: list[str] = field(init=False, repr=False)              # match key of each title
    _by_id: dict[str, int] = field(init=False, repr=False)
    _work: list[int] = field(init=False, repr=False)              # each row's work
    _work_rows: list[list[int]] = field(init=False, repr=False)   # each work's rows, most rated first

    def __post_init__(self) -> None:
        self._col = {name: k for k, name in enumerate(self.fields)}
        self.fields = [*self.fields, *(name for name in DISPLAYED if f"display_{name}" in self._col)]
        title, kind, year, count = (self._col[c] for c in ("display_title", "type", "release_year", "rating_count"))
        self._keys = [match_key(row[title]) for row in self.rows]
        self._by_id = {row[self._col["id"]]: k for k, row in enumerate(self.rows)}
        codes: dict[str, int] = {}
        self._work = [codes.setdefault(work_key(row[title], row[kind], row[year]), len(codes)) for row in self.rows]
        grouped: dict[int, list[int]] = defaultdict(list)
        for k, work in enumerate(self._work):
            grouped[work].append(k)
        self._work_rows = [sorted(grouped[w], key=lambda k: (-(self.rows[k][count] or 0), self.rows[k][0]))
                           for w in range(len(codes))]

    @classmethod
    def from_bytes(cls, body: bytes) -> TitleIndex:
        data = json.loads(body)
        return cls(data["fields"], data["rows"], data.get("movie_examples", {}))

    def _value(self, k: int, name: str) -> Any:
        if name in self._col:
            return self.rows[k][self._col[name]]
        return _lower(self.rows[k][self._col[f"display_{name}"]])

    def _record(self, k: int, names=None) -> dict[str, Any]:
        record = {name: self._value(k, name) for name in (names or self.fields)}
        record["available_on"] = [{"id": self._value(j, "id"), "platform": self._value(j, "platform")}
                                  for j in self._work_rows[self._work[k]]]
        return record

    def search(self, q: str, limit: int = 10, platform: str | None = None, type: str | None = None,
               year_min: int | None = None, year_max: int | None = None, offset: int = 0) -> dict[str, Any]:
        """Works whose title contains q ignoring case and accents: whole title, then title start, then a
        word's start, then anywhere; within each, the most rated first, then title A-Z. A work is listed once,
        as its most rated entry on the asked platform. No match: the closest titles as suggestions."""
        key = match_key(q or "")
        if not key:
            raise BadParameter("q", "q must not be empty", "some letters of a title")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadParameter("limit", f"limit must be between 1 and {MAX_LIMIT}", f"1..{MAX_LIMIT}")
        if offset < 0:
            raise BadParameter("offset", "offset must not be negative", "0 or more")
        if year_min is not None and year_max is not None and year_min > year_max:
            raise BadParameter("year_min", f"year_min {year_min} is after year_max {year_max}", "year_min <= year_max")
        name, kind = platform_name(platform), type.strip().lower() if type else None
        col = self._col
        ranked, seen = [], set()
        for k, title in enumerate(self._keys):
            row = self.rows[k]
            if (key not in title or (name and row[col["platform"]] != name) or (kind and row[col["type"]] != kind)
                    or (year_min is not None and row[col["release_year"]] < year_min)
                    or (year_max is not None and row[col["release_year"]] > year_max)):
                continue
            tier = 0 if title == key else 1 if title.startswith(key) else 2 if f" {key}" in f" {title}" else 3
            ranked.append((tier, -(row[col["rating_count"]] or 0), title, row[col["id"]], k))
        ranked.sort()
        works = []
        for *_, k in ranked:
            if self._work[k] not in seen:
                seen.add(self._work[k])
                works.append(k)
        answer: dict[str, Any] = {"q": q, "platform": name, "type": kind, "year_min": year_min, "year_max": year_max,
                  "total": len(works), "offset": offset,
                  "items": [self._record(k, SUMMARY) for k in works[offset:offset + limit]]}
        if not works:
            answer["suggestions"] = closest(key, self._names)
        return answer

    @cached_property
    def _names(self) -> dict[str, str]:
        """Match key -> display title, for suggestions: the same keys the search matches."""
        title = self._col["display_title"]
        return {key: self.rows[k][title] for k, key in reversed(list(enumerate(self._keys)))}

    @cached_property
    def catalog(self) -> dict[str, Any]:
        """What the web forms need to validate input (the platforms present and the release years) and to
        suggest it: the most rated titles of this release, so the sample and the real data both give
        placeholders that find something."""
        years = [row[self._col["release_year"]] for row in self.rows]
        counts = Counter(row[self._col["platform"]] for row in self.rows)
        most_rated = [rows[0] for rows in sorted(self._work_rows, key=lambda rows: (
            -(self.rows[rows[0]][self._col["rating_count"]] or 0), self.rows[rows[0]][0]))[:3]]
        return {"titles": len(self.rows), "release_years": {"min": min(years), "max": max(years)},
                "example_titles": [self._value(k, "display_title") for k in most_rated],
                "movie_examples": self.movie_examples,
                "platforms": [{"code": p.code, "name": p.name, "titles": counts[p.name]}
                              for p in PLATFORMS if counts[p.name]],
                "duration_types": list(DURATION_TYPES)}

    def details(self, title_id: str) -> dict[str, Any]:
        k = self._by_id.get(str(title_id).strip().lower())
        if k is None:
            raise NotFound(f"unknown title_id {title_id!r}: ids are the platform letter and show_id, e.g. 'ns1'",
                           parameter="title_id")
        return self._record(k)
