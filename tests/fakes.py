"""Hand-written fakes of the store port, for failures a real store cannot be told to have."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from uuid import UUID

from events.errors import StoreUnavailable
from events.memory import InMemoryStore
from events.record import Record
from events.store import MAX_PAGE, Appended, Pending


class FailingStore(InMemoryStore):
    """An in-memory store whose database goes away after `healthy_reads` reads.

    With `healthy_reads=0` it is down from the start: reads, appends and pings fail.
    """

    def __init__(self, clock: Callable[[], datetime], healthy_reads: int = 0) -> None:
        super().__init__(clock)
        self.healthy_reads = healthy_reads
        self.reads = 0

    @property
    def down(self) -> bool:
        """Whether the database has gone away."""
        return self.reads >= self.healthy_reads

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
        """Read as the in-memory store does, until the database goes away."""
        down, self.reads = self.down, self.reads + 1
        if down:
            raise StoreUnavailable("connection refused")
        return super().select(
            after=after, limit=limit, town=town, kinds=kinds, targets=targets, known_at=known_at
        )

    def append(self, pending: Sequence[Pending], recorded_by: str) -> list[Appended]:
        """Append unless the database is down."""
        if self.healthy_reads == 0:
            raise StoreUnavailable("connection refused")
        return super().append(pending, recorded_by)

    def ping(self) -> None:
        """Answer unless the database is down."""
        if self.down:
            raise StoreUnavailable("connection refused")
