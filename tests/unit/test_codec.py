"""Stored bodies: canonical on write, upcast from older shapes on read."""

from __future__ import annotations

from typing import Any

from events.codec import SCHEMA_VERSION, decode_event, encode_body
from events.kinds import Clash
from tests.make import AFI, REBELS, event


def test_the_stored_body_leaves_out_the_head_and_the_guard() -> None:
    clash = event("clash", sides=[REBELS, AFI], expected_version=3)

    stored = encode_body(clash)

    assert b'"kind"' not in stored
    assert b'"town"' not in stored
    assert b"expected_version" not in stored


def test_an_older_body_shape_is_upcast_on_read() -> None:
    def rename_parties(old: dict[str, Any]) -> dict[str, Any]:
        new = dict(old)
        new["sides"] = new.pop("parties")
        return new

    old_body = (
        b'{"occurred_at": "2020-03-05T10:00:00Z", "sources": [{"name": "SOHR"}],'
        b' "parties": [{"name": "4th Division", "side": "government"}]}'
    )

    decoded = decode_event(
        "clash",
        "00000000-0000-7000-8000-000000000001",
        "karak-sharqi",
        old_body,
        schema_version=SCHEMA_VERSION - 1,
        upcasters={("clash", SCHEMA_VERSION - 1): rename_parties},
    )

    assert isinstance(decoded, Clash)
    assert decoded.sides[0].name == "4th Division"
