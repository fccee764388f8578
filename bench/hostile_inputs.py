"""Hostile and odd inputs on every route, and the answer each gets.

Run: python bench/hostile_inputs.py (writes docs/hostile_inputs.md). The same
matrix runs in tests/integration/test_hostile_inputs.py, which asserts no 5xx and a clear
JSON error naming the parameter. Every route of the OpenAPI document gets a
valid base request; each input changes one thing in it.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "docs" / "hostile_inputs.md"

VALID = {   # one valid request per route: the base each hostile input changes
    "/max-duration": {"platform": "n"}, "/score-count": {"platform": "n", "scored": 3, "year": 2020},
    "/count-platform": {"platform": "n"}, "/actor": {"platform": "n"},
    "/recommend": {"user_id": 1, "title_id": "ns1"}, "/users/{user_id}/recommendations": {"user_id": 1},
    "/movies/language": {"idioma": "en"}, "/movies/duration": {"pelicula": "heart"},
    "/movies/franchise": {"franquicia": "x"}, "/movies/country": {"pais": "France"},
    "/movies/production-company": {"productora": "Miramax"}, "/movies/director": {"nombre_director": "x"},
    "/movies/recommendation": {"titulo": "heart"}, "/similar": {"title_id": "ns1"}, "/reports": {},
    "/reports/{name}": {"name": "model.html"}, "/titles": {"q": "love"}, "/titles/{title_id}": {"title_id": "ns1"},
    "/catalog": {},
}
LONG = "x" * 10_000
STRING_INPUTS = [("empty string", ""), ("10,000 characters", LONG), ("unicode and accents", "Amélie ☃ 🎬 Ω"),
                 ("SQL-injection-looking", "' OR 1=1; DROP TABLE titles; --"),
                 ("HTML/script", "<script>alert(1)</script>"), ("path traversal", "../../etc/passwd"),
                 ("control characters", "a\x00b\x1bc")]
NUMBER_INPUTS = [("wrong type", "abc"), ("negative", "-1"), ("huge", "99999999999999999999999"),
                 ("a fraction", "2.5"), ("not a number", "NaN")]
YEAR_INPUTS = [("year too early", "1700"), ("year too late", "3000")]


def _parameters(app) -> dict[str, list[dict]]:
    """The GET routes' query parameters (POST /recommendations: its body is fuzzed by schemathesis and its
    errors are tested one by one in tests/integration/test_recommender.py)."""
    return {path: ops["get"].get("parameters", []) for path, ops in app.openapi()["paths"].items() if "get" in ops}


def _type(parameter: dict) -> str:
    schema = parameter["schema"]
    types = [s.get("type") for s in schema.get("anyOf", [schema])]
    return "number" if "integer" in types or "number" in types else "string"


def _url(path: str, params: dict) -> tuple[str, list[tuple[str, str]]]:
    params = dict(params)
    for name in [n for n in params if "{" + n + "}" in path]:
        path = path.replace("{" + name + "}", quote(str(params.pop(name)), safe=""))
    query = [(k, str(v)) for k, v in params.items()] if isinstance(params, dict) else params
    return path, query


def cases(app) -> list[tuple[str, str, str, list | dict]]:
    """(route, input described, parameter targeted or '', params as a list of pairs)."""
    out = []
    for route, parameters in _parameters(app).items():
        base = VALID[route]
        for parameter in parameters:
            name = parameter["name"]
            inputs = (NUMBER_INPUTS + (YEAR_INPUTS if name == "year" else [])) if _type(parameter) == "number" \
                else STRING_INPUTS
            for label, value in inputs:
                out.append((route, f"{name}: {label}", name, {**base, name: value}))
        pairs = [(k, str(v)) for k, v in base.items() if "{" + k + "}" not in route]
        if pairs:
            out.append((route, f"{pairs[0][0]}: repeated", "", {**base, "__repeat__": pairs[0]}))
        out.append((route, "unknown parameter (a typo: yaer)", "yaer", {**base, "yaer": "2020"}))
    return out


def ask(client, route: str, params: dict) -> tuple[int, str]:
    params = dict(params)
    repeat = params.pop("__repeat__", None)
    path, query = _url(route, params)
    if repeat:
        query.append(repeat)
    response = client.get(path, params=query)
    return response.status_code, response.text


def describe(status: int, text: str) -> str:
    try:
        body = json.loads(text)
        if "statusCode" in body:              # a Lambda proxy response (an event Mangum could not read)
            body = json.loads(body["body"])
        error = body.get("error")
    except (ValueError, AttributeError, TypeError):
        error = None
    if not error:
        return "answered"
    parameter = f" `{error['parameter']}`" if error.get("parameter") else ""
    return f"{error['type']}{parameter}"


def direct_cases() -> list[tuple[str, object]]:
    return [("direct invocation: a 20 KB event", {"platform": "n", "pad": "x" * 20_000}),
            ("direct invocation: a list, not an object", ["platform", "n"]),
            ("direct invocation: unknown key", {"platform": "n", "yaer": 2020}),
            ("direct invocation: an unreadable API Gateway event", {"requestContext": {"http": 1}, "rawPath": 5})]


def main() -> int:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.update({"STREAMLENS_BUCKET": "hostile-inputs", "STREAMLENS_S3_ENDPOINT": ""})
    import tempfile

    from fastapi.testclient import TestClient
    from moto import mock_aws

    from etl_job.__main__ import main as etl_main
    from etl_job.pipeline import EtlOptions, run_etl
    from etl_job.progress import Progress
    from etl_job.sources import DataSource
    from etl_job.training import TrainConfig
    from streamlens.combined_app import build_app, load_handler
    from streamlens.config import get_settings
    from streamlens.storage import ObjectStore

    with mock_aws(), tempfile.TemporaryDirectory() as tmp:
        etl_main(["sample", "--out", tmp, "--ratings", "20000", "--users", "400", "--movies", "300"])
        settings = get_settings()
        store = ObjectStore.from_settings(settings)
        store.ensure_bucket()
        small = TrainConfig(grid={"n_factors": [10], "n_epochs": [10], "lr_all": [0.01], "reg_all": [0.05]},
                            extra_candidates={}, cv=2, n_jobs=1, knn_sample=3_000)
        run_etl(DataSource(tmp), store, settings, EtlOptions(train_config=small), Progress(io.StringIO()))
        app = build_app()
        client = TestClient(app)
        rows = [(route, label, *ask(client, route, params)) for route, label, _, params in cases(app)]
        handler = load_handler("get_count_platform").handler
        direct = [(label, handler(event, None)) for label, event in direct_cases()]
    lines = ["# Hostile and odd inputs, and what each route answers", "",
             "Generated by `python bench/hostile_inputs.py` on a release of generated data; "
             "tests/integration/test_hostile_inputs.py runs the same matrix and fails on any 5xx or unclear error.", "",
             "| route | input | status | answer |", "|---|---|---:|---|"]
    lines += [f"| `{route}` | {label} | {status} | {describe(status, text)} |" for route, label, status, text in rows]
    lines += ["", "| direct invocation | answer |", "|---|---|"]
    lines += [f"| {label} | {describe(400, json.dumps(answer))} |" for label, answer in direct]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n")
    statuses = [status for *_, status, _ in rows]
    print(f"{len(rows)} requests: {sum(s < 400 for s in statuses)} answered, {sum(400 <= s < 500 for s in statuses)} "
          f"refused with 4xx, {sum(s >= 500 for s in statuses)} 5xx; wrote {OUTPUT.relative_to(REPO)}")
    return 0 if all(s < 500 for s in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
