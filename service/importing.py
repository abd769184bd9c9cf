"""Bulk import from files: validated in batches, appended in order, idempotent, with progress."""

from __future__ import annotations

import csv
import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from events.errors import InvalidEvent
from events.kinds import parse_event
from events.store import EventStore, Pending
from service import ucdp

BATCH = 1_000
_CONTENT = uuid.UUID("a1c3e5f7-0b2d-4f6a-8c0e-2b4d6f8a0c1e")


@dataclass(frozen=True, slots=True)
class Imported:
    """How an import went: events read, events new to the log, and notes for the user."""

    read: int
    added: int
    notes: tuple[str, ...] = ()


def import_jsonl(
    store: EventStore, path: Path, recorded_by: str, progress: Callable[[int], object]
) -> Imported:
    """Import one event per line; a line without `id` gets one derived from its content."""
    with path.open("rb") as lines:
        bodies = (_with_id(_object(line, n)) for n, line in enumerate(lines, 1) if line.strip())
        read, added = _append_all(store, bodies, recorded_by, progress)
    return Imported(read, added)


def import_ucdp(
    store: EventStore, path: Path, recorded_by: str, progress: Callable[[int], object]
) -> Imported:
    """Import a UCDP GED CSV export as clashes and attacks in the places it names."""
    oddities = ucdp.Oddities()
    with path.open(newline="", encoding="utf-8") as file:
        rows = csv.DictReader(file)
        read, added = _append_all(store, ucdp.events(rows, oddities), recorded_by, progress)
    return Imported(read, added, (oddities.summary(),))


def _append_all(
    store: EventStore,
    bodies: Iterable[dict[str, Any]],
    recorded_by: str,
    progress: Callable[[int], object],
) -> tuple[int, int]:
    read = added = 0
    for batch in _batches(bodies):
        pending = [Pending(_parse(body, read + i + 1)) for i, body in enumerate(batch)]
        outcomes = store.append(pending, recorded_by)
        read += len(batch)
        added += sum(outcome.created for outcome in outcomes)
        progress(len(batch))
    return read, added


def _parse(body: dict[str, Any], number: int) -> Any:
    try:
        return parse_event(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidEvent(f"event {number}: {where}: {first['msg']}") from error


def _object(line: bytes, number: int) -> dict[str, Any]:
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise InvalidEvent(f"line {number} is not JSON: {error.msg}") from error
    if not isinstance(parsed, dict):
        raise InvalidEvent(f"line {number} is not a JSON object; each line must be one")
    return parsed


def _with_id(body: dict[str, Any]) -> dict[str, Any]:
    if "id" not in body:
        digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
        body = {**body, "id": str(uuid.uuid5(_CONTENT, digest))}
    return body


def _batches(bodies: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(bodies)
    while batch := list(islice(iterator, BATCH)):
        yield batch
