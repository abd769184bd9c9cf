"""What does not add up: kept and listed, never a reason to reject a report."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One inconsistency, with a stable `code`, words for people, and the events involved."""

    code: str
    detail: str
    events: tuple[UUID, ...]
