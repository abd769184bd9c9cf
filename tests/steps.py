"""How much work SQLite does for a query, counted in steps of its virtual machine.

A count of steps is the same on every run, however loaded the machine: a test
can say that a query costs no more as the data grows, where a timer could not.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, event


def steps_counted(engine: Engine) -> list[int]:
    """A list that gains an entry for every step of SQLite's virtual machine on `engine`."""
    steps: list[int] = []

    def step() -> int:
        steps.append(1)
        return 0  # go on

    @event.listens_for(engine, "before_cursor_execute")
    def watch(conn: Connection, *_: object) -> None:
        conn.connection.driver_connection.set_progress_handler(step, 1)  # type: ignore[union-attr]

    return steps
