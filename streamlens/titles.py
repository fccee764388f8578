"""Title search (autocomplete) and title details over the title index slice
(etl_job.slices.title_index): the streaming catalog's titles with their scores."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .errors import BadParameter, NotFound
from .platforms import PLATFORMS
from .queries import DURATION_TYPES, platform_name
from .text import match_key

MAX_LIMIT = 20
SUMMARY = ("id", "title", "platform", "type", "release_year", "score", "rating_count")


@dataclass
class TitleIndex:
    fields: list[str]
    rows: list[list]
    _col: dict[str, int] = field(init=False, repr=False)          # field name -> column
    _keys: list[str] = field(init=False, repr=False)              # match key of each title
    _by_id: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._col = {name: k for k, name in enumerate(self.fields)}
        self._keys = [match_key(row[self._col["title"]]) for row in self.rows]
        self._by_id = {row[self._col["id"]]: k for k, row in enumerate(self.rows)}

    @classmethod
    def from_bytes(cls, body: bytes) -> TitleIndex:
        data = json.loads(body)
        return cls(data["fields"], data["rows"])

    def _record(self, k: int, names=None) -> dict[str, Any]:
        row = self.rows[k]
        return {name: row[self._col[name]] for name in (names or self.fields)}

    def search(self, q: str, limit: int = 10, platform: str | None = None) -> dict[str, Any]:
        """Titles matching q ignoring case and accents: whole title, then title start, then a word's start,
        then anywhere; within each, the most rated first, then title A-Z."""
        key = match_key(q or "")
        if not key:
            raise BadParameter("q", "q must not be empty", "some letters of a title")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadParameter("limit", f"limit must be between 1 and {MAX_LIMIT}", f"1..{MAX_LIMIT}")
        name = platform_name(platform)
        platform_col, count_col, title_col = self._col["platform"], self._col["rating_count"], self._col["title"]
        ranked = []
        for k, title in enumerate(self._keys):
            if key not in title or (name and self.rows[k][platform_col] != name):
                continue
            tier = 0 if title == key else 1 if title.startswith(key) else 2 if f" {key}" in f" {title}" else 3
            ranked.append((tier, -(self.rows[k][count_col] or 0), self.rows[k][title_col], k))
        ranked.sort()
        return {"q": q, "platform": name, "items": [self._record(k, SUMMARY) for *_, k in ranked[:limit]]}

    @cached_property
    def catalog(self) -> dict[str, Any]:
        """What the web forms need to validate input: the platforms present and the release years."""
        years = [row[self._col["release_year"]] for row in self.rows]
        counts = Counter(row[self._col["platform"]] for row in self.rows)
        return {"titles": len(self.rows), "release_years": {"min": min(years), "max": max(years)},
                "platforms": [{"code": p.code, "name": p.name, "titles": counts[p.name]}
                              for p in PLATFORMS if counts[p.name]],
                "duration_types": list(DURATION_TYPES)}

    def details(self, title_id: str) -> dict[str, Any]:
        k = self._by_id.get(str(title_id).strip().lower())
        if k is None:
            raise NotFound(f"unknown title_id {title_id!r}: ids are the platform letter and show_id, e.g. 'ns1'",
                           parameter="title_id")
        return self._record(k)
