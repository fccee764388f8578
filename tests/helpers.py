"""What several test modules share: Lambda event builders, `call`, small training configs, a free port and
data builders (no test module imports another)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np

from etl_job.training import TrainConfig

REPO = Path(__file__).resolve().parents[1]
SAVED = REPO / "tests" / "data"        # saved documents the tests compare with (openapi.json, training cards)

SMALL_TRAINING = TrainConfig(grid={"n_factors": [10], "n_epochs": [15], "lr_all": [0.01], "reg_all": [0.05]},
                             extra_candidates={}, cv=2, n_jobs=1, knn_sample=3_000)
# Two grid points and one extra candidate: the smallest configuration that still has a model to choose.
GRID_OF_TWO = TrainConfig(grid={"n_factors": [4, 8], "n_epochs": [10], "lr_all": [0.01], "reg_all": [0.05]},
                          extra_candidates={"tuned": {"n_factors": 8, "n_epochs": 30, "reg_bi": 0.5}},
                          cv=2, n_jobs=1, knn_sample=2_000)


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_taste_ratings(seed: int, users: int, titles: int, per_user: int,
                      noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, item, rating) arrays of users of two tastes: even users like even titles, odd users odd ones,
    so that factors matter; half-star ratings from 0.5 to 5 with Gaussian noise, seeded."""
    rng = np.random.default_rng(seed)
    user = np.repeat(np.arange(users), per_user)
    item = np.concatenate([rng.choice(titles, per_user, replace=False) for _ in range(users)])
    taste = (user % 2 == 0) == (item % 2 == 0)
    rating = np.clip(np.round((3.0 + 1.2 * np.where(taste, 1, -1) + rng.normal(0, noise, user.size)) * 2) / 2,
                     0.5, 5)
    return user, item, rating


CATALOG_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%Y-%m-%d", "%Y/%m/%d", "%d-%b-%y")


def published_catalog_rows(raw_rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The raw catalog rows (per platform code, as the csv module reads them) that docs/etl.md's rejection rules
    keep: a show_id (compared ignoring case and leading zeros, the first kept), a title, a known type, a year
    from 1880 on, a readable duration (also when it sits in the rating column; an empty one is unknown), a TV
    show not in minutes, a readable or empty date_added (the listed formats, stray spaces folded)."""
    import re
    from datetime import date, datetime

    from tests.reference import duration, norm

    def readable_date(text: str) -> bool:
        text = " ".join(text.split())
        for form in CATALOG_DATE_FORMATS:
            try:
                datetime.strptime(text, form)
                return True
            except ValueError:
                pass
        return text == ""

    def acceptable(row: dict) -> bool:
        year, unit = row["release_year"].strip(), duration(row)
        return (bool(norm(row["title"])) and row["type"] in ("Movie", "TV Show")
                and year.isdigit() and 1880 <= int(year) <= date.today().year
                and not (unit is None and row["duration"].strip())
                and not (row["type"] == "TV Show" and unit and unit[1] == "min")
                and readable_date(row["date_added"]))

    kept: dict[str, list[dict]] = {}
    for code, rows in raw_rows.items():
        seen: set[str] = set()
        kept[code] = []
        for row in rows:
            show_id = row["show_id"].strip().lower()
            key = re.sub(r"\d+", lambda m: str(int(m.group())), show_id)
            if show_id and key not in seen and acceptable(row):
                seen.add(key)
                kept[code].append(row)
    return kept


def publish_pair(store, settings, a: int, b: int) -> str:
    """A release of two tiny objects, slices/x/a.json and slices/x/b.json holding {"value": a} and {"value": b}:
    enough for the release cache to show which release it serves."""
    from streamlens.release import ReleaseWriter

    writer = ReleaseWriter(store, settings)
    writer.put_json("slices/x/a.json", {"value": a})
    writer.put_json("slices/x/b.json", {"value": b})
    writer.publish(inputs={})
    return writer.release_id


def pair_value(body: bytes) -> int:
    return json.loads(body)["value"]

