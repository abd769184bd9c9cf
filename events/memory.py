"""The in-memory store: the SQL store's twin for tests and experiments."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future
from datetime import datetime
from uuid import UUID

from events.appending import Planner
from events.kinds import ReportRetracted
from events.record import Record
from events.store import MAX_PAGE, Appended, Pending


class InMemoryStore:
    """An EventStore that keeps every record in a list, guarded by one lock."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._records: list[Record] = []
        self._by_id: dict[UUID, Record] = {}
        self._streams: dict[str, list[Record]] = {}
        self._retractions: dict[UUID, UUID] = {}

    def append(self, pending: Sequence[Pending], recorded_by: str) -> list[Appended]:
        """Append all of `pending` atomically and in order, or raise and store nothing."""
        with self._lock:
            outcomes = Planner(self, self._clock()).plan(pending, recorded_by)
            for outcome in outcomes:
                if outcome.created:
                    self._keep(outcome.record)
            return outcomes

    def append_soon(self, pending: Sequence[Pending], recorded_by: str) -> Future[list[Appended]]:
        """`append`, done at once, answered by a future that has settled.

        It runs in the caller's thread, the event loop's for `POST /events`, and
        waits there for the store's lock: fine for the tests and demos this
        store serves, not for a service under load.
        """
        done: Future[list[Appended]] = Future()
        try:
            done.set_result(self.append(pending, recorded_by))
        except Exception as error:  # the caller raises it where it awaits
            done.set_exception(error)
        return done

    def _keep(self, record: Record) -> None:
        self._records.append(record)
        self._by_id[record.id] = record
        self._streams.setdefault(record.town, []).append(record)
        if isinstance(record.event, ReportRetracted):
            self._retractions[record.event.target] = record.id

    def get(self, event_id: UUID) -> Record | None:
        """The record of one event, or None."""
        return self._by_id.get(event_id)

    def get_many(self, event_ids: Collection[UUID]) -> dict[UUID, Record]:
        """The records of those events that are in the log, by id."""
        return {i: self._by_id[i] for i in event_ids if i in self._by_id}

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
        source = self._records if town is None else self._streams.get(town, [])
        found: list[Record] = []
        for record in source:
            if len(found) >= min(limit, MAX_PAGE):
                break
            if record.position <= after:
                continue
            if known_at is not None and record.recorded_at > known_at:
                break
            if kinds is not None and record.kind not in kinds:
                continue
            if targets is not None and record.target not in targets:
                continue
            found.append(record)
        return found

    def version(self, town: str, known_at: datetime | None = None) -> int:
        """The town stream's version as known at `known_at` (0: no record)."""
        stream = self._streams.get(town, [])
        if known_at is None:
            return len(stream)
        return sum(1 for record in stream if record.recorded_at <= known_at)

    def ping(self) -> None:
        """Always answers."""

    # LogView, read under the lock by the Planner

    def find_many(self, event_ids: Collection[UUID]) -> dict[UUID, Record]:
        return {i: self._by_id[i] for i in event_ids if i in self._by_id}

    def versions(self, towns: Collection[str]) -> dict[str, int]:
        return {town: len(self._streams[town]) for town in towns if town in self._streams}

    def retractions(self, targets: Collection[UUID]) -> dict[UUID, UUID]:
        return {t: self._retractions[t] for t in targets if t in self._retractions}

    def tail(self) -> tuple[int, datetime | None]:
        if not self._records:
            return 0, None
        return self._records[-1].position, self._records[-1].recorded_at
