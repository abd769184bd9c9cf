"""The Karak Sharqi reference story, shipped as data and loaded idempotently."""

from __future__ import annotations

from importlib.resources import files

from events.kinds import Correction, ReportedEvent, parse_event
from events.store import Appended, EventStore, Pending

STORY = "karak_sharqi.jsonl"


def story() -> list[ReportedEvent | Correction]:
    """The story's events in the order they were reported, each with a fixed id."""
    lines = files("service").joinpath("data", STORY).read_text(encoding="utf-8").splitlines()
    return [parse_event_json(line) for line in lines if line.strip()]


def parse_event_json(line: str) -> ReportedEvent | Correction:
    """One event from one line of JSON."""
    import orjson

    return parse_event(orjson.loads(line))


def load_story(store: EventStore, recorded_by: str = "demo") -> list[Appended]:
    """Append the story; a second load finds every id and adds nothing."""
    return store.append([Pending(event) for event in story()], recorded_by)
