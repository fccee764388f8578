"""The local server: every function's routes in one FastAPI app (streamlens.combined_app, built from the
handlers' own routers) and the web interface (web/) at /, served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


def local_app():
    """Every function's routes, and the web interface at / (mounted last: the routes match first)."""
    from fastapi.staticfiles import StaticFiles

    from streamlens.combined_app import build_app

    app = build_app()
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def serve(port: int, banner: str) -> None:
    """Serve on the port; the banner (where, what to try) is printed once the server listens."""
    import uvicorn

    class Announced(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                print(banner, file=sys.stderr, flush=True)

    Announced(uvicorn.Config(local_app(), host="127.0.0.1", port=port, log_level="warning")).run()
