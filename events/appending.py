"""The append rules every store applies inside its one serialised write transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from pydantic import JsonValue, ValidationError

from events.errors import (
    AlreadyRetracted,
    BatchRejected,
    IdConflict,
    InvalidEvent,
    SitrepError,
    UnknownTarget,
    VersionConflict,
)
from events.ids import uuid7
from events.kinds import (
    CORRECTION_KINDS,
    KINDS,
    Correction,
    ReportCorrected,
    ReportedEvent,
    is_correction,
)
from events.record import Record
from events.store import Appended, Pending

MAX_RECORDED_BY = 200
"""The longest `recorded_by` the log keeps (an API key's label)."""


class LogView(Protocol):
    """What the append rules need to see of the log, read inside the write transaction."""

    def find_many(self, event_ids: Collection[UUID]) -> dict[UUID, Record]: ...

    def versions(self, towns: Collection[str]) -> dict[str, int]: ...

    def retractions(self, targets: Collection[UUID]) -> dict[UUID, UUID]:
        """The retraction of each of `targets` that has one."""
        ...

    def tail(self) -> tuple[int, datetime | None]:
        """The last position and its recorded_at (0 and None for an empty log)."""
        ...


class Planner:
    """Plans appends against one view of the log, request after request, in one transaction.

    A request that fails leaves the plan as it was before it, so requests that
    share a transaction (a group commit) succeed or fail one by one.
    """

    def __init__(self, view: LogView, now: datetime) -> None:
        position, last = view.tail()
        self._overlay = _Overlay(view, position)
        now = now.astimezone(UTC)
        self._recorded_at = now if last is None or now >= last else last

    def plan(self, batch: Sequence[Pending], recorded_by: str) -> list[Appended]:
        """The outcomes of appending `batch` after every request planned so far.

        A single event raises its own error; in a batch of several, the first
        failure is raised as BatchRejected with its index.
        """
        if not 0 < len(recorded_by) <= MAX_RECORDED_BY:
            raise InvalidEvent(f"recorded_by has 1 to {MAX_RECORDED_BY} characters")
        saved = self._overlay.checkpoint()
        try:
            self._overlay.prefetch(batch)
            return [
                self._one(index, pending, batch, recorded_by) for index, pending in enumerate(batch)
            ]
        except BaseException:
            self._overlay.restore(saved)
            raise

    def _one(
        self, index: int, pending: Pending, batch: Sequence[Pending], recorded_by: str
    ) -> Appended:
        try:
            return _plan_one(self._overlay, pending, recorded_by, self._recorded_at)
        except SitrepError as error:
            if len(batch) == 1:
                raise
            raise BatchRejected(index, error) from error


@dataclass(frozen=True, slots=True)
class _Saved:
    records: dict[UUID, Record]
    versions: dict[str, int]
    retractions: dict[UUID, UUID]
    position: int


class _Overlay:
    """The log view with the batch's earlier records laid over it."""

    def __init__(self, view: LogView, position: int) -> None:
        self._view = view
        self._records: dict[UUID, Record] = {}
        self._versions: dict[str, int] = {}
        self._retractions: dict[UUID, UUID] = {}
        self._known: dict[UUID, Record] = {}
        self._retracted: dict[UUID, UUID] = {}
        self._asked: set[UUID] = set()
        self._position = position

    def prefetch(self, batch: Sequence[Pending]) -> None:
        """Read in three queries what the batch asks about: ids, targets, streams, retractions."""
        targets = {p.event.target for p in batch if isinstance(p.event, Correction)}
        ids = targets | {p.event.id for p in batch if p.event.id is not None}
        self._known = self._view.find_many(ids) if ids else {}
        self._retracted = self._view.retractions(targets) if targets else {}
        towns = {p.event.town for p in batch if p.event.town is not None}
        towns |= {r.town for r in self._known.values()}
        towns -= self._versions.keys()  # already known, perhaps advanced by earlier requests
        found = self._view.versions(towns) if towns else {}
        self._versions.update({town: found.get(town, 0) for town in towns})
        self._asked = ids

    def checkpoint(self) -> _Saved:
        """What `restore` needs to undo everything added after this call."""
        return _Saved(
            dict(self._records), dict(self._versions), dict(self._retractions), self._position
        )

    def restore(self, saved: _Saved) -> None:
        """Forget everything added since `checkpoint` returned `saved`."""
        self._known, self._retracted, self._asked = {}, {}, set()
        self._records = saved.records
        self._versions = saved.versions
        self._retractions = saved.retractions
        self._position = saved.position

    def find(self, event_id: UUID) -> Record | None:
        if event_id in self._records:
            return self._records[event_id]
        assert event_id in self._asked, "prefetch reads every id and target a batch names"
        return self._known.get(event_id)

    def version(self, town: str) -> int:
        assert town in self._versions, "prefetch reads every town a batch touches"
        return self._versions[town]

    def retraction_of(self, target: UUID) -> UUID | None:
        assert target in self._asked, "prefetch reads the retractions of every target"
        return self._retractions.get(target) or self._retracted.get(target)

    def add(self, event: ReportedEvent | Correction, recorded_by: str, at: datetime) -> Record:
        assert event.town is not None
        assert event.id is not None
        self._position += 1
        version = self.version(event.town) + 1
        self._versions[event.town] = version
        record = Record(event, self._position, version, at, recorded_by)
        self._records[event.id] = record
        if event.kind == "report.retracted":
            assert isinstance(event, Correction)
            self._retractions[event.target] = event.id
        return record


def _plan_one(
    log: _Overlay,
    pending: Pending,
    recorded_by: str,
    recorded_at: datetime,
) -> Appended:
    event = pending.event
    if event.expected_version is not None:  # a guard, not a fact: never stored
        event = event.model_copy(update={"expected_version": None})
    if event.id is not None:
        existing = log.find(event.id)
        if existing is not None:
            if not same_content(existing.event, _normalised(log, event)):
                raise IdConflict(event.id)
            return Appended(existing, created=False)
    else:
        event = event.model_copy(update={"id": uuid7(recorded_at)})
    if is_correction(event):
        if event.occurred_at is not None:
            raise InvalidEvent(
                "a correction or retraction takes its occurred_at from its recording time; "
                "leave it out",
                loc=("occurred_at",),
            )
        event = _resolve_amendment(log, event, recorded_at)
    assert event.town is not None
    current = log.version(event.town)
    if pending.expected_version is not None and pending.expected_version != current:
        raise VersionConflict(event.town, pending.expected_version, current)
    return Appended(log.add(event, recorded_by, recorded_at), created=True)


def _resolve_amendment(log: _Overlay, event: Correction, recorded_at: datetime) -> Correction:
    """Check a correction's target, take its town, and validate the replacement."""
    target = log.find(event.target)
    if target is None:
        raise UnknownTarget(event.target)
    if target.kind in CORRECTION_KINDS:
        raise InvalidEvent(
            f"event {event.target} is a {target.kind}; only reports can be amended",
            loc=("target",),
        )
    if event.town is not None and event.town != target.town:
        raise InvalidEvent(
            f"the target belongs to town {target.town!r}, not {event.town!r}", loc=("town",)
        )
    retracted_by = log.retraction_of(event.target)
    if retracted_by is not None:
        raise AlreadyRetracted(event.target, retracted_by)
    update: dict[str, object] = {"town": target.town, "occurred_at": recorded_at}
    if isinstance(event, ReportCorrected):
        update["replacement"] = _body(replacement_of(target.event, event))
    return event.model_copy(update=update)


def _normalised(log: _Overlay, event: ReportedEvent | Correction) -> ReportedEvent | Correction:
    """A retried correction with its replacement as it would have been stored."""
    if not isinstance(event, ReportCorrected):
        return event
    target = log.find(event.target)
    if target is None or target.kind in CORRECTION_KINDS:
        return event
    try:
        replaced = replacement_of(target.event, event)
    except InvalidEvent:
        return event
    return event.model_copy(update={"replacement": _body(replaced)})


def _body(event: ReportedEvent) -> dict[str, JsonValue]:
    body: dict[str, JsonValue] = event.model_dump(
        mode="json", by_alias=True, exclude={"id", "kind", "town"}, exclude_none=True
    )
    return body


def replacement_of(
    target: ReportedEvent | Correction, correction: ReportCorrected
) -> ReportedEvent:
    """The event the target folds as once corrected; InvalidEvent if the body is not valid."""
    forbidden = {"id", "kind", "town"} & correction.replacement.keys()
    if forbidden:
        raise InvalidEvent(
            f"a replacement may not set {', '.join(sorted(forbidden))}",
            loc=("replacement", sorted(forbidden)[0]),
        )
    body = {**correction.replacement, "id": target.id, "kind": target.kind, "town": target.town}
    try:
        replaced = KINDS[target.kind].model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidEvent(
            f"the replacement is not a valid {target.kind}: {first['msg']}",
            loc=("replacement", *first["loc"]),
        ) from error
    assert not is_correction(replaced)
    return replaced  # type: ignore[return-value]


_SERVER_SET = {"id"}
_SERVER_SET_ON_AMENDMENTS = {"id", "occurred_at"}


def same_content(stored: ReportedEvent | Correction, sent: ReportedEvent | Correction) -> bool:
    """Whether a retry carries the same event as the one stored under its id."""
    if stored.kind != sent.kind:
        return False
    exclude = set(_SERVER_SET_ON_AMENDMENTS if is_correction(sent) else _SERVER_SET)
    if sent.town is None:
        exclude.add("town")
    return stored.model_dump(exclude=exclude) == sent.model_dump(exclude=exclude)
