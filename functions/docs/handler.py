"""Lambda: GET /docs and /openapi.json, the whole API's OpenAPI document and its
Swagger UI. Its code root is functions/, so it assembles the same routers the
other functions serve; it reads no data."""

from pathlib import Path

from streamlens.api import make_handler
from streamlens.combined_app import build_app

app = build_app(Path(__file__).resolve().parents[1])
handler = make_handler(app, lambda params: ("/openapi.json", {}))
