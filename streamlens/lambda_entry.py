"""The Lambda entry: API Gateway (REST v1, HTTP v2) events through Mangum, and direct invocations through
the same app.

A direct invocation (console test event, `aws lambda invoke`) carries just
the parameters, e.g. {"year": 2020, "platform": "n"}. Mangum rejects such
events, so they are turned into an HTTP API request to the function's route
(each value written into the query string as it is: 2020.0 stays "2020.0", a
422 like ?year=2020.0; a list or an object is a 400):
validation, errors and answers are then exactly those of the HTTP API, and the
JSON body is returned as the invocation's result (for a route that serves a
page or a file: its status, content type and body). Which route a direct
invocation goes to is the function's `DirectInvocation` mapping (one route:
direct_invocation_to(path)).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from mangum import Mangum

from .config import get_settings
from .errors import ApiError, BadParameter
from .request_id import REQUEST_ID, invocation_request_id

log = logging.getLogger("streamlens.api")
MAX_DIRECT_EVENT_BYTES = 65_536

# params of a direct invocation -> (path, query params) or (path, query params, JSON body)
DirectInvocation = Callable[[dict[str, Any]], tuple]


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


def lambda_handler(app: FastAPI, direct: DirectInvocation):
    """The Lambda entry point: API Gateway events go to `app` through Mangum; a direct invocation's
    parameters are mapped by direct(params) -> (path, query params), or (path, query params, JSON body) for a
    POST route, and answered as that HTTP API request."""
    asgi = Mangum(_with_root_path(app, get_settings().root_path), lifespan="off")

    def handler(event: Any, context: Any = None) -> dict[str, Any]:
        token = REQUEST_ID.set(invocation_request_id(event, context))
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
            path, query, *body = direct(params)
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


def direct_invocation_to(path: str) -> DirectInvocation:
    """The direct-invocation mapping of a function with one GET route: every key is a query parameter."""
    return lambda params: (path, params)
