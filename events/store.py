"""The store port: the few calls every backend answers, and what an append asks for."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from events.kinds import Correction, ReportedEvent
from events.record import Record

MAX_PAGE = 1_000
"""No read returns more rows than this in one call."""


@dataclass(frozen=True, slots=True)
class Pending:
    """An event the client wants appended, with its optional concurrency guard."""

    event: ReportedEvent | Correction
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class Appended:
    """The outcome for one pending event: its record, and whether it is new."""

    record: Record
    created: bool


class EventStore(Protocol):
    """An append-only log of records, readable by position, town, kind and known time."""

    def append(self, pending: Sequence[Pending], recorded_by: str) -> list[Appended]:
        """Append all of `pending` atomically and in order, or raise and store nothing."""
        ...

    def append_soon(self, pending: Sequence[Pending], recorded_by: str) -> Future[list[Appended]]:
        """`append`, answered by a future that settles once the events are stored, or not."""
        ...

    def get(self, event_id: UUID) -> Record | None:
        """The record of one event, or None."""
        ...

    def get_many(self, event_ids: Collection[UUID]) -> dict[UUID, Record]:
        """The records of those events that are in the log, by id."""
        ...

    def select(
        self,
        *,
        after: int = 0,
        limit: int = MAX_PAGE,
        town: str | None = None,
        kinds: Collection[str] | None = None,
        targets: Collection[UUID] | None = None,
        known_at: datetime | None = None,
    ) -> list[Record]:
        """Up to `limit` records with position > `after`, in position order, filtered."""
        ...

    def version(self, town: str, known_at: datetime | None = None) -> int:
        """The town stream's version as known at `known_at` (0: no record)."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""
        ...
