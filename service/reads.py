"""The read side: load what a read needs from the store, fold it, shape the answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from events.errors import InvalidEvent, NotFound
from events.kinds import CORRECTION_KINDS, KINDS
from events.record import Record
from events.snapshots import InMemorySnapshots
from events.store import MAX_PAGE, EventStore
from projections.anomalies import Anomaly
from projections.audit import Audited, audited
from projections.captives import CaptiveGroup, GroupStatus, Ledger, Remains
from projections.casualties import GroupBy, Tally, casualties
from projections.history import Change, history
from projections.keeping import Projector
from projections.replay import facts
from projections.town import Status, TownState
from service.moments import utc


@dataclass(frozen=True, slots=True)
class Moment:
    """The two clocks of a read: valid time `as_of` and transaction time `known_at`."""

    as_of: datetime
    known_at: datetime


@dataclass(frozen=True, slots=True)
class TownView:
    """A town's folded state with what the read adds: its version and captives held there."""

    state: TownState
    version: int
    captives_held: int
    at: Moment


@dataclass(frozen=True, slots=True)
class LedgerView:
    """The captive groups asked for, all remains, totals over every group, and anomalies."""

    groups: list[CaptiveGroup]
    remains: tuple[Remains, ...]
    totals: dict[str, object]
    anomalies: tuple[Anomaly, ...]
    at: Moment


class Reads:
    """Answers every read of the API from an event store."""

    def __init__(self, store: EventStore, projector: Projector | None = None) -> None:
        self._store = store
        self._projector = projector or Projector(store, InMemorySnapshots(store))

    def town(self, slug: str, at: Moment) -> TownView:
        """The town's state; NotFound if no record of it is known at `known_at`."""
        self._projector.catch_up()
        kept = self._projector.town(slug, at.as_of, at.known_at)
        if not kept.version:
            raise NotFound(f"no record of town {slug!r} is known at {utc(at.known_at)}")
        return TownView(kept.state, kept.version, kept.captives_held, at)

    def towns(
        self,
        at: Moment,
        province: str | None = None,
        side: str | None = None,
        status: Status | None = None,
    ) -> list[TownView]:
        """Every town known at `known_at`, as of `as_of`, filtered."""
        self._projector.catch_up()
        return [
            TownView(kept.state, kept.version, kept.captives_held, at)
            for kept in self._projector.every_town(at.as_of, at.known_at)
            if (province is None or kept.state.province == province)
            and (side is None or (kept.state.controller and kept.state.controller.side == side))
            and (status is None or kept.state.status == status)
        ]

    def history(self, slug: str, at: Moment) -> list[Change]:
        """The town's timeline in occurred order, each entry with what it changed."""
        stream = list(self._all(at.known_at, town=slug))
        if not stream:
            raise NotFound(f"no record of town {slug!r} is known at {utc(at.known_at)}")
        return history(slug, facts(stream, at.as_of))

    def captives(
        self,
        at: Moment,
        status: GroupStatus | None = None,
        holder_side: str | None = None,
    ) -> LedgerView:
        """The captive ledger as of `as_of`, as known at `known_at`; groups filtered, by slug."""
        self._projector.catch_up()
        ledger = self._projector.ledger(at.as_of, at.known_at)
        groups = [
            group
            for _, group in sorted(ledger.groups.items())
            if (status is None or group.status == status)
            and (holder_side is None or group.holder.side == holder_side)
        ]
        return LedgerView(groups, ledger.remains, totals(ledger), ledger.anomalies, at)

    def captive_group(self, group: str, at: Moment) -> CaptiveGroup:
        """One captive group; NotFound if none of that name is known."""
        self._projector.catch_up()
        found = self._projector.ledger(at.as_of, at.known_at, group).groups.get(group)
        if found is None:
            raise NotFound(f"no captive group {group!r} is known as of {utc(at.as_of)}")
        return found

    def casualties(
        self, at: Moment, group_by: GroupBy, since: datetime | None, until: datetime | None
    ) -> list[Tally]:
        """Fatality sums per group over the events folded at this moment."""
        return casualties(facts(self._all(at.known_at), at.as_of), group_by, since, until)

    def log(
        self,
        after: int,
        limit: int,
        known_at: datetime | None,
        town: str | None = None,
        kind: str | None = None,
    ) -> list[Audited]:
        """A page of records in position order, each with its known amendments."""
        if kind is not None and kind not in KINDS:
            raise InvalidEvent(f"unknown kind {kind!r}", loc=("query", "kind"))
        kinds = None if kind is None else {kind}
        page = self._store.select(
            after=after, limit=limit, town=town, kinds=kinds, known_at=known_at
        )
        return self._audit(page, known_at)

    def feed(self, after: int) -> list[Record]:
        """The next page of records after `after`, for the live feed."""
        return self._store.select(after=after, limit=MAX_PAGE)

    def record(self, event_id: UUID, known_at: datetime | None) -> Audited:
        """One record with its known amendments; NotFound if not known at `known_at`."""
        record = self._store.get(event_id)
        if record is None or (known_at is not None and record.recorded_at > known_at):
            raise NotFound(f"no event with id {event_id} is known")
        return self._audit([record], known_at)[0]

    def _audit(self, page: list[Record], known_at: datetime | None) -> list[Audited]:
        ids = [record.id for record in page if record.kind not in CORRECTION_KINDS]
        amendments = list(self._all(known_at, targets=ids)) if ids else []
        return audited(page, amendments)

    def _all(
        self,
        known_at: datetime | None,
        *,
        town: str | None = None,
        kinds: Collection[str] | None = None,
        targets: Collection[UUID] | None = None,
    ) -> Iterator[Record]:
        """Every record matching the filters, read a bounded page at a time."""
        after = 0
        while True:
            page = self._store.select(
                after=after,
                limit=MAX_PAGE,
                town=town,
                kinds=kinds,
                targets=targets,
                known_at=known_at,
            )
            yield from page
            if len(page) < MAX_PAGE:
                return
            after = page[-1].position


def totals(ledger: Ledger) -> dict[str, object]:
    """Ledger totals: counts, captives held by holder side, groups by status."""
    groups = list(ledger.groups.values())
    by_side: Counter[str] = Counter()
    for group in groups:
        if group.held:
            by_side[group.holder.side] += group.held
    return {
        "groups": len(groups),
        "taken": sum(g.taken for g in groups if g.split_from is None),
        "held": sum(g.held for g in groups),
        "released": sum(g.released for g in groups),
        "killed": sum(g.killed for g in groups),
        "remains": sum(r.count for r in ledger.remains),
        "by_holder_side": dict(sorted(by_side.items())),
        "by_status": dict(sorted(Counter(g.status for g in groups).items())),
    }
