"""The ETL under faults: killed between any two writes, run twice at once, fed bad input files.
The live release must stay the previous complete one, and a rerun must finish the job."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import shutil
import threading

import pytest

from etl_job.catalog import InputError
from etl_job.lock import LOCK_NAME, EtlLocked, etl_lock
from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from streamlens.release import read_manifest, sha256
from streamlens.storage import ObjectNotFound, ObjectStore

FAST = EtlOptions(train=False)


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so no handler in the ETL can swallow it."""


def _etl(folder, settings, store):
    return run_etl(DataSource(str(folder)), store, settings, FAST, Progress())


def assert_live_release_is_complete(store, settings, release_id):
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == release_id
    for name, entry in manifest["objects"].items():
        assert sha256(store.get(entry["key"])) == entry["sha256"], name


@pytest.fixture
def published(s3_env, sample_data_dir):
    settings, store = s3_env
    first = _etl(sample_data_dir, settings, store)
    return settings, store, first


def test_killed_between_any_two_writes_leaves_the_previous_release_live(published, sample_data_dir, monkeypatch):
    settings, store, first = published
    writes = first["objects"] + 2            # every object, the release's manifest, the live manifest
    real_put = store.put
    for kill_at in range(1, writes + 1):
        count = {"n": 0}

        def dying_put(key, body, content_type="application/octet-stream", kill_at=kill_at, count=count):
            count["n"] += 1
            if count["n"] == kill_at:
                raise Killed(f"killed before write {kill_at}: {key}")
            return real_put(key, body, content_type)

        monkeypatch.setattr(store, "put", dying_put)
        with pytest.raises(Killed):
            _etl(sample_data_dir, settings, store)
        monkeypatch.setattr(store, "put", real_put)
        assert_live_release_is_complete(store, settings, first["release_id"])
        if kill_at < writes:
            with pytest.raises(ObjectNotFound):
                store.get(settings.prefix + LOCK_NAME)      # released on the way out (a crash: see the lease)
    rerun = _etl(sample_data_dir, settings, store)
    assert_live_release_is_complete(store, settings, rerun["release_id"])
    assert rerun["release_id"] != first["release_id"]


def test_a_second_run_while_one_holds_the_lock_fails_with_a_clear_message(published, sample_data_dir):
    settings, store, first = published
    with etl_lock(store, settings) as holder, \
            pytest.raises(EtlLocked, match=f"run {holder['run']}.*Wait for it to finish"):
        _etl(sample_data_dir, settings, store)
    assert_live_release_is_complete(store, settings, first["release_id"])
    assert _etl(sample_data_dir, settings, store)["release_id"] != first["release_id"], "free again afterwards"


def test_a_live_runs_lease_is_renewed_so_it_is_never_overtaken(s3_env):
    """A lease of 0.6 s, held for 2 s: without renewal a second run would take the lock over."""
    import time

    settings, store = s3_env
    short = dataclasses.replace(settings, etl_lock_seconds=0.6)
    with etl_lock(store, short) as holder:
        time.sleep(2.0)
        with pytest.raises(EtlLocked, match=f"run {holder['run']}"), etl_lock(store, short):
            pass
        assert not holder.get("lost")
        current = json.loads(store.get_with_etag(settings.prefix + LOCK_NAME)[0])
        assert current["run"] == holder["run"] and current["expires"] > holder["expires"]
    with pytest.raises(ObjectNotFound):
        store.get_with_etag(settings.prefix + LOCK_NAME)


def test_a_run_whose_lock_was_taken_over_does_not_publish(published, sample_data_dir, monkeypatch):
    from etl_job import pipeline
    from etl_job.lock import LockLost

    settings, store, first = published
    real = pipeline.etl_lock

    @contextlib.contextmanager
    def lost(store_, settings_):
        with real(store_, settings_) as mine:
            mine["lost"] = True        # what the renewer records when another run holds the lock
            yield mine

    monkeypatch.setattr(pipeline, "etl_lock", lost)
    with pytest.raises(LockLost, match="lost the ETL lock"):
        _etl(sample_data_dir, settings, store)
    assert_live_release_is_complete(store, settings, first["release_id"])


def test_two_runs_started_together_publish_once(s3_env, sample_data_dir):
    settings, store = s3_env
    outcomes: list = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            outcomes.append(_etl(sample_data_dir, settings, store)["release_id"])
        except EtlLocked as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    published = [o for o in outcomes if isinstance(o, str)]
    assert len(published) == 1 and isinstance(next(o for o in outcomes if not isinstance(o, str)), EtlLocked)
    assert_live_release_is_complete(store, settings, published[0])


def test_a_dead_runs_lock_is_taken_over_once_it_expires(published, sample_data_dir):
    settings, store, _first = published
    key = settings.prefix + LOCK_NAME
    store.put(key, json.dumps({"run": "dead", "host": "gone", "pid": 1, "acquired": 0, "expires": 1}).encode())
    second = _etl(sample_data_dir, settings, store)
    assert_live_release_is_complete(store, settings, second["release_id"])
    store.put(key, json.dumps({"run": "alive", "host": "h", "pid": 2, "acquired": 0, "expires": 4e9}).encode())
    with pytest.raises(EtlLocked, match="run alive on h"):
        _etl(sample_data_dir, settings, store)


def test_the_planted_locks_own_expiry_decides_when_it_can_be_taken_over(s3_env):
    """Before, this test set etl_lock_seconds, which a planted lock ignores: only its own expiry counts."""
    settings, store = s3_env
    key = settings.prefix + LOCK_NAME
    store.put(key, json.dumps({"run": "other", "host": "h", "pid": 2, "acquired": 1000, "expires": 1060}).encode())
    with pytest.raises(EtlLocked, match="run other on h"), etl_lock(store, settings, clock=lambda: 1059.0):
        pass
    with etl_lock(store, settings, clock=lambda: 1061.0) as mine:
        assert json.loads(store.get(key))["run"] == mine["run"]


def test_of_two_runs_taking_over_the_same_expired_lock_only_one_wins(s3_env, monkeypatch):
    """Both read the same stale lock; the If-Match write lets the first through and refuses the second."""
    settings, store = s3_env
    key = settings.prefix + LOCK_NAME
    store.put(key, json.dumps({"run": "dead", "host": "h", "pid": 2, "acquired": 0, "expires": 1}).encode())
    stale = store.get_with_etag(key)
    monkeypatch.setattr(store, "get_with_etag", lambda k: stale if k == key else ObjectStore.get_with_etag(store, k))
    with etl_lock(store, settings) as first:
        with pytest.raises(EtlLocked, match=r"took over the expired lock .* first"), etl_lock(store, settings):
            pass
        assert json.loads(ObjectStore.from_settings(settings).get(key))["run"] == first["run"]


def _copy(sample_data_dir, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(sample_data_dir, folder)
    return folder


def _cut_inside_a_row(path):
    """Cut the file 12 bytes into one of its last rows (inside its show_id and type, never inside quotes)."""
    data = path.read_bytes()
    path.write_bytes(data[:data.rfind(b"\ns", 0, len(data) - 2000) + 12])


@pytest.mark.parametrize("damage, expected", [
    (lambda f: (f / "streaming/netflix_titles.csv").write_bytes(          # truncated: most titles lost
        (f / "streaming/netflix_titles.csv").read_bytes()[:5000]), "netflix: 296 titles live, 26 in the new"),
    (lambda f: _cut_inside_a_row(f / "streaming/netflix_titles.csv"), "published"),   # truncated near its end
    (lambda f: (f / "streaming/hulu_titles.csv").write_text("id,name\n1,x\n"), "missing column"),
    (lambda f: (f / "streaming/disney_plus_titles.csv").write_bytes(b""), "empty"),
    (lambda f: (f / "streaming/amazon_prime_titles.csv").write_bytes(
        (f / "streaming/amazon_prime_titles.csv").read_text().encode("utf-16")), "wrong encoding"),
    (lambda f: (f / "streaming/ratings/ratings_0001.csv").write_text(
        "userId,rating,timestamp,movieId\n1,4.0,1600000000,zz999\n2,3.5,1600000000,zz998\n"), "names a title"),
    (lambda f: (f / "streaming/ratings/ratings_0001.csv").write_text("user,stars\n1,4\n"), "missing column"),
    (lambda f: [p.write_text("userId,rating,timestamp,movieId\n") for p in (f / "streaming/ratings").glob("*.csv")],
     "no valid ratings.*only a header"),
    (lambda f: [p.write_text("userId,rating,timestamp,movieId\n1,9.0,1600000000,ns1\n2,4,5,1600000000,ns2\n")
                for p in (f / "streaming/ratings").glob("*.csv")],
     "no valid ratings: 6 rows read.*wrong_field_count.*bad_rating"),
])
def test_bad_input_files_are_refused_or_quarantined_and_the_live_release_is_untouched(
        published, sample_data_dir, tmp_path, damage, expected):
    settings, store, first = published
    folder = _copy(sample_data_dir, tmp_path)
    damage(folder)
    if expected == "published":          # a truncated file loses its last rows: the cut row is rejected
        summary = _etl(folder, settings, store)
        report = json.loads(store.get(read_manifest(store, settings)["objects"]["reports/quality.json"]["key"]))
        live = first["counts"]["catalogs"]["netflix"]
        assert 0.8 * live <= report["catalogs"]["rows_out"]["netflix"] < live
        assert summary["release_id"] != first["release_id"]
        cut_id = (folder / "streaming/netflix_titles.csv").read_bytes().rsplit(b"\n", 1)[1].split(b",")[0].decode()
        rejects = store.get(read_manifest(store, settings)["objects"]["reports/rejects_catalogs.csv"]["key"])
        cut = [r for r in csv.DictReader(io.StringIO(rejects.decode())) if r["group"] == "netflix"
               and r["show_id"] == cut_id]
        assert len(cut) == 1 and cut[0]["reject_reason"], "the cut row is rejected, with its reasons"
        return
    with pytest.raises(InputError, match=expected):
        _etl(folder, settings, store)
    assert_live_release_is_complete(store, settings, first["release_id"])


def test_a_ratings_export_named_csv_in_capitals_is_read(published, sample_data_dir, tmp_path):
    settings, store, first = published
    folder = _copy(sample_data_dir, tmp_path)
    for path in (folder / "streaming/ratings").glob("*.csv"):
        path.rename(path.with_suffix(".CSV"))
    summary = _etl(folder, settings, store)
    assert read_manifest(store, settings)["ratings"]["origin"] == "files"
    assert summary["counts"]["ratings"] == first["counts"]["ratings"]


def test_garbage_rows_in_ratings_small_are_rejected_and_training_still_runs(s3_env, sample_data_dir, shared_data,
                                                                            tmp_path):
    """One garbage row in ratings_small.csv used to crash the reference training after two minutes."""
    import io

    from tests.helpers import SMALL_TRAINING

    settings, store = s3_env
    folder = tmp_path / "data"
    shutil.copytree(sample_data_dir, folder)
    (folder / "movies").mkdir()
    for name in ("movies_metadata.csv", "links.csv"):
        (folder / "movies" / name).symlink_to(shared_data / "movies" / name)
    lines = (shared_data / "movies" / "ratings_small.csv").read_text().splitlines()[:20_001]
    lines[500:500] = ["garbage,row,here,!", "7,31,11.0,1260759144", "8,31,4.0,1260759144,extra"]
    (folder / "movies" / "ratings_small.csv").write_text("\n".join(lines) + "\n")
    summary = run_etl(DataSource(str(folder)), store, settings, EtlOptions(train_config=SMALL_TRAINING),
                      Progress(io.StringIO()))
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] == summary["release_id"]
    quality = json.loads(store.get(manifest["objects"]["reports/quality.json"]["key"]))
    assert quality["ratings_small"]["rows_rejected"] == 3 and quality["ratings_small"]["rows_out"]["ratings"] == 20_000
    card = json.loads(store.get(manifest["objects"]["models/ratings_small/model_card.json"]["key"]))
    assert card["rows"] == 20_000 and card["ranking"]["evaluation"]["all"]["ranking_model"]["precision"] > 0
    assert "reports/rejects_ratings_small.csv" in manifest["objects"]
