"""How events become stored bytes and back, with upcasting of older shapes on read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

import orjson

from events.kinds import KINDS, Correction, ReportedEvent

SCHEMA_VERSION = 1
"""The body shape this code writes. Raise it with an upcaster for the old shape."""

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: Mapping[tuple[str, int], Upcaster] = {}
"""`(kind, schema_version) -> body of schema_version + 1`; rows are never rewritten."""

_HEAD = {"id", "kind", "town"}


def encode_body(event: ReportedEvent | Correction) -> bytes:
    """The event's fields other than id, kind and town, as canonical JSON."""
    body = event.model_dump(mode="json", by_alias=True, exclude=_HEAD, exclude_none=True)
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def decode_event(
    kind: str,
    event_id: UUID | str,
    town: str,
    body: bytes | str,
    schema_version: int = SCHEMA_VERSION,
    upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS,
) -> ReportedEvent | Correction:
    """Rebuild an event from its stored parts, upcasting old body shapes first."""
    data = decode_body(kind, body, schema_version, upcasters)
    data.update(id=event_id, kind=kind, town=town)
    return KINDS[kind].model_validate(data)


def decode_body(
    kind: str,
    body: bytes | str,
    schema_version: int = SCHEMA_VERSION,
    upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS,
) -> dict[str, Any]:
    """A stored body in the shape this code writes, not validated: a light look at its fields."""
    data: dict[str, Any] = orjson.loads(body)
    version = schema_version
    while version < SCHEMA_VERSION:
        upcast = upcasters.get((kind, version))
        if upcast is not None:
            data = upcast(data)
        version += 1
    return data
