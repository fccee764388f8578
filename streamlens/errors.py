"""Errors a request can meet, each with its HTTP status: the API turns them
into a JSON body, never a traceback."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 500
    kind = "internal_error"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"status": self.status, "type": self.kind, "message": self.message, **self.details}}


class BadParameter(ApiError):
    status = 400
    kind = "bad_parameter"

    def __init__(self, parameter: str, message: str, valid: Any = None):
        details = {"parameter": parameter}
        if valid is not None:
            details["valid_values"] = valid
        super().__init__(message, **details)


class NotFound(ApiError):
    status = 404
    kind = "not_found"


class TooLarge(ApiError):
    status = 413
    kind = "too_large"


class Unavailable(ApiError):
    status = 503
    kind = "unavailable"
