"""The captive ledger: every captive group's count, status and custody chain, and remains."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, TypeVar
from uuid import UUID

from immutables import Map

from events.kinds import (
    CaptivesKilled,
    CaptivesReleased,
    CaptivesTaken,
    CaptivesTransferred,
    RemainsHandedOver,
)
from events.values import Actor
from projections.anomalies import Anomaly
from projections.replay import Fact

Role = Literal["party", "neutral", "intermediary"]
GroupStatus = Literal["held", "with_intermediary", "released", "killed", "resolved"]


@dataclass(frozen=True, slots=True)
class Custody:
    """One link of a custody chain."""

    holder: Actor
    role: Role
    since: datetime
    event: UUID


@dataclass(frozen=True, slots=True)
class CaptiveGroup:
    """Captives taken together, and what has become of them."""

    group: str
    holder: Actor
    role: Role
    held_at: str
    affiliation: Actor
    description: str | None
    taken: int
    held: int
    released: int
    killed: int
    status: GroupStatus
    custody: tuple[Custody, ...]
    anomalies: tuple[Anomaly, ...] = ()
    split_from: str | None = None


@dataclass(frozen=True, slots=True)
class Remains:
    """Bodies handed over."""

    count: int
    from_: Actor
    to: Actor
    via: Actor | None
    town: str
    occurred_at: datetime
    event: UUID


_T = TypeVar("_T")

_Listed = Map[int, _T]
"""Entries in the order they were added: the n-th at key n."""


@dataclass(frozen=True, slots=True)
class Ledger:
    """Every captive group by slug, the remains handed over, and what did not add up.

    The maps are persistent: the ledger after a fact shares all but the one or
    two groups it changes with the ledger before, so a fold costs the same
    for each fact however many groups there are, and every earlier ledger
    stays as it was.
    """

    groups: Map[str, CaptiveGroup]
    handed_over: _Listed[Remains]
    flagged: _Listed[Anomaly]

    @property
    def remains(self) -> tuple[Remains, ...]:
        """The remains handed over, in the order they were folded."""
        return _in_order(self.handed_over)

    @property
    def anomalies(self) -> tuple[Anomaly, ...]:
        """What did not add up across groups, in the order it was folded."""
        return _in_order(self.flagged)

    def held_at(self, town: str) -> int:
        """How many captives are held in `town`, whoever holds them."""
        return sum(group.held for group in self.groups.values() if group.held_at == town)


def empty_ledger() -> Ledger:
    """The ledger before any report."""
    return Ledger(Map(), Map(), Map())


def _added(listed: _Listed[_T], entry: _T) -> _Listed[_T]:
    return listed.set(len(listed), entry)


def _in_order(listed: _Listed[_T]) -> tuple[_T, ...]:
    return tuple(listed[n] for n in range(len(listed)))


def evolve(ledger: Ledger, fact: Fact) -> Ledger:
    """The ledger after one more report; reports of other kinds leave it as it is."""
    event = fact.event
    if isinstance(event, CaptivesTaken):
        return _taken(ledger, event, fact)
    if isinstance(event, RemainsHandedOver):
        entry = Remains(
            event.count, event.from_, event.to, event.via, event.town, fact.occurred_at, fact.id
        )
        return replace(ledger, handed_over=_added(ledger.handed_over, entry))
    if not isinstance(event, CaptivesTransferred | CaptivesReleased | CaptivesKilled):
        return ledger
    group = ledger.groups.get(event.group)
    if group is None:
        anomaly = Anomaly("unknown_group", f"no captive group {event.group!r} is known", (fact.id,))
        return replace(ledger, flagged=_added(ledger.flagged, anomaly))
    if isinstance(event, CaptivesTransferred):
        return _transferred(ledger, group, event, fact)
    return _ended(ledger, group, event, fact)


def _taken(ledger: Ledger, event: CaptivesTaken, fact: Fact) -> Ledger:
    existing = ledger.groups.get(event.group)
    if existing is not None:
        flagged = _flag(
            existing, "duplicate_capture", f"group {event.group!r} was already taken", fact
        )
        return _with(ledger, flagged)
    group = CaptiveGroup(
        group=event.group,
        holder=event.captor,
        role="party",
        held_at=event.held_at or event.town,
        affiliation=event.affiliation,
        description=event.description,
        taken=event.count,
        held=event.count,
        released=0,
        killed=0,
        status="held",
        custody=(Custody(event.captor, "party", fact.occurred_at, fact.id),),
    )
    return _with(ledger, group)


def _transferred(
    ledger: Ledger, group: CaptiveGroup, event: CaptivesTransferred, fact: Fact
) -> Ledger:
    link = Custody(event.to, event.role, fact.occurred_at, fact.id)
    status: GroupStatus = "held" if event.role == "party" else "with_intermediary"
    if group.held == 0:
        return _with(ledger, _flag(group, "count_exceeds_held", "no captive is held", fact))
    if event.count is None or event.count >= group.held:
        moved = replace(
            group, holder=event.to, role=event.role, status=status, custody=(*group.custody, link)
        )
        if event.count is not None and event.count > group.held:
            moved = _excess(moved, "transferred", event.count, group.held, fact)
        return _with(ledger, moved)
    assert event.new_group is not None
    if event.new_group in ledger.groups:
        flagged = _flag(group, "group_exists", f"group {event.new_group!r} already exists", fact)
        return _with(ledger, flagged)
    part = replace(
        group,
        group=event.new_group,
        holder=event.to,
        role=event.role,
        taken=event.count,
        held=event.count,
        released=0,
        killed=0,
        status=status,
        custody=(*group.custody, link),
        anomalies=(),
        split_from=group.group,
    )
    return _with(_with(ledger, replace(group, held=group.held - event.count)), part)


def _ended(
    ledger: Ledger, group: CaptiveGroup, event: CaptivesReleased | CaptivesKilled, fact: Fact
) -> Ledger:
    if group.held == 0:
        return _with(ledger, _flag(group, "count_exceeds_held", "no captive is held", fact))
    asked = group.held if event.count is None else event.count
    n = min(asked, group.held)
    if isinstance(event, CaptivesReleased):
        group = replace(group, held=group.held - n, released=group.released + n)
        verb = "released"
    else:
        group = replace(group, held=group.held - n, killed=group.killed + n)
        verb = "killed"
    if asked > n:
        group = _excess(group, verb, asked, n, fact)
    if group.held == 0:
        group = replace(group, status=_final_status(group))
    return _with(ledger, group)


def _final_status(group: CaptiveGroup) -> GroupStatus:
    if group.released and group.killed:
        return "resolved"
    return "killed" if group.killed else "released"


def _excess(group: CaptiveGroup, verb: str, asked: int, held: int, fact: Fact) -> CaptiveGroup:
    detail = f"{asked} reported {verb} but {held} held"
    return _flag(group, "count_exceeds_held", detail, fact)


def _with(ledger: Ledger, group: CaptiveGroup) -> Ledger:
    return replace(ledger, groups=ledger.groups.set(group.group, group))


def _flag(group: CaptiveGroup, code: str, detail: str, fact: Fact) -> CaptiveGroup:
    return replace(group, anomalies=(*group.anomalies, Anomaly(code, detail, (fact.id,))))
