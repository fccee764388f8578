"""Versioned releases in S3 and the manifest that makes them live.

Layout under the configured prefix:

    releases/<release_id>/...             every object of one release
    releases/<release_id>/manifest.json   that release's manifest, written after its objects
    manifest.json                         the live manifest, written last of all

A single PUT is atomic in S3, so readers see either the old live manifest or
the new one, never a half-written release; a run that fails before the last
write leaves the previous release live. Rolling back is copying an older
release's manifest over the live one (`python -m etl_job rollback <id>`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .config import Settings
from .layout import MANIFEST
from .storage import DeleteFailed, ObjectNotFound, ObjectStore

MANIFEST_FORMAT = 1
log = logging.getLogger("streamlens.release")
INCOMPLETE_GRACE = timedelta(hours=6)


class ReleaseNotFound(LookupError):
    """No release is published yet, or the named one does not exist."""


def new_release_id(now: datetime | None = None) -> str:
    """Sortable by time (to the millisecond): 20261123T194233.512Z-3fa2c1."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%S')}.{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def release_time(release_id: str) -> datetime | None:
    try:
        return datetime.strptime(release_id.split("-")[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ReleaseWriter:
    """Collects one release's objects; `publish` makes it live."""

    store: ObjectStore
    settings: Settings
    release_id: str = field(default_factory=new_release_id)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"{self.settings.releases_prefix}{self.release_id}/"

    def put(self, name: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        key = self.prefix + name
        self.store.put(key, body, content_type)
        self.objects[name] = {"key": key, "size": len(body), "sha256": sha256(body), "content_type": content_type}
        return key

    def put_json(self, name: str, value: Any) -> str:
        return self.put(name, json.dumps(value, separators=(",", ":"), default=str).encode(), "application/json")

    def publish(self, inputs: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        manifest = {
            "format": MANIFEST_FORMAT,
            "release_id": self.release_id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "inputs": inputs,
            "objects": self.objects,
            **(extra or {}),
        }
        body = json.dumps(manifest, indent=1).encode()
        self.store.put(self.prefix + MANIFEST, body, "application/json")
        self.store.put(self.settings.manifest_key, body, "application/json")   # the switch: last write
        return manifest


def read_manifest(store: ObjectStore, settings: Settings) -> dict[str, Any]:
    """The live manifest; ReleaseNotFound when nothing is published yet."""
    try:
        return json.loads(store.get(settings.manifest_key))
    except ObjectNotFound as exc:
        raise ReleaseNotFound("no release has been published yet: run the ETL (python -m etl_job run)") from exc


def object_key(manifest: dict[str, Any], name: str) -> str:
    try:
        return manifest["objects"][name]["key"]
    except KeyError as exc:
        raise ReleaseNotFound(f"release {manifest.get('release_id')} has no object {name!r}: run the ETL "
                              "(python -m etl_job run; the recommender needs a run with training)") from exc


def list_releases(store: ObjectStore, settings: Settings) -> list[dict[str, Any]]:
    """Every release prefix, oldest first, with whether its manifest was written."""
    found = []
    for prefix in store.list_dirs(settings.releases_prefix):
        release_id = prefix[len(settings.releases_prefix):].rstrip("/")
        keys = {o.key for o in store.list(prefix)}
        found.append({"release_id": release_id, "complete": f"{prefix}{MANIFEST}" in keys,
                      "objects": len(keys)})
    return sorted(found, key=lambda r: r["release_id"])


def prune_releases(store: ObjectStore, settings: Settings, now: datetime | None = None) -> list[str]:
    """Keep the newest `keep_releases` complete releases and the live one; drop
    abandoned incomplete ones once they are older than a grace period. Returns the
    releases deleted; one that S3 refuses to delete is logged and kept for the next run."""
    now = now or datetime.now(UTC)
    try:
        live = read_manifest(store, settings)["release_id"]
    except ReleaseNotFound:
        live = None
    releases = list_releases(store, settings)
    complete = [r["release_id"] for r in releases if r["complete"]]
    keep = set(complete[-settings.keep_releases:]) | {live}
    doomed = [rid for rid in complete if rid not in keep]
    for release in releases:
        started = release_time(release["release_id"])
        if not release["complete"] and started and now - started > INCOMPLETE_GRACE:
            doomed.append(release["release_id"])
    pruned = []
    for rid in doomed:
        try:
            store.delete_prefix(f"{settings.releases_prefix}{rid}/")
        except DeleteFailed as exc:
            log.warning("release %s was not pruned: %s", rid, exc)
            continue
        pruned.append(rid)
    return pruned


def rollback(store: ObjectStore, settings: Settings, release_id: str) -> dict[str, Any]:
    """Make an older complete release live again by restoring its manifest."""
    try:
        body = store.get(f"{settings.releases_prefix}{release_id}/{MANIFEST}")
    except ObjectNotFound as exc:
        known = [r["release_id"] for r in list_releases(store, settings) if r["complete"]]
        raise ReleaseNotFound(f"no complete release {release_id!r}; "
                              f"complete releases: {', '.join(known) or 'none'}") from exc
    store.put(settings.manifest_key, body, "application/json")
    return json.loads(body)
