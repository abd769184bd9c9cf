"""The log: append, amend, page and look up events."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header
from starlette.responses import Response

from events.errors import InvalidEvent
from events.kinds import MAX_VERSION, Event
from events.store import Appended
from service.deps import After, AsEditor, AsReader, AsReporter, KnownAt, Limit, Parts
from service.present import JSONResponse, audited_json, record_json
from service.problems import problem
from service.schemas import (
    BatchCreate,
    BatchPublic,
    CorrectionCreate,
    RecordPublic,
    RecordsPublic,
    RetractionCreate,
)

router = APIRouter(prefix="/events", tags=["events"])
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "version or id conflict, or target already retracted"}
}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "invalid event: nothing was stored"}
}


@router.post(
    "",
    status_code=201,
    response_model=RecordPublic,
    responses={200: {"description": "identical retry: the original record"}, **_CONFLICT},
)
async def post_event(
    event: Annotated[Event, Body()],
    parts: Parts,
    caller: AsReporter,
    if_match: Annotated[str | None, Header(description='`"<version>"` expected')] = None,
) -> Response:
    """Append one event to its town's stream."""
    # Awaited, not run in a worker thread: the group commit's own thread answers.
    appending = parts.writes.append_soon([event], caller, _version(if_match))
    [outcome] = await asyncio.wrap_future(appending)
    return _created(outcome)


@router.post("/batch", status_code=201, response_model=BatchPublic, responses=_CONFLICT)
def post_batch(batch: BatchCreate, parts: Parts, caller: AsReporter) -> Response:
    """Append 1 to 1,000 events atomically, in order; nothing is stored if one fails."""
    outcomes = parts.writes.append_batch(batch.events, caller)
    created = any(outcome.created for outcome in outcomes)
    data = [record_json(outcome.record) for outcome in outcomes]
    return JSONResponse({"data": data, "count": len(data)}, 201 if created else 200)


@router.post(
    "/{event_id}/retraction",
    status_code=201,
    response_model=RecordPublic,
    responses={404: {"description": "no such report"}, **_CONFLICT},
)
def post_retraction(
    event_id: UUID, body: RetractionCreate, parts: Parts, caller: AsEditor
) -> Response:
    """Retract a report: it leaves every fold known after now."""
    return _created(parts.writes.retract(event_id, body, caller))


@router.post(
    "/{event_id}/correction",
    status_code=201,
    response_model=RecordPublic,
    responses={404: {"description": "no such report"}, **_CONFLICT, **_INVALID},
)
def post_correction(
    event_id: UUID, body: CorrectionCreate, parts: Parts, caller: AsEditor
) -> Response:
    """Correct a report: it folds as the replacement for every read known after now."""
    return _created(parts.writes.correct(event_id, body, caller))


@router.get("", response_model=RecordsPublic)
def get_events(
    parts: Parts,
    _caller: AsReader,
    known_at: KnownAt = None,
    after: After = 0,
    limit: Limit = 100,
    town: str | None = None,
    kind: str | None = None,
) -> Response:
    """Records in position order after `after`: the audit log, and the way to catch up."""
    page = parts.reads.log(after, limit, known_at, town=town, kind=kind)
    next_after = page[-1].record.position if page else after
    return JSONResponse({"data": [audited_json(e) for e in page], "next_after": next_after})


@router.get("/{event_id}", response_model=RecordPublic, responses={404: {}})
def get_event(
    event_id: UUID, parts: Parts, _caller: AsReader, known_at: KnownAt = None
) -> Response:
    """One record, with `retracted_by` and `corrected_by` as known at `known_at`."""
    return JSONResponse(audited_json(parts.reads.record(event_id, known_at)))


_EDITS = ["PUT", "PATCH", "DELETE"]


def _refuse_edits(path: str, allow: str) -> None:
    """Answer edits of `path` with 405: the log is append-only."""

    def refuse() -> Response:
        response = problem(
            405,
            "Method not allowed",
            "the log is append-only: post a correction or a retraction instead",
        )
        response.headers["Allow"] = allow
        return response

    router.add_api_route(path, refuse, methods=_EDITS, include_in_schema=False)


for _path, _allow in (("", "GET, POST"), ("/batch", "POST"), ("/{event_id}", "GET")):
    _refuse_edits(_path, _allow)


def _created(outcome: Appended) -> Response:
    record = outcome.record
    return JSONResponse(
        record_json(record),
        201 if outcome.created else 200,
        headers={"Location": f"/events/{record.id}"},
    )


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    found = _IF_MATCH.fullmatch(if_match.strip())
    if found is None or int(found[1]) > MAX_VERSION:
        raise InvalidEvent(
            f'If-Match must be a quoted stream version such as "3", not {if_match[:40]!r}',
            loc=("header", "If-Match"),
        )
    return int(found[1])


_IF_MATCH = re.compile(r'(?:W/)?"?([0-9]{1,10})"?', re.ASCII)
