"""Every error as application/problem+json (RFC 9457): the one status table."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from events.errors import (
    AlreadyRetracted,
    BatchRejected,
    IdConflict,
    InvalidEvent,
    NotFound,
    SitrepError,
    StoreUnavailable,
    VersionConflict,
)
from events.kinds import KINDS
from service.auth import Forbidden, Unauthenticated

MEDIA_TYPE = "application/problem+json"
_log = logging.getLogger("sitrep")

_STATUS: dict[type[SitrepError], tuple[int, str]] = {
    InvalidEvent: (422, "Invalid event"),
    NotFound: (404, "Not found"),
    VersionConflict: (409, "Version conflict"),
    IdConflict: (409, "Id conflict"),
    AlreadyRetracted: (409, "Already retracted"),
    Unauthenticated: (401, "Unauthenticated"),
    Forbidden: (403, "Forbidden"),
    StoreUnavailable: (503, "Store unavailable"),
}


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(orjson.dumps(body), status, headers=headers, media_type=MEDIA_TYPE)


def sitrep_problem(error: SitrepError, *, batch_index: int | None = None) -> Response:
    """The problem response for one of sitrep's own errors."""
    if isinstance(error, BatchRejected):
        return sitrep_problem(error.cause, batch_index=error.index)
    status, title = next(
        (entry for cls, entry in _STATUS.items() if isinstance(error, cls)), (500, "Error")
    )
    extra: dict[str, Any] = {}
    if isinstance(error, VersionConflict):
        extra["current_version"] = error.current
    if isinstance(error, AlreadyRetracted):
        extra["retracted_by"] = str(error.retracted_by)
    if isinstance(error, InvalidEvent) and error.loc[:1] in (("query",), ("header",)):
        extra["errors"] = [{"loc": list(error.loc), "msg": error.detail, "type": "invalid"}]
    elif isinstance(error, InvalidEvent | VersionConflict | IdConflict | AlreadyRetracted):
        body: list[str | int] = ["body"] if batch_index is None else ["body", "events", batch_index]
        loc = [*body, *error.loc] if isinstance(error, InvalidEvent) else body
        extra["errors"] = [{"loc": loc, "msg": str(error), "type": _snake(type(error).__name__)}]
    if batch_index is not None:
        extra["index"] = batch_index
    if isinstance(error, StoreUnavailable):
        _log.warning("store unavailable: %s", error)
        return problem(status, title, "the event store cannot be reached; try again", **extra)
    return problem(status, title, str(error), **extra)


def install(app: FastAPI) -> None:
    """Route every error the app can meet through problem+json."""

    async def on_sitrep(_request: Request, error: Exception) -> Response:
        assert isinstance(error, SitrepError)
        return sitrep_problem(error)

    async def on_invalid(_request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return validation_problem(error.errors())

    async def on_http(_request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        response = problem(error.status_code, _title(error.status_code), str(error.detail))
        response.headers.update(error.headers or {})
        return response

    async def on_unexpected(_request: Request, error: Exception) -> Response:
        _log.exception("unexpected error", exc_info=error)
        return problem(500, "Internal error", "sitrep failed to answer; the error is logged")

    app.add_exception_handler(SitrepError, on_sitrep)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def validation_problem(errors: Sequence[Any]) -> Response:
    """A 422 listing `errors: [{loc, msg, type}]`, naming the first bad field in `detail`."""
    listed = [{"loc": _field_path(e), "msg": _message(e), "type": e["type"]} for e in errors]
    extra: dict[str, Any] = {"errors": listed}
    first = listed[0] if listed else {"loc": [], "msg": "invalid request"}
    loc = list(errors[0]["loc"]) if errors else []
    if len(loc) > 2 and loc[:2] == ["body", "events"] and isinstance(loc[2], int):
        extra["index"] = loc[2]
    where = ".".join(first["loc"])
    return problem(422, "Invalid request", f"{where}: {first['msg']}", **extra)


def _field_path(error: Any) -> list[str]:
    """The error's location without the union's tag: `body.occurred_at`, not `body.clash.…`."""
    path = [str(part) for part in error["loc"] if part not in KINDS]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        path.append("kind")
    return path


def _message(error: Any) -> str:
    if error["type"] == "union_tag_invalid":
        return f"unknown kind {error['ctx']['tag']!r}; see docs/events.md for the kinds"
    if error["type"] == "union_tag_not_found":
        return "every event needs a kind"
    return str(error["msg"])


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _title(status: int) -> str:
    return {404: "Not found", 405: "Method not allowed", 401: "Unauthenticated"}.get(
        status, "HTTP error"
    )
