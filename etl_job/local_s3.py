"""The embedded S3 for local runs: moto in server mode on localhost."""

from __future__ import annotations

import socket
from urllib.parse import urlparse


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

    if endpoint_is_up(endpoint):
        return None
    url = urlparse(endpoint)
    server = ThreadedMotoServer(ip_address=url.hostname, port=url.port, verbose=False)
    server.start()
    return server
