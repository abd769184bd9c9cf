"""The examples in docs/events.md are events sitrep accepts, and every kind has one."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest

from events.kinds import KINDS, parse_event

EVENTS_MD = pathlib.Path(__file__).resolve().parents[2] / "docs" / "events.md"
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```", re.MULTILINE | re.DOTALL)


def json_examples() -> list[Any]:
    """Every ```json block of docs/events.md, decoded, in order."""
    text = EVENTS_MD.read_text(encoding="utf-8")
    return [json.loads(block) for block in JSON_BLOCK.findall(text)]


@pytest.mark.parametrize(
    "example",
    json_examples(),
    ids=lambda example: str(example.get("kind", "?")) if isinstance(example, dict) else "?",
)
def test_every_json_example_in_events_md_is_a_valid_event(example: Any) -> None:
    event = parse_event(example)

    assert event.kind == example["kind"]


def test_every_kind_has_at_least_one_example_in_events_md() -> None:
    examples = json_examples()

    shown = {example["kind"] for example in examples}

    assert sorted(set(KINDS) - shown) == []
