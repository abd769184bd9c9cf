"""Group commit: appends that arrive while another commits wait, then commit together.

One transaction, one lock and one fsync then serve many requests, and each
request still succeeds or fails on its own (see `Planner`). A caller that waits
in its own thread (`submit`) may lead the next group itself and hand the
results back. One that does not (`submit_soon`, for the event loop) gets a
future, and the committer's own thread leads while such requests wait: a
request served on the event loop costs no worker thread and wakes it once.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from events.errors import StoreUnavailable
from events.store import Appended, Pending

_log = logging.getLogger(__name__)


@dataclass(eq=False)
class Request:
    """One caller's append, and what became of it."""

    pending: Sequence[Pending]
    recorded_by: str
    outcomes: list[Appended] | None = None
    error: BaseException | None = None
    done: bool = field(default=False, repr=False)
    future: Future[list[Appended]] | None = field(default=None, repr=False)


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
        self._leader: ThreadPoolExecutor | None = None

    def submit_soon(self, pending: Sequence[Pending], recorded_by: str) -> Future[list[Appended]]:
        """Queue `pending` to append with whatever else is waiting, without waiting for it:
        the future settles with its own outcomes or its own error.

        No caller's thread waits: if no group is being committed, a thread of
        the committer's own leads until the queue is empty.
        """
        request = Request(pending, recorded_by, future=Future())
        with self._changed:
            self._queue.append(request)
            if not self._leading:
                self._lead_soon()
        assert request.future is not None
        return request.future

    def _lead_soon(self) -> None:
        """Lead from the committer's own thread; lock held."""
        if self._leader is None:
            self._leader = ThreadPoolExecutor(1, thread_name_prefix="group-commit")
        try:
            self._leader.submit(self._lead)
        except RuntimeError:  # the interpreter is shutting down: no new thread will lead
            stopping = StoreUnavailable("the process is stopping; retry the append")
            self._fail_queued(stopping, threads=False)  # a waiting thread may still lead
            return
        self._leading = True  # `_lead` waits for the lock held here

    def _lead(self) -> None:
        """Commit group after group until none waits; `_leading` is already ours."""
        with self._changed:
            try:
                while self._queue:
                    self._commit_next(lead_on=True)
            except BaseException:
                # Raised in a thread no caller waits on: it would go unseen.
                _log.exception("the group commit's thread failed")
                raise
            finally:
                self._hand_on()

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
                self._commit_next(lead_on=False)
        return _result(request)

    def _commit_next(self, *, lead_on: bool) -> None:
        """Commit the next group with the lock released meanwhile; lock held, and leading."""
        group = self._take()
        try:
            self._changed.release()
            try:
                self._settle(group)
            finally:
                self._changed.acquire()
        finally:
            self._finish(group, lead_on=lead_on)

    def _take(self) -> list[Request]:
        """The oldest waiting requests, up to `max_events` events (always at least one)."""
        taken: list[Request] = []
        events = 0
        while self._queue and (
            not taken or events + len(self._queue[0].pending) <= self._max_events
        ):
            request = self._queue.popleft()
            if _claimed(request):
                taken.append(request)
                events += len(request.pending)
        return taken

    def _settle(self, group: list[Request]) -> None:
        if not group:  # every request taken was given up on
            return
        try:
            self._commit(group)
        except Exception as error:
            for request in group:
                request.outcomes, request.error = None, _own(error)

    def _finish(self, group: list[Request], *, lead_on: bool = False) -> None:
        """Mark the group done (whatever happened) and, unless `lead_on`, let the next leader
        in; lock held."""
        try:
            unavailable = next(
                (r.error for r in group if isinstance(r.error, StoreUnavailable)), None
            )
            for request in group:
                if request.error is None and request.outcomes is None:
                    request.error = StoreUnavailable(
                        "the append was interrupted before it was committed; retry it"
                    )
                _settled(request)
            if unavailable is not None:
                self._fail_queued(unavailable)
        finally:
            if not lead_on:
                self._hand_on()
            elif any(r.future is None for r in group):
                self._changed.notify_all()

    def _fail_queued(self, error: StoreUnavailable, *, threads: bool = True) -> None:
        """Fail at once the queued requests (but for those whose threads wait, unless
        `threads`), each with an error of its own, rather than let them wait out the same
        failure; lock held."""
        for waiting in list(self._queue):
            if threads or waiting.future is not None:
                self._queue.remove(waiting)
                if _claimed(waiting):
                    waiting.error = _own(error)
                    _settled(waiting)
        self._changed.notify_all()

    def _hand_on(self) -> None:
        """A leader stops: the committer's thread leads on if a request without a waiting
        thread is queued, else a waiting thread may; lock held."""
        self._leading = False
        if any(request.future is not None for request in self._queue):
            self._lead_soon()
        self._changed.notify_all()


def _own(error: BaseException) -> BaseException:
    """An exception of a caller's own, so no two threads raise (and annotate) one object."""
    if isinstance(error, StoreUnavailable):
        copy = StoreUnavailable(str(error))
    else:
        copy = StoreUnavailable(f"the append failed: {type(error).__name__}: {error}")
    copy.__cause__ = error
    return copy


def _claimed(request: Request) -> bool:
    """Whether the request is still wanted; if so its future can no longer be cancelled.

    A caller on the event loop that is cancelled (a client gone, a shutdown)
    cancels its future: if that happens before its group is taken, it is
    not appended, and no one is told.
    """
    return request.future is None or request.future.set_running_or_notify_cancel()


def _settled(request: Request) -> None:
    request.done = True
    if request.future is not None:
        if request.error is not None:
            request.future.set_exception(request.error)
        else:
            assert request.outcomes is not None
            request.future.set_result(request.outcomes)


def _result(request: Request) -> list[Appended]:
    if request.error is not None:
        raise request.error
    assert request.outcomes is not None
    return request.outcomes
