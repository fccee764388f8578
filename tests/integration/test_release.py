"""The release protocol on moto: publish, fail midway, prune, roll back."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from streamlens.layout import STREAMING_QUERIES, slice_object_name
from streamlens.release import (
    ReleaseNotFound,
    ReleaseWriter,
    list_releases,
    new_release_id,
    prune_releases,
    read_manifest,
    rollback,
)

FAST = EtlOptions(train=False)


def _etl(folder, settings, store):
    return run_etl(DataSource(str(folder)), store, settings, FAST, Progress())


def test_no_release_yet_is_a_clear_error(s3_env):
    settings, store = s3_env
    with pytest.raises(ReleaseNotFound, match="run the ETL"):
        read_manifest(store, settings)


def test_published_release_lists_every_object_with_its_size(s3_env, sample_data_dir):
    settings, store = s3_env
    summary = _etl(sample_data_dir, settings, store)
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == summary["release_id"]
    for name in ["data/titles.parquet", "data/scores.parquet", "data/ratings.parquet", "reports/quality.json",
                 "reports/rejects_catalogs.csv", "reports/rejects_ratings.csv",
                 *(slice_object_name(q) for q in STREAMING_QUERIES)]:
        entry = manifest["objects"][name]
        assert entry["key"].startswith(f"releases/{manifest['release_id']}/")
        assert len(store.get(entry["key"])) == entry["size"]
    assert set(manifest["inputs"]) >= {"streaming/netflix_titles.csv", "streaming/ratings/ratings_0001.csv"}
    assert all(len(v["sha256"]) == 64 for v in manifest["inputs"].values())
    sizes = [manifest["objects"][slice_object_name(q)]["size"] for q in STREAMING_QUERIES]
    assert max(sizes) < 200_000, "a query slice must stay small"
    assert manifest["counts"]["catalog_rejects"] > 0 and manifest["ratings"]["origin"] == "files"


def test_a_run_that_fails_midway_leaves_the_previous_release_live(s3_env, sample_data_dir, monkeypatch):
    settings, store = s3_env
    first = _etl(sample_data_dir, settings, store)["release_id"]
    live_before = store.get(settings.manifest_key)

    calls = {"n": 0}
    real_put = store.put

    def flaky_put(key, body, content_type="application/octet-stream"):
        calls["n"] += 1
        if calls["n"] == 4:
            raise ConnectionError("simulated S3 failure in the middle of a release")
        return real_put(key, body, content_type)

    monkeypatch.setattr(store, "put", flaky_put)
    with pytest.raises(ConnectionError):
        _etl(sample_data_dir, settings, store)
    assert store.get(settings.manifest_key) == live_before
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == first
    titles = pd.read_parquet(io.BytesIO(store.get(manifest["objects"]["data/titles.parquet"]["key"])))
    assert len(titles) == manifest["counts"]["titles"]
    status = {r["release_id"]: r["complete"] for r in list_releases(store, settings)}
    assert status.pop(first) is True and list(status.values()) == [False]


def _publish_one_a_day(store, settings, base: datetime, days: int) -> list[str]:
    """A complete release per day from `base` (each its own count-platform slice, the day); their ids."""
    ids = []
    for day in range(days):
        writer = ReleaseWriter(store, settings, release_id=new_release_id(base + timedelta(days=day)))
        writer.put_json("slices/get_count_platform/slice.json", {"answers": {"netflix": day}})
        writer.publish(inputs={})
        ids.append(writer.release_id)
    return ids


def test_prune_keeps_the_last_releases_and_rollback_restores_one(s3_env):
    settings, store = s3_env
    settings = dataclasses.replace(settings, keep_releases=2)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids = _publish_one_a_day(store, settings, base, 4)
    abandoned = ReleaseWriter(store, settings, release_id=new_release_id(base + timedelta(days=4)))
    abandoned.put("data/titles.parquet", b"partial")

    deleted = prune_releases(store, settings, now=base + timedelta(days=5))
    assert sorted(deleted) == sorted([*ids[:2], abandoned.release_id])
    assert [r["release_id"] for r in list_releases(store, settings)] == ids[2:]

    rollback(store, settings, ids[2])
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == ids[2]
    slice_key = manifest["objects"]["slices/get_count_platform/slice.json"]["key"]
    assert json.loads(store.get(slice_key)) == {"answers": {"netflix": 2}}
    with pytest.raises(ReleaseNotFound, match="complete releases"):
        rollback(store, settings, ids[0])


def test_prune_keeps_a_run_in_progress_and_a_live_release_older_than_the_keep_window(s3_env):
    """An incomplete release younger than the grace period is a run still writing; after a rollback the live
    release can be older than the newest `keep_releases`, and it is kept all the same."""
    from streamlens.release import INCOMPLETE_GRACE

    settings, store = s3_env
    settings = dataclasses.replace(settings, keep_releases=1)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids = _publish_one_a_day(store, settings, base, 3)
    rollback(store, settings, ids[0])
    started = base + timedelta(days=3)
    running = ReleaseWriter(store, settings, release_id=new_release_id(started))
    running.put("data/titles.parquet", b"being written")

    deleted = prune_releases(store, settings, now=started + INCOMPLETE_GRACE - timedelta(minutes=1))
    assert deleted == [ids[1]], "only the complete release that is neither live nor among the newest 1"
    remaining = {r["release_id"]: r["complete"] for r in list_releases(store, settings)}
    assert remaining == {ids[0]: True, ids[2]: True, running.release_id: False}
    later = started + INCOMPLETE_GRACE + timedelta(minutes=1)
    assert prune_releases(store, settings, now=later) == [running.release_id]


def test_release_ids_sort_by_time():
    early = new_release_id(datetime(2026, 1, 1, tzinfo=UTC))
    late = new_release_id(datetime(2026, 1, 2, tzinfo=UTC))
    assert early < late


def test_inputs_can_come_from_an_s3_prefix(s3_env, sample_data_dir):
    settings, store = s3_env
    for path in sorted(sample_data_dir.rglob("*.csv")):
        store.put(f"raw/drop-1/{path.relative_to(sample_data_dir).as_posix()}", path.read_bytes())
    source = DataSource(f"s3://{settings.bucket}/raw/drop-1")
    summary = run_etl(source, store, settings, FAST, Progress())
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == summary["release_id"] and manifest["ratings"]["origin"] == "files"
    local = run_etl(DataSource(str(sample_data_dir)), store, settings, FAST, Progress())
    assert local["counts"] == summary["counts"]
    assert read_manifest(store, settings)["inputs"] == manifest["inputs"], "same bytes, same checksums"
