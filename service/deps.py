"""FastAPI dependencies: the container, the caller by role, and the read moment."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from events.store import MAX_PAGE
from service.auth import Caller, Role
from service.container import Container
from service.moments import Moment as MomentParam
from service.reads import Moment

# The dependencies that do no I/O are coroutines, so they run on the event loop:
# a plain function would cost a trip through the worker threads on every request.


async def container(request: Request) -> Container:
    """The app's container, set by create_app."""
    found: Container = request.app.state.container
    return found


Parts = Annotated[Container, Depends(container)]
Authorization = Annotated[
    str | None, Header(description="`Bearer <API key>`", include_in_schema=False)
]


def _admit(needed: Role) -> Callable[..., Coroutine[None, None, Caller]]:
    async def admit(parts: Parts, authorization: Authorization = None) -> Caller:
        caller = parts.gate.admit_from_memory(authorization, needed)
        if caller is None:  # a key kept in the database: read it off the event loop
            caller = await run_in_threadpool(parts.gate.admit, authorization, needed)
        return caller

    return admit


AsReader = Annotated[Caller, Depends(_admit(Role.reader))]
AsReporter = Annotated[Caller, Depends(_admit(Role.reporter))]
AsEditor = Annotated[Caller, Depends(_admit(Role.editor))]

KnownAt = Annotated[
    MomentParam | None,
    Query(description="transaction time: use records recorded at or before it (default: now)"),
]
AsOf = Annotated[
    MomentParam | None,
    Query(description="valid time: fold events that occurred at or before it (default: now)"),
]


MAX_POSITION = 2**63 - 1
After = Annotated[
    int, Query(ge=0, le=MAX_POSITION, description="return records with a position above this")
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="at most this many records")]


async def moment(parts: Parts, as_of: AsOf = None, known_at: KnownAt = None) -> Moment:
    """The read's two clocks; both default to now, and `known_at` is applied as given."""
    now = parts.clock()
    return Moment(as_of or now, known_at or now)


At = Annotated[Moment, Depends(moment)]
