"""Records as audited: each with the retraction and corrections known for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from events.record import Record
from projections.replay import Amendments


@dataclass(frozen=True, slots=True)
class Audited:
    """A record, the retraction that struck it (if any) and its corrections in position order."""

    record: Record
    retracted_by: UUID | None
    corrected_by: tuple[UUID, ...]


def audited(records: Iterable[Record], amendments: Iterable[Record]) -> list[Audited]:
    """Annotate `records` with what `amendments` (corrections and retractions) say of them."""
    known = Amendments.of(amendments)
    return [
        Audited(
            record,
            known.retracted_by.get(record.id),
            tuple(c.id for c in known.corrected_by.get(record.id, ())),
        )
        for record in records
    ]
