"""The record: an event as the log keeps it, wrapped in its bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from events.kinds import Correction, ReportCorrected, ReportedEvent, ReportRetracted


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

    @property
    def target(self) -> UUID | None:
        """The report an amendment names; None for a report (an attack's `target` is a name)."""
        event = self.event
        return event.target if isinstance(event, (ReportCorrected, ReportRetracted)) else None
