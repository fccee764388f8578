"""Similar titles against a reference known by construction, not computed with the product's own matrices:
a hand-made catalog whose fields are either identical or disjoint, so that each similarity is a weighted
mean of cosines that are exactly 1 or 0 (weights: description 1, genres 1, director 0.5, cast 0.5,
country 0.25, as documented in docs/etl.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from etl_job.similar_catalogs import streaming_similar
from streamlens.similar import SimilarTitles, similar_titles

TOTAL_WEIGHT = 1 + 1 + 0.5 + 0.5 + 0.25
ROWS = [  # id, title, year, description, genres, director, cast, country
    ("ns1", "Heist One", 2001, "alpha beta", "Drama", "Dee", "Ann", "Spain"),
    ("ns2", "Heist Two", 2002, "alpha beta", "Drama", "Dee", "Ann", "Spain"),     # all of ns1's fields
    ("ns3", "Other Story", 2003, "gamma delta", "Drama", "Zed", "Yan", "Peru"),   # only the genre of ns1
    ("ns4", "Far Away", 2004, "gamma delta", "Comedy", "Zed", "Xo", "Chile"),    # ns3's story and director
]


@pytest.fixture(scope="module")
def catalog() -> SimilarTitles:
    titles = pd.DataFrame(ROWS, columns=["id", "title", "release_year", "description", "listed_in", "director",
                                         "cast", "country"]).assign(platform="netflix", type="movie")
    titles["display_title"] = titles["title"].str.title()     # the catalog's own case travels in the bundle
    bundle, _, _ = streaming_similar(titles, pd.DataFrame({"rating_count": [3, 2, 1, 0]}))
    return SimilarTitles.from_bytes(bundle)


@pytest.mark.parametrize("title_id, expected", [
    ("ns1", [("ns2", 1.0), ("ns3", 1 / TOTAL_WEIGHT)]),        # ns4 shares nothing with ns1: not listed
    ("ns3", [("ns4", 1.5 / TOTAL_WEIGHT), ("ns1", 1 / TOTAL_WEIGHT), ("ns2", 1 / TOTAL_WEIGHT)]),
    ("ns4", [("ns3", 1.5 / TOTAL_WEIGHT)]),
])
def test_neighbours_and_similarities_are_those_of_the_construction(catalog, title_id, expected):
    answer = similar_titles(catalog, title_id=title_id, n=5)
    assert [s["id"] for s in answer["similar"]] == [i for i, _ in expected]
    # stored as float16 and answered to 3 places: within 1.5e-3 of the exact value
    assert [s["similarity"] for s in answer["similar"]] == pytest.approx([v for _, v in expected], abs=1.5e-3)
    on_platform = similar_titles(catalog, title_id=title_id, n=5, platform="n")
    assert on_platform["similar"] == answer["similar"]
