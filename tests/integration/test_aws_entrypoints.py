"""The entry points only AWS calls: the ETL's Fargate task (python -m etl_job task) and the docs Lambda."""

from __future__ import annotations

import json

from etl_job.__main__ import main as etl_main
from etl_job.aws_task import EVENT_VARIABLE
from streamlens.combined_app import load_handler
from streamlens.release import read_manifest
from tests.helpers import v1_event


def test_etl_task_reads_raw_and_publishes_with_the_options_of_its_event(s3_env, sample_data_dir, monkeypatch,
                                                                        capsys):
    settings, store = s3_env
    for path in sorted(sample_data_dir.rglob("*.csv")):
        store.put(f"raw/{path.relative_to(sample_data_dir).as_posix()}", path.read_bytes())
    monkeypatch.setenv(EVENT_VARIABLE, json.dumps({"skip_training": True, "trigger": "raw/READY"}))
    assert etl_main(["task"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.index("\n{\n") + 1:])
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == summary["release_id"] and summary["model"] == {"trained": False}
    assert "streaming/netflix_titles.csv" in manifest["inputs"] and manifest["ratings"]["origin"] == "files"


def test_etl_task_refuses_an_event_it_cannot_read_with_exit_code_2_and_publishes_nothing(s3_env, monkeypatch,
                                                                                         capsys):
    _settings, store = s3_env
    monkeypatch.setenv(EVENT_VARIABLE, '{"skip_training": "yes"}')
    assert etl_main(["task"]) == 2
    assert "skip_training must be true or false, not 'yes'" in capsys.readouterr().err
    assert list(store.list("")) == []


def test_docs_lambda_serves_the_whole_api_behind_the_stage_prefix(monkeypatch):
    monkeypatch.setenv("STREAMLENS_ROOT_PATH", "/prod")
    docs = load_handler("docs").handler
    spec = json.loads(docs(v1_event("/openapi.json", None), None)["body"])
    assert {"/max-duration", "/actor", "/recommend", "/users/{user_id}/recommendations"} <= set(spec["paths"])
    page = docs(v1_event("/docs", None), None)
    assert page["statusCode"] == 200 and "/prod/openapi.json" in page["body"]
