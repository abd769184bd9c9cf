"""The captive ledger as entries: what each fact changed in it, and the ledger they make up.

A fact changes at most the one or two captive groups its report names, and
may add remains handed over or an anomaly across groups. Each of those is an
entry named after what it is, with its JSON; the entries that hold at a
moment, the latest of each name, give back the whole ledger of that moment.
"""

from __future__ import annotations

from collections.abc import Iterable

from immutables import Map
from pydantic import TypeAdapter

from events.kinds import (
    CaptivesKilled,
    CaptivesReleased,
    CaptivesTaken,
    CaptivesTransferred,
    ReportedEvent,
)
from events.snapshots import Entry
from projections.anomalies import Anomaly
from projections.captives import CaptiveGroup, Ledger, Remains
from projections.replay import Fact

GROUP = "group:"
REMAINS = "remains:"
ANOMALY = "anomaly:"

_GROUP = TypeAdapter(CaptiveGroup)
_REMAINS = TypeAdapter(Remains)
_ANOMALY = TypeAdapter(Anomaly)


def named_groups(event: ReportedEvent) -> set[str]:
    """The captive groups a report names: the only ones its fact may change."""
    if isinstance(event, CaptivesTaken | CaptivesReleased | CaptivesKilled):
        return {event.group}
    if isinstance(event, CaptivesTransferred):
        return {event.group} if event.new_group is None else {event.group, event.new_group}
    return set()


def changed(before: Ledger, after: Ledger, fact: Fact) -> list[tuple[str, str]]:
    """The name and JSON of each entry `fact` made or changed, folding `before` into `after`."""
    found: list[tuple[str, str]] = []
    for slug in sorted(named_groups(fact.event)):
        group = after.groups.get(slug)
        if group is not None and group is not before.groups.get(slug):
            found.append((GROUP + slug, _GROUP.dump_json(group).decode()))
    if len(after.handed_over) > len(before.handed_over):
        remains = after.handed_over[len(before.handed_over)]
        found.append((REMAINS + str(fact.id), _REMAINS.dump_json(remains).decode()))
    if len(after.flagged) > len(before.flagged):
        anomaly = after.flagged[len(before.flagged)]
        found.append((ANOMALY + str(fact.id), _ANOMALY.dump_json(anomaly).decode()))
    return found


def group_of(body: str) -> CaptiveGroup:
    """The captive group a `group:` entry's body holds."""
    return _GROUP.validate_json(body)


def ledger_of(entries: Iterable[Entry]) -> Ledger:
    """The ledger the entries, in key order, make up; remains and anomalies in that order."""
    groups: dict[str, CaptiveGroup] = {}
    remains: list[Remains] = []
    anomalies: list[Anomaly] = []
    for entry in entries:
        if entry.name.startswith(GROUP):
            groups[entry.name.removeprefix(GROUP)] = _GROUP.validate_json(entry.body)
        elif entry.name.startswith(REMAINS):
            remains.append(_REMAINS.validate_json(entry.body))
        else:
            anomalies.append(_ANOMALY.validate_json(entry.body))
    return Ledger(Map(groups), Map(enumerate(remains)), Map(enumerate(anomalies)))
