"""The FastAPI app every function serves, and its error handling: errors are JSON bodies naming the
parameter and its valid values, never a traceback (streamlens.errors); the statuses each route documents;
the dependencies that refuse unknown, repeated or overlong parameters and overlong bodies; /docs (Swagger UI
from the app itself). A function's routes are declared with streamlens.query_function, which uses these; its
Lambda entry is streamlens.lambda_entry, its request-id logging streamlens.request_id.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
import logging
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .config import get_settings
from .errors import ApiError, BadParameter, NotFound, TooLarge
from .params import MAX_PARAMETER_CHARS
from .request_id import RequestIdMiddleware
from .schemas import ErrorBody

log = logging.getLogger("streamlens.api")
MAX_BODY_BYTES = 65_536          # a request body (POST /recommendations: 500 ratings take about 20 KB)


class NoSniffMiddleware:
    """Every response says X-Content-Type-Options: nosniff, so a browser never guesses a type (a JSON error
    echoing a parameter is never run as HTML). Plain ASGI, like RequestIdMiddleware."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_header(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, send_with_header)


# Every route rejects unknown parameters (400), validates types (422) and reads the release (503).
ALWAYS = (400, 422, 503)


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI entries for the error bodies a route can answer with (ALWAYS included)."""
    text = {400: "a parameter is invalid or unknown (the body names it and its valid values)",
            404: "nothing matches", 413: f"the request body is larger than {MAX_BODY_BYTES} bytes",
            422: "a parameter has the wrong type or is missing",
            503: "no data release is published yet, or it cannot be read"}
    return {s: {"description": text[s], "model": ErrorBody} for s in sorted(set(ALWAYS) | set(statuses))}


def _validation_body(exc: RequestValidationError) -> dict[str, Any]:
    problems = [{"parameter": str(e["loc"][-1]) if e.get("loc") else None, "message": e.get("msg")}
                for e in exc.errors()]
    first = problems[0] if problems else {"parameter": None, "message": "invalid request"}
    return {"error": {"status": 422, "type": "invalid_parameter", "parameter": first["parameter"],
                      "message": f"{first['parameter']}: {first['message']}", "problems": problems}}


# /docs is Swagger UI served by the app itself, from the files the pinned fastapi-offline package ships
# (requirements.txt; the functions' api layer): no script or style from a third-party CDN, so nothing that
# could change under the page. The files are served by /docs itself (?asset=...): API Gateway routes /docs to
# the docs function, so they need no route of their own.
SWAGGER_ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"}


@cache
def _swagger_file(name: str) -> bytes:
    return (importlib.resources.files("fastapi_offline") / "static" / name).read_bytes()


def _docs_page(app: FastAPI, root_path: str) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=f"{root_path}{app.openapi_url}", title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{root_path}/docs?asset=swagger-ui-bundle.js",
        swagger_css_url=f"{root_path}/docs?asset=swagger-ui.css",
        swagger_favicon_url="data:image/png;base64," + base64.b64encode(_swagger_file("favicon.png")).decode(),
        swagger_ui_parameters={"validatorUrl": None})        # no badge fetched from the online validator
    html = bytes(page.body).decode()
    inline = [hashlib.sha256(s.encode()).digest() for s in re.findall(r"<script>(.*?)</script>", html, re.S)]
    scripts = " ".join(f"'sha256-{base64.b64encode(h).decode()}'" for h in inline)
    # and the browser refuses anything else: scripts, styles and fetches from this origin only
    policy = (f"default-src 'none'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return HTMLResponse(html, headers={"content-security-policy": policy})


def _add_docs(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        asset = request.query_params.get("asset")
        if asset is None:
            return _docs_page(app, request.scope.get("root_path", ""))
        if asset not in SWAGGER_ASSETS:
            raise NotFound(f"no docs asset {asset!r}", parameter="asset", valid_values=sorted(SWAGGER_ASSETS))
        return Response(_swagger_file(asset), media_type=SWAGGER_ASSETS[asset],
                        headers={"cache-control": "public, max-age=86400"})


def create_app(routers: list[APIRouter], title: str, description: str = "") -> FastAPI:
    app = FastAPI(title=title, description=description, version="1.0", docs_url=None, redoc_url=None)
    _add_docs(app)
    for router in routers:
        app.include_router(router)

    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(NoSniffMiddleware)
    # the web interface is served from another origin when deployed (CloudFront), and only reads
    app.add_middleware(CORSMiddleware, allow_origins=list(get_settings().cors_origins), allow_methods=["GET", "POST"],
                       allow_headers=["accept", "content-type"])

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        return JSONResponse(_validation_body(exc), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def no_route(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            body = NotFound(f"no route {request.method} {request.url.path}; the routes are listed at /docs").body()
        else:
            body = {"error": {"status": exc.status_code, "type": "http_error", "message": str(exc.detail)}}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(ApiError("internal error; it has been logged").body(), status_code=500)

    return app


def reject_unknown(*allowed: str) -> Callable[[Request], Any]:
    """A dependency: a parameter the route does not know, or one given twice, is an error, not a silent
    default or a silent choice; no value may exceed MAX_PARAMETER_CHARS.

    Routes and dependencies are coroutines: their work takes microseconds, and a
    sync one would be dispatched to a worker thread that Mangum's per-invocation
    event loop starts afresh on every call. Only S3 work, when due, goes to a
    worker thread (ReleaseCache.*_async).
    """
    known = set(allowed)

    async def check(request: Request) -> None:
        items = request.query_params.multi_items()
        unknown = sorted({name for name, _ in items} - known)
        if unknown:
            raise BadParameter(unknown[0], f"unknown parameter {unknown[0]!r}", sorted(known))
        names = [name for name, _ in items]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise BadParameter(repeated[0], f"parameter {repeated[0]!r} is given more than once", "a single value")
        for name, value in [*items, *request.path_params.items()]:
            if len(str(value)) > MAX_PARAMETER_CHARS:
                raise BadParameter(name, f"{name} is longer than {MAX_PARAMETER_CHARS} characters",
                                   f"at most {MAX_PARAMETER_CHARS} characters")

    return check


async def limit_body(request: Request) -> None:
    """A dependency: a body over MAX_BODY_BYTES is refused before it is parsed."""
    declared = request.headers.get("content-length", "")
    if (declared.isdigit() and int(declared) > MAX_BODY_BYTES) or len(await request.body()) > MAX_BODY_BYTES:
        raise TooLarge(f"the request body is larger than {MAX_BODY_BYTES} bytes", parameter="body",
                       valid_values=f"at most {MAX_BODY_BYTES} bytes")
