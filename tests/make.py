"""Builders of valid events with sensible defaults, so a test names only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from events.kinds import Correction, ReportedEvent, is_correction, parse_event
from events.record import Record
from events.values import Actor

TOWN = "karak-sharqi"
DAY = "2020-03-05T10:00:00Z"


def actor(name: str, side: str) -> dict[str, str]:
    """An actor reference as JSON."""
    return {"name": name, "side": side}


REBELS = actor("Southern rebels", "opposition")
AFI = actor("Air Force Intelligence", "government")
FOURTH = actor("4th Division", "government")
EIGHTH = actor("8th Division (5th Corps)", "russia")
RUSSIA = actor("Russian military police", "russia")


def body(kind: str, *, town: str = TOWN, occurred_at: str = DAY, **fields: Any) -> dict[str, Any]:
    """The JSON body of an event of `kind`; `from_` is written `from`."""
    if "from_" in fields:
        fields["from"] = fields.pop("from_")
    return {
        "kind": kind,
        "town": town,
        "occurred_at": occurred_at,
        "sources": [{"name": "Syrian Observatory for Human Rights"}],
        **fields,
    }


def event(kind: str, **fields: Any) -> ReportedEvent:
    """A validated reported event of `kind`."""
    parsed = parse_event(body(kind, **fields))
    assert not is_correction(parsed)
    return parsed  # type: ignore[return-value]


def retraction(target: UUID, **fields: Any) -> Correction:
    """A retraction of `target`."""
    return parse_event(  # type: ignore[return-value]
        {"kind": "report.retracted", "target": str(target), "reason": "false report", **fields}
    )


def correction(target: UUID, replacement: dict[str, Any], **fields: Any) -> Correction:
    """A correction of `target` to `replacement` (a full body without id, kind, town)."""
    return parse_event(  # type: ignore[return-value]
        {
            "kind": "report.corrected",
            "target": str(target),
            "replacement": replacement,
            "reason": "better sources",
            **fields,
        }
    )


def replacement(kind: str, **fields: Any) -> dict[str, Any]:
    """A correction's replacement body: the event body without id, kind and town."""
    full = body(kind, **fields)
    del full["kind"], full["town"]
    return full


def at(text: str) -> datetime:
    """An aware datetime from ISO text ('Z' allowed)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def as_actor(data: dict[str, str]) -> Actor:
    """An Actor from its JSON."""
    return Actor.model_validate(data)


def record(
    event: ReportedEvent | Correction,
    position: int,
    *,
    recorded_at: str = "2020-03-12T09:00:00Z",
    version: int | None = None,
) -> Record:
    """A record as a store would make it, for folding without a store."""

    if event.id is None:
        event = event.model_copy(update={"id": uuid4()})
    if event.town is None:
        event = event.model_copy(update={"town": TOWN})
    if event.occurred_at is None:
        event = event.model_copy(update={"occurred_at": at(recorded_at)})
    return Record(event, position, version or position, at(recorded_at), "tester")
