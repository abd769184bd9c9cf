"""The app as uvicorn workers build it: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from service.bootstrap import collect_garbage_in_bulk, create_app
from service.settings import Settings


def app_from_environment() -> FastAPI:
    """An app configured by `SITREP_*` variables (each worker process calls this)."""
    app = create_app(Settings())
    collect_garbage_in_bulk()
    return app
