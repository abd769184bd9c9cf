"""The Karak Sharqi reference story, shipped as data and loaded idempotently."""

from __future__ import annotations

from importlib.resources import files

import orjson

from events.kinds import Correction, ReportedEvent, parse_event
from events.store import Appended, EventStore, Pending

STORY = "karak_sharqi.jsonl"


def story() -> list[ReportedEvent | Correction]:
    """The story's events in the order they were reported, each with a fixed id."""
    lines = files("service").joinpath("data", STORY).read_text(encoding="utf-8").splitlines()
    return [parse_event(orjson.loads(line)) for line in lines if line.strip()]


def load_story(store: EventStore, recorded_by: str = "demo") -> list[Appended]:
    """Append the story one report at a time, as it came in; a second load adds nothing.

    One append each gives every report its own `recorded_at`, so `known_at` can
    tell what was believed before the toll was corrected.
    """
    return [store.append([Pending(event)], recorded_by)[0] for event in story()]
