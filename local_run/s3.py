"""The embedded S3 of the local run, moto in server mode on localhost, and the snapshot of the last local
release (saved to a folder, restored into a fresh embedded S3 when it was built from the same inputs)."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

from etl_job.catalog import InputError
from streamlens.config import LOCAL_S3_ENDPOINT


def endpoint_is_up(endpoint: str, timeout: float = 0.3) -> bool:
    url = urlparse(endpoint)
    try:
        with socket.create_connection((url.hostname, url.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def start_local_s3(endpoint: str):
    """Start moto's S3 server on the endpoint's port, unless one already listens there.

    Returns the server (call .stop()) or None when an existing one is reused.
    """
    from moto.server import ThreadedMotoServer

    url = urlparse(endpoint)
    if url.hostname is None or url.port is None:
        raise InputError(f"the embedded S3's endpoint must name a host and a port ({LOCAL_S3_ENDPOINT} does), "
                         f"not {endpoint!r}")
    if endpoint_is_up(endpoint):
        return None
    server = ThreadedMotoServer(ip_address=url.hostname, port=url.port, verbose=False)
    server.start()
    return server


def code_fingerprint(*packages: Path) -> str:
    """A hash of the ETL's and the functions' sources: a snapshot built by other code is not reused."""
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def save_snapshot(store, prefix: str, folder: Path, meta: dict) -> None:
    """Copy every object under prefix to folder, so the next local run can restore it."""
    shutil.rmtree(folder, ignore_errors=True)
    for info in store.list(prefix):
        target = folder / "objects" / info.key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(store.get(info.key))
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))


def restore_snapshot(store, folder: Path, meta: dict) -> bool:
    """Upload a saved snapshot into a fresh embedded S3 when it was built from the same inputs."""
    saved = folder / "meta.json"
    if not saved.exists() or json.loads(saved.read_text()) != json.loads(json.dumps(meta)):   # tuples: lists
        return False
    root = folder / "objects"
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        store.put(path.relative_to(root).as_posix(), path.read_bytes())
    return True
