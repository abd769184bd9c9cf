"""Town control folds each report by the control table of the domain contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.kinds import ReportedEvent
from events.record import Record
from events.values import Estimate
from projections import town
from projections.replay import facts, fold
from tests.make import AFI, EIGHTH, FOURTH, REBELS, RUSSIA, actor, as_actor, at, event, record

CHECKPOINT = "Air Force Intelligence checkpoint, Karak Sharqi"


def recorded(*events: ReportedEvent) -> list[Record]:
    """The events recorded at positions 1, 2, 3 …"""
    return [record(e, position) for position, e in enumerate(events, start=1)]


def state_of(records: list[Record], as_of: datetime | None = None) -> town.TownState:
    """The town folded from `records`."""
    return fold(town.TownState("karak-sharqi"), town.evolve, facts(records, as_of))


def on(day: int, kind: str, **fields: Any) -> ReportedEvent:
    """An event of `kind` that occurred at 10:00 UTC on `day` March 2020."""
    return event(kind, occurred_at=f"2020-03-{day:02d}T10:00:00Z", **fields)


def codes(state: town.TownState) -> list[str]:
    """The codes of the town's anomalies, in order."""
    return [anomaly.code for anomaly in state.anomalies]


def test_a_town_with_no_reports_has_unknown_status() -> None:
    state = state_of([])

    assert state.status == "unknown"
    assert state.controller is None
    assert state.last_event_at is None


# town.registered


def test_a_registration_without_controller_sets_gazetteer_data_only() -> None:
    registered = recorded(
        on(1, "town.registered", name="Karak Sharqi", province="Daraa", lat=32.69, lon=36.35)
    )

    state = state_of(registered)

    assert (state.name, state.province) == ("Karak Sharqi", "Daraa")
    assert state.location == town.Location(32.69, 36.35)
    assert state.status == "unknown"
    assert state.controller is None


def test_a_registration_with_controller_sets_control() -> None:
    registered = recorded(
        on(1, "town.registered", name="Karak Sharqi", province="Daraa", controller=AFI)
    )

    state = state_of(registered)

    assert state.status == "controlled"
    assert state.controller == town.Controller(AFI["name"], "government", "reported")
    assert state.evidence.controller == registered[0].id


def test_a_registration_without_controller_leaves_control_as_it_was() -> None:
    records = recorded(
        on(1, "control.changed", controller=REBELS, mode="armed"),
        on(2, "town.registered", name="Karak Sharqi", province="Daraa"),
    )

    state = state_of(records)

    assert state.status == "controlled"
    assert state.controller is not None
    assert state.controller.name == REBELS["name"]


# control.changed


def test_a_control_change_sets_the_controller_and_status_controlled() -> None:
    records = recorded(on(5, "control.changed", controller=REBELS, mode="negotiated"))

    state = state_of(records)

    assert state.status == "controlled"
    assert state.controller == town.Controller(REBELS["name"], "opposition", "reported")


def test_the_controller_carries_the_certainty_of_the_report_that_set_it() -> None:
    records = recorded(
        on(5, "control.changed", controller=REBELS, mode="armed", certainty="claimed")
    )

    state = state_of(records)

    assert state.controller is not None
    assert state.controller.certainty == "claimed"


def test_a_control_change_sets_the_evidence_for_controller_and_status() -> None:
    records = recorded(on(5, "control.changed", controller=REBELS, mode="armed"))

    state = state_of(records)

    assert state.evidence.controller == records[0].id
    assert state.evidence.status == records[0].id


# forces.entered and forces.withdrew


def test_forces_entering_by_force_take_control_for_the_first_of_them() -> None:
    records = recorded(on(11, "forces.entered", forces=[FOURTH, AFI], mode="forced"))

    state = state_of(records)

    assert state.status == "controlled"
    assert state.controller is not None
    assert state.controller.name == FOURTH["name"]
    assert state.evidence.controller == records[0].id


def test_forces_entering_by_negotiation_take_control() -> None:
    records = recorded(on(11, "forces.entered", forces=[EIGHTH], mode="negotiated"))

    state = state_of(records)

    assert state.controller is not None
    assert state.controller.name == EIGHTH["name"]


def test_a_patrol_does_not_change_control() -> None:
    records = recorded(
        on(5, "control.changed", controller=REBELS, mode="armed"),
        on(6, "forces.entered", forces=[RUSSIA], mode="patrol"),
    )

    state = state_of(records)

    assert state.controller is not None
    assert state.controller.name == REBELS["name"]
    assert state.evidence.controller == records[0].id
    assert state.evidence.status == records[0].id


def test_a_patrol_joins_the_forces_present() -> None:
    records = recorded(on(6, "forces.entered", forces=[RUSSIA], mode="patrol"))

    state = state_of(records)

    assert state.forces_present == (as_actor(RUSSIA),)
    assert state.status == "unknown"


def test_forces_present_are_a_set_by_name() -> None:
    records = recorded(
        on(6, "forces.entered", forces=[FOURTH, AFI], mode="forced"),
        on(7, "forces.entered", forces=[FOURTH, RUSSIA], mode="patrol"),
    )

    state = state_of(records)

    assert sorted(a.name for a in state.forces_present) == sorted(
        [FOURTH["name"], AFI["name"], RUSSIA["name"]]
    )


def test_forces_that_withdrew_leave_the_forces_present() -> None:
    records = recorded(
        on(6, "forces.entered", forces=[FOURTH, AFI], mode="forced"),
        on(7, "forces.withdrew", forces=[FOURTH]),
    )

    state = state_of(records)

    assert state.forces_present == (as_actor(AFI),)


def test_forces_are_matched_by_name_when_they_withdraw() -> None:
    renamed_side = actor(FOURTH["name"], "unknown")
    records = recorded(
        on(6, "forces.entered", forces=[FOURTH], mode="forced"),
        on(7, "forces.withdrew", forces=[renamed_side]),
    )

    state = state_of(records)

    assert state.forces_present == ()
    assert state.anomalies == ()


def test_a_withdrawal_leaves_control_as_it_was() -> None:
    records = recorded(
        on(6, "forces.entered", forces=[FOURTH], mode="forced"),
        on(7, "forces.withdrew", forces=[FOURTH]),
    )

    state = state_of(records)

    assert state.status == "controlled"
    assert state.controller is not None
    assert state.controller.name == FOURTH["name"]
    assert state.evidence.controller == records[0].id


# checkpoint.seized


def test_a_seizure_sets_the_checkpoint_holder_and_since() -> None:
    records = recorded(
        on(5, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS, from_=AFI, certainty="claimed")
    )

    state = state_of(records)

    assert state.checkpoints == (
        town.Checkpoint(
            CHECKPOINT, as_actor(REBELS), at("2020-03-05T10:00:00Z"), records[0].id, "claimed"
        ),
    )


def test_a_second_seizure_replaces_the_holder_of_that_checkpoint_only() -> None:
    records = recorded(
        on(5, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS),
        on(6, "checkpoint.seized", checkpoint="Western checkpoint", by=REBELS),
        on(7, "checkpoint.seized", checkpoint=CHECKPOINT, by=FOURTH),
    )

    state = state_of(records)

    holders = {c.name: (c.holder.name, c.since, c.event) for c in state.checkpoints}
    assert holders == {
        CHECKPOINT: (FOURTH["name"], at("2020-03-07T10:00:00Z"), records[2].id),
        "Western checkpoint": (REBELS["name"], at("2020-03-06T10:00:00Z"), records[1].id),
    }


def test_a_seizure_from_a_controller_of_another_side_makes_the_town_contested() -> None:
    records = recorded(
        on(1, "control.changed", controller=AFI, mode="armed"),
        on(5, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS),
    )

    state = state_of(records)

    assert state.status == "contested"
    assert state.evidence.status == records[1].id
    assert state.evidence.controller == records[0].id


def test_a_seizure_by_the_controllers_side_leaves_the_town_controlled() -> None:
    records = recorded(
        on(1, "control.changed", controller=AFI, mode="armed"),
        on(5, "checkpoint.seized", checkpoint=CHECKPOINT, by=FOURTH),
    )

    state = state_of(records)

    assert state.status == "controlled"
    assert state.evidence.status == records[0].id


def test_a_seizure_in_a_town_without_controller_does_not_make_it_contested() -> None:
    records = recorded(on(5, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS))

    state = state_of(records)

    assert state.status == "unknown"
    assert state.evidence.status is None


def test_a_seizure_does_not_change_the_controller() -> None:
    records = recorded(
        on(1, "control.changed", controller=AFI, mode="armed"),
        on(5, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS),
    )

    state = state_of(records)

    assert state.controller is not None
    assert state.controller.name == AFI["name"]


# town.encircled and encirclement.lifted


def test_an_encirclement_sets_who_besieges_the_town() -> None:
    records = recorded(on(5, "town.encircled", by=[FOURTH, AFI]))

    state = state_of(records)

    assert state.besieged_by == (as_actor(FOURTH), as_actor(AFI))
    assert state.evidence.besieged_by == records[0].id


def test_a_second_encirclement_replaces_the_besiegers() -> None:
    records = recorded(
        on(5, "town.encircled", by=[FOURTH, AFI]),
        on(6, "town.encircled", by=[EIGHTH]),
    )

    state = state_of(records)

    assert state.besieged_by == (as_actor(EIGHTH),)
    assert state.evidence.besieged_by == records[1].id


def test_lifting_an_encirclement_empties_the_besiegers() -> None:
    records = recorded(
        on(5, "town.encircled", by=[FOURTH]),
        on(9, "encirclement.lifted", by=[RUSSIA]),
    )

    state = state_of(records)

    assert state.besieged_by == ()
    assert state.evidence.besieged_by == records[1].id


def test_an_encirclement_leaves_control_as_it_was() -> None:
    records = recorded(
        on(1, "control.changed", controller=REBELS, mode="armed"),
        on(5, "town.encircled", by=[FOURTH]),
    )

    state = state_of(records)

    assert state.status == "controlled"
    assert state.controller is not None
    assert state.controller.name == REBELS["name"]


# agreement.reached


def agreement(day: int, *terms: str, slug: str = "karak-sharqi-2020-03") -> ReportedEvent:
    """An agreement between rebels and the government with terms of the given types."""
    return on(
        day,
        "agreement.reached",
        agreement=slug,
        parties=[REBELS, AFI],
        mediator=RUSSIA,
        terms=[{"type": t} for t in terms],
    )


def test_a_no_entry_term_puts_a_controlled_town_under_truce() -> None:
    records = recorded(
        on(1, "control.changed", controller=REBELS, mode="armed"),
        agreement(9, "no_entry", "search_allowed"),
    )

    state = state_of(records)

    assert state.status == "truce"
    assert state.controller is not None
    assert state.controller.name == REBELS["name"]
    assert state.evidence.status == records[1].id
    assert state.evidence.controller == records[0].id


def test_a_ceasefire_term_puts_a_town_without_controller_under_truce() -> None:
    records = recorded(agreement(9, "ceasefire"))

    state = state_of(records)

    assert state.status == "truce"
    assert state.controller is None
    assert state.evidence.status == records[0].id


def test_an_agreement_without_truce_terms_leaves_the_status_as_it_was() -> None:
    records = recorded(
        on(1, "control.changed", controller=REBELS, mode="armed"),
        agreement(9, "search_allowed", "release_captives", "settlement"),
    )

    state = state_of(records)

    assert state.status == "controlled"
    assert state.evidence.status == records[0].id


def test_an_agreement_is_recorded_with_its_terms() -> None:
    records = recorded(agreement(9, "search_allowed"))

    state = state_of(records)

    (recorded_agreement,) = state.agreements
    assert recorded_agreement.agreement == "karak-sharqi-2020-03"
    assert recorded_agreement.mediator == as_actor(RUSSIA)
    assert [t.type for t in recorded_agreement.terms] == ["search_allowed"]
    assert recorded_agreement.reached_at == at("2020-03-09T10:00:00Z")
    assert recorded_agreement.event == records[0].id


def test_a_second_agreement_with_the_same_slug_replaces_the_first() -> None:
    records = recorded(agreement(9, "search_allowed"), agreement(10, "deployment"))

    state = state_of(records)

    (recorded_agreement,) = state.agreements
    assert recorded_agreement.event == records[1].id


def test_an_agreement_renewed_after_a_snapshot_is_listed_once_after_the_others() -> None:
    records = recorded(
        agreement(9, "search_allowed"),
        agreement(10, "ceasefire", slug="tafas-2020-03"),
        agreement(11, "deployment"),
    )
    first, later = facts(records[:2]), facts(records[2:])
    snapshot, set_aside, dead = town.split(fold(town.TownState("karak-sharqi"), town.evolve, first))

    state = town.joined(fold(snapshot, town.evolve, later), [set_aside], dead)

    assert [a.event for a in state.agreements] == [records[1].id, records[2].id]
    assert state == state_of(records)


# fatalities, statistics, last_event_at


def test_fatalities_are_summed_over_folded_reports() -> None:
    records = recorded(
        on(5, "clash", sides=[REBELS, AFI], fatalities={"low": 3, "best": 4, "high": 6}),
        on(6, "attack", method="shelling", fatalities={"low": 1, "best": 2, "high": 2}),
        on(7, "raid", by=AFI, target="homes"),
    )

    state = state_of(records)

    assert state.fatalities == town.Toll(low=4, best=6, high=8)


def test_fatalities_of_a_statistic_are_not_summed() -> None:
    records = recorded(
        on(5, "clash", sides=[REBELS, AFI], fatalities={"low": 3, "best": 4, "high": 6}),
        on(
            11,
            "statistic.reported",
            metric="killed",
            value={"low": 225, "best": 225, "high": 225},
            since="2019-06-01T00:00:00Z",
            subject="pro-Assad troops",
            fatalities={"low": 225, "best": 225, "high": 225},
        ),
    )

    state = state_of(records)

    assert state.fatalities == town.Toll(low=3, best=4, high=6)


def test_a_statistic_is_listed_as_reported() -> None:
    records = recorded(
        on(
            11,
            "statistic.reported",
            metric="attacks",
            value={"low": 500, "best": 500, "high": 600},
            since="2018-07-01T00:00:00Z",
            subject="attacks on government forces",
            certainty="claimed",
        )
    )

    state = state_of(records)

    assert state.statistics == (
        town.Statistic(
            metric="attacks",
            value=Estimate(low=500, best=500, high=600),
            since=at("2018-07-01T00:00:00Z"),
            until=None,
            subject="attacks on government forces",
            certainty="claimed",
            sources=("Syrian Observatory for Human Rights",),
            event=records[0].id,
        ),
    )


def test_last_event_at_is_when_the_last_folded_report_occurred() -> None:
    records = recorded(
        on(9, "raid", by=AFI, target="homes"),
        on(5, "raid", by=AFI, target="farms"),
    )

    state = state_of(records)

    assert state.last_event_at == at("2020-03-09T10:00:00Z")


def test_last_event_at_follows_as_of() -> None:
    records = recorded(
        on(5, "raid", by=AFI, target="farms"),
        on(9, "raid", by=AFI, target="homes"),
    )

    state = state_of(records, as_of=at("2020-03-06"))

    assert state.last_event_at == at("2020-03-05T10:00:00Z")


def test_control_as_of_a_moment_ignores_what_happened_after() -> None:
    records = recorded(
        on(1, "control.changed", controller=REBELS, mode="armed"),
        on(11, "forces.entered", forces=[FOURTH], mode="forced"),
    )

    state = state_of(records, as_of=at("2020-03-10"))

    assert state.controller is not None
    assert state.controller.name == REBELS["name"]


# anomalies


def test_fatalities_out_of_order_are_kept_and_listed() -> None:
    records = recorded(
        on(5, "clash", sides=[REBELS, AFI], fatalities={"low": 5, "best": 2, "high": 9})
    )

    state = state_of(records)

    assert state.fatalities == town.Toll(low=5, best=2, high=9)
    assert codes(state) == ["fatalities_out_of_order"]
    assert state.anomalies[0].events == (records[0].id,)


def test_a_checkpoint_seized_by_the_side_already_holding_it_is_an_anomaly() -> None:
    records = recorded(
        on(5, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS),
        on(6, "checkpoint.seized", checkpoint=CHECKPOINT, by=actor("Other rebels", "opposition")),
    )

    state = state_of(records)

    assert codes(state) == ["checkpoint_already_held"]
    assert set(state.anomalies[0].events) == {records[0].id, records[1].id}


def test_a_checkpoint_retaken_by_another_side_is_no_anomaly() -> None:
    records = recorded(
        on(5, "checkpoint.seized", checkpoint=CHECKPOINT, by=REBELS),
        on(6, "checkpoint.seized", checkpoint=CHECKPOINT, by=AFI),
    )

    state = state_of(records)

    assert state.anomalies == ()


def test_forces_withdrawing_that_were_not_present_are_an_anomaly() -> None:
    records = recorded(
        on(6, "forces.entered", forces=[FOURTH], mode="forced"),
        on(7, "forces.withdrew", forces=[FOURTH, EIGHTH]),
    )

    state = state_of(records)

    assert state.forces_present == ()
    assert codes(state) == ["absent_forces_withdrew"]
    assert state.anomalies[0].events == (records[1].id,)
    assert EIGHTH["name"] in state.anomalies[0].detail


def test_lifting_a_siege_that_is_not_there_is_an_anomaly() -> None:
    records = recorded(on(9, "encirclement.lifted"))

    state = state_of(records)

    assert state.besieged_by == ()
    assert codes(state) == ["not_besieged"]
    assert state.anomalies[0].events == (records[0].id,)


def test_a_siege_lifted_before_any_encirclement_occurred_is_listed_not_raised() -> None:
    lifted_reported_first = on(9, "encirclement.lifted")
    encircled_reported_late = on(10, "town.encircled", by=[FOURTH])
    records = recorded(lifted_reported_first, encircled_reported_late)

    state = state_of(records)

    assert state.besieged_by == (as_actor(FOURTH),)
    assert codes(state) == ["not_besieged"]
