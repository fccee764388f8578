"""Title search, title details and catalog facts (the web interface's lookups) on the real catalogs, against
answers computed here from the release's titles and scores, and for the catalog facts from the raw CSVs."""

from __future__ import annotations

import io
import json
import unicodedata

import pandas as pd
import pytest

from streamlens.combined_app import load_handler
from streamlens.release import object_key, read_manifest
from tests.aws import moto_bucket
from tests.helpers import call, published_catalog_rows, v2_event
from tests.reference import PLATFORM, duration


def plain(text: str) -> str:
    return " ".join("".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
                    .casefold().split())


@pytest.fixture(scope="module")
def release(real_release):
    with moto_bucket("titles-test") as (settings, store):
        real_release.copy_into(store)
        manifest = read_manifest(store, settings)
        read = lambda name: pd.read_parquet(io.BytesIO(store.get(object_key(manifest, name))))  # noqa: E731
        titles = read("data/titles.parquet").merge(read("data/scores.parquet"), on="id")
        yield load_handler("titles").handler, titles


@pytest.mark.parametrize("q, platform", [("queen", None), ("LOVE", "n"), ("amelie", None), ("star wars", "disney")])
def test_search_ranks_whole_then_start_then_word_then_anywhere(release, q, platform):
    handler, titles = release
    params = {"q": q, "limit": 20, **({"platform": platform} if platform else {})}
    status, body = call(handler, "/titles", params)
    assert status == 200
    key = plain(q)
    pool = titles if platform is None else titles[titles["platform"].astype(str).str[0] == platform[0]]
    expected = []
    for row in pool.itertuples():
        title = plain(row.title)
        if key in title:
            tier = 0 if title == key else 1 if title.startswith(key) else 2 if f" {key}" in f" {title}" else 3
            expected.append((tier, -row.rating_count, row.title, row.Index, row.id))
    assert [item["id"] for item in body["items"]] == [e[-1] for e in sorted(expected)[:20]]
    assert all(key in plain(item["title"]) for item in body["items"])


def details(handler, title_id: str) -> tuple[int, dict]:
    """GET /titles/{title_id} as an HTTP API event and as a direct invocation; both must agree."""
    response = handler(v2_event(f"/titles/{title_id}", None), None)
    body = json.loads(response["body"])
    assert handler({"title_id": title_id}, None) == body
    return response["statusCode"], body


def test_details_carry_the_score_and_rating_count(release):
    handler, titles = release
    for _, row in titles[titles["rating_count"] > 0].groupby("platform", observed=True).head(1).iterrows():
        status, body = details(handler, row["id"].upper())
        assert status == 200
        assert (body["id"], body["title"], body["rating_count"]) == (row["id"], row["title"], row["rating_count"])
        assert body["score"] == pytest.approx(row["score"])
        assert body["description"] == row["description"] and body["release_year"] == row["release_year"]
    status, body = details(handler, "zz1")
    assert status == 404 and body["error"]["parameter"] == "title_id"


def test_catalog_facts_come_from_the_raw_catalogs(release, raw_rows):
    handler, _ = release
    response = handler(v2_event("/catalog", None), None)
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and handler({"catalog": True}, None) == body
    kept = published_catalog_rows(raw_rows)
    years = [int(row["release_year"]) for rows in kept.values() for row in rows]
    assert body["release_years"] == {"min": min(years), "max": max(years)}
    assert body["platforms"] == [{"code": code, "name": PLATFORM[code], "titles": len(rows)}
                                 for code, rows in sorted(kept.items()) if rows]
    assert body["titles"] == sum(len(rows) for rows in kept.values())
    units = {duration(row)[1] for rows in kept.values() for row in rows if duration(row)}
    assert body["duration_types"] == sorted(units)


@pytest.mark.parametrize("flag", [True, "true", "TRUE", "True"])
def test_a_direct_invocation_asks_for_the_catalog_with_true(release, flag):
    handler, _ = release
    assert handler({"catalog": flag}, None) == json.loads(handler(v2_event("/catalog", None), None)["body"])


@pytest.mark.parametrize("flag", [False, "false", "False"])
def test_catalog_false_is_not_the_catalog(release, flag):
    """{"catalog": "false"} was routed to /catalog (a non-empty string is truthy): false is a search or a title."""
    handler, _ = release
    assert handler({"catalog": flag}, None)["error"] == {
        "status": 400, "type": "bad_parameter", "message": "q or title_id is required", "parameter": "q",
        "valid_values": "q (some letters of a title) or title_id"}
    searched = handler({"catalog": flag, "q": "queen", "limit": 3}, None)
    assert searched == handler({"q": "queen", "limit": 3}, None) and "items" in searched
    assert handler({"catalog": flag, "title_id": "ns1"}, None) == handler({"title_id": "ns1"}, None)


@pytest.mark.parametrize("flag", ["yes", "0", 1, None, [], {}])
def test_catalog_is_true_or_false_nothing_else(release, flag):
    error = release[0]({"catalog": flag}, None)["error"]
    assert error["status"] == 400 and error["parameter"] == "catalog" and error["valid_values"] == [True, False]


@pytest.mark.parametrize("params, status, parameter", [
    ({"q": "  "}, 400, "q"), ({"q": "love", "limit": 0}, 422, "limit"), ({"q": "love", "limit": 21}, 422, "limit"),
    ({"q": "love", "platform": "hbo"}, 400, "platform"), ({"q": "love", "sort": "x"}, 400, "sort"),
])
def test_search_errors_name_the_parameter(release, params, status, parameter):
    got, body = call(release[0], "/titles", params)
    assert got == status and body["error"]["parameter"] == parameter
