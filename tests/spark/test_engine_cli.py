"""`--engine` on the command line: pandas by default, spark when asked, and a clear refusal (exit code 2, what to
install, no traceback) where Spark cannot run."""

from __future__ import annotations

import pytest

from etl_job.__main__ import build_parser, etl_options, main
from etl_job.catalog import InputError
from etl_job.pipeline import EtlOptions, run_etl
from etl_job.sources import DataSource
from tests.memory_store import MemoryStore


def test_engine_flag_defaults_to_pandas():
    assert etl_options(build_parser().parse_args(["run"])).engine == "pandas"
    assert etl_options(build_parser().parse_args(["run", "--engine", "spark"])).engine == "spark"


def test_unknown_engine_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["run", "--engine", "dask"])
    assert stopped.value.code == 2
    assert "invalid choice: 'dask'" in capsys.readouterr().err


def test_missing_spark_exits_2_saying_what_to_install(monkeypatch, s3_env, sample_data_dir, capsys):
    import etl_job.spark.session as session

    monkeypatch.setattr(session.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert main(["run", "--engine", "spark", "--skip-training", "--data-dir", str(sample_data_dir)]) == 2
    err = capsys.readouterr().err
    assert "error: --engine spark: no Java runtime found" in err
    assert "openjdk-17-jre-headless" in err and "requirements-spark.txt" in err
    assert "Traceback" not in err
    _, store = s3_env
    assert not list(store.list(""))       # refused before the lock: nothing written


def test_run_etl_refuses_an_unknown_engine_before_writing(sample_data_dir):
    store = MemoryStore()
    with pytest.raises(InputError, match="unknown engine 'dask': choose one of pandas, spark"):
        run_etl(DataSource(str(sample_data_dir)), store, None, EtlOptions(engine="dask"))
    assert store.writes == []
