"""Folding again only the captive groups a report touches: what it rests on, and the totals."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given

from events.codec import decode_body, encode_body
from events.kinds import ReportedEvent, groups_named
from projections.captives import CaptiveGroup
from projections.ledger_entries import named_groups
from projections.regrouping import Rows, totals
from tests.make import AFI, REBELS, as_actor
from tests.strategies import reported_events


@given(reported_events())
def test_a_stored_body_names_every_group_its_report_may_change(sent: ReportedEvent) -> None:
    stored = decode_body(sent.kind, encode_body(sent))

    assert named_groups(sent) <= groups_named(stored)


def _key(day: int) -> tuple[datetime, int]:
    return (datetime(2020, 3, day, 10, tzinfo=UTC), day)


def _group(held: int, town: str = "nawa") -> CaptiveGroup:
    return CaptiveGroup(
        group="afi-troops",
        holder=as_actor(REBELS),
        role="party",
        held_at=town,
        affiliation=as_actor(AFI),
        description=None,
        taken=12,
        held=held,
        released=12 - held,
        killed=0,
        status="held",
        custody=(),
    )


def test_a_town_s_total_keeps_its_other_groups_and_takes_the_refolded_group_as_it_is_now() -> None:
    # Kept: 12 of the group and 5 of another from day 1; the group fell to 10 on day 3,
    # the other to 0 on day 5. Folded again, the group fell to 4 on day 3 instead.
    kept = Rows(before=17, after=[(_key(3), 15), (_key(5), 10)])
    before = {"afi-troops": _group(12)}

    found = totals("nawa", kept, before, old=[(_key(3), _group(10))], new=[(_key(3), _group(4))])

    assert found == [(_key(3), 9), (_key(5), 4)]


def test_a_town_the_refolded_group_never_was_in_keeps_its_total() -> None:
    kept = Rows(before=3, after=[(_key(4), 1)])

    found = totals("tafas", kept, {"afi-troops": _group(12)}, old=[], new=[(_key(2), _group(4))])

    assert found == [(_key(4), 1)]


def test_a_town_whose_refolded_group_is_gone_goes_back_to_its_total_before_the_key() -> None:
    kept = Rows(before=0, after=[(_key(3), 12)])  # the group's capture, now retracted

    found = totals("nawa", kept, {}, old=[(_key(3), _group(12))], new=[])

    assert found == []
