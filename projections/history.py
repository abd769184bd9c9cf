"""A town's timeline: its reports in occurred order, each with what it changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from projections import town
from projections.replay import Fact

_QUIET = frozenset({"town", "last_event_at"})


@dataclass(frozen=True, slots=True)
class Change:
    """One report of the town and the town-state fields it set, with their new values."""

    fact: Fact
    changed: dict[str, object]


def history(slug: str, ordered: Iterable[Fact]) -> list[Change]:
    """Fold the town's facts one by one, noting each field whose value changed."""
    state = town.TownState(slug)
    timeline: list[Change] = []
    for fact in ordered:
        after = town.evolve(state, fact)
        changed = {
            f.name: getattr(after, f.name)
            for f in fields(town.TownState)
            if f.name not in _QUIET and getattr(after, f.name) != getattr(state, f.name)
        }
        timeline.append(Change(fact, changed))
        state = after
    return timeline
