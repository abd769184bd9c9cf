"""A clock the tests set by hand: time is a parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Returns the time it was last set to, until told to move."""

    def __init__(self, now: datetime = datetime(2020, 3, 12, 9, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime | str) -> None:
        """Jump to `now` (a datetime or an ISO string with a zone)."""
        self.now = datetime.fromisoformat(now) if isinstance(now, str) else now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments; return the new time."""
        self.now += timedelta(**delta)
        return self.now
