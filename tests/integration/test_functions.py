"""Every function through its Lambda `handler`: REST (v1), HTTP API (v2) and direct
events, answers checked against the raw real catalogs, and every error path."""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from etl_job.__main__ import main as etl_main
from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from streamlens.combined_app import load_handler
from tests import reference as ref
from tests.aws import moto_bucket
from tests.helpers import SMALL_TRAINING, call, free_port, v1_event

ROUTES = {"get_max_duration": "/max-duration", "get_score_count": "/score-count",
          "get_count_platform": "/count-platform", "get_actor": "/actor"}


@pytest.fixture(scope="module")
def aws():
    with moto_bucket("functions-test", STREAMLENS_MANIFEST_TTL_SECONDS="0") as env:
        yield env


@pytest.fixture(scope="module")
def real_release(aws, shared_data, tmp_path_factory):
    """A release of the real catalogs with generated ratings files (kept to compute scores independently)."""
    settings, store = aws
    folder = tmp_path_factory.mktemp("real")
    (folder / "streaming").mkdir()
    for csv in (shared_data / "streaming").glob("*_titles.csv"):
        (folder / "streaming" / csv.name).symlink_to(csv)
    assert etl_main(["sample", "--out", str(folder), "--ratings", "60000", "--users", "1500"]) == 0
    run_etl(DataSource(str(folder)), store, settings, EtlOptions(train_config=SMALL_TRAINING), Progress())
    ratings = pd.concat(pd.read_csv(f) for f in sorted(glob.glob(str(folder / "streaming/ratings/*.csv"))))
    return folder, ratings


@pytest.fixture(scope="module")
def handlers(real_release):
    return {name: load_handler(name).handler for name in [*ROUTES, "recommender"]}


@pytest.fixture(scope="module")
def scores(real_release, raw_rows):
    _, ratings = real_release
    known = {code + r["show_id"] for code, rows in raw_rows.items() for r in rows}   # every real row is kept
    return ratings[ratings["movieId"].isin(known)].groupby("movieId")["rating"].mean().to_dict()


@pytest.mark.parametrize("params, expected", [
    ({"year": 2020, "platform": "n", "duration_type": "min"}, ("n", 2020, "min")),
    ({"platform": "Disney"}, ("d", None, "min")),
    ({"year": 2019, "duration_type": "season"}, (None, 2019, "season")),
    ({}, (None, None, "min")),
    ({"platform": "HULU", "year": 2015}, ("h", 2015, "min")),
])
def test_get_max_duration(handlers, raw_rows, params, expected):
    status, body = call(handlers["get_max_duration"], "/max-duration", params)
    best = ref.max_duration(raw_rows, *expected)
    assert status == 200
    assert (body["title"], body["id"], body["duration_int"]) == (best["title"], best["id"], best["duration_int"])
    assert body["platform"] == ref.PLATFORM[best["id"][0]] and body["duration_type"] == expected[2]
    if params.get("year") == 2020 and params.get("platform") == "n":
        assert body["title"] == "unbreakable kimmy schmidt: kimmy vs. the reverend" and body["duration_int"] == 190


@pytest.mark.parametrize("code, param", [("a", "amazon"), ("d", "d"), ("h", "Hulu"), ("n", "NETFLIX")])
def test_get_count_platform(handlers, raw_rows, code, param):
    status, body = call(handlers["get_count_platform"], "/count-platform", {"platform": param})
    assert status == 200 and body == {"platform": ref.PLATFORM[code], "count": ref.movie_count(raw_rows, code)}


@pytest.mark.parametrize("code, year, scored", [("n", 2020, 3.5), ("a", 2021, 3.0), ("d", 2019, 2.5),
                                                ("h", 2018, 4.0), ("n", 1930, 0.0)])
def test_get_score_count(handlers, raw_rows, scores, code, year, scored):
    status, body = call(handlers["get_score_count"], "/score-count", {"platform": code, "scored": scored, "year": year})
    assert status == 200
    assert body == {"platform": ref.PLATFORM[code], "scored": scored, "year": year,
                    "count": ref.score_count(raw_rows, scores, code, year, scored)}


@pytest.mark.parametrize("code, year", [("n", 2020), ("a", 2021), ("d", 2018), ("n", None)])
def test_get_actor(handlers, raw_rows, code, year):
    params = {"platform": code} if year is None else {"platform": code, "year": year}
    status, body = call(handlers["get_actor"], "/actor", params)
    assert status == 200
    assert body == {"platform": ref.PLATFORM[code], "year": year, **ref.top_actors(raw_rows, code, year)}


@pytest.mark.parametrize("name, params, status, parameter", [
    ("get_max_duration", {"platform": "xbox"}, 400, "platform"),
    ("get_max_duration", {"duration_type": "hours"}, 422, "duration_type"),
    ("get_max_duration", {"year": "twenty"}, 422, "year"),
    ("get_max_duration", {"year": 1700}, 400, "year"),
    ("get_max_duration", {"yaer": 2020}, 400, "yaer"),
    ("get_score_count", {"platform": "n", "year": 2020}, 422, "scored"),
    ("get_score_count", {"platform": "n", "year": 2020, "scored": 9}, 400, "scored"),
    ("get_count_platform", {}, 422, "platform"),
    ("get_count_platform", {"platform": ""}, 400, "platform"),
    ("get_actor", {"platform": "n", "year": "2020.5"}, 422, "year"),
])
def test_bad_parameters_name_the_parameter(handlers, name, params, status, parameter):
    got, body = call(handlers[name], ROUTES[name], params)
    assert got == status
    assert body["error"]["parameter"] == parameter and body["error"]["status"] == status
    if parameter == "platform" and status == 400:
        assert set(body["error"]["valid_values"]) >= {"a", "d", "h", "n", "amazon", "disney", "hulu", "netflix"}
    if parameter == "duration_type":
        assert "'min'" in body["error"]["message"] and "'season'" in body["error"]["message"]


def test_not_found_cases(handlers):
    status, body = call(handlers["get_actor"], "/actor", {"platform": "hulu", "year": 2020})
    assert status == 404 and "no cast data" in body["error"]["message"]
    status, body = call(handlers["get_max_duration"], "/max-duration", {"platform": "d", "year": 1880})
    assert status == 404 and "no title" in body["error"]["message"]


@pytest.mark.parametrize("event", [None, [], "text", 42, {"year": {"nested": True}}, {"platform": "x" * 20_000},
                                   {"httpMethod": "GET"}, {"requestContext": {}}, {"version": "2.0", "routeKey": 1}])
def test_no_event_gives_a_500_or_a_traceback(handlers, event):
    for handler in handlers.values():
        result = handler(event, None)
        text = json.dumps(result)
        assert "Traceback" not in text
        status = result.get("statusCode") or (result.get("error") or {}).get("status") or 200
        assert status < 500, (event, result)


def test_no_release_yet_is_a_503_that_says_to_run_the_etl(aws, monkeypatch):
    monkeypatch.setenv("STREAMLENS_BUCKET", "empty-bucket")
    aws[1].client.create_bucket(Bucket="empty-bucket")
    fresh = load_handler("get_count_platform").handler
    status, body = call(fresh, "/count-platform", {"platform": "n"})
    assert status == 503 and "run the ETL" in body["error"]["message"]


def test_openapi_documents_every_route_with_examples(handlers):
    from streamlens.combined_app import build_app

    spec = build_app().openapi()
    for path in [*ROUTES.values(), "/recommend", "/users/{user_id}/recommendations"]:
        operation = spec["paths"][path]["get"]
        assert operation["description"] and operation["summary"]
        assert any("example" in json.dumps(p) for p in operation["parameters"]), path
    assert spec["components"]["schemas"]["MaxDuration"]["examples"]


def test_recommender_predicts_and_ranks(handlers, real_release):
    _, ratings = real_release
    handler = handlers["recommender"]
    user = int(ratings["userId"].value_counts().index[0])
    rated = set(ratings.loc[ratings["userId"] == user, "movieId"])
    status, body = call(handler, "/recommend", {"user_id": user, "title_id": "ns1"})
    assert status == 200 and body["cold_start"] is False and body["title"] == "dick johnson is dead"
    assert body["recommend"] == (body["rank_on_platform"] is not None and body["rank_on_platform"] <= 100)
    top = handler({"user_id": user, "n": 7, "platform": "d"}, None)
    assert len(top["items"]) == 7 and all(i["platform"] == "disney" for i in top["items"])
    assert not rated & {i["title_id"] for i in top["items"]}
    http = handler(v1_event(f"/users/{user}/recommendations", {"n": 7, "platform": "d"},
                            "/users/{user_id}/recommendations", {"user_id": str(user)}), None)
    assert json.loads(http["body"]) == top
    status, body = call(handler, "/recommend", {"user_id": user, "title_id": "zz999"})
    assert status == 404 and "unknown title_id" in body["error"]["message"]


def test_unknown_user_gets_the_cold_start_ranking(handlers, real_release):
    _, ratings = real_release
    known = ratings[~ratings["movieId"].str.startswith("x")]
    stats = known.groupby("movieId")["rating"].agg(["mean", "size"])
    stats = stats[stats["size"] >= 20].reset_index().sort_values(["mean", "movieId"], ascending=[False, True])
    body = handlers["recommender"]({"user_id": 987654321, "n": 5}, None)
    assert body["cold_start"] is True and "no ratings yet" in body["message"]
    assert [i["title_id"] for i in body["items"]] == stats["movieId"].head(5).tolist()
    assert [i["score"] for i in body["items"]] == pytest.approx(stats["mean"].head(5).tolist(), abs=1e-4)


# --- The OpenAPI document states what the API enforces (issue 13) ---------------------------------------------

def _parameters(spec: dict) -> dict[tuple[str, str], dict]:
    """(path, parameter name) -> schema, for every GET parameter of the document."""
    return {(path, p["name"]): p["schema"] for path, operations in spec["paths"].items()
            for p in operations.get("get", {}).get("parameters", [])}


def _types(schema: dict) -> set[str]:
    return {s.get("type") for s in schema.get("anyOf", [schema])} - {"null", None}


def _bounds(schema: dict) -> tuple:
    bounded = next((s for s in [schema, *schema.get("anyOf", [])] if "minimum" in s), {})
    return bounded.get("minimum"), bounded.get("maximum")


def test_openapi_states_the_range_of_every_number():
    from streamlens.combined_app import build_app
    from streamlens.queries import MAX_YEAR, MIN_YEAR
    from streamlens.similar import MAX_N
    from streamlens.titles import MAX_LIMIT

    spec = build_app().openapi()
    years = (MIN_YEAR, MAX_YEAR)
    expected = {("/max-duration", "year"): years, ("/score-count", "year"): years, ("/actor", "year"): years,
                ("/score-count", "scored"): (0, 5), ("/recommend", "user_id"): (1, 2**63 - 1),
                ("/users/{user_id}/recommendations", "user_id"): (1, 2**63 - 1),
                ("/users/{user_id}/recommendations", "n"): (1, 100),
                ("/users/{user_id}/recommendations", "year_min"): years,
                ("/users/{user_id}/recommendations", "year_max"): years, ("/movies/duration", "year"): years,
                ("/movies/recommendation", "n"): (1, MAX_N), ("/movies/recommendation", "year"): years,
                ("/similar", "n"): (1, MAX_N), ("/similar", "year"): years, ("/titles", "limit"): (1, MAX_LIMIT),
                ("/titles", "offset"): (0, None), ("/titles", "year_min"): years, ("/titles", "year_max"): years}
    numbers = {key: _bounds(schema) for key, schema in _parameters(spec).items()
               if _types(schema) & {"integer", "number"}}
    assert numbers == expected
    body = spec["components"]["schemas"]["VisitorRatings"]["properties"]
    assert {name: _bounds(body[name]) for name in ("n", "year_min", "year_max")} == {
        "n": (1, 100), "year_min": years, "year_max": years}
    # FastAPI writes a constraint it cannot place as a pydantic keyword, which no JSON Schema reader knows
    assert not {"ge", "le", "gt", "lt"} & set(re.findall(r'"(\w+)":', json.dumps(spec)))


def _accepted(check, value) -> bool:
    from streamlens.errors import BadParameter

    try:
        return check(value) == value
    except BadParameter:
        return False


def test_openapi_platform_pattern_accepts_exactly_what_the_api_accepts():
    import jsonschema_rs

    from streamlens.combined_app import build_app
    from streamlens.params import check_platform
    from streamlens.platforms import PLATFORMS

    spec = build_app().openapi()
    patterns = {key: schema.get("pattern") for key, schema in _parameters(spec).items() if key[1] == "platform"}
    assert len(patterns) == 7 and len(set(patterns.values())) == 1, patterns
    assert spec["components"]["schemas"]["VisitorRatings"]["properties"]["platform"]["pattern"] == \
        next(iter(patterns.values()))
    # read as a JSON Schema reader does (ECMA 262: '$' is the end, not "before a final newline" as in Python),
    # and as the API does
    schema = jsonschema_rs.validator_for(_parameters(spec)[("/count-platform", "platform")])
    spellings = [w for p in PLATFORMS for word in (p.code, p.name) for w in (word, word.upper(), word.title(),
                                                                              word[:1] + word[1:].upper())]
    refused = ["", " n", "n ", "nn", "xbox", "netflix\n", "\tn", "ｎ", "netflixx", "a|d", "NETFLİX", "\u212aids"]
    assert [s for s in spellings + refused if schema.is_valid(s)] == spellings
    assert [s for s in spellings + refused if _accepted(check_platform.func, s)] == spellings
    descriptions = {spec_["description"] for spec_ in (p for path, ops in spec["paths"].items()
                                                       for p in ops.get("get", {}).get("parameters", [])
                                                       if p["name"] == "platform")}
    assert all(d.startswith("a, d, h, n or amazon, disney, hulu, netflix, in any case") for d in descriptions)
    handlers_source = "".join(Path(f).read_text() for f in glob.glob("functions/*/handler.py"))
    assert "amazon, disney" not in handlers_source, "the platform parameter is declared once, in streamlens.params"


def test_openapi_text_parameters_state_their_lengths_and_that_blank_is_refused():
    from streamlens.combined_app import build_app
    from streamlens.text import NOT_BLANK_PATTERN

    spec = build_app().openapi()
    texts = {("/movies/language", "idioma"), ("/movies/duration", "pelicula"), ("/movies/franchise", "franquicia"),
             ("/movies/country", "pais"), ("/movies/production-company", "productora"),
             ("/movies/director", "nombre_director"), ("/movies/recommendation", "titulo"), ("/similar", "title"),
             ("/titles", "q")}
    for key, schema in _parameters(spec).items():
        if "string" not in _types(schema):
            continue
        if key in texts:
            assert (schema["minLength"], schema["maxLength"], schema["pattern"]) == (1, 500, NOT_BLANK_PATTERN), key
        else:   # ids, names and the choices: bounded by a length or by their pattern or enum
            assert schema.get("maxLength") == 500 or "pattern" in schema or "enum" in schema, key


def test_the_blank_pattern_is_exactly_the_values_whose_match_key_is_empty():
    """Over every code point: a value is refused as blank (the pattern does not match) exactly when its
    match key is empty (a key is empty only when each of its characters is; so one character is enough)."""
    from streamlens.text import NOT_BLANK_PATTERN, match_key

    pattern = re.compile(NOT_BLANK_PATTERN)
    disagree = [hex(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000
                and (pattern.search(chr(c)) is None) != (match_key(chr(c)) == "")]
    assert disagree == []
    assert match_key("´") == "´" and match_key("\u0301") == "\u0301" and match_key(" \u200b\ufeff\t") == ""


@pytest.mark.parametrize("typed, data", [("darwin's game", "Darwin’s Game"), ("finding 'ohana", "Finding ‘Ohana"),
                                         ("eliʼs places", "Eli’s Places"), ("saint\u200b seiya", "SAINT SEIYA"),
                                         ("\ufeffthe queen’s gambit", "The Queen's Gambit")])
def test_a_query_is_normalised_like_the_data(typed, data):
    from streamlens.text import match_key

    assert match_key(typed) == match_key(data) or match_key(data) in match_key(typed)


def _titles_with(raw_rows, characters: str) -> list[tuple[str, str]]:
    """(title id, raw title) of the real titles holding one of the characters (read with the csv module)."""
    return [(code + r["show_id"], r["title"]) for code, rows in raw_rows.items() for r in rows
            if any(ch in r["title"] for ch in characters)]


def test_title_search_matches_real_titles_whatever_the_apostrophe(real_release, raw_rows):
    """Every real title spelled with a curly apostrophe (57 of them) is found typed with a straight one, and
    every title with a straight one typed with a curly one; invisible characters in the query are ignored."""
    search = load_handler("titles").handler
    curly = _titles_with(raw_rows, "’‘ʼ")
    straight = _titles_with(raw_rows, "'")[:60]
    assert len(curly) >= 50
    for title_id, title in curly + straight:
        typed = title.replace("’", "'").replace("‘", "'").replace("ʼ", "'") if (title_id, title) in curly \
            else title.replace("'", "’")
        for q in (typed, "\u200b" + typed + "\ufeff"):
            body = search({"q": q, "limit": 20, "platform": title_id[0]}, None)
            assert title_id in [i["id"] for i in body["items"]], (title, q, body)
    first = search(v1_event("/titles", {"q": "darwin's game", "platform": "n"}), None)
    assert json.loads(first["body"])["items"][0]["title"] == "darwin’s game"


def test_similar_titles_resolve_a_title_whatever_the_apostrophe(real_release, raw_rows):
    similar = load_handler("similar").handler
    curly = [(i, t) for i, t in _titles_with(raw_rows, "’‘ʼ")]
    for title_id, title in curly[:20]:
        body = similar({"title": title.replace("’", "'").replace("‘", "'").replace("ʼ", "'"), "n": 1}, None)
        matches = [body["source"]["id"], *[o["id"] for o in body["other_matches"]]]
        assert title_id in matches, (title, body)


def test_movie_titles_match_whatever_the_apostrophe(shared_data):
    """The movies index as the ETL builds it (etl_job.movie_slices over the real movies_metadata.csv) and the
    function's lookup: "National Lampoon’s European Vacation" is found typed with a straight apostrophe."""
    from etl_job.catalog import read_input_csv
    from etl_job.movie_slices import build_movie_slices
    from etl_job.movies import clean_movies
    from etl_job.quality import QualityReport
    from streamlens import movie_queries

    meta = read_input_csv((shared_data / "movies" / "movies_metadata.csv").read_bytes(), "movies_metadata.csv")
    expected = meta[meta["title"].str.contains("’", regex=False) & (meta["release_date"] != "")]
    movies = clean_movies(meta, None, QualityReport("movies"))
    durations = build_movie_slices(movies[movies["title"].str.contains("Lampoon|’", regex=True)])["peliculas_duracion"]
    assert len(expected) >= 1
    for title in expected["title"]:
        for typed in (title.replace("’", "'"), title.replace("’", "ʼ"), "\u200b" + title.lower()):
            answer = movie_queries.peliculas_duracion(durations, typed)
            assert [m["title"] for m in answer["movies"]] == [title] * len(answer["movies"]), typed
            same_title = expected.loc[expected["title"] == title, "id"].astype(int)
            assert {m["id"] for m in answer["movies"]} == set(same_title)


# --- A slow S3 call does not stall the local server (issue 13, functions under faults) -------------------------

@pytest.fixture(scope="module")
def served(sample_data_dir):
    """The combined app under uvicorn, as the local run serves it, on a release of the generated data; its
    ObjectStore.get can be slowed for the keys of one function."""
    import threading

    import uvicorn

    from streamlens.combined_app import build_app
    from streamlens.storage import ObjectStore


    slow: dict[str, float] = {}
    plain_get = ObjectStore.get

    def get(self, key, *args, **kwargs):
        time.sleep(next((delay for part, delay in slow.items() if part in key), 0.0))
        return plain_get(self, key, *args, **kwargs)

    with moto_bucket("slow-s3-test", STREAMLENS_MANIFEST_TTL_SECONDS="600") as (settings, store), \
            pytest.MonkeyPatch.context() as mp:
        run_etl(DataSource(str(sample_data_dir)), store, settings,
                EtlOptions(train=False, sample_ratings=5_000, sample_users=300), Progress())
        mp.setattr(ObjectStore, "get", get)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(build_app(), host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}", slow
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@pytest.mark.parametrize("slow_path, slow_key", [("/actor?platform=n", "get_actor"),
                                                 ("/reports/quality.json", "quality.json")])
def test_a_slow_s3_call_does_not_stall_the_other_routes(served, slow_path, slow_key):
    """While one request waits 4 s on S3 (a cold load of its slice, or an on-demand report read), a route
    answering from its warm copy answers at once: the S3 call runs off the event loop."""
    import threading

    import httpx

    base, slow = served
    assert httpx.get(f"{base}/count-platform?platform=n", timeout=30).status_code == 200      # warm
    assert httpx.get(f"{base}/reports", timeout=30).status_code == 200                         # warm manifest
    slow[slow_key] = 4.0
    answers: dict[str, tuple[int, float]] = {}

    def ask_slow() -> None:
        started = time.monotonic()
        answers["slow"] = (httpx.get(base + slow_path, timeout=30).status_code, time.monotonic() - started)

    stuck = threading.Thread(target=ask_slow)
    try:
        stuck.start()
        time.sleep(0.5)                                           # the slow request is inside its S3 call
        started = time.monotonic()
        warm = httpx.get(f"{base}/count-platform?platform=n", timeout=30)
        waited = time.monotonic() - started
        stuck.join(timeout=30)
    finally:
        slow.clear()
    assert warm.status_code == 200 and warm.json()["platform"] == "netflix"
    assert answers["slow"][0] == 200 and answers["slow"][1] >= 4.0, answers     # it was stuck, and then answered
    assert waited < 2.0, f"the warm route waited {waited:.1f} s behind the slow S3 call"


# --- /docs loads nothing from a third party (issue 13) ---------------------------------------------------------

def test_docs_load_swagger_ui_from_the_app_itself_never_from_a_cdn(monkeypatch):
    """Every script and stylesheet of /docs is served by the app (the pinned fastapi-offline files), the page's
    policy lets the browser run nothing else, and behind an API Gateway stage the URLs carry its prefix."""
    import importlib.resources

    from fastapi.testclient import TestClient

    from streamlens.combined_app import build_app

    http = TestClient(build_app())
    page = http.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]*)"', page.text)
    assert len(urls) == 3 and all(u.startswith("/docs?asset=") or u.startswith("data:image/png;base64,")
                                  for u in urls), urls
    assert "//" not in "".join(u for u in urls if not u.startswith("data:")) and "cdn" not in page.text
    assert '"validatorUrl": null' in page.text                 # no badge image from the online validator
    policy = page.headers["content-security-policy"]
    assert "http" not in policy and "script-src 'self' 'sha256-" in policy and "default-src 'none'" in policy
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert len(inline) == 1 and f"'sha256-{digest}'" in policy
    static = importlib.resources.files("fastapi_offline") / "static"
    for url, kind in ((u, "javascript" if u.endswith(".js") else "css") for u in urls if u.startswith("/")):
        asset = http.get(url)
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
        assert asset.content == (static / url.split("=")[1]).read_bytes()
    assert b'PACKAGE_VERSION:"5.32.6"' in http.get("/docs?asset=swagger-ui-bundle.js").content
    assert http.get("/docs?asset=../../etc/passwd").status_code == 404

    monkeypatch.setenv("STREAMLENS_ROOT_PATH", "/prod")
    docs = load_handler("docs").handler
    page = docs(v1_event("/docs", None), None)
    assert page["statusCode"] == 200 and 'src="/prod/docs?asset=swagger-ui-bundle.js"' in page["body"]
    script = docs(v1_event("/docs", {"asset": "swagger-ui-bundle.js"}), None)
    assert script["statusCode"] == 200 and not script["isBase64Encoded"] and "SwaggerUIBundle" in script["body"]
