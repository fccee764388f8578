"""The function factory (streamlens.query_function) and the release layout (streamlens.layout): every route of
every function, called through its Lambda handler on a full release, reads from S3 only what layout.READS
grants that function (the table the stack's IAM grants are built from: tests/infra/test_infra.py checks they agree);
the unknown-parameter check lists exactly the parameters the OpenAPI document states; a refused request
reads nothing and is a 4xx even when no release can be read; a build runs once per release."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from botocore.client import BaseClient
from fastapi.testclient import TestClient

from streamlens import layout
from streamlens.combined_app import FUNCTIONS, FUNCTIONS_DIR, build_app, load_handler
from streamlens.lambda_entry import http_event
from streamlens.query_function import QueryFunction
from streamlens.recommend import Recommender
from streamlens.release import read_manifest
from tests.aws import moto_bucket

# One request per route at least, valid or not: what is checked is what serving it reads.
REQUESTS: dict[tuple[str, str], list[tuple[str, dict, dict | None]]] = {
    ("GET", "/max-duration"): [("/max-duration", {"platform": "n"}, None)],
    ("GET", "/score-count"): [("/score-count", {"platform": "n", "scored": 3, "year": 2020}, None)],
    ("GET", "/count-platform"): [("/count-platform", {"platform": "n"}, None)],
    ("GET", "/actor"): [("/actor", {"platform": "n"}, None)],
    ("GET", "/recommend"): [("/recommend", {"user_id": 1, "title_id": "ns1"}, None)],
    ("GET", "/users/{user_id}/recommendations"): [("/users/1/recommendations", {"n": 3}, None)],
    ("POST", "/recommendations"): [("/recommendations", {}, {"ratings": [{"title_id": "ns1", "rating": 5}]})],
    ("GET", "/movies/language"): [("/movies/language", {"idioma": "en"}, None)],
    ("GET", "/movies/duration"): [("/movies/duration", {"pelicula": "heart"}, None)],
    ("GET", "/movies/franchise"): [("/movies/franchise", {"franquicia": "x"}, None)],
    ("GET", "/movies/country"): [("/movies/country", {"pais": "France"}, None)],
    ("GET", "/movies/production-company"): [("/movies/production-company", {"productora": "Miramax"}, None)],
    ("GET", "/movies/director"): [("/movies/director", {"nombre_director": "x"}, None)],
    ("GET", "/movies/recommendation"): [("/movies/recommendation", {"titulo": "heart"}, None)],
    ("GET", "/similar"): [("/similar", {"title_id": "ns1"}, None)],
    ("GET", "/titles"): [("/titles", {"q": "love"}, None)],
    ("GET", "/titles/{title_id}"): [("/titles/ns1", {}, None)],
    ("GET", "/catalog"): [("/catalog", {}, None)],
    ("GET", "/reports"): [("/reports", {}, None)],
    ("GET", "/reports/{name}"): [],                 # every report the release lists (reports_requests)
    ("GET", "/openapi.json"): [("/openapi.json", {}, None)],
    ("GET", "/docs"): [("/docs", {}, None)],
}


@pytest.fixture(scope="module")
def release(full_release):
    with moto_bucket("query-function-test", STREAMLENS_MANIFEST_TTL_SECONDS="0") as (settings, store):
        full_release.copy_into(store)
        yield settings, store


@pytest.fixture
def s3_calls(monkeypatch) -> list[tuple[str, str]]:
    """Every S3 call made through botocore (whichever client makes it): (operation, key or prefix)."""
    calls: list[tuple[str, str]] = []
    plain = BaseClient._make_api_call

    def recorded(self, operation, params):
        if self.meta.service_model.service_name == "s3":
            calls.append((operation, params.get("Key") or params.get("Prefix") or ""))
        return plain(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    return calls


def routes_of(name: str) -> set[tuple[str, str]]:
    if name == "docs":                         # the docs function: the combined app's document and page
        return {("GET", "/openapi.json"), ("GET", "/docs")}
    return {(method, route.path) for route in load_handler(name).fn.router.routes for method in route.methods}


def reports_requests(store, settings) -> list[tuple[str, dict, None]]:
    manifest = read_manifest(store, settings)
    names = [n.removeprefix(layout.REPORTS_PREFIX) for n in manifest["objects"] if n.startswith(layout.REPORTS_PREFIX)]
    assert len(names) >= 4
    return [(f"/reports/{name}", {}, None) for name in names]


def test_the_table_names_every_function_and_only_them():
    folders = {p.parent.name for p in Path(FUNCTIONS_DIR).glob("*/handler.py")}
    assert set(layout.READS) == folders == {*FUNCTIONS, "docs"}
    for name in folders:
        assert load_handler(name).fn.name == name


def test_every_route_of_every_function_is_requested():
    assert {route for name in layout.READS for route in routes_of(name)} == set(REQUESTS)


@pytest.mark.parametrize("name", sorted(layout.READS))
def test_each_function_reads_only_what_its_grant_allows(release, s3_calls, name):
    settings, store = release
    handler = load_handler(name).handler                     # a cold function
    requests = [r for route in sorted(routes_of(name)) for r in REQUESTS[route]]
    if name == "reports":
        requests += reports_requests(store, settings)
    s3_calls.clear()
    for path, params, body in requests:
        response = handler(http_event(path, params, body), None)
        assert response["statusCode"] < 500, (path, response["body"][:300])
    grants = [settings.manifest_key, *(f"{settings.releases_prefix}*/{g}" for g in layout.READS[name])]
    for operation, key in s3_calls:
        assert operation == "GetObject", (name, operation, key)        # the grant is s3:GetObject only
        assert any(layout.grant_matches(grant, key) for grant in grants), (name, key, grants)
    read = {key.removeprefix(settings.releases_prefix).split("/", 1)[1] for _, key in s3_calls
            if key.startswith(settings.releases_prefix)}
    assert set(layout.loaded_objects(name)) <= read               # it did load its objects
    if name == "reports":
        assert len(read) == len(reports_requests(store, settings))
    if name == "docs":
        assert s3_calls == []


def test_grant_patterns_match_as_iam_does():
    assert layout.grant_matches("releases/*/reports/*", "releases/2026-x/reports/rejects_netflix.csv")
    assert layout.grant_matches("releases/*/slices/get_actor/slice.json", "releases/r1/slices/get_actor/slice.json")
    assert not layout.grant_matches("releases/*/slices/get_actor/slice.json", "releases/r1/slices/get_actor/x.json")
    assert not layout.grant_matches("releases/*/slices/get_actor/slice.json",
                                    "releases/r1/slices/get_actors/slice.json")
    assert not layout.grant_matches("manifest.json", "manifest.json.bak")
    assert layout.may_read("reports", "reports/model.html") and not layout.may_read("reports", "models/x.npz")
    assert layout.loaded_objects("reports") == () and layout.loaded_objects("recommender") == (
        layout.RECOMMENDER_MODEL, layout.RECOMMENDER_BUNDLE)


def test_the_etl_writes_every_object_a_function_loads(release):
    settings, store = release
    written = set(read_manifest(store, settings)["objects"])
    assert {o for name in layout.READS for o in layout.loaded_objects(name)} <= written
    assert all(any(layout.may_read(name, o) for name in layout.READS) or o.startswith(("data/", "models/"))
               for o in written), "a release object no function reads is a table or a model card"


def test_the_unknown_parameter_check_lists_what_the_document_states(release):
    """The check is derived from each endpoint's own signature; the OpenAPI document from the same signature."""
    app = build_app()
    http = TestClient(app)
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            documented = sorted(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
            url = path.replace("{user_id}", "1").replace("{title_id}", "ns1").replace("{name}", "model.html")
            response = http.request(method.upper(), url, params={"yaer": "2020"}, json={} if method == "post" else None)
            error = response.json()["error"]
            assert (response.status_code, error["parameter"], error["valid_values"]) == (400, "yaer", documented), path


REFUSED = [("get_actor", "/actor", {"platform": "xbox"}, None, 400),
           ("get_actor", "/actor", {"platform": "n", "year": "2020.0"}, None, 422),
           ("get_actor", "/actor", {"platform": "n", "yaer": "2020"}, None, 400),
           ("get_max_duration", "/max-duration", {"duration_type": "hours"}, None, 422),
           ("titles", "/titles", {"q": "love", "limit": "0"}, None, 422),
           ("titles", "/titles/ns1", {"q": "love"}, None, 400),
           ("recommender", "/users/1/recommendations", {"platform": "hbo"}, None, 400),
           ("recommender", "/users/x/recommendations", {}, None, 422),
           ("recommender", "/recommendations", {}, {"ratings": []}, 422),
           ("franquicia", "/movies/franchise", {}, None, 422),
           ("similar", "/similar", {"n": "99"}, None, 422)]


@pytest.mark.parametrize("name, path, params, body, status", REFUSED)
@pytest.mark.parametrize("published", [True, False], ids=["a live release", "no release"])
def test_a_refused_request_reads_nothing_and_is_a_4xx_even_with_no_release(release, s3_calls, monkeypatch, name,
                                                                           path, params, body, status, published):
    """The function's objects are asked for only once the request's own parameters are valid."""
    if not published:
        monkeypatch.setenv("STREAMLENS_PREFIX", "nothing-published-here")
    handler = load_handler(name).handler
    s3_calls.clear()
    response = handler(http_event(path, params, body), None)
    assert response["statusCode"] == status, response["body"]
    assert s3_calls == []
    valid = handler(http_event("/actor", {"platform": "n"}), None) if name == "get_actor" else None
    if valid is not None:
        assert valid["statusCode"] == (200 if published else 503)


def test_the_recommender_is_built_once_per_release(release, monkeypatch):
    settings, store = release
    builds = []
    plain = Recommender.from_bytes.__func__

    def counted(cls, model, bundle):
        builds.append(len(model))
        return plain(cls, model, bundle)

    monkeypatch.setattr(Recommender, "from_bytes", classmethod(counted))
    handler = load_handler("recommender").handler
    for _ in range(3):
        assert handler(http_event("/users/1/recommendations", {"n": 2}), None)["statusCode"] == 200
    assert len(builds) == 1
    manifest = read_manifest(store, settings)           # the same objects under a new release id
    store.put(settings.manifest_key, json.dumps({**manifest, "release_id": manifest["release_id"] + "-b"}).encode())
    try:
        assert handler(http_event("/users/1/recommendations", {"n": 2}), None)["statusCode"] == 200
        assert handler(http_event("/recommend", {"user_id": 1, "title_id": "ns1"}), None)["statusCode"] in (200, 404)
        assert len(builds) == 2
    finally:
        store.put(settings.manifest_key, json.dumps(manifest).encode())


def test_the_factory_refuses_what_it_cannot_serve():
    with pytest.raises(ValueError, match="READS"):
        QueryFunction("no_such_function")
    with pytest.raises(ValueError, match="build="):
        QueryFunction("recommender")                        # two objects: what to build of them?
    fn = QueryFunction("titles")

    @fn.get("/a", summary="a")
    async def a() -> dict:
        return {}

    @fn.get("/b", summary="b")
    async def b() -> dict:
        return {}

    with pytest.raises(TypeError, match=r"@fn\.direct"):
        _ = fn.handler                                        # two routes: where does a direct invocation go?
    assert fn.app.title == "streamlens: titles"
    with pytest.raises(RuntimeError, match="after the app"):
        fn.get("/c", summary="c")
    with pytest.raises(PermissionError, match="not granted"):
        anyio.run(fn.read, layout.RECOMMENDER_MODEL)
