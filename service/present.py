"""How records and fold results become JSON: times in UTC with Z, `from` for `from_`."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from pydantic import AnyUrl, BaseModel
from starlette.responses import Response

from events.record import Record
from projections.audit import Audited
from projections.captives import Remains
from projections.history import Change
from service.moments import utc
from service.reads import LedgerView, TownView


class JSONResponse(Response):
    """A JSON response encoded by orjson: times in UTC with Z, dataclasses by their fields."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_fields, option=orjson.OPT_UTC_Z)


def _fields(value: object) -> object:
    """What orjson does not write itself: the pydantic values (actors, estimates, terms)
    that fold results hold, tens of thousands in a ledger. A model whose fields have no
    aliases is its fields; any other is dumped as its schema says."""
    if isinstance(value, BaseModel):
        if _plain(type(value)):
            return value.__dict__
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, AnyUrl):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


@cache
def _plain(model: type[BaseModel]) -> bool:
    """Whether the model's JSON is its fields as they are: no aliases, nothing computed."""
    renamed = any(f.alias or f.serialization_alias for f in model.model_fields.values())
    return not renamed and not model.model_computed_fields


def town_json(view: TownView) -> dict[str, Any]:
    """A town's state as `TownPublic` gives it, for orjson to write without building models.

    The state's dataclasses are written as they are: their fields are the
    response's. `GET /towns` answers some 500 of them, with their lists.
    """
    state = view.state
    body: dict[str, Any] = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    body["as_of"] = view.at.as_of
    body["known_at"] = view.at.known_at
    body["version"] = view.version
    body["captives_held"] = view.captives_held
    return body


def ledger_json(view: LedgerView) -> dict[str, Any]:
    """The captive ledger as `LedgerPublic` gives it, for orjson to write without models.

    At 1M events the ledger holds some 50k groups: a model of each, then the
    answer's model and its validation, held several copies of them at once.
    """
    return {
        "as_of": view.at.as_of,
        "known_at": view.at.known_at,
        "groups": view.groups,
        "remains": [_remains_json(remains) for remains in view.remains],
        "totals": view.totals,
        "anomalies": view.anomalies,
    }


def _remains_json(remains: Remains) -> dict[str, Any]:
    return {f.name.rstrip("_"): getattr(remains, f.name) for f in dataclasses.fields(remains)}


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
