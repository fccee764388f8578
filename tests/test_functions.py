"""Every function through its Lambda `handler`: REST (v1), HTTP API (v2) and direct
events, answers checked against the raw real catalogs, and every error path."""

from __future__ import annotations

import glob
import json

import pandas as pd
import pytest

from etl_job.__main__ import main as etl_main
from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from etl_job.training import TrainConfig
from streamlens.combined_app import load_handler

from . import reference as ref
from .aws import moto_bucket

SMALL_TRAINING = TrainConfig(grid={"n_factors": [10], "n_epochs": [15], "lr_all": [0.01], "reg_all": [0.05]},
                             extra_candidates={}, cv=2, n_jobs=1, knn_sample=3_000)
ROUTES = {"get_max_duration": "/max-duration", "get_score_count": "/score-count",
          "get_count_platform": "/count-platform", "get_actor": "/actor"}


def v1_event(path: str, params: dict | None, resource: str | None = None, path_params: dict | None = None) -> dict:
    params = {k: str(v) for k, v in (params or {}).items()}
    return {"resource": resource or path, "path": path, "httpMethod": "GET",
            "headers": {"Host": "abc.execute-api.us-east-1.amazonaws.com"},
            "multiValueHeaders": {"Host": ["abc.execute-api.us-east-1.amazonaws.com"]},
            "queryStringParameters": params or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in params.items()} or None,
            "pathParameters": path_params, "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": resource or path, "httpMethod": "GET", "path": f"/prod{path}",
                               "stage": "prod", "requestId": "req-1", "identity": {"sourceIp": "203.0.113.9"}}}


def v2_event(path: str, params: dict | None) -> dict:
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
            "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com"},
            "queryStringParameters": {k: str(v) for k, v in (params or {}).items()} or None,
            "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                        "sourceIp": "203.0.113.9", "userAgent": "pytest"},
                               "requestId": "req-2", "stage": "$default"},
            "isBase64Encoded": False}


def call(handler, path: str, params: dict | None):
    """The same request three ways; all must agree. Returns (status, body)."""
    first = handler(v1_event(path, params), None)
    second = handler(v2_event(path, params), None)
    direct = handler(dict(params or {}), None)
    body = json.loads(first["body"])
    assert first["statusCode"] == second["statusCode"]
    assert json.loads(second["body"]) == body == direct
    return first["statusCode"], body


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
    assert status == 200 and body == {"platform": ref.PLATFORM[code], "year": year, **ref.top_actors(raw_rows, code, year)}


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
