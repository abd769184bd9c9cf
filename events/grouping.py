"""Group commit: appends that arrive while another commits wait, then commit together.

One transaction, one lock and one fsync then serve many requests, and each
request still succeeds or fails on its own (see `Planner`). No thread of its own:
the first waiting caller leads the next group and hands the results back.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from events.errors import StoreUnavailable
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
    """Hands each group of waiting requests to `commit`, which must settle every one of them.

    When a group fails because the store is unavailable, the requests still
    queued fail at once too rather than wait out the same timeout again.
    """

    def __init__(self, commit: Callable[[list[Request]], None], max_events: int = 5_000) -> None:
        self._commit = commit
        self._max_events = max_events
        self._changed = threading.Condition()
        self._queue: deque[Request] = deque()
        self._leading = False

    def submit(self, pending: Sequence[Pending], recorded_by: str) -> list[Appended]:
        """Append `pending` with whatever else is waiting; its own outcomes, or its own error."""
        request = Request(pending, recorded_by)
        with self._changed:
            self._queue.append(request)
            while not request.done:
                if self._leading:
                    self._changed.wait()
                    continue
                self._leading = True
                group = self._take()
                try:
                    self._changed.release()
                    try:
                        self._settle(group)
                    finally:
                        self._changed.acquire()
                finally:
                    self._finish(group)
        return _result(request)

    def _take(self) -> list[Request]:
        """The oldest waiting requests, up to `max_events` events (always at least one)."""
        taken: list[Request] = []
        events = 0
        while self._queue and (
            not taken or events + len(self._queue[0].pending) <= self._max_events
        ):
            request = self._queue.popleft()
            taken.append(request)
            events += len(request.pending)
        return taken

    def _settle(self, group: list[Request]) -> None:
        try:
            self._commit(group)
        except Exception as error:
            for request in group:
                request.outcomes, request.error = None, _own(error)

    def _finish(self, group: list[Request]) -> None:
        """Mark the group done (whatever happened) and let the next leader in; lock held."""
        unavailable = next((r.error for r in group if isinstance(r.error, StoreUnavailable)), None)
        for request in group:
            if request.error is None and request.outcomes is None:
                request.error = StoreUnavailable(
                    "the append was interrupted before it was committed; retry it"
                )
            request.done = True
        if unavailable is not None:
            while self._queue:
                waiting = self._queue.popleft()
                waiting.error, waiting.done = _own(unavailable), True
        self._leading = False
        self._changed.notify_all()


def _own(error: BaseException) -> BaseException:
    """An exception of a caller's own, so no two threads raise (and annotate) one object."""
    if isinstance(error, StoreUnavailable):
        copy = StoreUnavailable(str(error))
    else:
        copy = StoreUnavailable(f"the append failed: {type(error).__name__}: {error}")
    copy.__cause__ = error
    return copy


def _result(request: Request) -> list[Appended]:
    if request.error is not None:
        raise request.error
    assert request.outcomes is not None
    return request.outcomes
