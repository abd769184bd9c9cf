"""Fatality sums grouped by town, province, side or month."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from events.kinds import ReportedEvent, StatisticReported, TownRegistered
from events.values import Actor
from projections.replay import Fact

GroupBy = Literal["town", "province", "side", "month"]
UNKNOWN = "unknown"
_PARTY_FIELDS = ("by", "sides", "forces", "parties", "captor", "controller", "from_")


@dataclass(frozen=True, slots=True)
class Tally:
    """Summed fatality estimates of the events under one key."""

    key: str
    low: int = 0
    best: int = 0
    high: int = 0
    events: int = 0


def casualties(
    ordered: Iterable[Fact],
    group_by: GroupBy,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Tally]:
    """Sums of `{low, best, high}` per key over events with fatalities in `[since, until]`.

    Statistics are claims, not events: they are never summed. Under `side`, an
    event counts once for each side that took part, so side sums overlap. Under
    `province`, a town counts in the province of its latest registration.
    """
    folded = list(ordered)
    provinces = {
        fact.event.town: fact.event.province
        for fact in folded
        if isinstance(fact.event, TownRegistered)
    }
    tallies: dict[str, Tally] = {}
    for fact in folded:
        event = fact.event
        dead = event.fatalities
        if dead is None or isinstance(event, StatisticReported):
            continue
        if (since is not None and fact.occurred_at < since) or (
            until is not None and fact.occurred_at > until
        ):
            continue
        for key in _keys(event, group_by, provinces):
            tally = tallies.get(key, Tally(key))
            tallies[key] = Tally(
                key,
                tally.low + dead.low,
                tally.best + dead.best,
                tally.high + dead.high,
                tally.events + 1,
            )
    return sorted(tallies.values(), key=lambda tally: tally.key)


def sides_of(event: ReportedEvent) -> list[str]:
    """The distinct sides that took part in an event, in the order named."""
    sides: dict[str, None] = {}
    for name in _PARTY_FIELDS:
        value = getattr(event, name, None)
        actors = value if isinstance(value, tuple) else (value,)
        for actor in actors:
            if isinstance(actor, Actor):
                sides.setdefault(actor.side)
    return list(sides)


def _keys(event: ReportedEvent, group_by: GroupBy, provinces: dict[str, str]) -> list[str]:
    if group_by == "town":
        return [event.town]
    if group_by == "province":
        return [provinces.get(event.town, UNKNOWN)]
    if group_by == "month":
        return [event.occurred_at.strftime("%Y-%m")]
    return sides_of(event) or [UNKNOWN]
