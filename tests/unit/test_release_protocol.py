"""The release protocol (streamlens/release.py) on an in-memory bucket: ids, the writer's publish order, the
live manifest, listing, pruning and rollback."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from streamlens.config import Settings, get_settings
from streamlens.release import (
    INCOMPLETE_GRACE,
    MANIFEST_FORMAT,
    ReleaseNotFound,
    ReleaseWriter,
    list_releases,
    new_release_id,
    object_key,
    prune_releases,
    read_manifest,
    release_time,
    rollback,
    sha256,
)
from streamlens.storage import DeleteFailed
from tests.memory_store import MemoryStore

BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def settings(monkeypatch) -> Settings:
    monkeypatch.setenv("STREAMLENS_PREFIX", "team")
    monkeypatch.setenv("STREAMLENS_KEEP_RELEASES", "2")
    return get_settings()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def test_a_release_id_is_the_time_to_the_millisecond_and_six_hex_digits():
    release_id = new_release_id(datetime(2026, 11, 23, 19, 42, 33, 512_999, tzinfo=UTC))
    assert re.fullmatch(r"20261123T194233\.512Z-[0-9a-f]{6}", release_id), release_id
    assert new_release_id(datetime(2026, 1, 2, 3, 4, 5, 7_000, tzinfo=UTC)).startswith("20260102T030405.007Z-")
    assert len({new_release_id(BASE) for _ in range(20)}) > 1, "the suffix is random"


@pytest.fixture
def local_time_zone(monkeypatch):
    """A machine whose local time is 5 hours ahead of UTC (ids must not depend on the host's zone)."""
    monkeypatch.setenv("TZ", "Etc/GMT-5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_release_id_without_a_time_is_now_in_utc(local_time_zone):
    before = datetime.now(UTC).replace(microsecond=0)
    release_id = new_release_id()
    after = datetime.now(UTC) + timedelta(milliseconds=1)
    assert before <= release_time(release_id) <= after


def test_release_time_reads_the_id_back_and_none_for_other_names():
    assert release_time("20261123T194233.512Z-3fa2c1") == datetime(2026, 11, 23, 19, 42, 33, 512_000, tzinfo=UTC)
    assert release_time("20261123T194233.512Z") == datetime(2026, 11, 23, 19, 42, 33, 512_000, tzinfo=UTC)
    for name in ("latest", "2026-11-23-abc", "", "20261123T194233Z-3fa2c1"):
        assert release_time(name) is None


def test_sha256_is_the_hex_digest():
    assert sha256(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_put_writes_under_the_release_prefix_and_records_size_checksum_and_type(store, settings):
    writer = ReleaseWriter(store, settings, release_id="20260101T000000.000Z-aaaaaa")
    assert writer.prefix == "team/releases/20260101T000000.000Z-aaaaaa/"
    key = writer.put("data/titles.parquet", b"PAR1", "application/x-parquet")
    assert key == "team/releases/20260101T000000.000Z-aaaaaa/data/titles.parquet"
    assert store.get(key) == b"PAR1" and store.objects[key].content_type == "application/x-parquet"
    checksum = hashlib.sha256(b"PAR1").hexdigest()
    assert writer.objects == {"data/titles.parquet": {"key": key, "size": 4, "sha256": checksum,
                                                      "content_type": "application/x-parquet"}}
    other = writer.put("raw.bin", b"\x00")
    assert store.objects[other].content_type == "application/octet-stream"


def test_put_json_is_compact_json_and_writes_dates_as_text(store, settings):
    writer = ReleaseWriter(store, settings)
    key = writer.put_json("slices/x/slice.json", {"answers": {"a": [1, 2]}, "day": date(2026, 3, 4)})
    assert store.get(key) == b'{"answers":{"a":[1,2]},"day":"2026-03-04"}'
    assert writer.objects["slices/x/slice.json"]["content_type"] == "application/json"


def test_publish_writes_the_objects_then_the_releases_manifest_then_the_live_one(store, settings):
    writer = ReleaseWriter(store, settings)
    writer.put("a.bin", b"a")
    writer.put_json("b.json", [1])
    started = datetime.now(UTC).replace(microsecond=0)
    manifest = writer.publish(inputs={"streaming/x.csv": {"sha256": "00"}}, extra={"counts": {"titles": 3}})
    own = f"team/releases/{writer.release_id}/manifest.json"
    assert store.writes == [("put", f"team/releases/{writer.release_id}/a.bin"),
                            ("put", f"team/releases/{writer.release_id}/b.json"),
                            ("put", own), ("put", "team/manifest.json")]
    assert store.get(own) == store.get("team/manifest.json")
    assert store.objects[own].content_type == "application/json"
    assert json.loads(store.get("team/manifest.json")) == manifest
    assert store.objects["team/manifest.json"].content_type == "application/json"
    assert manifest["format"] == MANIFEST_FORMAT == 1
    assert manifest["release_id"] == writer.release_id and manifest["objects"] == writer.objects
    assert manifest["inputs"] == {"streaming/x.csv": {"sha256": "00"}} and manifest["counts"] == {"titles": 3}
    created = datetime.fromisoformat(manifest["created"])
    assert created.utcoffset() == timedelta(0) and started <= created <= datetime.now(UTC)
    assert created.microsecond == 0


def test_publish_without_extra_has_exactly_the_protocols_fields(store, settings):
    manifest = ReleaseWriter(store, settings).publish(inputs={})
    assert sorted(manifest) == ["created", "format", "inputs", "objects", "release_id"]
    assert manifest["objects"] == {}


def test_read_manifest_before_any_release_names_the_fix(store, settings):
    with pytest.raises(ReleaseNotFound) as caught:
        read_manifest(store, settings)
    assert str(caught.value) == "no release has been published yet: run the ETL (python -m etl_job run)"


def test_read_manifest_reads_the_live_manifest_and_a_corrupt_one_is_not_release_not_found(store, settings):
    store.put("team/manifest.json", b'{"release_id": "r1", "objects": {}}')
    assert read_manifest(store, settings) == {"release_id": "r1", "objects": {}}
    store.put("team/manifest.json", b"{not json")
    with pytest.raises(json.JSONDecodeError):
        read_manifest(store, settings)


def test_object_key_names_the_release_and_the_missing_object():
    manifest = {"release_id": "r1", "objects": {"a.json": {"key": "releases/r1/a.json"}}}
    assert object_key(manifest, "a.json") == "releases/r1/a.json"
    with pytest.raises(ReleaseNotFound) as caught:
        object_key(manifest, "b.json")
    assert str(caught.value) == ("release r1 has no object 'b.json': run the ETL (python -m etl_job run; the "
                                 "recommender needs a run with training)")
    with pytest.raises(ReleaseNotFound, match=r"^release r2 has no object 'a\.json'"):
        object_key({"release_id": "r2"}, "a.json")
    with pytest.raises(ReleaseNotFound, match=r"^release None has no object"):
        object_key({}, "a.json")


def _release(store, settings, when: datetime, complete: bool = True, objects: int = 1) -> str:
    writer = ReleaseWriter(store, settings, release_id=new_release_id(when))
    for n in range(objects):
        writer.put(f"data/{n}.bin", b"x")
    if complete:
        writer.publish(inputs={})
    return writer.release_id


def test_list_releases_oldest_first_with_completeness_and_object_counts(store, settings):
    late = _release(store, settings, BASE + timedelta(days=2), objects=2)
    partial = _release(store, settings, BASE + timedelta(days=3), complete=False, objects=3)
    early = _release(store, settings, BASE, objects=1)
    store.put("team/releases/loose-file", b"not a release")
    store.put("other/releases/elsewhere/manifest.json", b"{}")
    assert list_releases(store, settings) == [
        {"release_id": early, "complete": True, "objects": 2},
        {"release_id": late, "complete": True, "objects": 3},
        {"release_id": partial, "complete": False, "objects": 3},
    ]


def test_list_releases_of_an_empty_bucket_is_empty(store, settings):
    assert list_releases(store, settings) == []


def test_prune_keeps_the_newest_complete_releases_and_deletes_every_object_of_the_others(store, settings):
    ids = [_release(store, settings, BASE + timedelta(days=d), objects=2) for d in range(4)]
    store.put("team/releases/x", b"beside the releases")
    deleted = prune_releases(store, settings, now=BASE + timedelta(days=5))
    assert deleted == ids[:2]
    assert [r["release_id"] for r in list_releases(store, settings)] == ids[2:]
    assert not any(k.startswith(f"team/releases/{rid}/") for rid in ids[:2] for k in store.objects)
    assert store.get("team/releases/x") == b"beside the releases"
    assert prune_releases(store, settings, now=BASE + timedelta(days=5)) == []


def test_prune_keeps_the_live_release_even_when_older_than_the_keep_window(store, settings):
    ids = [_release(store, settings, BASE + timedelta(days=d)) for d in range(4)]
    rollback(store, settings, ids[0])
    assert prune_releases(store, settings, now=BASE + timedelta(days=5)) == [ids[1]]
    assert [r["release_id"] for r in list_releases(store, settings)] == [ids[0], *ids[2:]]


def test_prune_without_a_live_manifest_still_keeps_the_window(store, settings):
    ids = [_release(store, settings, BASE + timedelta(days=d)) for d in range(3)]
    store.delete("team/manifest.json")
    assert prune_releases(store, settings, now=BASE + timedelta(days=5)) == [ids[0]]


def test_prune_keeps_an_incomplete_release_within_the_grace_and_deletes_it_after(store, settings):
    started = BASE + timedelta(days=1)
    complete = _release(store, settings, BASE)
    running = _release(store, settings, started, complete=False)
    for now in (started + timedelta(hours=1), started + INCOMPLETE_GRACE):
        assert prune_releases(store, settings, now=now) == []
    assert prune_releases(store, settings, now=started + INCOMPLETE_GRACE + timedelta(milliseconds=1)) == [running]
    assert [r["release_id"] for r in list_releases(store, settings)] == [complete]


def test_prune_lists_complete_releases_before_abandoned_ones_and_never_deletes_a_timeless_prefix(store, settings):
    settings = dataclasses.replace(settings, keep_releases=1)
    abandoned = _release(store, settings, BASE, complete=False)
    old, new = (_release(store, settings, BASE + timedelta(days=d)) for d in (1, 2))
    store.put("team/releases/manual-copy-X/data/a.bin", b"kept: no time in its name")
    assert prune_releases(store, settings, now=BASE + timedelta(days=3)) == [old, abandoned]
    assert [r["release_id"] for r in list_releases(store, settings)] == [new, "manual-copy-X"]


def test_prune_defaults_to_now(store, settings):
    recent = _release(store, settings, datetime.now(UTC) - timedelta(hours=1), complete=False)
    abandoned = _release(store, settings, datetime.now(UTC) - INCOMPLETE_GRACE - timedelta(hours=1), complete=False)
    assert prune_releases(store, settings) == [abandoned]
    assert [r["release_id"] for r in list_releases(store, settings)] == [recent]


def test_rollback_restores_an_older_manifest_byte_for_byte(store, settings):
    first = _release(store, settings, BASE)
    _release(store, settings, BASE + timedelta(days=1))
    own = store.get(f"team/releases/{first}/manifest.json")
    manifest = rollback(store, settings, first)
    assert store.get("team/manifest.json") == own and manifest == json.loads(own)
    assert manifest["release_id"] == first == read_manifest(store, settings)["release_id"]
    assert store.objects["team/manifest.json"].content_type == "application/json"


def test_rollback_to_an_unknown_or_incomplete_release_names_the_complete_ones(store, settings):
    with pytest.raises(ReleaseNotFound, match=r"^no complete release 'r9'; complete releases: none$"):
        rollback(store, settings, "r9")
    a = _release(store, settings, BASE)
    b = _release(store, settings, BASE + timedelta(days=1))
    partial = _release(store, settings, BASE + timedelta(days=2), complete=False)
    with pytest.raises(ReleaseNotFound, match=rf"^no complete release '{partial}'; complete releases: {a}, {b}$"):
        rollback(store, settings, partial)
    assert read_manifest(store, settings)["release_id"] == b


def test_a_release_s3_refuses_to_delete_is_not_reported_as_pruned(store, settings, monkeypatch, caplog):
    ids = [_release(store, settings, BASE + timedelta(days=d)) for d in range(4)]     # two beyond the keep window
    refused = f"team/releases/{ids[0]}/"
    real = store.delete_prefix

    def delete_prefix(prefix: str) -> int:
        if prefix == refused:
            raise DeleteFailed(f"could not delete 1 of 2 objects under {prefix}: x (AccessDenied: Access Denied)")
        return real(prefix)

    monkeypatch.setattr(store, "delete_prefix", delete_prefix)
    assert prune_releases(store, settings, now=BASE + timedelta(days=6)) == [ids[1]]
    assert [r["release_id"] for r in list_releases(store, settings)] == [ids[0], *ids[2:]]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"release {ids[0]} was not pruned: could not delete 1 of 2 objects under {refused}: x (AccessDenied: Access "
        "Denied)"]
