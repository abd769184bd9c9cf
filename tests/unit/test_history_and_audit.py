"""A town's history of changes, and records annotated with their amendments."""

from __future__ import annotations

from typing import Any

from events.kinds import ReportedEvent
from events.record import Record
from projections import town
from projections.audit import Audited, audited
from projections.history import Change, history
from projections.replay import facts
from projections.town import Toll
from tests.make import (
    AFI,
    FOURTH,
    REBELS,
    RUSSIA,
    correction,
    event,
    record,
    replacement,
    retraction,
)

CHECKPOINT = "Air Force Intelligence checkpoint, Karak Sharqi"


def on(day: int, kind: str, **fields: Any) -> ReportedEvent:
    """An event of `kind` that occurred at 10:00 UTC on `day` March 2020."""
    return event(kind, occurred_at=f"2020-03-{day:02d}T10:00:00Z", **fields)


def timeline(records: list[Record]) -> list[Change]:
    """The history of Karak Sharqi folded from `records`."""
    return history("karak-sharqi", facts(records))


# history


def test_history_has_one_entry_per_folded_report_in_occurred_order() -> None:
    records = [
        record(on(5, "control.changed", controller=AFI, mode="armed"), 1),
        record(on(9, "town.encircled", by=[FOURTH]), 2),
        record(on(7, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS), 3),
    ]

    found = timeline(records)

    assert [change.fact.id for change in found] == [records[0].id, records[2].id, records[1].id]


def test_a_control_change_lists_only_the_fields_it_changed() -> None:
    records = [record(on(5, "control.changed", controller=AFI, mode="armed"), 1)]

    (change,) = timeline(records)

    assert set(change.changed) == {"controller", "status", "evidence"}
    assert change.changed["status"] == "controlled"
    assert change.changed["controller"] == town.Controller(AFI["name"], "government", "reported")


def test_a_report_that_changes_only_the_status_lists_only_the_status() -> None:
    records = [
        record(on(5, "control.changed", controller=AFI, mode="armed"), 1),
        record(on(7, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS), 2),
    ]

    change = timeline(records)[1]

    assert change.changed["status"] == "contested"
    assert "controller" not in change.changed
    assert "besieged_by" not in change.changed


def test_a_report_that_sets_a_field_to_its_current_value_lists_no_change_of_it() -> None:
    records = [
        record(on(5, "control.changed", controller=AFI, mode="armed"), 1),
        record(on(6, "town.encircled", by=[FOURTH]), 2),
        record(on(7, "control.changed", controller=AFI, mode="armed"), 3),
    ]

    change = timeline(records)[2]

    assert set(change.changed) == {"evidence"}


def test_a_report_with_no_effect_on_the_town_lists_no_change() -> None:
    records = [record(on(5, "negotiation.held", parties=[REBELS, AFI], mediator=RUSSIA), 1)]

    (change,) = timeline(records)

    assert change.changed == {}


def test_fatalities_show_in_history_as_the_new_sum() -> None:
    records = [
        record(on(5, "clash", sides=[REBELS, AFI], fatalities={"low": 1, "best": 2, "high": 3}), 1),
        record(on(6, "clash", sides=[REBELS, AFI], fatalities={"low": 1, "best": 1, "high": 1}), 2),
    ]

    found = timeline(records)

    assert [change.changed for change in found] == [
        {"fatalities": Toll(low=1, best=2, high=3)},
        {"fatalities": Toll(low=2, best=3, high=4)},
    ]


def test_a_retracted_report_has_no_entry_in_history() -> None:
    taken = record(on(5, "control.changed", controller=AFI, mode="armed"), 1)
    records = [taken, record(retraction(taken.id), 2)]

    found = timeline(records)

    assert found == []


def test_a_corrected_report_shows_in_history_as_corrected() -> None:
    taken = record(on(5, "control.changed", controller=AFI, mode="armed"), 1)
    fixed = replacement(
        "control.changed", occurred_at="2020-03-05T10:00:00Z", controller=REBELS, mode="armed"
    )
    records = [taken, record(correction(taken.id, fixed), 2)]

    (change,) = timeline(records)

    controller = change.changed["controller"]
    assert isinstance(controller, town.Controller)
    assert controller.name == REBELS["name"]


# audit


def test_a_record_without_amendments_is_neither_retracted_nor_corrected() -> None:
    plain = record(on(5, "raid", by=AFI, target="homes"), 1)

    (found,) = audited([plain], [])

    assert found == Audited(plain, None, ())


def test_a_retracted_record_names_its_retraction() -> None:
    target = record(on(5, "raid", by=AFI, target="homes"), 1)
    struck = record(retraction(target.id), 2)

    (found,) = audited([target], [struck])

    assert found.retracted_by == struck.id
    assert found.corrected_by == ()


def test_a_corrected_record_names_its_corrections_in_position_order() -> None:
    target = record(on(5, "raid", by=AFI, target="homes"), 1)
    first = record(correction(target.id, replacement("raid", by=AFI, target="farms")), 2)
    second = record(correction(target.id, replacement("raid", by=AFI, target="shops")), 5)

    (found,) = audited([target], [second, first])

    assert found.corrected_by == (first.id, second.id)
    assert found.retracted_by is None


def test_amendments_of_other_records_are_not_attached() -> None:
    target = record(on(5, "raid", by=AFI, target="homes"), 1)
    other = record(on(6, "raid", by=AFI, target="farms"), 2)
    struck = record(retraction(other.id), 3)
    fixed = record(correction(other.id, replacement("raid", by=AFI, target="shops")), 4)

    found = audited([target, other], [struck, fixed])

    assert found == [Audited(target, None, ()), Audited(other, struck.id, (fixed.id,))]


def test_audit_keeps_the_records_in_the_order_given() -> None:
    first = record(on(9, "raid", by=AFI, target="homes"), 1)
    second = record(on(5, "raid", by=AFI, target="farms"), 2)
    struck = record(retraction(first.id), 3)

    found = audited([first, second, struck], [struck])

    assert [entry.record for entry in found] == [first, second, struck]
