"""Local development only: one FastAPI app serving every function's routes,
built from the very routers the Lambda handlers serve."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from fastapi import FastAPI

from .api import create_app

FUNCTIONS_DIR = Path(__file__).resolve().parents[1]
FUNCTIONS = ("get_max_duration", "get_score_count", "get_count_platform", "get_actor", "recommender")


def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/handler.py (each Lambda's code root holds one handler.py)."""
    module_name = f"streamlens_function_{name}"
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS_DIR / name / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_app() -> FastAPI:
    routers = [load_handler(name).router for name in FUNCTIONS]
    return create_app(routers, "streamlens (local)",
                      "Every streamlens function on one local server; in AWS each route is its own Lambda.")
