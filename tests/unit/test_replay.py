"""Replay decides which reports fold, as what, and in which order."""

from __future__ import annotations

from uuid import UUID

import pytest

from events.kinds import Raid
from projections import town
from projections.replay import Fact, facts, fold
from tests.make import AFI, FOURTH, REBELS, at, correction, event, record, replacement, retraction


def raid(occurred_at: str, target: str = "homes of wanted men") -> Raid:
    """A raid by Air Force Intelligence at `occurred_at`."""
    found = event("raid", occurred_at=occurred_at, by=AFI, target=target)
    assert isinstance(found, Raid)
    return found


def ids(found: list[Fact]) -> list[UUID]:
    """The ids of the facts, in the order given."""
    return [fact.id for fact in found]


def test_every_report_folds_when_no_as_of_is_given() -> None:
    first = record(raid("2020-03-05T10:00:00Z"), 1)
    second = record(raid("2030-01-01T00:00:00Z"), 2)

    found = facts([first, second])

    assert ids(found) == [first.id, second.id]


def test_a_report_that_occurred_exactly_at_as_of_folds() -> None:
    exactly = record(raid("2020-03-05T10:00:00Z"), 1)

    found = facts([exactly], as_of=at("2020-03-05T10:00:00Z"))

    assert ids(found) == [exactly.id]


def test_a_report_that_occurred_after_as_of_is_left_out() -> None:
    before = record(raid("2020-03-05T10:00:00Z"), 1)
    after = record(raid("2020-03-05T10:00:00.000001Z"), 2)

    found = facts([before, after], as_of=at("2020-03-05T10:00:00Z"))

    assert ids(found) == [before.id]


def test_a_late_report_lands_in_its_place_in_history() -> None:
    monday = record(raid("2020-03-02T10:00:00Z"), 1)
    wednesday = record(raid("2020-03-04T10:00:00Z"), 2)
    tuesday_reported_late = record(raid("2020-03-03T10:00:00Z"), 3)

    found = facts([monday, wednesday, tuesday_reported_late])

    assert ids(found) == [monday.id, tuesday_reported_late.id, wednesday.id]


def test_reports_that_occurred_at_the_same_time_fold_in_position_order() -> None:
    later_position = record(raid("2020-03-05T10:00:00Z"), 7)
    earlier_position = record(raid("2020-03-05T10:00:00Z"), 3)

    found = facts([later_position, earlier_position])

    assert ids(found) == [earlier_position.id, later_position.id]


def test_a_fact_keeps_its_original_record() -> None:
    original = record(raid("2020-03-05T10:00:00Z"), 4)

    (found,) = facts([original])

    assert found.record is original
    assert found.corrected_by is None


@pytest.mark.parametrize("as_of", [None, "2020-03-05T10:00:00Z", "2020-03-20T00:00:00Z"])
def test_a_retraction_drops_its_target_at_every_as_of(as_of: str | None) -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1)
    struck = retraction(target.id)

    found = facts(
        [target, record(struck, 2, recorded_at="2020-03-12T10:00:00Z")],
        as_of=None if as_of is None else at(as_of),
    )

    assert found == []


def test_a_retraction_leaves_other_reports_folding() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1)
    other = record(raid("2020-03-06T10:00:00Z"), 2)

    found = facts([target, other, record(retraction(target.id), 3)])

    assert ids(found) == [other.id]


def test_a_retraction_drops_a_corrected_report_too() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1)
    fixed = record(correction(target.id, replacement("raid", by=FOURTH, target="a farm")), 2)

    found = facts([target, fixed, record(retraction(target.id), 3)])

    assert found == []


def test_a_corrected_report_folds_as_its_replacement() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1)
    fixed = record(correction(target.id, replacement("raid", by=FOURTH, target="a farm")), 2)

    (found,) = facts([target, fixed])

    assert isinstance(found.event, Raid)
    assert found.event.by.name == FOURTH["name"]
    assert found.event.target == "a farm"
    assert found.id == target.id
    assert found.corrected_by == fixed.id


def test_the_latest_correction_by_position_wins_whatever_order_records_are_given_in() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1)
    early = record(correction(target.id, replacement("raid", by=AFI, target="early fix")), 2)
    late = record(correction(target.id, replacement("raid", by=AFI, target="late fix")), 3)

    (found,) = facts([late, target, early])

    assert isinstance(found.event, Raid)
    assert found.event.target == "late fix"
    assert found.corrected_by == late.id


def test_a_correction_can_move_a_report_out_of_the_as_of_window() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1)
    moved = replacement("raid", occurred_at="2020-03-08T10:00:00Z", by=AFI, target="homes")

    found = facts([target, record(correction(target.id, moved), 2)], as_of=at("2020-03-06"))

    assert found == []


def test_a_correction_can_move_a_report_into_the_as_of_window() -> None:
    target = record(raid("2020-03-08T10:00:00Z"), 1)
    moved = replacement("raid", occurred_at="2020-03-05T10:00:00Z", by=AFI, target="homes")

    found = facts([target, record(correction(target.id, moved), 2)], as_of=at("2020-03-06"))

    assert ids(found) == [target.id]
    assert found[0].occurred_at == at("2020-03-05T10:00:00Z")


def test_a_correction_that_moves_occurred_at_moves_the_report_in_the_order() -> None:
    target = record(raid("2020-03-08T10:00:00Z"), 1)
    other = record(raid("2020-03-06T10:00:00Z"), 2)
    moved = replacement("raid", occurred_at="2020-03-05T10:00:00Z", by=AFI, target="homes")

    found = facts([target, other, record(correction(target.id, moved), 3)])

    assert ids(found) == [target.id, other.id]


def test_corrections_and_retractions_are_never_folded_themselves() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1)
    other = record(raid("2020-03-06T10:00:00Z"), 2)
    fixed = record(correction(other.id, replacement("raid", by=AFI, target="x")), 3)
    struck = record(retraction(target.id), 4)

    found = facts([target, other, fixed, struck], as_of=at("2030-01-01T00:00:00Z"))

    assert ids(found) == [other.id]


def test_a_correction_left_out_of_the_records_does_not_apply() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1)
    record(correction(target.id, replacement("raid", by=FOURTH, target="a farm")), 2)

    (found,) = facts([target])

    assert found.event == target.event
    assert found.corrected_by is None


def test_only_the_corrections_known_at_a_moment_apply() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1, recorded_at="2020-03-05T12:00:00Z")
    fixed = record(
        correction(target.id, replacement("raid", by=FOURTH, target="a farm")),
        2,
        recorded_at="2020-03-09T12:00:00Z",
    )
    known_at = at("2020-03-07")
    known = [r for r in (target, fixed) if r.recorded_at <= known_at]

    (found,) = facts(known)

    assert isinstance(found.event, Raid)
    assert found.event.target == "homes of wanted men"


def test_a_retraction_not_known_yet_leaves_its_target_folding() -> None:
    target = record(raid("2020-03-05T10:00:00Z"), 1, recorded_at="2020-03-05T12:00:00Z")
    struck = record(retraction(target.id), 2, recorded_at="2020-03-09T12:00:00Z")
    known_at = at("2020-03-07")
    known = [r for r in (target, struck) if r.recorded_at <= known_at]

    found = facts(known)

    assert ids(found) == [target.id]


def test_fold_applies_evolve_to_each_fact_in_order() -> None:
    taken = record(event("control.changed", controller=REBELS, mode="armed"), 1)
    retaken = record(
        event("control.changed", occurred_at="2020-03-06T10:00:00Z", controller=AFI, mode="armed"),
        2,
    )

    state = fold(town.TownState("karak-sharqi"), town.evolve, facts([retaken, taken]))

    assert state.controller is not None
    assert state.controller.name == AFI["name"]


def test_fold_of_no_facts_is_the_initial_state() -> None:
    initial = town.TownState("karak-sharqi")

    state = fold(initial, town.evolve, facts([]))

    assert state is initial
