"""The local run (local_run/, what `make run` runs): embedded S3, ETL, one app with every route; a second run
reuses the first. It lives outside the ETL, whose image carries no server."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from streamlens.combined_app import FUNCTIONS, FUNCTIONS_DIR, build_app
from tests.helpers import REPO, free_port


def test_second_local_run_reuses_the_first_release(sample_data_dir, tmp_path):
    env = {**os.environ, "STREAMLENS_S3_ENDPOINT": f"http://127.0.0.1:{free_port()}",
           "STREAMLENS_DATA_DIR": str(sample_data_dir), "AWS_ACCESS_KEY_ID": "local",
           "AWS_SECRET_ACCESS_KEY": "local"}
    command = [sys.executable, "-m", "local_run", "--no-serve", "--skip-training"]
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "release published" in first.stderr
    second = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "inputs unchanged: reusing" in second.stderr and "release published" not in second.stderr


def test_the_local_app_serves_every_function_route(s3_env, sample_data_dir):
    from etl_job.pipeline import EtlOptions, run_etl
    from etl_job.progress import Progress
    from etl_job.sources import DataSource

    settings, store = s3_env
    run_etl(DataSource(str(sample_data_dir)), store, settings, EtlOptions(train=False), Progress())
    client = TestClient(build_app())
    paths = set(client.get("/openapi.json").json()["paths"])
    assert paths == {"/max-duration", "/score-count", "/count-platform", "/actor", "/recommend",
                     "/users/{user_id}/recommendations", "/movies/language", "/movies/duration", "/movies/franchise",
                     "/movies/country", "/movies/production-company", "/movies/director",
                     "/movies/recommendation", "/similar", "/reports", "/reports/{name}", "/titles",
                     "/titles/{title_id}", "/catalog", "/recommendations"}
    assert client.get("/count-platform", params={"platform": "n"}).json()["platform"] == "netflix"
    untrained = client.post("/recommendations", json={"ratings": [{"title_id": "ns1", "rating": 5}]})
    assert untrained.status_code == 503, "served, and the release (run without training) has no model"
    assert client.get("/docs").status_code == 200
    folders = {p.parent.name for p in FUNCTIONS_DIR.glob("*/handler.py")}
    assert set(FUNCTIONS) == folders - {"docs"}, "every function folder is served locally (docs serves /docs)"


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
