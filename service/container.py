"""What one running app is made of, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from events.signal import AppendSignal
from events.store import EventStore
from service.auth import Gate
from service.reads import Reads
from service.writes import Writes


@dataclass(frozen=True, slots=True)
class Container:
    """The app's parts: store, read and write services, gate, clock, and append wake-ups."""

    store: EventStore
    store_name: str
    reads: Reads
    writes: Writes
    gate: Gate
    clock: Callable[[], datetime]
    signal: AppendSignal
