"""Independent answers computed from the raw CSV rows (csv module, plain Python).

Tests compare the product against these, never against its own code.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

DURATION = re.compile(r"^(\d+) (min|Seasons?)$")
PLATFORM = {"a": "amazon", "d": "disney", "h": "hulu", "n": "netflix"}


def norm(text: str) -> str:
    """The documented text rule: zero-width characters dropped, white space folded, lowercase."""
    for invisible in ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"):
        text = text.replace(invisible, "")
    return " ".join(text.split()).lower()


def shifted(row) -> bool:
    return row["duration"].strip() == "" and bool(DURATION.match(row["rating"].strip()))


def is_movie(row) -> bool:
    """Typed Movie and not measured in seasons: a movie cannot have seasons, so those are series."""
    d = duration(row)
    return row["type"] == "Movie" and not (d and d[1] == "season")


def duration(row):
    match = DURATION.match(row["duration"].strip() or row["rating"].strip())
    return (int(match.group(1)), "min" if match.group(2) == "min" else "season") if match else None


def max_duration(raw_rows, code=None, year=None, unit="min"):
    best = None
    for c, rows in raw_rows.items():
        if code and c != code:
            continue
        for r in rows:
            d = duration(r)
            if not d or d[1] != unit or (year and int(r["release_year"]) != year):
                continue
            candidate = (-d[0], norm(r["title"]), c + r["show_id"])
            best = candidate if best is None or candidate < best else best
    return None if best is None else {"duration_int": -best[0], "title": best[1], "id": best[2]}


def movie_count(raw_rows, code) -> int:
    return sum(is_movie(r) for r in raw_rows[code])


def top_actors(raw_rows, code, year=None):
    counts = Counter()
    for r in raw_rows[code]:
        if year is None or int(r["release_year"]) == year:
            counts.update({norm(n) for n in r["cast"].split(",") if norm(n) and not n.strip().isdigit()})
    if not counts:
        return None
    top = max(counts.values())
    leaders = sorted(name for name, n in counts.items() if n == top)
    return {"actor": leaders[0], "appearances": top, "ties": leaders[1:]}


def score_count(raw_rows, scores: dict, code, year, threshold) -> int:
    return sum(1 for r in raw_rows[code]
               if is_movie(r) and int(r["release_year"]) == year
               and scores.get(code + r["show_id"], float("nan")) > threshold)


def literal_names(text: str, key: str = "name") -> list[str]:
    """The `key` of every dict in a Python-literal nested value, read with ast.literal_eval."""
    if not text:
        return []
    value = ast.literal_eval(text)
    return [d[key] for d in (value if isinstance(value, list) else [value])]
