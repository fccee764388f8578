"""One FastAPI app with every function's routes, built from the very routers
the Lambda handlers serve: the local run serves it, and the docs Lambda
publishes its OpenAPI document."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from fastapi import FastAPI

from .api import create_app

FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"
FUNCTIONS = ("get_max_duration", "get_score_count", "get_count_platform", "get_actor", "recommender",
             "peliculas_idioma", "peliculas_duracion", "franquicia", "peliculas_pais", "productoras_exitosas",
             "get_director", "recomendacion", "similar", "reports", "titles")


def load_handler(name: str, functions_dir: Path = FUNCTIONS_DIR) -> ModuleType:
    """Import functions/<name>/handler.py (each Lambda's code root holds one handler.py)."""
    module_name = f"streamlens_function_{name}"
    spec = importlib.util.spec_from_file_location(module_name, functions_dir / name / "handler.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {functions_dir / name / 'handler.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_app(functions_dir: Path = FUNCTIONS_DIR) -> FastAPI:
    routers = [load_handler(name, functions_dir).router for name in FUNCTIONS]
    return create_app(routers, "streamlens API",
                      "The streamlens routes. In AWS each route is its own Lambda; locally one server serves all.")
