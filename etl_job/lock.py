"""One ETL run at a time per bucket and prefix: a lock object taken with an S3 conditional write.

The lock is `locks/etl.json`, written only if absent (If-None-Match: *). A
second run finds it and stops with a message naming the holder. A run that
was killed cannot release it, so the lock is a lease: once it has expired
(STREAMLENS_ETL_LOCK_SECONDS, 20 minutes by default), the
next run replaces it, again conditionally (If-Match on the ETag it read), so
that of two runs finding the same stale lock only one takes it over. While a
run is alive a background thread renews its lease every third of it (again If-Match on
its own last ETag), so a run longer than the lease (the Fargate task may run 2 hours) is
never overtaken; if the renewal finds the lock taken, `lock["lost"]` is set and the run
stops before it publishes.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from streamlens.config import Settings
from streamlens.layout import ETL_LOCK
from streamlens.storage import ObjectNotFound, ObjectStore, PreconditionFailed

LOCK_NAME = ETL_LOCK


class EtlLocked(RuntimeError):
    """Another ETL run holds the lock."""


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _holder_message(key: str, holder: dict) -> str:
    return (f"another ETL run holds the lock {key}: run {holder.get('run')} on {holder.get('host')} "
            f"(pid {holder.get('pid')}) since {_when(holder.get('acquired', 0))}, until "
            f"{_when(holder.get('expires', 0))}. Wait for it to finish; if that run is known to be dead, "
            "delete the lock object or wait for it to expire.")


class LockLost(RuntimeError):
    """The lease could not be renewed: another run holds the lock now."""


def _renew(store: ObjectStore, key: str, mine: dict, etag: str, lease: float, stop: threading.Event,
           clock: Callable[[], float]) -> None:
    """Every third of the lease, push the expiry forward, conditionally on the ETag this run wrote last."""
    while not stop.wait(lease / 3):
        body = json.dumps({**mine, "expires": clock() + lease}).encode()
        try:
            etag = store.put_if(key, body, etag=etag)
        except PreconditionFailed:
            mine["lost"] = True
            return
        except Exception:   # S3 unavailable for a moment: the lease still has two thirds left
            continue


@contextmanager
def etl_lock(store: ObjectStore, settings: Settings, clock: Callable[[], float] = time.time) -> Iterator[dict]:
    key = settings.prefix + LOCK_NAME
    now = clock()
    mine = {"run": uuid.uuid4().hex[:12], "host": socket.gethostname(), "pid": os.getpid(),
            "acquired": now, "expires": now + settings.etl_lock_seconds}
    body = json.dumps(mine).encode()
    try:
        etag = store.put_if(key, body, absent=True)
    except PreconditionFailed:
        try:
            current, etag = store.get_with_etag(key)
        except ObjectNotFound:                    # released in between: try once more, from scratch
            current, etag = None, None
        if current is None:
            try:
                etag = store.put_if(key, body, absent=True)
            except PreconditionFailed as exc:
                raise EtlLocked(f"another ETL run took the lock {key} at the same moment") from exc
        else:
            holder = json.loads(current)
            if holder.get("expires", 0) > now:
                raise EtlLocked(_holder_message(key, holder)) from None
            try:
                etag = store.put_if(key, body, etag=etag)
            except PreconditionFailed as exc:
                raise EtlLocked(f"another ETL run took over the expired lock {key} first") from exc
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(store, key, mine, etag, settings.etl_lock_seconds, stop, clock),
                               name="etl-lock-lease", daemon=True)
    renewer.start()
    try:
        yield mine
    finally:
        stop.set()
        renewer.join()
        try:
            current, _ = store.get_with_etag(key)
            if json.loads(current).get("run") == mine["run"]:
                store.delete(key)
        except ObjectNotFound:
            pass
