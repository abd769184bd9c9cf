"""Hypothesis strategies: valid events of every reported kind, over a few towns and groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from hypothesis import strategies as st

from events.kinds import CAPTIVE_KINDS, ReportedEvent, parse_event

TOWNS = ("karak-sharqi", "tafas", "nawa")
GROUPS = ("afi-troops", "4th-division-soldiers", "split-off")
START = datetime(2020, 3, 1, tzinfo=UTC)

actors = st.builds(
    lambda name, side: {"name": name, "side": side},
    st.sampled_from(["4th Division", "Air Force Intelligence", "Southern rebels", "8th Division"]),
    st.sampled_from(["government", "opposition", "russia"]),
)
some_actors = st.lists(actors, min_size=1, max_size=3)
counts = st.integers(min_value=1, max_value=30)
estimates = st.builds(
    lambda low, best, high: {"low": low, "best": best, "high": high},
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 20),
)
instants = st.integers(0, 30 * 24 * 60).map(lambda minutes: START + timedelta(minutes=minutes))

_fields: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "town.registered": st.fixed_dictionaries(
        {"name": st.just("A town"), "province": st.sampled_from(["Daraa", "Quneitra"])},
        optional={"controller": actors},
    ),
    "control.changed": st.fixed_dictionaries(
        {"controller": actors, "mode": st.sampled_from(["armed", "negotiated", "withdrawal"])}
    ),
    "forces.entered": st.fixed_dictionaries(
        {"forces": some_actors, "mode": st.sampled_from(["forced", "negotiated", "patrol"])}
    ),
    "forces.withdrew": st.fixed_dictionaries({"forces": some_actors}),
    "checkpoint.seized": st.fixed_dictionaries(
        {"checkpoint": st.sampled_from(["north gate", "AFI post"]), "by": actors}
    ),
    "town.encircled": st.fixed_dictionaries({"by": some_actors}),
    "encirclement.lifted": st.just({}),
    "agreement.reached": st.fixed_dictionaries(
        {
            "agreement": st.sampled_from(["deal-1", "deal-2"]),
            "parties": some_actors,
            "terms": st.lists(
                st.sampled_from(["no_entry", "ceasefire", "search_allowed"]).map(
                    lambda term: {"type": term}
                ),
                min_size=1,
                max_size=2,
            ),
        }
    ),
    "captives.taken": st.fixed_dictionaries(
        {
            "group": st.sampled_from(GROUPS[:2]),
            "captor": actors,
            "count": counts,
            "affiliation": actors,
        },
        optional={"held_at": st.sampled_from(TOWNS)},
    ),
    "captives.transferred": st.fixed_dictionaries(
        {
            "group": st.sampled_from(GROUPS[:2]),
            "to": actors,
            "role": st.sampled_from(["party", "neutral", "intermediary"]),
        },
        optional={"count": counts},
    ).map(lambda fields: {**fields, "new_group": GROUPS[2]} if "count" in fields else fields),
    "captives.released": st.fixed_dictionaries(
        {"group": st.sampled_from(GROUPS)}, optional={"count": counts}
    ),
    "captives.killed": st.fixed_dictionaries(
        {"group": st.sampled_from(GROUPS)}, optional={"count": counts}
    ),
    "remains.handed_over": st.fixed_dictionaries({"count": counts, "from": actors, "to": actors}),
    "clash": st.fixed_dictionaries({"sides": some_actors}),
    "attack": st.fixed_dictionaries({"method": st.sampled_from(["ied", "shelling"])}),
    "statistic.reported": st.fixed_dictionaries(
        {
            "metric": st.just("attacks"),
            "value": estimates,
            "since": st.just("2018-07-01T00:00:00Z"),
            "subject": st.just("the province"),
        }
    ),
}
KINDS = tuple(_fields)


CAPTIVE = tuple(kind for kind in KINDS if kind in CAPTIVE_KINDS)


@st.composite
def reported_events(
    draw: st.DrawFn,
    occurred_at: st.SearchStrategy[datetime] = instants,
    kinds: tuple[str, ...] = KINDS,
) -> ReportedEvent:
    """One valid reported event of one of `kinds` with an id, in one of a few towns."""
    kind = draw(st.sampled_from(kinds))
    body: dict[str, Any] = {
        "id": str(uuid4()),
        "kind": kind,
        "town": draw(st.sampled_from(TOWNS)),
        "occurred_at": draw(occurred_at).isoformat(),
        "sources": [{"name": "Enab Baladi"}],
        "certainty": draw(st.sampled_from(["claimed", "reported", "confirmed"])),
        **draw(_fields[kind]),
    }
    if draw(st.booleans()):
        body["fatalities"] = draw(estimates)
    return parse_event(body)  # type: ignore[return-value]


@st.composite
def histories(
    draw: st.DrawFn, max_size: int = 25, kinds: tuple[str, ...] = KINDS
) -> list[ReportedEvent]:
    """Reports with pairwise distinct occurred_at, so their fold order is set by valid time."""
    moments = draw(st.lists(instants, min_size=1, max_size=max_size, unique=True))
    return [draw(reported_events(st.just(moment), kinds)) for moment in moments]
