"""One ETL run at a time per bucket and prefix: a lock object taken with an S3 conditional write.

The lock is `locks/etl.json`, written only if absent (If-None-Match: *). A
second run finds it and stops with a message naming the holder. A run that
was killed cannot release it, so the lock is a lease: once it has expired
(STREAMLENS_ETL_LOCK_SECONDS, longer than the ETL Lambda's 15 minutes), the
next run replaces it, again conditionally (If-Match on the ETag it read), so
that of two runs finding the same stale lock only one takes it over.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from streamlens.config import Settings
from streamlens.storage import ObjectNotFound, ObjectStore, PreconditionFailed

LOCK_NAME = "locks/etl.json"


class EtlLocked(RuntimeError):
    """Another ETL run holds the lock."""


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def _holder_message(key: str, holder: dict) -> str:
    return (f"another ETL run holds the lock {key}: run {holder.get('run')} on {holder.get('host')} "
            f"(pid {holder.get('pid')}) since {_when(holder.get('acquired', 0))}, until "
            f"{_when(holder.get('expires', 0))}. Wait for it to finish; if that run is known to be dead, "
            "delete the lock object or wait for it to expire.")


@contextmanager
def etl_lock(store: ObjectStore, settings: Settings, clock: Callable[[], float] = time.time) -> Iterator[dict]:
    key = settings.prefix + LOCK_NAME
    now = clock()
    mine = {"run": uuid.uuid4().hex[:12], "host": socket.gethostname(), "pid": os.getpid(),
            "acquired": now, "expires": now + settings.etl_lock_seconds}
    body = json.dumps(mine).encode()
    try:
        store.put_if(key, body, absent=True)
    except PreconditionFailed:
        try:
            current, etag = store.get_with_etag(key)
        except ObjectNotFound:                    # released in between: try once more, from scratch
            current, etag = None, None
        if current is None:
            try:
                store.put_if(key, body, absent=True)
            except PreconditionFailed as exc:
                raise EtlLocked(f"another ETL run took the lock {key} at the same moment") from exc
        else:
            holder = json.loads(current)
            if holder.get("expires", 0) > now:
                raise EtlLocked(_holder_message(key, holder)) from None
            try:
                store.put_if(key, body, etag=etag)
            except PreconditionFailed as exc:
                raise EtlLocked(f"another ETL run took over the expired lock {key} first") from exc
    try:
        yield mine
    finally:
        try:
            current, _ = store.get_with_etag(key)
            if json.loads(current).get("run") == mine["run"]:
                store.delete(key)
        except ObjectNotFound:
            pass
