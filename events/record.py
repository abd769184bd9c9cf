"""The record: an event as the log keeps it, wrapped in its bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from events.kinds import Correction, ReportedEvent


@dataclass(frozen=True, slots=True)
class Record:
    """An accepted event with its global `position`, stream `version` and who recorded it when."""

    event: ReportedEvent | Correction
    position: int
    version: int
    recorded_at: datetime
    recorded_by: str

    @property
    def id(self) -> UUID:
        """The event's id (always set once recorded)."""
        assert self.event.id is not None
        return self.event.id

    @property
    def town(self) -> str:
        """The town stream the record belongs to (always set once recorded)."""
        assert self.event.town is not None
        return self.event.town

    @property
    def kind(self) -> str:
        """The event's kind."""
        return self.event.kind
