"""How records and fold results become JSON: times in UTC with Z, `from` for `from_`."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from events.record import Record
from projections.audit import Audited
from projections.history import Change
from service.moments import utc


class JSONResponse(Response):
    """A JSON response encoded by orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def record_json(record: Record) -> dict[str, Any]:
    """A record: the event as sent, plus position, version, recorded_at and recorded_by."""
    body: dict[str, Any] = record.event.model_dump(mode="json", by_alias=True)
    body["position"] = record.position
    body["version"] = record.version
    body["recorded_at"] = utc(record.recorded_at)
    body["recorded_by"] = record.recorded_by
    return body


def audited_json(entry: Audited) -> dict[str, Any]:
    """A record with its known retraction and corrections."""
    body = record_json(entry.record)
    body["retracted_by"] = None if entry.retracted_by is None else str(entry.retracted_by)
    body["corrected_by"] = [str(c) for c in entry.corrected_by]
    return body


def change_json(change: Change) -> dict[str, Any]:
    """One history entry: the report as it folds (as last corrected), that correction's id,
    and the town-state fields it changed."""
    fact = change.fact
    return {
        "event": record_json(dataclasses.replace(fact.record, event=fact.event)),
        "correction": None if fact.corrected_by is None else str(fact.corrected_by),
        "changed": jsonable(change.changed),
    }


def jsonable(value: Any) -> Any:
    """Fold results (dataclasses, models, tuples, times, ids) as plain JSON values."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name.rstrip("_"): jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, UUID):
        return str(value)
    return value
