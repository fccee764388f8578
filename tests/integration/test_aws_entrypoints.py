"""The entry points only AWS calls: the ETL Lambda and the docs Lambda."""

from __future__ import annotations

import json

from etl_job.aws_handler import handler as etl_handler
from streamlens.combined_app import load_handler
from streamlens.release import read_manifest
from tests.helpers import v1_event


def test_etl_lambda_reads_raw_and_publishes(s3_env, sample_data_dir, monkeypatch):
    settings, store = s3_env
    for path in sorted(sample_data_dir.rglob("*.csv")):
        store.put(f"raw/{path.relative_to(sample_data_dir).as_posix()}", path.read_bytes())
    summary = etl_handler({"skip_training": True}, None)
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == summary["release_id"]
    assert "streaming/netflix_titles.csv" in manifest["inputs"] and manifest["ratings"]["origin"] == "files"


def test_docs_lambda_serves_the_whole_api_behind_the_stage_prefix(monkeypatch):
    monkeypatch.setenv("STREAMLENS_ROOT_PATH", "/prod")
    docs = load_handler("docs").handler
    spec = json.loads(docs(v1_event("/openapi.json", None), None)["body"])
    assert {"/max-duration", "/actor", "/recommend", "/users/{user_id}/recommendations"} <= set(spec["paths"])
    page = docs(v1_event("/docs", None), None)
    assert page["statusCode"] == 200 and "/prod/openapi.json" in page["body"]
