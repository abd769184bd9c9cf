"""Whether the service and its store answer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from events.errors import StoreUnavailable
from service.deps import Parts
from service.present import JSONResponse
from service.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
def get_health(parts: Parts) -> Response:
    """200 when the store answers, 503 when it does not."""
    try:
        parts.store.ping()
    except StoreUnavailable:
        return JSONResponse({"status": "unavailable", "store": parts.store_name}, 503)
    return JSONResponse({"status": "ok", "store": parts.store_name})
