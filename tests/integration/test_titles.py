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


def expected_works(pool: pd.DataFrame, q: str) -> list[str]:
    """The ids a search for q lists, computed from the published titles: tiers, then most rated, then title;
    one entry per work (the same title ignoring case and accents, type and year), its first in that order."""
    key, ranked = plain(q), []
    for row in pool.itertuples():
        title = plain(row.title)
        if key in title:
            tier = 0 if title == key else 1 if title.startswith(key) else 2 if f" {key}" in f" {title}" else 3
            ranked.append((tier, -row.rating_count, title, row.id, (title, row.type, row.release_year)))
    seen, ids = set(), []
    for *_, tid, work in sorted(ranked):
        if work not in seen:
            seen.add(work)
            ids.append(tid)
    return ids


@pytest.mark.parametrize("q, platform", [("queen", None), ("LOVE", "n"), ("amelie", None), ("star wars", "disney")])
def test_search_ranks_whole_then_start_then_word_then_anywhere(release, q, platform):
    handler, titles = release
    params = {"q": q, "limit": 20, **({"platform": platform} if platform else {})}
    status, body = call(handler, "/titles", params)
    assert status == 200
    pool = titles if platform is None else titles[titles["platform"].astype(str).str[0] == platform[0]]
    expected = expected_works(pool, q)
    assert [item["id"] for item in body["items"]] == expected[:20] and body["total"] == len(expected)
    assert all(plain(q) in plain(item["title"]) for item in body["items"])


def test_a_work_on_several_platforms_is_listed_once_with_every_platform(release):
    handler, titles = release
    works = titles.assign(key=titles["title"].map(plain)).groupby(["key", "type", "release_year"], observed=True)
    shared = works.filter(lambda rows: rows["platform"].nunique() > 1)
    assert len(shared), "the real catalogs list some works on several platforms"
    for _, rows in list(shared.groupby(["key", "type", "release_year"], observed=True))[:25]:
        status, body = call(handler, "/titles", {"q": rows["display_title"].iloc[0], "limit": 20})
        assert status == 200
        listed = [item for item in body["items"] if plain(item["title"]) == rows["key"].iloc[0]
                  and item["type"] == rows["type"].iloc[0] and item["release_year"] == rows["release_year"].iloc[0]]
        assert len(listed) == 1, "one work, one entry"
        assert sorted(p["id"] for p in listed[0]["available_on"]) == sorted(rows["id"])
        status, page = details(handler, rows["id"].iloc[-1])
        assert sorted((p["id"], p["platform"]) for p in page["available_on"]) == sorted(
            zip(rows["id"], rows["platform"].astype(str)))


def test_display_text_is_the_exports_and_the_lowercase_fields_are_its_lowercase(release, raw_rows):
    """The raw CSV (read with the csv module) says how a title is written; the API shows that beside the
    brief's lowercase field, and matching ignores the difference."""
    handler, _ = release
    checked = 0
    for code, rows in raw_rows.items():
        for row in rows[:400:40]:
            status, body = details(handler, f"{code}{row['show_id']}")
            if status == 404:      # a rejected row
                continue
            written = " ".join("".join(c for c in row["title"] if c not in "\u200b\u200c\u200d\u2060\ufeff").split())
            assert body["display_title"] == written and body["title"] == written.lower()
            if row["cast"].strip():
                assert body["display_cast"].split(", ")[0] == row["cast"].split(",")[0].strip()
                assert body["cast"] == body["display_cast"].lower()
            found = handler({"q": written.upper(), "limit": 20}, None)     # direct: '&' needs no URL encoding
            assert any(item["id"] == body["id"] or body["id"] in [p["id"] for p in item["available_on"]]
                       for item in found["items"]), written
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize("params", [{"type": "movie"}, {"type": "TV Show", "platform": "n"},
                                    {"year_min": 2015}, {"year_max": 1999, "type": "movie"},
                                    {"year_min": 2000, "year_max": 2005, "platform": "amazon"}])
def test_search_filters_by_type_and_years(release, params):
    handler, titles = release
    status, body = call(handler, "/titles", {"q": "love", "limit": 20, **params})
    assert status == 200
    pool = titles
    if "type" in params:
        pool = pool[pool["type"].astype(str) == params["type"].lower()]
    if "platform" in params:
        pool = pool[pool["platform"].astype(str).str[0] == params["platform"][0]]
    pool = pool[pool["release_year"].between(params.get("year_min", 0), params.get("year_max", 9999))]
    expected = expected_works(pool, "love")
    assert expected and [item["id"] for item in body["items"]] == expected[:20] and body["total"] == len(expected)


def test_pages_of_a_search_are_its_whole_list_in_order(release):
    handler, titles = release
    expected = expected_works(titles, "the")
    assert len(expected) > 60
    pages = [call(handler, "/titles", {"q": "the", "limit": 20, "offset": offset})[1] for offset in range(0, 60, 20)]
    assert [item["id"] for page in pages for item in page["items"]] == expected[:60]
    assert {page["total"] for page in pages} == {len(expected)}
    last = call(handler, "/titles", {"q": "the", "limit": 20, "offset": len(expected)})[1]
    assert last["items"] == [] and last["suggestions"] is None, "past the end is not a miss"


def test_a_search_that_matches_nothing_suggests_the_closest_titles(release):
    handler, titles = release
    known = titles.sort_values("rating_count", ascending=False)["display_title"].iloc[0]
    typo = known[:-2] + ("zq" if not known.endswith("zq") else "xw")
    assert not any(plain(typo) in plain(t) for t in titles["title"])
    body = handler({"q": typo}, None)      # direct: the title may hold '&' or '#', which an event would need encoded
    assert body["items"] == [] and body["total"] == 0
    assert known in body["suggestions"]


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


def test_the_example_titles_are_the_most_rated_works(release):
    handler, titles = release
    ranked = titles.assign(key=titles["title"].map(plain)).sort_values(["rating_count", "id"], ascending=[False, True])
    works = ranked.drop_duplicates(["key", "type", "release_year"])
    assert handler({"catalog": True}, None)["example_titles"] == works["display_title"].head(3).tolist()


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
    ({"q": "love", "type": "film"}, 400, "type"), ({"q": "love", "offset": -1}, 422, "offset"),
    ({"q": "love", "year_min": 2010, "year_max": 2000}, 400, "year_min"),
    ({"q": "love", "year_min": "x"}, 422, "year_min"),
])
def test_search_errors_name_the_parameter(release, params, status, parameter):
    got, body = call(release[0], "/titles", params)
    assert got == status and body["error"]["parameter"] == parameter
