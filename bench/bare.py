"""The baseline for `POST /events`: FastAPI parsing the same body into the same model, no store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, FastAPI
from starlette.responses import Response

from events.kinds import Event

app = FastAPI()


@app.post("/events", status_code=201)
def post_event(event: Annotated[Event, Body()]) -> Response:
    """Validate the event and answer 201 with an empty body."""
    return Response(status_code=201)
