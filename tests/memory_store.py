"""An in-memory stand-in for streamlens.storage.ObjectStore, for unit tests that need a bucket but not moto.

Same methods, same answers and the same exceptions as ObjectStore on S3 (tests/integration/
test_memory_store_contract.py runs one set of assertions against both). Two deliberate differences: the bucket
always exists (ensure_bucket does nothing), and the ETag changes on every write, even one of identical bytes
(S3's ETag of a single PUT is the body's MD5 alone), so that a test of a conditional write cannot pass by
rewriting the same bytes. `writes` records every successful write and delete, in order, for tests of
write order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from botocore.exceptions import ClientError

from streamlens.storage import ObjectInfo, ObjectNotFound, PreconditionFailed


@dataclass(frozen=True)
class Stored:
    body: bytes
    etag: str
    content_type: str


class MemoryStore:
    """A bucket as a dict: key -> Stored."""

    def __init__(self, bucket: str = "memory") -> None:
        self.bucket = bucket
        self.objects: dict[str, Stored] = {}
        self.writes: list[tuple[str, str]] = []       # ("put" | "delete", key), in order
        self._counter = 0

    @classmethod
    def holding(cls, objects: dict[str, bytes]) -> MemoryStore:
        """A bucket that already holds these objects, by key (what another job left in it, say)."""
        store = cls()
        for key, body in objects.items():
            store.put(key, body)
        return store

    def ensure_bucket(self) -> None:
        """The bucket always exists."""

    def _write(self, key: str, body: bytes, content_type: str) -> str:
        self._counter += 1
        etag = f'"{hashlib.md5(body).hexdigest()}-{self._counter}"'
        self.objects[key] = Stored(bytes(body), etag, content_type)
        self.writes.append(("put", key))
        return etag

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> int:
        self._write(key, body, content_type)
        return len(body)

    def put_if(self, key: str, body: bytes, *, absent: bool = False, etag: str | None = None,
               content_type: str = "application/json") -> str:
        """Written only if the key is absent (absent=True) or still has this ETag; as S3, If-Match on a missing
        key is a NoSuchKey ClientError, not a PreconditionFailed."""
        current = self.objects.get(key)
        if absent:
            if current is not None:
                raise PreconditionFailed(key)
        elif etag is None:
            raise ValueError("put_if needs absent=True or an etag")
        elif current is None:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}},
                              "PutObject")
        elif current.etag != etag:
            raise PreconditionFailed(key)
        return self._write(key, body, content_type)

    def get(self, key: str) -> bytes:
        return self.get_with_etag(key)[0]

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        try:
            stored = self.objects[key]
        except KeyError:
            raise ObjectNotFound(key) from None
        return stored.body, stored.etag

    def delete(self, key: str) -> None:
        if self.objects.pop(key, None) is not None:
            self.writes.append(("delete", key))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        for key in sorted(k for k in self.objects if k.startswith(prefix)):
            yield ObjectInfo(key, len(self.objects[key].body))

    def list_dirs(self, prefix: str) -> list[str]:
        """Immediate 'sub-folders' of prefix, as full prefixes ending in '/' (S3's CommonPrefixes)."""
        found = set()
        for key in self.objects:
            if key.startswith(prefix) and "/" in key[len(prefix):]:
                rest = key[len(prefix):]
                found.add(prefix + rest[:rest.index("/") + 1])
        return sorted(found)

    def delete_prefix(self, prefix: str) -> int:
        keys = [o.key for o in self.list(prefix)]
        for key in keys:
            self.delete(key)
        return len(keys)
