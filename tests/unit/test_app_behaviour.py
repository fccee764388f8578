"""What every function's app does around its routes: CORS for the configured origin only, and an unexpected
exception answered as a JSON 500 with no traceback (the log has it)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.testclient import TestClient

from streamlens.api import create_app

WEB = "https://web.example.org"


def _app(monkeypatch) -> TestClient:
    monkeypatch.setenv("STREAMLENS_CORS_ORIGINS", WEB)
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("secret detail in /var/task/streamlens/queries.py line 42")

    @router.get("/ok")
    async def ok() -> dict:
        return {"ok": True}

    return TestClient(create_app([router], "test"), raise_server_exceptions=False)


def test_cors_answers_the_configured_origin_and_no_other(monkeypatch):
    client = _app(monkeypatch)
    assert client.get("/ok", headers={"Origin": WEB}).headers["access-control-allow-origin"] == WEB
    assert "access-control-allow-origin" not in client.get("/ok", headers={"Origin": "https://evil.example"}).headers
    preflight = client.options("/ok", headers={"Origin": WEB, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == WEB
    assert set(preflight.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {"GET", "POST"}
    refused = client.options("/ok", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


def test_an_unexpected_exception_is_a_json_500_without_a_traceback(monkeypatch, caplog):
    client = _app(monkeypatch)
    with caplog.at_level(logging.ERROR, logger="streamlens"):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": {"status": 500, "type": "internal_error",
                                         "message": "internal error; it has been logged"}}
    assert "Traceback" not in response.text and "secret detail" not in response.text
    assert any(r.exc_info and "secret detail" in str(r.exc_info[1]) for r in caplog.records), "the log has it"
