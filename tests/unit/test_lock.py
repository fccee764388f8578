"""The ETL's lock (etl_job/lock.py) on an in-memory bucket with an injected clock: taking it, refusing a second
run, taking over an expired lease once, releasing only our own lock, and the lease's renewal."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time

import pytest

from etl_job.lock import EtlLocked, _renew, etl_lock
from streamlens.config import Settings, get_settings
from streamlens.storage import ObjectNotFound, PreconditionFailed
from tests.memory_store import MemoryStore

KEY = "team/locks/etl.json"


@pytest.fixture
def settings(monkeypatch) -> Settings:
    monkeypatch.setenv("STREAMLENS_PREFIX", "team")
    monkeypatch.setenv("STREAMLENS_ETL_LOCK_SECONDS", "600")
    return get_settings()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def plant(store: MemoryStore, **holder) -> None:
    store.put(KEY, json.dumps(holder).encode())


def stored(store: MemoryStore) -> dict:
    return json.loads(store.get(KEY))


def test_a_free_lock_is_taken_with_who_holds_it_and_until_when_and_released_on_exit(store, settings):
    with etl_lock(store, settings, clock=lambda: 1000.0) as mine:
        assert stored(store) == mine
        assert len(mine["run"]) == 12 and int(mine["run"], 16) >= 0
        assert (mine["host"], mine["pid"]) == (socket.gethostname(), os.getpid())
        assert (mine["acquired"], mine["expires"]) == (1000.0, 1600.0)
        assert "lost" not in mine
    with pytest.raises(ObjectNotFound):
        store.get(KEY)


def test_each_run_has_its_own_id(store, settings):
    runs = set()
    for _ in range(3):
        with etl_lock(store, settings) as mine:
            runs.add(mine["run"])
    assert len(runs) == 3


def test_the_lock_is_released_when_the_run_fails(store, settings):
    with pytest.raises(RuntimeError, match="stage failed"), etl_lock(store, settings):
        raise RuntimeError("stage failed")
    with pytest.raises(ObjectNotFound):
        store.get(KEY)


def test_a_lock_held_by_a_live_run_refuses_with_the_holders_details(store, settings):
    plant(store, run="other", host="box", pid=42, acquired=1000, expires=4000)
    with pytest.raises(EtlLocked) as caught, etl_lock(store, settings, clock=lambda: 3999.0):
        pass
    assert str(caught.value) == (
        "another ETL run holds the lock team/locks/etl.json: run other on box (pid 42) since "
        "1970-01-01T00:16:40+00:00, until 1970-01-01T01:06:40+00:00. Wait for it to finish; if that run is known "
        "to be dead, delete the lock object or wait for it to expire.")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert stored(store)["run"] == "other", "the holder's lock is untouched"


def test_a_holder_without_its_times_reads_as_the_epoch(store, settings):
    plant(store, run="other", expires=4000)
    with pytest.raises(EtlLocked, match=r"run other on None \(pid None\) since 1970-01-01T00:00:00\+00:00, "
                                        r"until 1970-01-01T01:06:40\+00:00\."), \
            etl_lock(store, settings, clock=lambda: 10.0):
        pass


@pytest.mark.parametrize("expires", [4000, 3999.5])
def test_a_lock_expired_at_or_before_now_is_taken_over(store, settings, expires):
    plant(store, run="dead", host="gone", pid=1, acquired=0, expires=expires)
    with etl_lock(store, settings, clock=lambda: 4000.0) as mine:
        assert stored(store) == mine and mine["expires"] == 4600.0
    with pytest.raises(ObjectNotFound):
        store.get(KEY)


def test_a_lock_without_an_expiry_is_taken_over(store, settings):
    plant(store, run="ancient")
    with etl_lock(store, settings, clock=lambda: 5.0) as mine:
        assert stored(store)["run"] == mine["run"]


class StaleReads(MemoryStore):
    """Every run reads the lock as it was before any of them wrote: two runs that found the same stale lock."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: tuple[bytes, str] | None = None

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        if key == KEY and self.snapshot is not None:
            return self.snapshot
        return super().get_with_etag(key)


def test_of_two_runs_taking_over_the_same_expired_lock_exactly_one_wins(settings):
    store = StaleReads()
    plant(store, run="dead", host="h", pid=2, acquired=0, expires=1)
    store.snapshot = store.get_with_etag(KEY)
    with etl_lock(store, settings, clock=lambda: 100.0) as first:
        with pytest.raises(EtlLocked) as caught, etl_lock(store, settings, clock=lambda: 100.0):
            pass
        assert str(caught.value) == "another ETL run took over the expired lock team/locks/etl.json first"
        assert isinstance(caught.value.__cause__, PreconditionFailed)
        assert json.loads(store.objects[KEY].body)["run"] == first["run"]


class ReleasedInBetween(MemoryStore):
    """The lock exists when this run tries to create it and is gone when it reads it; `then` is written by
    another run right after that read, if given."""

    def __init__(self, then: bytes | None = None) -> None:
        super().__init__()
        self.then = then

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        if key == KEY and self.then is not False:
            self.delete(key)
            if self.then is not None:
                self.put(key, self.then)
            self.then = False
            raise ObjectNotFound(key)
        return super().get_with_etag(key)


def test_a_lock_released_between_the_write_and_the_read_is_taken_from_scratch(settings):
    store = ReleasedInBetween()
    plant(store, run="finishing", expires=4e9)
    with etl_lock(store, settings, clock=lambda: 100.0) as mine:
        assert stored(store) == mine


def test_a_lock_taken_by_another_run_in_that_moment_refuses(settings):
    other = json.dumps({"run": "quick", "expires": 4e9}).encode()
    store = ReleasedInBetween(then=other)
    plant(store, run="finishing", expires=4e9)
    with pytest.raises(EtlLocked) as caught, etl_lock(store, settings, clock=lambda: 100.0):
        pass
    assert str(caught.value) == "another ETL run took the lock team/locks/etl.json at the same moment"
    assert isinstance(caught.value.__cause__, PreconditionFailed)
    assert store.get(KEY) == other


def test_on_exit_a_lock_that_is_no_longer_ours_is_left_alone(store, settings):
    with etl_lock(store, settings):
        plant(store, run="newer", expires=4e9)
    assert stored(store)["run"] == "newer"


def test_on_exit_a_lock_already_gone_is_no_error(store, settings):
    with etl_lock(store, settings):
        store.delete(KEY)
    with pytest.raises(ObjectNotFound):
        store.get(KEY)


class Event:
    """A stand-in for threading.Event in _renew: records each wait and reports a stop after `waits` of them."""

    def __init__(self, waits: int) -> None:
        self.waits, self.timeouts = waits, []

    def wait(self, timeout: float) -> bool:
        self.timeouts.append(timeout)
        return len(self.timeouts) > self.waits


class Renewals(MemoryStore):
    """Counts conditional writes; the writes listed in `failing` (1-based) raise `error` instead."""

    def __init__(self, failing: tuple[int, ...] = (), error: Exception | None = None) -> None:
        super().__init__()
        self.calls, self.failing, self.error = 0, failing, error

    def put_if(self, key: str, body: bytes, **kwargs) -> str:
        self.calls += 1
        if self.calls in self.failing:
            raise self.error
        return super().put_if(key, body, **kwargs)


def test_renewal_pushes_the_expiry_every_third_of_the_lease_on_its_own_last_etag():
    store = Renewals()
    mine = {"run": "me", "acquired": 1.0, "expires": 91.0}
    etag = store.put_if(KEY, json.dumps(mine).encode(), absent=True)
    times = iter([500.0, 600.0, 700.0])
    stop = Event(waits=3)
    _renew(store, KEY, mine, etag, 90.0, stop, lambda: next(times))
    assert stop.timeouts == [30.0] * 4
    assert stored(store) == {"run": "me", "acquired": 1.0, "expires": 790.0}
    assert store.calls == 4 and "lost" not in mine


def test_renewal_that_finds_the_lock_taken_marks_the_run_lost_and_stops():
    store = Renewals()
    mine = {"run": "me", "expires": 10.0}
    etag = store.put_if(KEY, json.dumps(mine).encode(), absent=True)
    plant(store, run="thief", expires=4e9)
    stop = Event(waits=5)
    _renew(store, KEY, mine, etag, 3.0, stop, lambda: 20.0)
    assert mine["lost"] is True and len(stop.timeouts) == 1
    assert stored(store)["run"] == "thief"


def test_renewal_rides_out_a_failed_write_and_retries_with_the_same_etag():
    store = Renewals(failing=(2,), error=ConnectionError("S3 unreachable for a moment"))
    mine = {"run": "me", "expires": 10.0}
    etag = store.put_if(KEY, json.dumps(mine).encode(), absent=True)
    times = iter([20.0, 30.0])
    _renew(store, KEY, mine, etag, 3.0, Event(waits=2), lambda: next(times))
    assert "lost" not in mine and stored(store)["expires"] == 33.0


def test_renewal_that_is_stopped_at_once_writes_nothing():
    store = Renewals()
    _renew(store, KEY, {"run": "me"}, '"e"', 3.0, Event(waits=0), lambda: 0.0)
    assert store.calls == 0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_held_lock_is_renewed_in_the_background_and_the_renewer_stops_on_exit(store, settings):
    """A lease of 0.06 s, renewed every 0.02 s with the injected clock's time; never lost."""
    short = dataclasses.replace(settings, etl_lock_seconds=0.06)
    clock = Clock(1000.0)
    with etl_lock(store, short, clock=clock) as mine:
        assert stored(store)["expires"] == pytest.approx(1000.06)
        clock.now = 2000.0
        deadline = time.monotonic() + 10
        while stored(store)["expires"] != pytest.approx(2000.06):
            assert time.monotonic() < deadline, "no renewal within 10 s"
            time.sleep(0.01)
        assert stored(store)["run"] == mine["run"] and stored(store)["acquired"] == 1000.0
        assert mine["expires"] == pytest.approx(1000.06) and "lost" not in mine
    writes = len(store.writes)
    time.sleep(0.1)
    assert len(store.writes) == writes and store.writes[-1] == ("delete", KEY)
    assert not [t for t in threading.enumerate() if t.name == "etl-lock-lease"]


def test_a_lock_overtaken_while_held_is_marked_lost_and_left_to_the_new_holder(store, settings):
    short = dataclasses.replace(settings, etl_lock_seconds=0.06)
    with etl_lock(store, short) as mine:
        plant(store, run="thief", expires=4e9)
        deadline = time.monotonic() + 10
        while not mine.get("lost"):
            assert time.monotonic() < deadline, "the renewal did not notice within 10 s"
            time.sleep(0.01)
    assert stored(store)["run"] == "thief"
