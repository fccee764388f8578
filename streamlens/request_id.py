"""Request-id logging: every log record carries the id of the request being served (`request_id`): the
Lambda request id, or the API Gateway one, or the caller's x-request-id header locally (a new one when it
sends none), which is returned as the x-request-id response header. Logs hold ids, paths and error types,
never query values, headers or bodies (tests/integration/test_logging.py)."""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str] = ContextVar("streamlens_request_id", default="-")
_plain_record = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    record = _plain_record(*args, **kwargs)
    record.request_id = REQUEST_ID.get()
    return record


logging.setLogRecordFactory(_record_with_request_id)


def invocation_request_id(event: Any, context: Any) -> str:
    """The id of a Lambda invocation: the Lambda request id, else API Gateway's, else a new one."""
    from_context = getattr(context, "aws_request_id", None)
    from_event = event.get("requestContext", {}).get("requestId") if isinstance(event, dict) and \
        isinstance(event.get("requestContext"), dict) else None
    return str(from_context or from_event or uuid.uuid4().hex)


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
