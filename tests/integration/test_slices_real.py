"""Query slices built from the real catalogs, against brute force over the raw rows."""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd
import pytest

from etl_job.catalog import clean_catalogs
from etl_job.quality import QualityReport
from etl_job.slices import build_slices
from streamlens.layout import ANY, slice_key
from streamlens.platforms import BY_CODE
from tests import reference as ref


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
    for code, _rows in raw_rows.items():
        expected = ref.movie_count(raw_rows, code)
        assert slices["get_count_platform"]["answers"][BY_CODE[code].name] == expected
    assert slices["get_count_platform"]["answers"]["netflix"] == 6131


@pytest.mark.parametrize("code, year, unit", [("n", 2020, "min"), ("a", 2021, "season"), ("d", None, "min"),
                                              (None, 2019, "min"), (None, None, "season"), ("h", 2018, "min")])
def test_max_duration(built, raw_rows, code, year, unit):
    slices, _ = built
    best = ref.max_duration(raw_rows, code, year, unit)
    key = slice_key(BY_CODE[code].name if code else ANY, year or ANY, unit)
    answer = dict(zip(slices["get_max_duration"]["fields"], slices["get_max_duration"]["answers"][key]))
    assert (answer["duration_int"], answer["id"], answer["title"]) == (best["duration_int"], best["id"], best["title"])


def test_score_count(built, raw_rows):
    slices, scores = built
    answers = slices["get_score_count"]["answers"]
    by_id = scores["score"].to_dict()
    for code, year, threshold in [("n", 2019, 3.0), ("a", 2021, 4.2), ("d", 2010, 1.0), ("h", 2020, 4.9)]:
        expected = ref.score_count(raw_rows, by_id, code, year, threshold)
        sorted_scores = answers.get(slice_key(BY_CODE[code].name, year), [])
        assert len(sorted_scores) - bisect.bisect_right(sorted_scores, threshold) == expected


@pytest.mark.parametrize("code, year", [("n", 2020), ("a", 2021), ("d", 2019), ("n", None)])
def test_actor(built, raw_rows, code, year):
    slices, _ = built
    answer = slices["get_actor"]["answers"][slice_key(BY_CODE[code].name, year or ANY)]
    assert answer == ref.top_actors(raw_rows, code, year)


def test_platform_without_cast_is_flagged(built):
    slices, _ = built
    assert slices["get_actor"]["platforms_without_cast"] == ["hulu"]
    assert not any(key.startswith("hulu|") for key in slices["get_actor"]["answers"])
