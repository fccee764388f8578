"""The release cache (streamlens/release_cache.py) on an in-memory bucket with an injected clock: the cold load,
the TTL, a new release swapped in whole, the warm copy kept on failure, 503 when nothing is held, the build
hook and the reads kept per release."""

from __future__ import annotations

import logging
import threading
import time

import anyio
import pytest

from streamlens.errors import Unavailable
from streamlens.release_cache import ReleaseCache
from streamlens.storage import COLD_LOAD, WARM_CHECK
from tests.helpers import pair_value, publish_pair
from tests.memory_store import MemoryStore


class CountingStore(MemoryStore):
    """Records every key read; `fail` makes reads raise, as S3 does when it is down."""

    def __init__(self) -> None:
        super().__init__("streamlens-secret-bucket")
        self.reads: list[str] = []
        self.fail: Exception | None = None

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        self.reads.append(key)
        if self.fail is not None:
            raise self.fail
        return super().get_with_etag(key)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(monkeypatch) -> CountingStore:
    """The one bucket every store the cache creates reads; `store.patience` records how each was made."""
    store = CountingStore()
    store.patience = []
    monkeypatch.setenv("STREAMLENS_PREFIX", "")
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "30")

    def from_settings(settings=None, patience=None):
        store.patience.append(patience)
        return store

    monkeypatch.setattr("streamlens.release_cache.ObjectStore.from_settings", from_settings)
    return store


def publish(store, a: int, b: int) -> str:
    from streamlens.config import get_settings

    return publish_pair(store, get_settings(), a, b)


OBJECTS = {"a": ("slices/x/a.json", pair_value), "b": ("slices/x/b.json", pair_value)}


def manifest_reads(store) -> int:
    return store.reads.count("manifest.json")


def object_reads(store) -> int:
    return sum(1 for key in store.reads if key.startswith("releases/"))


def test_nothing_is_read_or_created_until_first_use(store):
    publish(store, 1, 2)
    ReleaseCache(OBJECTS, clock=Clock())
    assert store.reads == [] and store.patience == []


def test_a_cold_load_reads_the_manifest_and_every_object_with_short_timeouts(store, caplog):
    release = publish(store, 1, 2)
    cache = ReleaseCache(OBJECTS, clock=Clock())
    with caplog.at_level(logging.INFO, logger="streamlens.release"):
        loaded = cache.current()
    assert [r.getMessage() for r in caplog.records] == [f"loaded release {release}"]
    assert (cache.get("a"), cache.get("b"), cache.release_id) == (1, 2, release)
    assert loaded.objects == {"a": 1, "b": 2} and loaded.built is None and loaded.kept == {}
    assert loaded.manifest["release_id"] == release and "slices/x/a.json" in loaded.manifest["objects"]
    assert store.reads == ["manifest.json", *(f"releases/{release}/slices/x/{n}.json" for n in "ab")]
    assert store.patience == [COLD_LOAD]


def test_the_manifest_is_read_again_only_once_the_ttl_has_passed(store):
    first = publish(store, 1, 10)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock)
    assert cache.get("a") == 1
    second = publish(store, 2, 20)
    clock.now += 29.999
    assert (cache.get("a"), cache.get("b"), cache.release_id) == (1, 10, first)
    assert manifest_reads(store) == 1
    clock.now = 130.0
    assert (cache.get("a"), cache.get("b"), cache.release_id) == (2, 20, second)
    assert manifest_reads(store) == 2
    assert store.patience == [COLD_LOAD, WARM_CHECK], "the check has its own store, made once"
    clock.now = 159.0
    cache.get("a")
    assert manifest_reads(store) == 2, "the TTL counts from the last check"


def test_the_ttl_counts_elapsed_time_whatever_the_clocks_origin(store):
    """A monotonic clock's reference point is undefined: its readings may be negative."""
    first = publish(store, 1, 10)
    clock = Clock()
    clock.now = -1000.0
    cache = ReleaseCache(OBJECTS, clock=clock)
    assert cache.release_id == first
    second = publish(store, 2, 20)
    clock.now = -975.0
    assert cache.release_id == first
    clock.now = -970.0
    assert cache.release_id == second


def test_requests_that_arrive_during_a_cold_load_wait_for_it_and_read_nothing_more(store, monkeypatch):
    """The check under the lock: a request that found nothing loaded, then waited for the lock, uses the
    release the first request loaded."""
    publish(store, 1, 10)
    cache = ReleaseCache(OBJECTS, clock=Clock())
    loading, go = threading.Event(), threading.Event()
    plain_get = CountingStore.get_with_etag

    def slow_get(self, key):
        loading.set()
        go.wait(5)
        return plain_get(self, key)

    monkeypatch.setattr(CountingStore, "get_with_etag", slow_get)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(cache.get("a"))) for _ in range(2)]
    threads[0].start()
    assert loading.wait(5)
    threads[1].start()
    time.sleep(0.2)            # the second request finds nothing loaded and waits for the lock
    go.set()
    for thread in threads:
        thread.join(5)
    assert answers == [1, 1] and manifest_reads(store) == 1


def test_the_same_release_is_not_read_again(store):
    publish(store, 1, 10)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock)
    before = cache.current()
    clock.now += 30
    assert cache.current() is before
    assert manifest_reads(store) == 2 and object_reads(store) == 2


def test_the_ttl_is_read_from_the_environment_once(store, monkeypatch):
    publish(store, 1, 10)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock)
    cache.get("a")
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "0")
    cache.get("a")
    assert manifest_reads(store) == 1
    cache.reset()
    cache.get("a")
    cache.get("a")
    assert manifest_reads(store) == 3, "after reset the TTL is read again (0: a check on every use)"


def test_a_new_release_swaps_every_object_together(store):
    publish(store, 1, 10)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock)
    old = cache.current()
    new_release = publish(store, 2, 20)
    clock.now += 30
    new = cache.current()
    assert (old.objects, new.objects, new.release_id) == ({"a": 1, "b": 10}, {"a": 2, "b": 20}, new_release)


def test_reset_forgets_the_release_and_the_stores(store):
    publish(store, 1, 10)
    cache = ReleaseCache(OBJECTS, clock=Clock())
    cache.get("a")
    publish(store, 3, 30)
    cache.reset()
    assert cache.get("a") == 3 and store.patience == [COLD_LOAD, COLD_LOAD]


@pytest.mark.parametrize("fault", ["corrupt object", "missing object", "manifest unreadable", "s3 down"])
def test_a_failed_refresh_keeps_the_warm_copy_and_waits_a_ttl_before_trying_again(store, fault, caplog):
    good = publish(store, 1, 10)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock)
    assert cache.get("a") == 1
    bad = publish(store, 2, 20)
    if fault == "corrupt object":
        store.put(f"releases/{bad}/slices/x/b.json", b"{not json")
    elif fault == "missing object":
        store.delete(f"releases/{bad}/slices/x/b.json")
    elif fault == "manifest unreadable":
        store.put("manifest.json", b"\x00garbage")
    else:
        store.fail = ConnectionError("s3.amazonaws.com unreachable")
    clock.now += 30
    with caplog.at_level(logging.WARNING, logger="streamlens.release"):
        assert (cache.get("a"), cache.get("b"), cache.release_id) == (1, 10, good)
    why = {"corrupt object": "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
           "missing object": f"'releases/{bad}/slices/x/b.json'",
           "manifest unreadable": "Expecting value: line 1 column 1 (char 0)",
           "s3 down": "s3.amazonaws.com unreachable"}[fault]
    assert [r.getMessage() for r in caplog.records] == [f"keeping release {good}: refresh failed: {why}"]
    reads = len(store.reads)
    clock.now += 29
    assert cache.get("a") == 1 and len(store.reads) == reads


def test_a_later_good_release_replaces_the_kept_one(store):
    publish(store, 1, 10)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock)
    cache.get("a")
    store.fail = ConnectionError("down")
    clock.now += 30
    assert cache.get("a") == 1
    store.fail = None
    third = publish(store, 3, 30)
    clock.now += 30
    assert (cache.get("a"), cache.release_id) == (3, third)


def test_nothing_published_is_a_503_that_says_to_run_the_etl(store):
    cache = ReleaseCache(OBJECTS, clock=Clock())
    with pytest.raises(Unavailable) as caught:
        cache.get("a")
    assert caught.value.status == 503
    assert caught.value.message == "no release has been published yet: run the ETL (python -m etl_job run)"
    publish(store, 5, 6)
    assert cache.get("a") == 5, "a cold cache tries again on the next request"


def test_an_unreadable_release_is_a_503_naming_only_the_kind_of_failure(store, caplog):
    store.fail = ConnectionError("could not reach https://streamlens-secret-bucket.s3.amazonaws.com")
    cache = ReleaseCache(OBJECTS, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="streamlens.release"), pytest.raises(Unavailable) as caught:
        cache.get("a")
    assert caught.value.message == ("the data release cannot be read (ConnectionError); run the ETL "
                                    "(python -m etl_job run) or roll back to a good release")
    assert "secret" not in caught.value.message
    assert [r.getMessage() for r in caplog.records] == [   # the log has the detail
        "the data release cannot be read: could not reach https://streamlens-secret-bucket.s3.amazonaws.com"]


def test_a_release_missing_an_object_is_a_503_naming_the_object(store):
    release = publish(store, 1, 2)
    cache = ReleaseCache({**OBJECTS, "c": ("slices/x/c.json", pair_value)}, clock=Clock())
    with pytest.raises(Unavailable, match=f"^release {release} has no object 'slices/x/c.json'"):
        cache.get("c")


def test_the_build_hook_runs_once_per_release_in_the_load(store):
    builds = []

    def build(objects: dict) -> int:
        builds.append(dict(objects))
        return objects["a"] * 100 + objects["b"]

    publish(store, 1, 2)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock, build=build)
    assert [cache.built(), cache.built(), cache.get("a")] == [102, 102, 1]
    clock.now += 30
    assert cache.built() == 102 and builds == [{"a": 1, "b": 2}]
    publish(store, 3, 4)
    clock.now += 30
    assert cache.built() == 304 and builds == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]


def test_a_failed_build_keeps_the_warm_release_and_is_a_503_when_cold(store):
    def build(objects: dict) -> int:
        if objects["a"] < 0:
            raise ValueError("arrays of the wrong shape")
        return objects["a"]

    good = publish(store, 1, 2)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock, build=build)
    assert cache.built() == 1
    publish(store, -1, 0)
    clock.now += 30
    assert (cache.built(), cache.get("a"), cache.release_id) == (1, 1, good)
    with pytest.raises(Unavailable, match=r"cannot be read \(ValueError\)"):
        ReleaseCache(OBJECTS, clock=clock, build=build).built()


def test_reads_on_demand_are_not_kept_by_default(store):
    release = publish(store, 1, 2)
    cache = ReleaseCache({}, clock=Clock())
    assert [pair_value(cache.read("slices/x/a.json")) for _ in range(2)] == [1, 1]
    assert store.reads.count(f"releases/{release}/slices/x/a.json") == 2
    assert cache.current().kept == {}


def test_reads_on_demand_keep_at_most_keep_reads_for_their_release(store):
    release = publish(store, 1, 2)
    clock = Clock()
    cache = ReleaseCache({}, clock=clock, keep_reads=2)
    key = f"releases/{release}/slices/x/"
    for name in ("a.json", "a.json", "b.json", "b.json", "a.json"):
        cache.read("slices/x/" + name)
    assert [store.reads.count(key + n) for n in ("a.json", "b.json")] == [1, 1]
    assert sorted(cache.current().kept) == ["slices/x/a.json", "slices/x/b.json"]
    publish(store, 7, 8)
    clock.now += 30
    assert pair_value(cache.read("slices/x/a.json")) == 7, "a new release: read again"
    assert sorted(cache.current().kept) == ["slices/x/a.json"]


def test_keep_reads_of_one_keeps_the_latest_read(store):
    release = publish(store, 1, 2)
    cache = ReleaseCache({}, clock=Clock(), keep_reads=1)
    assert pair_value(cache.read("slices/x/a.json")) == 1
    assert pair_value(cache.read("slices/x/b.json")) == 2
    assert cache.current().kept == {"slices/x/b.json": b'{"value":2}'}
    cache.read("slices/x/b.json")
    assert store.reads.count(f"releases/{release}/slices/x/b.json") == 1


def test_a_failed_read_on_demand_is_a_503_and_keeps_nothing(store, caplog):
    release = publish(store, 1, 2)
    cache = ReleaseCache({}, clock=Clock(), keep_reads=3)
    cache.current()
    with pytest.raises(Unavailable, match=r"^release .* has no object 'slices/x/none\.json'"):
        cache.read("slices/x/none.json")
    store.fail = TimeoutError("read timeout")
    with caplog.at_level(logging.WARNING, logger="streamlens.release"), \
            pytest.raises(Unavailable, match=r"cannot be read \(TimeoutError\)"):
        cache.read("slices/x/a.json")
    assert f"reading slices/x/a.json of release {release} failed: read timeout" in [
        r.getMessage() for r in caplog.records]
    assert cache.current().kept == {}


def test_the_async_methods_answer_like_the_sync_ones(store):
    release = publish(store, 1, 2)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock, build=lambda objects: objects["a"] + objects["b"], keep_reads=1)

    async def ask():
        return (await cache.get_async("a"), await cache.built_async(), (await cache.current_async()).release_id,
                await cache.read_async("slices/x/b.json"), await cache.read_async("slices/x/b.json"))

    assert anyio.run(ask) == (1, 3, release, b'{"value":2}', b'{"value":2}')
    assert store.reads.count(f"releases/{release}/slices/x/b.json") == 2, "the load's, then one read kept"
    assert manifest_reads(store) == 1
    publish(store, 5, 6)
    clock.now += 30
    assert anyio.run(ask)[:3] == (5, 11, cache.release_id)


def test_a_warm_async_answer_needs_no_worker_thread(store, monkeypatch):
    publish(store, 1, 2)
    clock = Clock()
    cache = ReleaseCache(OBJECTS, clock=clock, keep_reads=1)
    cache.read("slices/x/a.json")

    async def no_thread(*args, **kwargs):
        raise AssertionError("S3 work on a warm, fresh copy")

    monkeypatch.setattr("streamlens.release_cache.anyio.to_thread.run_sync", no_thread)

    async def ask():
        return await cache.get_async("b"), await cache.read_async("slices/x/a.json")

    assert anyio.run(ask) == (2, b'{"value":1}')
    clock.now += 30
    with pytest.raises(AssertionError, match="S3 work"):
        anyio.run(ask)

