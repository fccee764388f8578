"""What every function shares around its route: the FastAPI app with its error
handlers, and the Lambda handler that takes API Gateway (REST v1, HTTP v2)
events through Mangum and direct invocations through the same app.

A direct invocation (console test event, `aws lambda invoke`) carries just
the parameters, e.g. {"year": 2020, "platform": "n"}. Mangum rejects such
events, so they are turned into an HTTP API request to the function's route
(each value written into the query string as it is: 2020.0 stays "2020.0", a
422 like ?year=2020.0; a list or an object is a 400):
validation, errors and answers are then exactly those of the HTTP API, and the
JSON body is returned as the invocation's result (for a route that serves a
page or a file: its status, content type and body).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
import json
import logging
import re
import uuid
from contextvars import ContextVar
from functools import cache
from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from mangum import Mangum
from starlette.exceptions import HTTPException as StarletteHTTPException

from .config import get_settings
from .errors import ApiError, BadParameter, NotFound, TooLarge
from .params import MAX_PARAMETER_CHARS
from .schemas import ErrorBody

log = logging.getLogger("streamlens.api")
MAX_DIRECT_EVENT_BYTES = 65_536
MAX_BODY_BYTES = 65_536          # a request body (POST /recommendations: 500 ratings take about 20 KB)

# Every log record carries the id of the request being served (`request_id`): the Lambda request id, or
# the API Gateway one, or the caller's x-request-id header locally. Logs hold ids, paths and error
# types, never query values, headers or bodies (tested).
REQUEST_ID: ContextVar[str] = ContextVar("streamlens_request_id", default="-")
_plain_record = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    record = _plain_record(*args, **kwargs)
    record.request_id = REQUEST_ID.get()
    return record


logging.setLogRecordFactory(_record_with_request_id)


class RequestIdMiddleware:
    """Locally (no Lambda handler around the app): the caller's x-request-id, or a new one, for the
    request's logs; returned as the x-request-id response header. Plain ASGI: no per-request task."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = REQUEST_ID.get()
        if request_id == "-":
            given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
            request_id = given or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


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


def _request_id(event: Any, context: Any) -> str:
    from_context = getattr(context, "aws_request_id", None)
    from_event = event.get("requestContext", {}).get("requestId") if isinstance(event, dict) and \
        isinstance(event.get("requestContext"), dict) else None
    return str(from_context or from_event or uuid.uuid4().hex)


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
    html = page.body.decode()
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


def _is_http_event(event: Any) -> bool:
    return isinstance(event, dict) and ("httpMethod" in event or "requestContext" in event
                                        or "routeKey" in event)


def http_event(path: str, params: dict[str, Any], body: Any = None) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event: a GET, or a POST of `body` as JSON when one is given."""
    query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    method = "GET" if body is None else "POST"
    headers = {"host": "direct-invocation", "accept": "application/json"}
    if body is not None:
        headers["content-type"] = "application/json"
    event = {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "direct-invocation"},
                           "stage": "$default", "requestId": "direct"},
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = json.dumps(body)
    return event


def _with_root_path(app: FastAPI, root_path: str):
    """Behind an API Gateway stage (STREAMLENS_ROOT_PATH, e.g. "/prod") /docs must fetch
    /prod/openapi.json: the ASGI scope carries the prefix, the routes stay as they are."""
    if not root_path:
        return app

    async def asgi(scope, receive, send):
        await app({**scope, "root_path": root_path} if scope["type"] == "http" else scope, receive, send)

    return asgi


def make_handler(app: FastAPI, route: Callable[[dict[str, Any]], tuple]):
    """The Lambda entry point. route(params) -> (path, query params) for direct invocations, or
    (path, query params, JSON body) for a POST route."""
    asgi = Mangum(_with_root_path(app, get_settings().root_path), lifespan="off")

    def handler(event: Any, context: Any = None) -> dict[str, Any]:
        token = REQUEST_ID.set(_request_id(event, context))
        try:
            return answer(event, context)
        finally:
            REQUEST_ID.reset(token)

    def answer(event: Any, context: Any) -> dict[str, Any]:
        if _is_http_event(event):
            try:
                return asgi(event, context)
            except Exception as exc:  # an event Mangum cannot read: answer, never raise
                log.warning("unreadable API Gateway event: %s", exc)
                error = BadParameter("event", "not a readable API Gateway REST (v1) or HTTP API (v2) event",
                                     "an API Gateway proxy event, or a JSON object of parameters")
                return {"statusCode": error.status, "headers": {"content-type": "application/json"},
                        "body": json.dumps(error.body()), "isBase64Encoded": False}
        params = event if event is not None else {}
        if not isinstance(params, dict):
            return BadParameter("event", "a direct invocation takes a JSON object of parameters",
                                "an object such as {\"platform\": \"n\"}").body()
        if len(json.dumps(params, default=str)) > MAX_DIRECT_EVENT_BYTES:
            return BadParameter("event", "the event is too large", f"at most {MAX_DIRECT_EVENT_BYTES} bytes").body()
        if (bad := _not_text(params)) is not None:
            return BadParameter(bad, f"{bad} is not valid text (it holds a lone surrogate, which no UTF-8 "
                                     "request can carry)", "UTF-8 text").body()
        try:
            path, query, *body = route(params)
        except ApiError as exc:
            return exc.body()
        if (bad := next((k for k, v in query.items() if isinstance(v, (list, tuple, dict))), None)) is not None:
            return BadParameter(bad, f"{bad} is a list or an object; a parameter is a single string or number "
                                     "(a JSON number is read as written: 2020.0 is not an integer)",
                                "a single value").body()
        response = asgi(http_event(path, query, *body), context)
        content_type = {k.lower(): v for k, v in response.get("headers", {}).items()}.get("content-type", "")
        if content_type.startswith("application/json"):
            return json.loads(response["body"])
        return {"statusCode": response["statusCode"], "contentType": content_type, "body": response["body"],
                "isBase64Encoded": response.get("isBase64Encoded", False)}   # a page or a file, as is

    return handler


def _not_text(params: dict[str, Any]) -> str | None:
    """The first parameter whose value (or a string inside it) cannot be encoded as UTF-8, if any."""
    def bad(value: Any) -> bool:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
            return False
        if isinstance(value, dict):
            return any(bad(k) or bad(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return any(bad(v) for v in value)
        return False

    return next((str(k) if not bad(k) else "event" for k, v in params.items() if bad(k) or bad(v)), None)


def query_route(path: str) -> Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]:
    """Direct-invocation routing for a function with one route: every key is a query parameter."""
    return lambda params: (path, params)
