"""The local run's snapshot (local_run/): a release is reused only when the inputs, the options and the code that
builds a release (etl_job and streamlens, the functions' kernel) are those it was built from; a change to any of
them builds a new release. The run is called in process (put_release on a moto bucket);
tests/e2e/test_local_run.py runs the command twice."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

import etl_job
import streamlens
from local_run import __main__ as local_main
from local_run.s3 import code_fingerprint

REUSED = "inputs unchanged: reusing"
PUBLISHED = "release published"


@pytest.fixture
def run(s3_env, sample_data_dir, tmp_path, monkeypatch, capsys):
    """run(*flags) -> what put_release printed to stderr, on a copy of the sample data, from a fresh folder."""
    settings, store = s3_env
    data = tmp_path / "data"
    shutil.copytree(sample_data_dir, data)
    monkeypatch.chdir(tmp_path)

    def put(*flags: str) -> str:
        args = local_main.build_parser().parse_args(["--data-dir", str(data), "--skip-training", *flags])
        capsys.readouterr()
        local_main.put_release(args, settings, store)
        return capsys.readouterr().err

    put.data = data
    return put


def rebuilt(stderr: str) -> bool:
    assert (REUSED in stderr) != (PUBLISHED in stderr), stderr[-2000:]
    return PUBLISHED in stderr


def test_unchanged_inputs_reuse_and_changed_options_or_inputs_rebuild(run):
    assert rebuilt(run())
    assert not rebuilt(run()), "nothing changed"
    assert rebuilt(run("--seed", "7")), "an option changed"
    assert not rebuilt(run("--seed", "7"))
    catalog = run.data / "streaming" / "netflix_titles.csv"
    with open(catalog, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["description"] += " Edited."
    with open(catalog, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert rebuilt(run("--seed", "7")), "a catalog CSV was edited"
    assert not rebuilt(run("--seed", "7"))


def test_changed_code_rebuilds(run, tmp_path, monkeypatch):
    """The snapshot names the code of etl_job and streamlens: an edited source file is other code."""
    assert rebuilt(run())
    copy = tmp_path / "code" / "etl_job"
    shutil.copytree(Path(etl_job.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(etl_job, "__file__", str(copy / "__init__.py"))
    assert not rebuilt(run()), "the same sources, copied elsewhere"
    with open(copy / "pipeline.py", "a", encoding="utf-8") as source:
        source.write("\n# edited\n")
    assert rebuilt(run()), "an ETL source file was edited"
    assert not rebuilt(run())


def test_the_code_fingerprint_covers_every_python_source(tmp_path):
    packages = []
    for package in (etl_job, streamlens):
        copy = tmp_path / Path(package.__file__).parent.name
        shutil.copytree(Path(package.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
        packages.append(copy)
    first = code_fingerprint(*packages)
    assert first == code_fingerprint(Path(etl_job.__file__).parent, Path(streamlens.__file__).parent)
    (packages[1] / "notes.txt").write_text("not code")
    assert code_fingerprint(*packages) == first, "only Python sources count"
    (packages[1] / "queries.py").write_text((packages[1] / "queries.py").read_text() + "\n")
    changed = code_fingerprint(*packages)
    assert changed != first, "a functions' kernel source edited"
    (packages[0] / "extra.py").write_text("")
    assert code_fingerprint(*packages) not in (first, changed), "a source file added"
    (packages[0] / "extra.py").rename(packages[0] / "renamed.py")
    assert code_fingerprint(*packages) not in (first, changed), "a source file renamed"
