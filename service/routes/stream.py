"""The live feed: every record as a server-sent event, from any position, resumable."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import orjson
from fastapi import APIRouter, Header
from starlette.responses import StreamingResponse

from events.errors import InvalidEvent, StoreUnavailable
from service.container import Container
from service.deps import After, AsReader, Parts
from service.present import record_json

router = APIRouter(prefix="/events", tags=["events"])
KEEP_ALIVE = 15.0
_log = logging.getLogger("sitrep.stream")


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "one event a record"}},
)
async def get_stream(
    parts: Parts,
    _caller: AsReader,
    after: After = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Records after `after` (or `Last-Event-ID`) as server-sent events, `id:` their position."""
    start = after if last_event_id is None else _position(last_event_id)
    return StreamingResponse(
        _follow(parts, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _follow(parts: Container, position: int) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    quiet = 0.0
    while True:
        seen = parts.signal.seen()
        try:
            page = await anyio.to_thread.run_sync(parts.reads.feed, position)
        except StoreUnavailable as error:
            _log.warning("live feed stopped: %s", error)
            return  # the client reconnects with Last-Event-ID and loses nothing
        for record in page:
            data = orjson.dumps(record_json(record))
            yield b"id: %d\nevent: record\ndata: %s\n\n" % (record.position, data)
        if page:
            position, quiet = page[-1].position, 0.0
            continue
        await parts.signal.wait(seen, parts.signal.fallback)
        quiet += parts.signal.fallback
        if quiet >= KEEP_ALIVE:
            yield b": keep-alive\n\n"
            quiet = 0.0


def _position(last_event_id: str) -> int:
    text = last_event_id.strip()
    if not text.isdigit() or int(text) > 2**63 - 1:
        raise InvalidEvent(
            f"Last-Event-ID must be a position sitrep sent, not {last_event_id!r}",
            loc=("header", "Last-Event-ID"),
        )
    return int(text)
