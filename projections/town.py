"""Town control: who holds a town, its status, sieges, checkpoints and agreements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, assert_never
from uuid import UUID

from events.kinds import (
    AgreementReached,
    Attack,
    CaptivesKilled,
    CaptivesReleased,
    CaptivesTaken,
    CaptivesTransferred,
    CheckpointSeized,
    Clash,
    ControlChanged,
    Demonstration,
    EncirclementLifted,
    ForcesEntered,
    ForcesWithdrew,
    NegotiationHeld,
    Raid,
    RemainsHandedOver,
    RoadCut,
    StatisticReported,
    TownEncircled,
    TownRegistered,
)
from events.values import Actor, Certainty, Estimate, Term
from projections.anomalies import Anomaly
from projections.replay import Fact

Status = Literal["unknown", "controlled", "contested", "truce"]
TRUCE_TERMS = frozenset({"no_entry", "ceasefire"})


@dataclass(frozen=True, slots=True)
class Controller:
    """Who controls the town, and how sure the report that said so was."""

    name: str
    side: str
    certainty: Certainty


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint's current holder and the report that put it there."""

    name: str
    holder: Actor
    since: datetime
    event: UUID
    certainty: Certainty


@dataclass(frozen=True, slots=True)
class Agreement:
    """An agreement reached about the town."""

    agreement: str
    parties: tuple[Actor, ...]
    mediator: Actor | None
    terms: tuple[Term, ...]
    reached_at: datetime
    event: UUID


@dataclass(frozen=True, slots=True)
class Statistic:
    """An aggregate claim, listed as reported and never summed with events."""

    metric: str
    value: Estimate
    since: datetime
    until: datetime | None
    subject: str
    certainty: Certainty
    sources: tuple[str, ...]
    event: UUID


@dataclass(frozen=True, slots=True)
class Evidence:
    """The id of the last event that set each field, or None."""

    controller: UUID | None = None
    status: UUID | None = None
    besieged_by: UUID | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """Where the town is."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Toll:
    """The dead a town's reports give, summed: unbounded, unlike any one report's estimate."""

    low: int
    best: int
    high: int


ZERO = Toll(0, 0, 0)


@dataclass(frozen=True, slots=True)
class TownState:
    """A town as its folded reports describe it."""

    town: str
    name: str | None = None
    province: str | None = None
    district: str | None = None
    location: Location | None = None
    status: Status = "unknown"
    controller: Controller | None = None
    besieged_by: tuple[Actor, ...] = ()
    forces_present: tuple[Actor, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    fatalities: Toll = ZERO
    statistics: tuple[Statistic, ...] = ()
    last_event_at: datetime | None = None
    evidence: Evidence = field(default_factory=Evidence)
    anomalies: tuple[Anomaly, ...] = ()


@dataclass(frozen=True, slots=True)
class Listed:
    """What a town's reports add to the lists that grow with its history."""

    agreements: tuple[Agreement, ...] = ()
    statistics: tuple[Statistic, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()


def split(state: TownState) -> tuple[TownState, Listed, Toll]:
    """The state with its growing lists and its dead emptied, then those lists, then its dead.

    No fold rule reads the lists or the sum of the dead, so folding on from the
    emptied state gives the same state, with only the later reports' entries
    in its lists and only their dead in its sum.
    """
    listed = Listed(state.agreements, state.statistics, state.anomalies)
    core = replace(state, agreements=(), statistics=(), anomalies=(), fatalities=ZERO)
    return core, listed, state.fatalities


def joined(state: TownState, earlier: Iterable[Listed], dead: Toll = ZERO) -> TownState:
    """`state`, folded on from emptied lists and sum, with the `earlier` lists and `dead` put back.

    The earlier lists go before the state's own. As the fold does, a later
    agreement of the same name replaces an earlier one.
    """
    parts = [*earlier, split(state)[1]]
    agreements: dict[str, Agreement] = {}
    for part in parts:
        for agreement in part.agreements:
            agreements.pop(agreement.agreement, None)
            agreements[agreement.agreement] = agreement
    return replace(
        state,
        agreements=tuple(agreements.values()),
        statistics=tuple(s for part in parts for s in part.statistics),
        anomalies=tuple(a for part in parts for a in part.anomalies),
        fatalities=added(state.fatalities, dead),
    )


def added(one: Toll, other: Toll) -> Toll:
    """Two sums of the dead, summed."""
    return Toll(one.low + other.low, one.best + other.best, one.high + other.high)


def evolve(state: TownState, fact: Fact) -> TownState:
    """The town after one more of its reports."""
    state = _count(state, fact)
    event = fact.event
    match event:
        case TownRegistered():
            return _registered(state, event, fact)
        case ControlChanged():
            return _controlled_by(state, event.controller, fact)
        case ForcesEntered():
            return _entered(state, event, fact)
        case ForcesWithdrew():
            return _withdrew(state, event, fact)
        case CheckpointSeized():
            return _seized(state, event, fact)
        case TownEncircled():
            return replace(state, besieged_by=event.by, evidence=_set(state, besieged_by=fact.id))
        case EncirclementLifted():
            return _lifted(state, fact)
        case AgreementReached():
            return _agreed(state, event, fact)
        case StatisticReported():
            return replace(state, statistics=(*state.statistics, _statistic(event, fact)))
        case (
            CaptivesTaken()
            | CaptivesTransferred()
            | CaptivesReleased()
            | CaptivesKilled()
            | RemainsHandedOver()
            | Raid()
            | Clash()
            | Attack()
            | NegotiationHeld()
            | Demonstration()
            | RoadCut()
        ):
            return state
        case _:
            assert_never(event)


def _count(state: TownState, fact: Fact) -> TownState:
    """Every report moves `last_event_at`; its fatalities add up unless it is a statistic."""
    dead = fact.event.fatalities
    if dead is None or isinstance(fact.event, StatisticReported):
        return replace(state, last_event_at=fact.occurred_at)
    total = added(state.fatalities, Toll(dead.low, dead.best, dead.high))
    state = replace(state, last_event_at=fact.occurred_at, fatalities=total)
    if not dead.is_ordered:
        state = _flag(
            state,
            "fatalities_out_of_order",
            f"fatalities low {dead.low}, best {dead.best}, high {dead.high} are not in order",
            fact,
        )
    return state


def _registered(state: TownState, event: TownRegistered, fact: Fact) -> TownState:
    location = None
    if event.lat is not None and event.lon is not None:
        location = Location(event.lat, event.lon)
    state = replace(
        state,
        name=event.name,
        province=event.province,
        district=event.district,
        location=location or state.location,
    )
    if event.controller is None:
        return state
    return _controlled_by(state, event.controller, fact)


def _controlled_by(state: TownState, actor: Actor, fact: Fact) -> TownState:
    controller = Controller(actor.name, actor.side, fact.event.certainty)
    return replace(
        state,
        controller=controller,
        status="controlled",
        evidence=_set(state, controller=fact.id, status=fact.id),
    )


def _entered(state: TownState, event: ForcesEntered, fact: Fact) -> TownState:
    present = {actor.name: actor for actor in state.forces_present}
    present.update((actor.name, actor) for actor in event.forces)
    state = replace(state, forces_present=tuple(present.values()))
    if event.mode == "patrol":
        return state
    return _controlled_by(state, event.forces[0], fact)


def _withdrew(state: TownState, event: ForcesWithdrew, fact: Fact) -> TownState:
    leaving = {actor.name for actor in event.forces}
    present = {actor.name for actor in state.forces_present}
    state = replace(
        state, forces_present=tuple(a for a in state.forces_present if a.name not in leaving)
    )
    absent = sorted(leaving - present)
    if absent:
        state = _flag(
            state,
            "absent_forces_withdrew",
            f"withdrawal of forces not reported present: {', '.join(absent)}",
            fact,
        )
    return state


def _seized(state: TownState, event: CheckpointSeized, fact: Fact) -> TownState:
    held = next((c for c in state.checkpoints if c.name == event.checkpoint), None)
    if held is not None and held.holder.side == event.by.side:
        state = _flag(
            state,
            "checkpoint_already_held",
            f"{event.checkpoint} seized by {event.by.side}, which already held it",
            fact,
            held.event,
        )
    checkpoint = Checkpoint(
        event.checkpoint, event.by, fact.occurred_at, fact.id, fact.event.certainty
    )
    others = tuple(c for c in state.checkpoints if c.name != event.checkpoint)
    state = replace(state, checkpoints=(*others, checkpoint))
    if state.controller is not None and state.controller.side != event.by.side:
        state = replace(state, status="contested", evidence=_set(state, status=fact.id))
    return state


def _lifted(state: TownState, fact: Fact) -> TownState:
    if not state.besieged_by:
        state = _flag(state, "not_besieged", "encirclement lifted from a town not besieged", fact)
    return replace(state, besieged_by=(), evidence=_set(state, besieged_by=fact.id))


def _agreed(state: TownState, event: AgreementReached, fact: Fact) -> TownState:
    agreement = Agreement(
        event.agreement, event.parties, event.mediator, event.terms, fact.occurred_at, fact.id
    )
    others = tuple(a for a in state.agreements if a.agreement != event.agreement)
    state = replace(state, agreements=(*others, agreement))
    if any(term.type in TRUCE_TERMS for term in event.terms):
        state = replace(state, status="truce", evidence=_set(state, status=fact.id))
    return state


def _statistic(event: StatisticReported, fact: Fact) -> Statistic:
    return Statistic(
        metric=event.metric,
        value=event.value,
        since=event.since,
        until=event.until,
        subject=event.subject,
        certainty=event.certainty,
        sources=tuple(source.name for source in event.sources),
        event=fact.id,
    )


def _set(
    state: TownState,
    *,
    controller: UUID | None = None,
    status: UUID | None = None,
    besieged_by: UUID | None = None,
) -> Evidence:
    evidence = state.evidence
    return Evidence(
        controller=controller or evidence.controller,
        status=status or evidence.status,
        besieged_by=besieged_by or evidence.besieged_by,
    )


def _flag(state: TownState, code: str, detail: str, fact: Fact, *also: UUID) -> TownState:
    anomaly = Anomaly(code, detail, (*also, fact.id))
    return replace(state, anomalies=(*state.anomalies, anomaly))
