"""The local run (local_run/, what `make run` runs): embedded S3, ETL, one app with every route; a second run
reuses the first. It lives outside the ETL, whose image carries no server."""

from __future__ import annotations

import ast
import csv
import importlib.util
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local_run.app import local_app
from streamlens.platforms import PLATFORMS
from streamlens.release import object_key, read_manifest
from tests.helpers import REPO, free_port, published_catalog_rows
from tests.reference import PLATFORM, is_movie, literal_names, max_duration, movie_count, norm, score_count, top_actors


def test_second_local_run_reuses_the_first_release(sample_data_dir, tmp_path):
    env = {**os.environ, "STREAMLENS_S3_ENDPOINT": f"http://127.0.0.1:{free_port()}",
           "STREAMLENS_DATA_DIR": str(sample_data_dir), "AWS_ACCESS_KEY_ID": "local",
           "AWS_SECRET_ACCESS_KEY": "local"}
    command = [sys.executable, "-m", "local_run", "--no-serve", "--skip-training"]
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "release published" in first.stderr
    assert re.search(r"^release \S+ published in \d+ s: [\d,]+ titles, [\d,]+ ratings", first.stderr, re.MULTILINE)
    assert [line for line in first.stdout.splitlines() if line.strip()] == \
        [line for line in first.stdout.splitlines() if line.startswith("data quality: catalogs ")], first.stdout
    second = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "inputs unchanged: reusing" in second.stderr and "release published" not in second.stderr


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _movie_rows(folder: Path) -> list[dict]:
    """The raw movies rows a query can surely read: a digit id seen once, a YYYY-mm-dd date, every nested value
    a literal, numbers that are numbers."""
    rows = _rows(folder / "movies_metadata.csv")
    ids = Counter(r["id"] for r in rows)
    nested = ("belongs_to_collection", "genres", "production_companies", "production_countries", "spoken_languages")

    def readable(row: dict) -> bool:
        try:
            [literal_names(row[c]) for c in nested if row[c] and row[c] != "[]"]
            [float(row[c] or 0) for c in ("budget", "revenue", "runtime")]
        except (ValueError, SyntaxError, KeyError, TypeError):
            return False
        return True

    return [r for r in rows if r["id"].isdigit() and ids[r["id"]] == 1 and r["title"].strip()
            and re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["release_date"]) and readable(r)]


def _mounted_routes() -> set[tuple[str, str]]:
    """(method, path) of every route of every functions/*/handler.py, each module imported on its own."""
    routes = set()
    for path in sorted((REPO / "functions").glob("*/handler.py")):
        spec = importlib.util.spec_from_file_location(f"mounted_{path.parent.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for route in getattr(module, "router", SimpleNamespace(routes=[])).routes:
            routes.update((method, route.path) for method in route.methods)
    return routes


def test_the_local_app_serves_every_function_route(s3_env, full_release, full_data_dir):
    """Every route of every function, called on the local app with values taken from the generated CSVs, and
    each answer checked against them; the routes called are those the handlers declare."""
    settings, store = s3_env
    full_release.copy_into(store)
    streaming = full_data_dir / "streaming"
    kept = published_catalog_rows({p.code: _rows(streaming / p.filename) for p in PLATFORMS})
    by_id = {code + r["show_id"].strip().lower(): r for code, rows in kept.items() for r in rows}
    ratings = [r for f in sorted((streaming / "ratings").glob("*.csv")) for r in _rows(f) if r["movieId"] in by_id]
    by_title = defaultdict(list)
    for r in ratings:
        by_title[r["movieId"]].append(float(r["rating"]))
    scores = {title: sum(values) / len(values) for title, values in by_title.items()}
    user = int(Counter(r["userId"] for r in ratings).most_common(1)[0][0])
    rated = {r["movieId"] for r in ratings if int(r["userId"]) == user}
    year = Counter(int(r["release_year"]) for r in kept["n"] if is_movie(r)).most_common(1)[0][0]
    title_id = next(i for i in sorted(by_id, key=lambda i: -len(by_title[i])) if i.startswith("n") and i not in rated)
    word = norm(by_id[title_id]["title"]).split()[0]
    movies = _movie_rows(full_data_dir / "movies")
    crew = {r["id"]: r["crew"] for r in _rows(full_data_dir / "movies" / "credits.csv")}
    movie = next(m for m in movies if m["belongs_to_collection"] and literal_names(m["production_companies"])
                 and literal_names(m["production_countries"]) and "Director" in literal_names(crew[m["id"]], "job")
                 and sum(norm(o["title"]) == norm(m["title"]) for o in movies) == 1)
    director = next(c["name"] for c in ast.literal_eval(crew[movie["id"]]) if c["job"] == "Director")
    collection = ast.literal_eval(movie["belongs_to_collection"])["name"]
    company, country = literal_names(movie["production_companies"])[0], literal_names(movie["production_countries"])[0]
    manifest = read_manifest(store, settings)

    client = TestClient(local_app())
    document = client.app.openapi()["paths"]
    called: set[tuple[str, str]] = set()

    def get(route: str, path: str | None = None, **params) -> Any:
        response = client.get(path or route, params=params)
        assert response.status_code == 200, (route, response.text)
        called.add(("GET", route))
        return response.json() if response.headers["content-type"].startswith("application/json") else response

    catalog = get("/catalog")
    assert {p["name"]: p["titles"] for p in catalog["platforms"]} == {PLATFORM[c]: len(r) for c, r in kept.items()}
    assert catalog["titles"] == len(by_id)
    found = get("/titles", q=word, limit=5)["items"]
    assert found and all(word in item["title"] and item["title"] == norm(by_id[item["id"]]["title"]) for item in found)
    details = get("/titles/{title_id}", f"/titles/{title_id}")
    assert (details["id"], details["title"], details["release_year"]) == (
        title_id, norm(by_id[title_id]["title"]), int(by_id[title_id]["release_year"]))
    assert details["rating_count"] == len(by_title[title_id])
    assert get("/count-platform", platform="n") == {"platform": "netflix", "count": movie_count(kept, "n")}
    longest = get("/max-duration", platform="n", year=year, duration_type="min")
    assert {k: longest[k] for k in ("title", "id", "duration_int")} == max_duration(kept, "n", year)
    actor = get("/actor", platform="n", year=year)
    assert {k: actor[k] for k in ("actor", "appearances", "ties")} == top_actors(kept, "n", year)
    scored = get("/score-count", platform="n", scored=3.5, year=year)
    assert scored["count"] == score_count(kept, scores, "n", year, 3.5)

    one = get("/recommend", user_id=user, title_id=title_id)
    assert (one["user_id"], one["title_id"], one["title"], one["already_rated"]) == (
        user, title_id, norm(by_id[title_id]["title"]), False)
    for_user = get("/users/{user_id}/recommendations", f"/users/{user}/recommendations", n=3)
    assert len(for_user["items"]) == 3 and not {i["title_id"] for i in for_user["items"]} & rated
    assert all(i["because_you_rated"]["title_id"] in rated for i in for_user["items"])
    posted = client.post("/recommendations", json={"ratings": [{"title_id": title_id, "rating": 5}]})
    called.add(("POST", "/recommendations"))
    assert posted.status_code == 200 and posted.json()["rated"] == 1
    assert {i["because_you_rated"]["title_id"] for i in posted.json()["items"]} == {title_id}
    assert title_id not in {i["title_id"] for i in posted.json()["items"]}
    alike = get("/similar", title_id=title_id, n=3)
    assert alike["source"]["id"] == title_id and len(alike["similar"]) == 3
    assert {s["id"] for s in alike["similar"]} <= set(by_id) - {title_id}

    same_language = sum(m["original_language"] == movie["original_language"] for m in movies)
    assert get("/movies/language", idioma=movie["original_language"])["count"] == same_language
    lengths = get("/movies/duration", pelicula=movie["title"])["movies"]
    assert [(m["id"], m["runtime"], m["release_year"]) for m in lengths] == [
        (int(movie["id"]), float(movie["runtime"]), int(movie["release_date"][:4]))]
    in_collection = [m for m in movies if m["belongs_to_collection"]
                     and ast.literal_eval(m["belongs_to_collection"])["name"] == collection]
    franchise = get("/movies/franchise", franquicia=collection)
    assert (franchise["name"], franchise["count"]) == (collection, len(in_collection))
    assert franchise["total_revenue"] == pytest.approx(sum(float(m["revenue"] or 0) for m in in_collection))
    produced = get("/movies/country", pais=country)
    assert (produced["name"], produced["count"]) == (
        country, sum(country in literal_names(m["production_countries"]) for m in movies))
    by_company = [m for m in movies if company in literal_names(m["production_companies"])]
    studio = get("/movies/production-company", productora=company)
    assert (studio["name"], studio["count"]) == (company, len(by_company))
    assert studio["revenue"] == pytest.approx(sum(float(m["revenue"] or 0) for m in by_company))
    directed = get("/movies/director", nombre_director=director)
    assert directed["name"] == director and movie["title"] in {m["title"] for m in directed["movies"]}
    suggested = get("/movies/recommendation", titulo=movie["title"], n=3)
    assert suggested["movie"]["id"] == movie["id"] and len(suggested["recommendations"]) == 3
    assert movie["id"] not in {s["id"] for s in suggested["similar"]}

    listed = get("/reports")
    assert listed["release_id"] == manifest["release_id"]
    assert {r["name"] for r in listed["reports"]} == {n.removeprefix("reports/") for n in manifest["objects"]
                                                     if n.startswith("reports/")}
    page = get("/reports/{name}", "/reports/model.html")
    assert page.content == store.get(object_key(manifest, "reports/model.html"))

    documented = {(method.upper(), path) for path, ops in document.items() for method in ops}
    assert called == documented == _mounted_routes(), "every route of every handler is mounted and called"
    assert client.get("/docs").status_code == 200


SERVER_MODULES = ("fastapi", "starlette", "uvicorn", "mangum", "moto", "local_run", "functions",
                  "streamlens.api", "streamlens.combined_app")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_the_etl_carries_no_server():
    """The ETL image copies etl_job and streamlens only, and no module of etl_job imports a server, the embedded
    S3 or the local run: the local server is local_run's, which the image does not copy."""
    for path in sorted((REPO / "etl_job").glob("*.py")):
        served = {n for n in _imports(path) if any(n == m or n.startswith(m + ".") for m in SERVER_MODULES)}
        assert not served, f"{path.name} imports {served}"
    dockerfile = (REPO / "infra" / "etl.Dockerfile").read_text()
    copied = re.findall(r"^COPY\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert copied == ["etl_job/requirements.txt", "streamlens", "etl_job"], copied
    requirements = (REPO / "etl_job" / "requirements.txt").read_text().lower()
    assert not re.search(r"^(fastapi|uvicorn|mangum|moto)\b", requirements, flags=re.MULTILINE)


def test_the_etl_command_line_has_no_local_command(capsys):
    from etl_job.__main__ import main

    with pytest.raises(SystemExit):
        main(["local"])
    assert "invalid choice: 'local'" in capsys.readouterr().err
