"""The ETL's command line: run, releases, rollback and their exit codes (0 done, 2 bad input or unknown
release, 3 locked), and a clear InputError for a data folder that is missing or incomplete."""

from __future__ import annotations

import json
import shutil

import pytest

from etl_job.__main__ import main
from etl_job.catalog import InputError
from etl_job.lock import etl_lock
from etl_job.sources import DataSource
from streamlens.release import read_manifest
from tests.helpers import free_port


@pytest.fixture
def cli(s3_env, monkeypatch):
    """The CLI against the moto bucket (it builds its store from the settings, as in a real run)."""
    settings, store = s3_env
    monkeypatch.setattr("etl_job.__main__.ObjectStore.from_settings", lambda s: store)
    return settings, store


def test_run_releases_and_rollback(cli, sample_data_dir, capsys):
    settings, store = cli
    for _ in range(2):
        assert main(["run", "--data-dir", str(sample_data_dir), "--skip-training"]) == 0
    first, second = sorted(json.loads(store.get(o.key))["release_id"]
                           for o in store.list(settings.releases_prefix) if o.key.endswith("/manifest.json"))
    assert read_manifest(store, settings)["release_id"] == second
    capsys.readouterr()
    assert main(["releases"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[first, "complete"], [second, "live"]]
    assert main(["rollback", first]) == 0
    assert f"release {first}" in capsys.readouterr().out
    assert read_manifest(store, settings)["release_id"] == first
    assert main(["rollback", "20990101T000000.000Z-000000"]) == 2
    assert "no complete release" in capsys.readouterr().err
    assert read_manifest(store, settings)["release_id"] == first


def test_run_exits_3_while_another_run_holds_the_lock(cli, sample_data_dir, capsys):
    settings, store = cli
    with etl_lock(store, settings):
        assert main(["run", "--data-dir", str(sample_data_dir), "--skip-training"]) == 3
    assert "holds the lock" in capsys.readouterr().err


def test_a_missing_folder_or_catalog_file_is_a_clear_input_error(cli, sample_data_dir, tmp_path, capsys):
    with pytest.raises(InputError, match="does not exist"):
        DataSource(str(tmp_path / "nowhere"))
    assert main(["run", "--data-dir", str(tmp_path / "nowhere"), "--skip-training"]) == 2
    assert "does not exist" in capsys.readouterr().err
    folder = tmp_path / "data"
    shutil.copytree(sample_data_dir, folder)
    (folder / "streaming" / "hulu_titles.csv").unlink()
    assert main(["run", "--data-dir", str(folder), "--skip-training"]) == 2
    assert "missing catalog file(s) hulu_titles.csv" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["releases"], ["rollback", "20260101T000000.000Z-abcdef"]])
def test_a_command_with_no_s3_to_reach_says_how_to_start_the_embedded_one(command, monkeypatch, capsys):
    monkeypatch.setenv("STREAMLENS_S3_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no S3 answers at http://127.0.0.1:") and "make run" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
