"""The captive ledger: counts, status and custody chain of every captive group."""

from __future__ import annotations

from typing import Any

import pytest

from events.kinds import ReportedEvent
from events.record import Record
from projections import captives
from projections.anomalies import Anomaly
from projections.captives import Custody, Ledger
from projections.replay import facts, fold
from tests.make import AFI, EIGHTH, FOURTH, REBELS, RUSSIA, as_actor, at, event, record

GROUP = "karak-sharqi-checkpoint-troops"


def recorded(*events: ReportedEvent) -> list[Record]:
    """The events recorded at positions 1, 2, 3 …"""
    return [record(e, position) for position, e in enumerate(events, start=1)]


def ledger_of(records: list[Record]) -> Ledger:
    """The ledger folded from `records`."""
    return fold(captives.empty_ledger(), captives.evolve, facts(records))


def on(day: int, kind: str, **fields: Any) -> ReportedEvent:
    """An event of `kind` that occurred at 10:00 UTC on `day` March 2020."""
    return event(kind, occurred_at=f"2020-03-{day:02d}T10:00:00Z", **fields)


def taken(count: int = 7, group: str = GROUP, day: int = 4, **fields: Any) -> ReportedEvent:
    """Rebels take `count` 4th Division soldiers captive as `group`."""
    return on(
        day,
        "captives.taken",
        group=group,
        captor=REBELS,
        count=count,
        affiliation=FOURTH,
        description="soldiers including two officers",
        **fields,
    )


def codes(anomalies: tuple[Anomaly, ...]) -> list[str]:
    """The codes of `anomalies`, in order."""
    return [anomaly.code for anomaly in anomalies]


# captives.taken


def test_a_capture_starts_a_group_held_by_its_captor() -> None:
    records = recorded(taken(7))

    group = ledger_of(records).groups[GROUP]

    assert group.holder == as_actor(REBELS)
    assert group.role == "party"
    assert (group.taken, group.held, group.released, group.killed) == (7, 7, 0, 0)
    assert group.status == "held"
    assert group.affiliation == as_actor(FOURTH)
    assert group.description == "soldiers including two officers"
    assert group.split_from is None


def test_the_custody_chain_starts_with_the_captor_as_party() -> None:
    records = recorded(taken())

    group = ledger_of(records).groups[GROUP]

    assert group.custody == (
        Custody(as_actor(REBELS), "party", at("2020-03-04T10:00:00Z"), records[0].id),
    )


def test_captives_are_held_in_the_events_town_by_default() -> None:
    records = recorded(taken())

    group = ledger_of(records).groups[GROUP]

    assert group.held_at == "karak-sharqi"


def test_captives_are_held_where_the_capture_says() -> None:
    records = recorded(taken(held_at="western-daraa"))

    group = ledger_of(records).groups[GROUP]

    assert group.held_at == "western-daraa"


def test_a_second_capture_of_a_group_changes_nothing_and_is_listed() -> None:
    records = recorded(
        taken(7), on(5, "captives.taken", group=GROUP, captor=AFI, count=3, affiliation=REBELS)
    )

    group = ledger_of(records).groups[GROUP]

    assert group.holder == as_actor(REBELS)
    assert (group.taken, group.held) == (7, 7)
    assert group.affiliation == as_actor(FOURTH)
    assert len(group.custody) == 1
    assert codes(group.anomalies) == ["duplicate_capture"]
    assert group.anomalies[0].events == (records[1].id,)


# captives.transferred: the whole group


def test_a_transfer_to_a_party_moves_the_whole_group() -> None:
    records = recorded(taken(7), on(6, "captives.transferred", group=GROUP, to=AFI, role="party"))

    group = ledger_of(records).groups[GROUP]

    assert group.holder == as_actor(AFI)
    assert group.role == "party"
    assert group.status == "held"
    assert (group.taken, group.held) == (7, 7)


@pytest.mark.parametrize("role", ["neutral", "intermediary"])
def test_a_transfer_to_a_go_between_leaves_the_group_with_an_intermediary(role: str) -> None:
    records = recorded(taken(7), on(9, "captives.transferred", group=GROUP, to=EIGHTH, role=role))

    group = ledger_of(records).groups[GROUP]

    assert group.holder == as_actor(EIGHTH)
    assert group.role == role
    assert group.status == "with_intermediary"


def test_a_transfer_adds_a_link_to_the_custody_chain() -> None:
    records = recorded(
        taken(7), on(9, "captives.transferred", group=GROUP, to=EIGHTH, role="neutral")
    )

    group = ledger_of(records).groups[GROUP]

    assert group.custody == (
        Custody(as_actor(REBELS), "party", at("2020-03-04T10:00:00Z"), records[0].id),
        Custody(as_actor(EIGHTH), "neutral", at("2020-03-09T10:00:00Z"), records[1].id),
    )


def test_a_transfer_of_as_many_as_held_moves_the_whole_group_and_no_new_one() -> None:
    records = recorded(
        taken(7),
        on(
            9,
            "captives.transferred",
            group=GROUP,
            to=EIGHTH,
            role="neutral",
            count=7,
            new_group="part",
        ),
    )

    ledger = ledger_of(records)

    assert set(ledger.groups) == {GROUP}
    assert ledger.groups[GROUP].holder == as_actor(EIGHTH)
    assert ledger.groups[GROUP].held == 7
    assert ledger.groups[GROUP].anomalies == ()


def test_a_transfer_of_more_than_held_moves_the_whole_group_and_is_listed() -> None:
    records = recorded(
        taken(7),
        on(
            9,
            "captives.transferred",
            group=GROUP,
            to=EIGHTH,
            role="neutral",
            count=9,
            new_group="part",
        ),
    )

    ledger = ledger_of(records)

    assert set(ledger.groups) == {GROUP}
    assert ledger.groups[GROUP].holder == as_actor(EIGHTH)
    assert ledger.groups[GROUP].held == 7
    assert codes(ledger.groups[GROUP].anomalies) == ["count_exceeds_held"]


def test_a_transfer_does_not_change_where_captives_are_held() -> None:
    records = recorded(
        taken(7, held_at="western-daraa"),
        on(9, "captives.transferred", group=GROUP, to=EIGHTH, role="neutral", town="bosra"),
    )

    group = ledger_of(records).groups[GROUP]

    assert group.held_at == "western-daraa"


def test_a_transfer_of_a_group_with_nobody_held_moves_nothing_and_is_listed() -> None:
    records = recorded(
        taken(7),
        on(8, "captives.released", group=GROUP),
        on(9, "captives.transferred", group=GROUP, to=EIGHTH, role="neutral"),
    )

    group = ledger_of(records).groups[GROUP]

    assert group.holder == as_actor(REBELS)
    assert group.status == "released"
    assert codes(group.anomalies) == ["count_exceeds_held"]


# captives.transferred: part of the group


def partial(count: int, new_group: str = "officers", role: str = "party") -> ReportedEvent:
    """`count` of the group handed to Air Force Intelligence as `new_group`."""
    return on(
        8, "captives.transferred", group=GROUP, to=AFI, role=role, count=count, new_group=new_group
    )


def test_a_partial_transfer_moves_that_many_into_a_new_group_under_the_receiver() -> None:
    records = recorded(taken(7), partial(2))

    new = ledger_of(records).groups["officers"]

    assert new.holder == as_actor(AFI)
    assert new.role == "party"
    assert new.status == "held"
    assert (new.taken, new.held, new.released, new.killed) == (2, 2, 0, 0)
    assert new.split_from == GROUP


def test_a_partial_transfer_to_a_neutral_party_leaves_the_new_group_with_an_intermediary() -> None:
    records = recorded(taken(7), partial(2, role="neutral"))

    ledger = ledger_of(records)

    assert ledger.groups["officers"].status == "with_intermediary"
    assert ledger.groups[GROUP].status == "held"


def test_a_partial_transfer_leaves_the_rest_with_the_original_holder() -> None:
    records = recorded(taken(7), partial(2))

    original = ledger_of(records).groups[GROUP]

    assert original.holder == as_actor(REBELS)
    assert (original.taken, original.held) == (7, 5)
    assert original.status == "held"
    assert len(original.custody) == 1


def test_a_new_group_inherits_where_held_affiliation_description_and_custody() -> None:
    records = recorded(taken(7, held_at="western-daraa"), partial(2))

    new = ledger_of(records).groups["officers"]

    assert new.held_at == "western-daraa"
    assert new.affiliation == as_actor(FOURTH)
    assert new.description == "soldiers including two officers"
    assert new.custody == (
        Custody(as_actor(REBELS), "party", at("2020-03-04T10:00:00Z"), records[0].id),
        Custody(as_actor(AFI), "party", at("2020-03-08T10:00:00Z"), records[1].id),
    )


def test_a_partial_transfer_into_an_existing_group_moves_nothing_and_is_listed() -> None:
    records = recorded(taken(7), taken(3, group="officers", day=5), partial(2))

    ledger = ledger_of(records)

    assert ledger.groups[GROUP].held == 7
    assert ledger.groups["officers"].held == 3
    assert ledger.groups["officers"].holder == as_actor(REBELS)
    assert codes(ledger.groups[GROUP].anomalies) == ["group_exists"]
    assert ledger.groups[GROUP].anomalies[0].events == (records[2].id,)


# captives.released and captives.killed


def test_a_release_of_some_leaves_the_rest_held() -> None:
    records = recorded(taken(7), on(9, "captives.released", group=GROUP, count=3))

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.released, group.killed) == (4, 3, 0)
    assert group.status == "held"


def test_a_release_without_count_frees_all_held() -> None:
    records = recorded(taken(7), on(9, "captives.released", group=GROUP, to=AFI))

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.released) == (0, 7)
    assert group.status == "released"


def test_a_killing_of_some_leaves_the_rest_held() -> None:
    records = recorded(taken(7), on(9, "captives.killed", group=GROUP, count=2))

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.released, group.killed) == (5, 0, 2)
    assert group.status == "held"


def test_a_killing_of_all_held_leaves_the_group_killed() -> None:
    records = recorded(taken(7), on(9, "captives.killed", group=GROUP))

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.killed) == (0, 7)
    assert group.status == "killed"


def test_a_group_both_released_and_killed_down_to_none_held_is_resolved() -> None:
    records = recorded(
        taken(7),
        on(8, "captives.killed", group=GROUP, count=2),
        on(9, "captives.released", group=GROUP),
    )

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.released, group.killed) == (0, 5, 2)
    assert group.status == "resolved"


def test_a_group_with_an_intermediary_released_in_full_is_released() -> None:
    records = recorded(
        taken(7),
        on(9, "captives.transferred", group=GROUP, to=EIGHTH, role="neutral"),
        on(12, "captives.released", group=GROUP, to=AFI),
    )

    group = ledger_of(records).groups[GROUP]

    assert group.status == "released"
    assert group.holder == as_actor(EIGHTH)


def test_a_release_of_more_than_held_is_capped_and_listed() -> None:
    records = recorded(taken(7), on(9, "captives.released", group=GROUP, count=10))

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.released) == (0, 7)
    assert group.status == "released"
    assert codes(group.anomalies) == ["count_exceeds_held"]
    assert group.anomalies[0].events == (records[1].id,)


def test_a_killing_of_more_than_held_is_capped_and_listed() -> None:
    records = recorded(
        taken(7),
        on(8, "captives.released", group=GROUP, count=5),
        on(9, "captives.killed", group=GROUP, count=4),
    )

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.released, group.killed) == (0, 5, 2)
    assert group.status == "resolved"
    assert codes(group.anomalies) == ["count_exceeds_held"]
    assert group.anomalies[0].events == (records[2].id,)


def test_a_release_from_a_group_with_nobody_held_is_listed() -> None:
    records = recorded(
        taken(7),
        on(8, "captives.released", group=GROUP),
        on(9, "captives.released", group=GROUP, count=2),
    )

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.released) == (0, 7)
    assert codes(group.anomalies) == ["count_exceeds_held"]
    assert group.anomalies[0].events == (records[2].id,)


def test_a_killing_reported_after_all_were_released_is_listed_and_changes_nothing() -> None:
    records = recorded(
        taken(7),
        on(8, "captives.released", group=GROUP),
        on(9, "captives.killed", group=GROUP),
    )

    group = ledger_of(records).groups[GROUP]

    assert (group.held, group.released, group.killed, group.status) == (0, 7, 0, "released")
    assert codes(group.anomalies) == ["count_exceeds_held"]
    assert group.anomalies[0].events == (records[2].id,)


# unknown groups


@pytest.mark.parametrize(
    "orphan",
    [
        on(9, "captives.transferred", group="nobody-knows", to=EIGHTH, role="neutral"),
        on(9, "captives.released", group="nobody-knows"),
        on(9, "captives.killed", group="nobody-knows", count=2),
    ],
    ids=["transferred", "released", "killed"],
)
def test_a_report_on_an_unknown_group_changes_nothing_and_is_listed(
    orphan: ReportedEvent,
) -> None:
    records = recorded(taken(7), orphan)

    ledger = ledger_of(records)

    assert set(ledger.groups) == {GROUP}
    assert ledger.groups[GROUP] == ledger_of(records[:1]).groups[GROUP]
    assert codes(ledger.anomalies) == ["unknown_group"]
    assert ledger.anomalies[0].events == (records[1].id,)


# out of order


def test_a_transfer_recorded_before_the_capture_folds_in_occurred_order() -> None:
    handover = record(on(9, "captives.transferred", group=GROUP, to=EIGHTH, role="neutral"), 1)
    capture = record(taken(7, day=4), 2)

    ledger = ledger_of([handover, capture])

    group = ledger.groups[GROUP]
    assert group.holder == as_actor(EIGHTH)
    assert group.status == "with_intermediary"
    assert [link.event for link in group.custody] == [capture.id, handover.id]
    assert ledger.anomalies == ()
    assert group.anomalies == ()


def test_a_transfer_that_occurred_before_the_capture_is_an_unknown_group() -> None:
    records = recorded(
        on(3, "captives.transferred", group=GROUP, to=EIGHTH, role="neutral"), taken(7, day=4)
    )

    ledger = ledger_of(records)

    assert ledger.groups[GROUP].holder == as_actor(REBELS)
    assert codes(ledger.anomalies) == ["unknown_group"]


# remains and where captives are held


def test_remains_handed_over_are_an_entry_of_the_ledger() -> None:
    records = recorded(on(6, "remains.handed_over", count=5, from_=REBELS, to=AFI, via=RUSSIA))

    ledger = ledger_of(records)

    assert ledger.remains == (
        captives.Remains(
            count=5,
            from_=as_actor(REBELS),
            to=as_actor(AFI),
            via=as_actor(RUSSIA),
            town="karak-sharqi",
            occurred_at=at("2020-03-06T10:00:00Z"),
            event=records[0].id,
        ),
    )
    assert dict(ledger.groups) == {}


def test_reports_of_other_kinds_leave_the_ledger_as_it_is() -> None:
    records = recorded(on(5, "control.changed", controller=REBELS, mode="armed"))

    ledger = ledger_of(records)

    assert ledger == captives.empty_ledger()


def test_held_at_sums_the_captives_held_in_a_town_whoever_holds_them() -> None:
    records = recorded(
        taken(7, held_at="karak-sharqi"),
        taken(4, group="farmers", held_at="karak-sharqi", day=5),
        taken(3, group="elsewhere", held_at="western-daraa", day=5),
        on(9, "captives.transferred", group="farmers", to=EIGHTH, role="neutral"),
        on(10, "captives.released", group=GROUP, count=2),
    )

    ledger = ledger_of(records)

    assert ledger.held_at("karak-sharqi") == 9
    assert ledger.held_at("western-daraa") == 3
    assert ledger.held_at("bosra") == 0


def test_held_at_counts_a_split_off_group_where_the_original_was_held() -> None:
    records = recorded(taken(7, held_at="western-daraa"), partial(2))

    ledger = ledger_of(records)

    assert ledger.held_at("western-daraa") == 7
