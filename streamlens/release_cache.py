"""A function's warm copy of its own objects of the live release.

Nothing is read at import. The first request reads the manifest and the
function's objects; later requests reuse them, and at most every
`STREAMLENS_MANIFEST_TTL_SECONDS` the manifest is read again: a new release
id means the objects are reloaded and swapped in together. A function that
holds a good release keeps serving it when S3 or the new release fails (and
logs why); one that holds nothing answers 503.

Routes are coroutines and call the `*_async` methods: a warm copy is returned
at once, and any S3 work (a load, a manifest check, an on-demand read) runs in
a worker thread, so that a slow S3 call never blocks the event loop, which
the local server shares between all routes (in a Lambda, one request at a
time, it makes no difference).

A function that serves an object built from its objects (the recommender's
arrays into a Recommender) gives a `build` hook: it runs once per release, in
the load, so a build that fails is a load that fails. Objects read on demand
can be kept for the release (`keep_reads`: the reports function's files).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from .config import get_settings
from .errors import Unavailable
from .release import ReleaseNotFound, object_key, read_manifest
from .storage import COLD_LOAD, WARM_CHECK, ObjectStore

log = logging.getLogger("streamlens.release")

Parser = Callable[[bytes], Any]


@dataclass(frozen=True)
class Loaded:
    release_id: str
    objects: dict[str, Any]
    manifest: dict[str, Any]
    built: Any = None                       # build(objects), for a cache with a build hook
    kept: dict[str, bytes] = field(default_factory=dict, compare=False)   # on-demand reads kept (keep_reads)


class ReleaseCache:
    def __init__(self, objects: dict[str, tuple[str, Parser]], clock: Callable[[], float] = time.monotonic,
                 build: Callable[[dict[str, Any]], Any] | None = None, keep_reads: int = 0):
        """objects: local name -> (object name in the release, parser of its bytes); build: the parsed objects
        (by local name) -> the object served, once per release (built()); keep_reads: how many objects read on
        demand (read()) are kept for the release, the most recent."""
        self._objects = objects
        self._build = build
        self._keep_reads = keep_reads
        self._clock = clock
        self._store: ObjectStore | None = None
        self._check_store: ObjectStore | None = None
        self._loaded: Loaded | None = None
        self._checked_at = float("-inf")
        self._ttl: float | None = None          # read from the environment on first use
        self._lock = threading.Lock()

    def _store_now(self) -> ObjectStore:
        """For loads: short timeouts, two attempts, so that a cold function answers 503 in seconds."""
        if self._store is None:
            self._store = ObjectStore.from_settings(get_settings(), COLD_LOAD)
        return self._store

    def _check_store_now(self) -> ObjectStore:
        """For a warm function's manifest check: one attempt, a second at most, then the warm copy."""
        if self._check_store is None:
            self._check_store = ObjectStore.from_settings(get_settings(), WARM_CHECK)
        return self._check_store

    def reset(self) -> None:
        """Forget everything (tests, and a local run that starts a new embedded S3)."""
        with self._lock:
            self._store, self._check_store = None, None
            self._loaded, self._checked_at, self._ttl = None, float("-inf"), None

    def get(self, name: str) -> Any:
        return self.current().objects[name]

    def built(self) -> Any:
        """What the build hook made of the live release's objects."""
        return self.current().built

    @property
    def release_id(self) -> str:
        return self.current().release_id

    def read(self, name: str) -> bytes:
        """An object of the live release, read on demand: for objects a function serves rarely.
        A failed read is a 503 (never a 500), like a failed load."""
        loaded = self.current()
        if name in loaded.kept:
            return loaded.kept[name]
        try:
            body = self._store_now().get(object_key(loaded.manifest, name))
        except Exception as exc:  # any S3 failure
            log.warning("reading %s of release %s failed: %s", name, loaded.release_id, exc)
            raise self._unavailable(exc) from exc
        if self._keep_reads:
            if len(loaded.kept) >= self._keep_reads:
                loaded.kept.clear()
            loaded.kept[name] = body
        return body

    def _fresh(self) -> Loaded | None:
        """The warm copy when no S3 work is due (a read without the lock: a Loaded is never changed, but for
        the reads it keeps)."""
        loaded, ttl = self._loaded, self._ttl
        if loaded is not None and ttl is not None and self._clock() - self._checked_at < ttl:
            return loaded
        return None

    async def current_async(self) -> Loaded:
        """current() for a coroutine: S3 work in a worker thread."""
        loaded = self._fresh()
        return loaded if loaded is not None else await anyio.to_thread.run_sync(self.current)

    async def get_async(self, name: str) -> Any:
        return (await self.current_async()).objects[name]

    async def built_async(self) -> Any:
        return (await self.current_async()).built

    async def read_async(self, name: str) -> bytes:
        """read() for a coroutine: a kept copy at once, else S3 work in a worker thread."""
        loaded = self._fresh()
        if loaded is not None and name in loaded.kept:
            return loaded.kept[name]
        return await anyio.to_thread.run_sync(self.read, name)

    def current(self) -> Loaded:
        if self._ttl is None:
            self._ttl = get_settings().manifest_ttl_seconds
        ttl = self._ttl
        if self._loaded is None or self._clock() - self._checked_at >= ttl:
            with self._lock:
                if self._loaded is None or self._clock() - self._checked_at >= ttl:
                    self._refresh()
        assert self._loaded is not None     # _refresh loads a release or raises
        return self._loaded

    def _refresh(self) -> None:
        settings = get_settings()
        try:
            manifest = read_manifest(self._store_now() if self._loaded is None else self._check_store_now(), settings)
            if self._loaded is None or manifest["release_id"] != self._loaded.release_id:
                self._loaded = self._load(manifest)
        except Exception as exc:  # any S3, format or parse failure: fall back or 503
            if self._loaded is None:
                raise self._unavailable(exc) from exc
            log.warning("keeping release %s: refresh failed: %s", self._loaded.release_id, exc)
        self._checked_at = self._clock()

    def _load(self, manifest: dict) -> Loaded:
        store = self._store_now()
        objects = {name: parse(store.get(object_key(manifest, object_name)))
                   for name, (object_name, parse) in self._objects.items()}
        built = self._build(objects) if self._build is not None else None
        log.info("loaded release %s", manifest["release_id"])
        return Loaded(manifest["release_id"], objects, manifest, built)

    @staticmethod
    def _unavailable(exc: Exception) -> Unavailable:
        """The body names the kind of failure only: S3's messages carry the endpoint and the bucket name
        (in AWS the bucket name carries the account id). The log has the whole message."""
        if isinstance(exc, ReleaseNotFound):
            return Unavailable(str(exc))
        log.warning("the data release cannot be read: %s", exc)
        return Unavailable(f"the data release cannot be read ({type(exc).__name__}); "
                           "run the ETL (python -m etl_job run) or roll back to a good release")
