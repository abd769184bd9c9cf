"""The read side: load what a read needs from the store, fold it, shape the answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from events.errors import NotFound
from events.kinds import CAPTIVE_KINDS, CORRECTION_KINDS
from events.record import Record
from events.store import MAX_PAGE, EventStore
from projections import captives, town
from projections.audit import Audited, audited
from projections.casualties import GroupBy, Tally, casualties
from projections.history import Change, history
from projections.replay import facts, fold


@dataclass(frozen=True, slots=True)
class Moment:
    """The two clocks of a read: valid time `as_of`, transaction time `known_at`.

    `known_at` None reads everything recorded so far; `now` is what to report for it.
    """

    as_of: datetime
    known_at: datetime | None
    now: datetime

    @property
    def shown_known_at(self) -> datetime:
        """`known_at` as the response reports it."""
        return self.known_at or self.now


class Reads:
    """Answers every read of the API from an event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def town(self, slug: str, at: Moment) -> dict[str, Any]:
        """The town's state; NotFound if no record of it is known at `known_at`."""
        stream = list(self._all(at, town=slug))
        if not stream:
            raise NotFound(f"no record of town {slug!r} is known at {at.shown_known_at}")
        state = fold(town.TownState(slug), town.evolve, facts(stream, at.as_of))
        return _town_fields(state, stream[-1].version, self._ledger(at).held_at(slug), at)

    def towns(
        self, at: Moment, province: str | None, side: str | None, status: str | None
    ) -> list[dict[str, Any]]:
        """Every town known at `known_at`, as of `as_of`, filtered."""
        streams: dict[str, list[Record]] = {}
        for record in self._all(at):
            streams.setdefault(record.town, []).append(record)
        ledger = self._ledger(at)
        found = []
        for slug in sorted(streams):
            state = fold(town.TownState(slug), town.evolve, facts(streams[slug], at.as_of))
            if province is not None and state.province != province:
                continue
            if side is not None and (state.controller is None or state.controller.side != side):
                continue
            if status is not None and state.status != status:
                continue
            version = streams[slug][-1].version
            found.append(_town_fields(state, version, ledger.held_at(slug), at))
        return found

    def history(self, slug: str, at: Moment) -> list[Change]:
        """The town's timeline in occurred order, each entry with what it changed."""
        if self._store.version(slug, at.known_at) == 0:
            raise NotFound(f"no record of town {slug!r} is known at {at.shown_known_at}")
        return history(slug, facts(self._all(at, town=slug), at.as_of))

    def ledger(self, at: Moment) -> captives.Ledger:
        """The captive ledger as of `as_of`, as known at `known_at`."""
        return self._ledger(at)

    def casualties(
        self, at: Moment, group_by: GroupBy, since: datetime | None, until: datetime | None
    ) -> list[Tally]:
        """Fatality sums per group over the events folded at this moment."""
        return casualties(facts(self._all(at), at.as_of), group_by, since, until)

    def log(
        self,
        after: int,
        limit: int,
        known_at: datetime | None,
        town: str | None = None,
        kinds: Collection[str] | None = None,
    ) -> list[Audited]:
        """A page of records in position order, each with its known amendments."""
        page = self._store.select(
            after=after, limit=limit, town=town, kinds=kinds, known_at=known_at
        )
        return self._audit(page, known_at)

    def record(self, event_id: UUID, known_at: datetime | None) -> Audited:
        """One record with its known amendments; NotFound if not known at `known_at`."""
        record = self._store.get(event_id)
        if record is None or (known_at is not None and record.recorded_at > known_at):
            raise NotFound(f"no event with id {event_id} is known")
        return self._audit([record], known_at)[0]

    def _audit(self, page: list[Record], known_at: datetime | None) -> list[Audited]:
        ids = [record.id for record in page if record.kind not in CORRECTION_KINDS]
        amendments = self._store.select(targets=ids, known_at=known_at) if ids else []
        return audited(page, amendments)

    def _ledger(self, at: Moment) -> captives.Ledger:
        relevant = self._all(at, kinds=CAPTIVE_KINDS | CORRECTION_KINDS)
        return fold(captives.empty_ledger(), captives.evolve, facts(relevant, at.as_of))

    def _all(
        self, at: Moment, town: str | None = None, kinds: Collection[str] | None = None
    ) -> Iterator[Record]:
        after = 0
        while True:
            page = self._store.select(
                after=after, limit=MAX_PAGE, town=town, kinds=kinds, known_at=at.known_at
            )
            yield from page
            if len(page) < MAX_PAGE:
                return
            after = page[-1].position


def totals(ledger: captives.Ledger) -> dict[str, Any]:
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


def _town_fields(
    state: town.TownState, version: int, captives_held: int, at: Moment
) -> dict[str, Any]:
    shown = {f.name: getattr(state, f.name) for f in fields(state)}
    return {
        **shown,
        "as_of": at.as_of,
        "known_at": at.shown_known_at,
        "version": version,
        "captives_held": captives_held,
    }
