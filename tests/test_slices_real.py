"""Query slices built from the real catalogs, against brute force over the raw rows."""

from __future__ import annotations

import bisect
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from etl_job.catalog import clean_catalogs
from etl_job.quality import QualityReport
from etl_job.slices import build_slices
from streamlens.platforms import BY_CODE
from streamlens.slices import ANY, slice_key

DURATION = re.compile(r"^(\d+) (min|Seasons?)$")


def _usable(row) -> bool:
    shifted = row["duration"].strip() == "" and DURATION.match(row["rating"].strip())
    return not (shifted and row["type"] == "Movie" and "Season" in row["rating"])


def _duration(row):
    text = row["duration"].strip() or row["rating"].strip()
    match = DURATION.match(text)
    return (int(match.group(1)), "min" if match.group(2) == "min" else "season") if match else None


@pytest.fixture(scope="module")
def built(raw_rows):
    titles = clean_catalogs({c: pd.DataFrame(r, dtype=str) for c, r in raw_rows.items()}, QualityReport("c"))
    rng = np.random.default_rng(11)
    scores = pd.DataFrame({"id": titles["id"], "score": np.round(rng.uniform(0.5, 5, len(titles)), 4),
                           "rating_count": rng.integers(0, 50, len(titles))})
    scores.loc[scores["rating_count"] == 0, "score"] = np.nan
    return build_slices(titles, scores), scores.set_index("id")


def test_count_platform(built, raw_rows):
    slices, _ = built
    for code, rows in raw_rows.items():
        expected = sum(r["type"] == "Movie" and _usable(r) for r in rows)
        assert slices["get_count_platform"]["answers"][BY_CODE[code].name] == expected
    assert slices["get_count_platform"]["answers"]["netflix"] == 6131


@pytest.mark.parametrize("code, year, unit", [("n", 2020, "min"), ("a", 2021, "season"), ("d", None, "min"),
                                              (None, 2019, "min"), (None, None, "season"), ("h", 2018, "min")])
def test_max_duration(built, raw_rows, code, year, unit):
    slices, _ = built
    best = None
    for c, rows in raw_rows.items():
        if code and c != code:
            continue
        for r in rows:
            d = _duration(r)
            if not _usable(r) or not d or d[1] != unit or (year and int(r["release_year"]) != year):
                continue
            candidate = (-d[0], r["title"].strip().lower(), c + r["show_id"])
            best = candidate if best is None or candidate < best else best
    key = slice_key(BY_CODE[code].name if code else ANY, year or ANY, unit)
    answer = dict(zip(slices["get_max_duration"]["fields"], slices["get_max_duration"]["answers"][key]))
    assert (answer["duration_int"], answer["id"]) == (-best[0], best[2])
    if (code, year, unit) == ("n", 2020, "min"):
        assert answer["title"] == "unbreakable kimmy schmidt: kimmy vs. the reverend" and answer["duration_int"] == 190


def test_score_count(built, raw_rows):
    slices, scores = built
    answers = slices["get_score_count"]["answers"]
    for code, year, threshold in [("n", 2019, 3.0), ("a", 2021, 4.2), ("d", 2010, 1.0), ("h", 2020, 4.9)]:
        expected = sum(1 for r in raw_rows[code]
                       if r["type"] == "Movie" and _usable(r) and int(r["release_year"]) == year
                       and scores.loc[code + r["show_id"], "score"] > threshold)
        sorted_scores = answers.get(slice_key(BY_CODE[code].name, year), [])
        assert len(sorted_scores) - bisect.bisect_right(sorted_scores, threshold) == expected


@pytest.mark.parametrize("code, year", [("n", 2020), ("a", 2021), ("d", 2019), ("n", None)])
def test_actor(built, raw_rows, code, year):
    slices, _ = built
    counts = Counter()
    for r in raw_rows[code]:
        if _usable(r) and (year is None or int(r["release_year"]) == year):
            names = {n.strip().lower() for n in r["cast"].split(",") if n.strip() and not n.strip().isdigit()}
            counts.update(names)
    top = max(counts.values())
    leaders = sorted(name for name, n in counts.items() if n == top)
    answer = slices["get_actor"]["answers"][slice_key(BY_CODE[code].name, year or ANY)]
    assert (answer["actor"], answer["appearances"], answer["ties"]) == (leaders[0], top, leaders[1:])


def test_platform_without_cast_is_flagged(built):
    slices, _ = built
    assert slices["get_actor"]["platforms_without_cast"] == ["hulu"]
    assert not any(key.startswith("hulu|") for key in slices["get_actor"]["answers"])
