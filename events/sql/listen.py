"""PostgreSQL LISTEN/NOTIFY as a wake-up for followers of the log, with polling as fallback."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import make_url

from events.signal import Wakeups

CHANNEL = "sitrep_events"
_log = logging.getLogger("sitrep.listen")


class PostgresSignal:
    """Wakes followers when migration 0002's trigger announces an append on `sitrep_events`.

    One connection per process listens. While it is down (the database restarts,
    the network drops), followers fall back to polling every `fallback` seconds
    and the listener reconnects by itself.
    """

    def __init__(self, database_url: str, fallback: float = 1.0) -> None:
        self.fallback = fallback
        self._conninfo = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self._wakeups = Wakeups()
        self._task: asyncio.Task[None] | None = None

    def seen(self) -> int:
        """A token to pass to `wait`."""
        return self._wakeups.seen()

    async def wait(self, seen: int, timeout: float) -> None:
        """Return on a notification since `seen`, or after `timeout` (at most `fallback`)."""
        await self._wakeups.wait(seen, min(timeout, self.fallback))

    async def start(self) -> None:
        """Start listening in the background."""
        self._task = asyncio.create_task(self._listen_forever(), name="sitrep-listen")

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen_forever(self) -> None:
        import psycopg  # here, so a process on SQLite never loads the driver

        pause = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    pause = 0.5
                    self._wakeups.bump()  # catch up on anything missed while away
                    async for _ in conn.notifies():
                        self._wakeups.bump()
            except psycopg.Error as error:
                _log.warning("LISTEN %s lost (%s); polling until it is back", CHANNEL, error)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
