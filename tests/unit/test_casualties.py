"""Fatality sums grouped by town, province, side or month."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.kinds import ReportedEvent
from projections.casualties import GroupBy, Tally, casualties
from projections.replay import facts
from tests.make import AFI, EIGHTH, FOURTH, REBELS, actor, at, event, record


def on(day: int, kind: str, **fields: Any) -> ReportedEvent:
    """An event of `kind` that occurred at 10:00 UTC on `day` March 2020."""
    return event(kind, occurred_at=f"2020-03-{day:02d}T10:00:00Z", **fields)


def dead(low: int, best: int, high: int) -> dict[str, int]:
    """A fatality estimate as JSON."""
    return {"low": low, "best": best, "high": high}


def tallies(
    *events: ReportedEvent,
    group_by: GroupBy = "town",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Tally]:
    """The casualty tallies of `events`, recorded at positions 1, 2, 3 …"""
    records = [record(e, position) for position, e in enumerate(events, start=1)]
    return casualties(facts(records), group_by, since, until)


def registered(town: str, province: str, day: int = 1) -> ReportedEvent:
    """The registration of `town` in `province`."""
    return on(day, "town.registered", town=town, name=town.title(), province=province)


def test_fatalities_are_summed_per_town() -> None:
    found = tallies(
        on(5, "clash", sides=[REBELS, AFI], fatalities=dead(3, 4, 6)),
        on(6, "attack", method="ied", fatalities=dead(1, 1, 2)),
        on(6, "attack", town="nawa", method="shooting", fatalities=dead(2, 2, 2)),
    )

    assert found == [Tally("karak-sharqi", 4, 5, 8, 2), Tally("nawa", 2, 2, 2, 1)]


def test_reports_without_fatalities_are_not_counted() -> None:
    found = tallies(
        on(5, "clash", sides=[REBELS, AFI], fatalities=dead(3, 4, 6)),
        on(6, "raid", by=AFI, target="homes"),
    )

    assert found == [Tally("karak-sharqi", 3, 4, 6, 1)]


def test_statistics_are_never_summed() -> None:
    found = tallies(
        on(5, "clash", sides=[REBELS, AFI], fatalities=dead(3, 4, 6)),
        on(
            11,
            "statistic.reported",
            metric="killed",
            value=dead(225, 225, 225),
            since="2019-06-01T00:00:00Z",
            subject="pro-Assad troops",
            fatalities=dead(225, 225, 225),
        ),
    )

    assert found == [Tally("karak-sharqi", 3, 4, 6, 1)]


def test_fatalities_are_summed_per_province_of_the_towns_registration() -> None:
    found = tallies(
        registered("karak-sharqi", "Daraa"),
        registered("nawa", "Daraa"),
        registered("douma", "Rif Dimashq"),
        on(5, "attack", method="ied", fatalities=dead(1, 1, 1)),
        on(6, "attack", town="nawa", method="ied", fatalities=dead(2, 2, 2)),
        on(7, "attack", town="douma", method="ied", fatalities=dead(4, 4, 4)),
        group_by="province",
    )

    assert found == [Tally("Daraa", 3, 3, 3, 2), Tally("Rif Dimashq", 4, 4, 4, 1)]


def test_a_town_never_registered_counts_under_an_unknown_province() -> None:
    found = tallies(
        on(6, "attack", town="nawa", method="ied", fatalities=dead(2, 2, 2)),
        group_by="province",
    )

    assert found == [Tally("unknown", 2, 2, 2, 1)]


def test_the_province_is_that_of_the_towns_latest_registration() -> None:
    found = tallies(
        registered("nawa", "Quneitra", day=1),
        on(6, "attack", town="nawa", method="ied", fatalities=dead(2, 2, 2)),
        registered("nawa", "Daraa", day=8),
        group_by="province",
    )

    assert found == [Tally("Daraa", 2, 2, 2, 1)]


def test_a_town_registered_after_its_events_occurred_counts_under_its_province() -> None:
    found = tallies(
        on(6, "attack", town="nawa", method="ied", fatalities=dead(2, 2, 2)),
        registered("nawa", "Daraa", day=8),
        group_by="province",
    )

    assert found == [Tally("Daraa", 2, 2, 2, 1)]


def test_a_clash_counts_under_each_side_that_took_part() -> None:
    found = tallies(
        on(5, "clash", sides=[REBELS, AFI], fatalities=dead(3, 4, 6)),
        group_by="side",
    )

    assert found == [Tally("government", 3, 4, 6, 1), Tally("opposition", 3, 4, 6, 1)]


def test_a_side_named_twice_in_one_event_counts_once() -> None:
    found = tallies(
        on(5, "clash", sides=[FOURTH, AFI, REBELS], fatalities=dead(3, 4, 6)),
        group_by="side",
    )

    assert Tally("government", 3, 4, 6, 1) in found


def test_sides_are_taken_from_every_field_naming_a_party() -> None:
    found = tallies(
        on(
            5,
            "checkpoint.seized",
            checkpoint="AFI checkpoint",
            by=REBELS,
            from_=AFI,
            fatalities=dead(1, 1, 1),
        ),
        on(6, "forces.entered", forces=[EIGHTH], mode="negotiated", fatalities=dead(2, 2, 2)),
        group_by="side",
    )

    assert found == [
        Tally("government", 1, 1, 1, 1),
        Tally("opposition", 1, 1, 1, 1),
        Tally("russia", 2, 2, 2, 1),
    ]


def test_an_event_naming_no_side_counts_under_unknown() -> None:
    found = tallies(
        on(5, "attack", method="car_bomb", fatalities=dead(9, 10, 12)),
        group_by="side",
    )

    assert found == [Tally("unknown", 9, 10, 12, 1)]


def test_an_actor_of_unknown_side_counts_under_unknown_with_events_naming_no_side() -> None:
    found = tallies(
        on(5, "attack", method="car_bomb", fatalities=dead(9, 10, 12)),
        on(6, "attack", method="shooting", by=actor("Gunmen", "unknown"), fatalities=dead(1, 1, 1)),
        group_by="side",
    )

    assert found == [Tally("unknown", 10, 11, 13, 2)]


def test_fatalities_are_summed_per_month_of_occurrence() -> None:
    found = tallies(
        event("attack", occurred_at="2020-02-29T23:00:00Z", method="ied", fatalities=dead(1, 1, 1)),
        event("attack", occurred_at="2020-03-01T00:00:00Z", method="ied", fatalities=dead(2, 2, 2)),
        event("attack", occurred_at="2020-03-31T23:59:59Z", method="ied", fatalities=dead(4, 4, 4)),
        group_by="month",
    )

    assert found == [Tally("2020-02", 1, 1, 1, 1), Tally("2020-03", 6, 6, 6, 2)]


def test_the_bounds_are_inclusive() -> None:
    found = tallies(
        event("attack", occurred_at="2020-03-04T23:59:59Z", method="ied", fatalities=dead(1, 1, 1)),
        event("attack", occurred_at="2020-03-05T00:00:00Z", method="ied", fatalities=dead(2, 2, 2)),
        event("attack", occurred_at="2020-03-06T23:59:59Z", method="ied", fatalities=dead(4, 4, 4)),
        event("attack", occurred_at="2020-03-07T00:00:00Z", method="ied", fatalities=dead(8, 8, 8)),
        since=at("2020-03-05T00:00:00Z"),
        until=at("2020-03-06T23:59:59Z"),
    )

    assert found == [Tally("karak-sharqi", 6, 6, 6, 2)]


def test_an_open_lower_bound_takes_everything_up_to_the_upper_one() -> None:
    found = tallies(
        event("attack", occurred_at="2019-01-01T00:00:00Z", method="ied", fatalities=dead(1, 1, 1)),
        event("attack", occurred_at="2020-03-07T00:00:00Z", method="ied", fatalities=dead(8, 8, 8)),
        until=at("2020-03-06T23:59:59Z"),
    )

    assert found == [Tally("karak-sharqi", 1, 1, 1, 1)]


def test_an_open_upper_bound_takes_everything_from_the_lower_one() -> None:
    found = tallies(
        event("attack", occurred_at="2019-01-01T00:00:00Z", method="ied", fatalities=dead(1, 1, 1)),
        event("attack", occurred_at="2030-03-07T00:00:00Z", method="ied", fatalities=dead(8, 8, 8)),
        since=at("2020-01-01T00:00:00Z"),
    )

    assert found == [Tally("karak-sharqi", 8, 8, 8, 1)]


def test_the_province_of_a_registration_before_the_bounds_still_applies() -> None:
    found = tallies(
        registered("nawa", "Daraa", day=1),
        on(6, "attack", town="nawa", method="ied", fatalities=dead(2, 2, 2)),
        group_by="province",
        since=at("2020-03-05T00:00:00Z"),
    )

    assert found == [Tally("Daraa", 2, 2, 2, 1)]
