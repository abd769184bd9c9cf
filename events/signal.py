"""Wake-ups for readers that follow the log: something may have been appended."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol


class AppendSignal(Protocol):
    """Tells followers of the log when to look again."""

    fallback: float
    """The longest a follower sleeps without a wake-up before it looks again, in seconds."""

    def seen(self) -> int:
        """A token to pass to `wait`: take it before reading the log."""
        ...

    async def wait(self, seen: int, timeout: float) -> None:
        """Return when events may have been appended since `seen` was taken, or after `timeout`."""
        ...

    async def start(self) -> None:
        """Begin listening (called once the event loop runs)."""
        ...

    async def stop(self) -> None:
        """Stop listening."""
        ...


class Wakeups:
    """A generation counter that waiters can sleep on; a bump wakes all of them."""

    def __init__(self) -> None:
        self._generation = 0
        self._bumped = asyncio.Event()

    def seen(self) -> int:
        """The current generation."""
        return self._generation

    async def wait(self, seen: int, timeout: float) -> None:
        """Return at once if bumped since `seen`, else at the next bump or after `timeout`."""
        if self._generation != seen:
            return
        bumped = self._bumped
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bumped.wait(), timeout)

    def bump(self) -> None:
        """Wake every waiter."""
        self._generation += 1
        self._bumped.set()
        self._bumped = asyncio.Event()


class PollingSignal:
    """No wake-ups at all: followers look again every `interval` seconds."""

    def __init__(self, interval: float = 0.25) -> None:
        self.fallback = interval
        self._wakeups = Wakeups()

    def seen(self) -> int:
        """A token to pass to `wait`."""
        return self._wakeups.seen()

    async def wait(self, seen: int, timeout: float) -> None:
        """Sleep for the polling interval, or `timeout` if shorter."""
        await self._wakeups.wait(seen, min(timeout, self.fallback))

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""
