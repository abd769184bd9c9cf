"""Group commit: appends that arrive while another commits wait, then commit together.

One transaction, one lock and one fsync then serve many requests, and each
request still succeeds or fails on its own (see `Planner`). No thread of its own:
the first waiting caller leads the next group and hands the results back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from events.store import Appended, Pending


@dataclass(eq=False)
class Request:
    """One caller's append, and what became of it."""

    pending: Sequence[Pending]
    recorded_by: str
    outcomes: list[Appended] | None = None
    error: BaseException | None = None
    done: bool = field(default=False, repr=False)


class GroupCommit:
    """Hands each group of waiting requests to `commit`, which must settle every one of them."""

    def __init__(self, commit: Callable[[list[Request]], None], max_events: int = 5_000) -> None:
        self._commit = commit
        self._max_events = max_events
        self._changed = threading.Condition()
        self._queue: list[Request] = []
        self._leading = False

    def submit(self, pending: Sequence[Pending], recorded_by: str) -> list[Appended]:
        """Append `pending` with whatever else is waiting; its own outcomes, or its own error."""
        request = Request(pending, recorded_by)
        with self._changed:
            self._queue.append(request)
        while True:
            with self._changed:
                while self._leading and not request.done:
                    self._changed.wait()
                if request.done:
                    break
                self._leading = True
                group = self._take()
            try:
                self._settle(group)
            finally:
                with self._changed:
                    self._leading = False
                    self._changed.notify_all()
        if request.error is not None:
            raise request.error
        assert request.outcomes is not None
        return request.outcomes

    def _take(self) -> list[Request]:
        """The oldest waiting requests, up to `max_events` events (always at least one)."""
        taken: list[Request] = []
        events = 0
        while self._queue and (
            not taken or events + len(self._queue[0].pending) <= self._max_events
        ):
            request = self._queue.pop(0)
            taken.append(request)
            events += len(request.pending)
        return taken

    def _settle(self, group: list[Request]) -> None:
        try:
            self._commit(group)
        except BaseException as error:
            for request in group:
                request.outcomes, request.error = None, error
        finally:
            for request in group:
                if request.error is None and request.outcomes is None:
                    request.error = RuntimeError("the group commit left a request unsettled")
                request.done = True
