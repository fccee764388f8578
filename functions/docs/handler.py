"""Lambda: GET /docs and /openapi.json, the whole API's OpenAPI document and its
Swagger UI. Its code root is functions/, so it assembles the same routers the
other functions serve; it reads no data."""

from pathlib import Path

from streamlens.combined_app import build_app
from streamlens.query_function import QueryFunction

fn = QueryFunction("docs", app=build_app(Path(__file__).resolve().parents[1]))


@fn.direct
def direct_invocation(params: dict) -> tuple[str, dict]:
    """Direct invocation: any event returns the OpenAPI document."""
    return "/openapi.json", {}


app, handler = fn.app, fn.handler
