"""The event log on SQLite or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from threading import Lock
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import Engine, Row, Select, bindparam, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from events.appending import Planner
from events.codec import SCHEMA_VERSION, decode_event, encode_body
from events.errors import SitrepError, StoreUnavailable
from events.grouping import GroupCommit, Request
from events.kinds import (
    CAPTIVE_KINDS,
    Correction,
    ReportCorrected,
    ReportedEvent,
    groups_named,
    is_correction,
)
from events.record import Record
from events.sql.bulk import insert_rows
from events.sql.engine import WRITE
from events.sql.json_list import in_json_list, json_list, json_values
from events.sql.schema import events, from_micros, group_names, to_micros
from events.store import MAX_PAGE, Appended, Pending

_APPEND_ATTEMPTS = 3
LOCK_TIMEOUT = "10s"

# The append path's statements, built once: building a statement costs several
# times what SQLite takes to run it.
_BY_ID = select(events).where(events.c.id == bindparam("id"))
_BY_IDS = select(events).where(in_json_list(events.c.id, "ids"))


def _versions(dialect: str) -> Select[Any]:
    """Each named town with its latest version (None: no event yet).

    One search of the (town, version) index a town: grouping the rows of all
    of them read every event of each town before taking the largest, a
    tenth of a second for a batch naming 500 towns of a million events.
    """
    named = json_values(dialect, "towns", "town")
    latest = select(func.max(events.c.version)).where(events.c.town == named.c.town)
    return select(named.c.town, latest.scalar_subquery().label("version"))


_VERSIONS = {dialect: _versions(dialect) for dialect in ("sqlite", "postgresql")}
_AMENDMENTS_OF = select(events.c.target, events.c.id, events.c.kind).where(
    in_json_list(events.c.target, "targets")
)
"""Every amendment of the targets: few each, found by the target's index.

Asked for retractions alone, SQLite's planner walked the index of kinds
instead, through every retraction in the log.
"""
_TAIL = select(events.c.position, events.c.recorded_at).order_by(events.c.position.desc()).limit(1)
_PAGE = (
    select(events)
    .where(events.c.position > bindparam("after"))
    .order_by(events.c.position)
    .limit(bindparam("limit"))
)
"""A page of the whole log: what catching up reads before every read."""


class TransactionView:
    """The LogView the Planner reads, inside the append's own transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def find_many(self, event_ids: Collection[UUID]) -> dict[UUID, Record]:
        found = self._conn.execute(_BY_IDS, {"ids": json_list(event_ids)})
        return {record.id: record for record in map(record_of, found)}

    def versions(self, towns: Collection[str]) -> dict[str, int]:
        query = _VERSIONS[self._conn.dialect.name]
        found = self._conn.execute(query, {"towns": json_list(towns)})
        return {town: int(version) for town, version in found if version is not None}

    def retractions(self, targets: Collection[UUID]) -> dict[UUID, UUID]:
        found = self._conn.execute(_AMENDMENTS_OF, {"targets": json_list(targets)})
        return {row.target: row.id for row in found if row.kind == "report.retracted"}

    def tail(self) -> tuple[int, datetime | None]:
        last = self._conn.execute(_TAIL).first()
        return (0, None) if last is None else (last.position, from_micros(last.recorded_at))


class SqlEventStore:
    """An EventStore on one SQL database; appends are serialised so positions commit in order."""

    view: ClassVar[type[TransactionView]] = TransactionView
    """How the append reads the log inside its transaction (a test may plan on a stale one)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._group = GroupCommit(self._commit)

    def append(self, pending: Sequence[Pending], recorded_by: str) -> list[Appended]:
        """Append all of `pending` atomically and in order, or raise and store nothing.

        Appends from other threads that wait meanwhile share the transaction
        (group commit), each still all-or-nothing on its own.
        """
        return self._group.submit(pending, recorded_by)

    def append_soon(self, pending: Sequence[Pending], recorded_by: str) -> Future[list[Appended]]:
        """`append`, answered by a future instead of a waiting thread."""
        return self._group.submit_soon(pending, recorded_by)

    def _commit(self, group: list[Request]) -> None:
        try:
            self._commit_retrying(group)
        except StoreUnavailable:
            raise
        except Exception:
            if len(group) == 1:
                raise
            # Something in one request broke the shared transaction: commit them one
            # by one, in order, so only the request at fault fails.
            for request in group:
                try:
                    self._commit_retrying([request])
                except Exception as error:
                    request.outcomes, request.error = None, error

    def _commit_retrying(self, group: list[Request]) -> None:
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                self._commit_once(group)
                return
            except IntegrityError as error:
                # Only a writer that bypassed the lock can get here; planning again
                # against the new state turns the clash into the domain's own error.
                if attempt == _APPEND_ATTEMPTS - 1:
                    raise StoreUnavailable("the append kept clashing with another") from error

    def _commit_once(self, group: list[Request]) -> None:
        with self.connection(write=True) as conn, conn.begin():
            if self._postgres:
                # Without the lock, a later transaction could commit a lower position
                # after a reader has paged past it; EXCLUSIVE still lets readers in.
                # A writer stuck behind it gives up (503) rather than hang forever.
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                conn.exec_driver_sql("LOCK TABLE events IN EXCLUSIVE MODE")
            planner = Planner(self.view(conn), self._clock())
            for request in group:
                request.outcomes, request.error = None, None
                try:
                    request.outcomes = planner.plan(request.pending, request.recorded_by)
                except SitrepError as error:
                    request.error = error
            created = [
                outcome.record
                for request in group
                for outcome in request.outcomes or ()
                if outcome.created
            ]
            rows = [as_row(record) for record in created]
            insert_rows(conn, events, rows)
            insert_rows(conn, group_names, names_rows(created))
        # Committed: reading these rows back (the catch-up right after an import or
        # a POST) finds the events already decoded, exactly as a decode would give.
        for record, row in zip(created, rows, strict=True):
            key = (row["kind"], row["id"], row["town"], row["body"], row["schema_version"])
            _DECODED.put(key, record.event)

    def get(self, event_id: UUID) -> Record | None:
        """The record of one event, or None."""
        with self.connection() as conn:
            row = conn.execute(_BY_ID, {"id": event_id}).first()
        return None if row is None else record_of(row)

    def get_many(self, event_ids: Collection[UUID]) -> dict[UUID, Record]:
        """The records of those events that are in the log, by id."""
        wanted = list(event_ids)
        found: dict[UUID, Record] = {}
        with self.connection() as conn:
            for first in range(0, len(wanted), MAX_PAGE):
                ids = json_list(wanted[first : first + MAX_PAGE])
                found.update((r.id, r) for r in map(record_of, conn.execute(_BY_IDS, {"ids": ids})))
        return found

    def select(
        self,
        *,
        after: int = 0,
        limit: int = MAX_PAGE,
        town: str | None = None,
        kinds: Collection[str] | None = None,
        targets: Collection[UUID] | None = None,
        known_at: datetime | None = None,
    ) -> list[Record]:
        """Up to `limit` records with position > `after`, in position order, filtered."""
        limit = max(0, min(limit, MAX_PAGE))
        if town is None and kinds is None and targets is None and known_at is None:
            with self.connection() as conn:
                page = conn.execute(_PAGE, {"after": after, "limit": limit})
                return [record_of(row) for row in page]
        query = select(events).where(events.c.position > after)
        if town is not None:
            # After a record of the town, its page starts past that record's version,
            # which the town's index seeks to; after any other, at its first version.
            reached = select(events.c.version).where(
                events.c.position == after, events.c.town == town
            )
            query = query.where(
                events.c.town == town,
                events.c.version > func.coalesce(reached.scalar_subquery(), 0),
            )
        if kinds is not None:
            query = query.where(events.c.kind.in_(list(kinds)))
        if targets is not None:
            query = query.where(events.c.target.in_(list(targets)))
        if known_at is not None:
            query = query.where(events.c.recorded_at <= to_micros(known_at))
        # A town's versions grow with its positions, so its stream walks the index of them.
        order = events.c.position if town is None else events.c.version
        query = query.order_by(order).limit(limit)
        with self.connection() as conn:
            return [record_of(row) for row in conn.execute(query)]

    def version(self, town: str, known_at: datetime | None = None) -> int:
        """The town stream's version as known at `known_at` (0: no record)."""
        query = select(events.c.version).where(events.c.town == town)
        if known_at is not None:
            query = query.where(events.c.recorded_at <= to_micros(known_at))
        query = query.order_by(events.c.recorded_at.desc(), events.c.version.desc()).limit(1)
        with self.connection() as conn:
            return int(conn.execute(query).scalar() or 0)

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        with self.connection() as conn:
            conn.execute(text("SELECT 1"))

    @contextmanager
    def connection(self, *, write: bool = False) -> Iterator[Connection]:
        """A connection whose driver errors surface as StoreUnavailable; `write` takes the lock."""
        try:
            with self._engine.connect() as conn:
                if write:
                    conn.execution_options(**WRITE)
                yield conn
        except (OperationalError, InterfaceError) as error:
            raise StoreUnavailable(f"the database did not answer: {error.orig}") from error
        except PoolTimeout as error:
            raise StoreUnavailable(f"no database connection was free: {error}") from error


def as_row(record: Record) -> dict[str, Any]:
    """The table row that stores a record."""
    event = record.event
    assert event.occurred_at is not None
    return {
        "position": record.position,
        "id": record.id,
        "town": record.town,
        "version": record.version,
        "kind": record.kind,
        "schema_version": SCHEMA_VERSION,
        "occurred_at": to_micros(event.occurred_at),
        "recorded_at": to_micros(record.recorded_at),
        "recorded_by": record.recorded_by,
        "target": event.target if is_correction(event) else None,  # type: ignore[union-attr]
        "body": encode_body(event).decode(),
    }


def names_rows(records: Iterable[Record]) -> list[dict[str, Any]]:
    """The `group_names` rows of the captive reports and corrections among `records`."""
    rows: list[dict[str, Any]] = []
    for record in records:
        event = record.event
        if isinstance(event, ReportCorrected):
            named, report, occurred_at = groups_named(event.replacement), event.target, None
        elif record.kind in CAPTIVE_KINDS and event.occurred_at is not None:
            named, report = groups_named(vars(event)), record.id
            occurred_at = to_micros(event.occurred_at)
        else:
            continue
        rows += [
            {
                "name": name,
                "position": record.position,
                "occurred_at": occurred_at,
                "report": report,
            }
            for name in sorted(named)
        ]
    return rows


def record_of(row: Row[Any]) -> Record:
    """The record a row of the events table stores."""
    key = (row.kind, row.id, row.town, row.body, row.schema_version)
    event = _DECODED.get(key)
    if event is None:
        event = decode_event(*key)
        _DECODED.put(key, event)
    return Record(event, row.position, row.version, from_micros(row.recorded_at), row.recorded_by)


DECODED_KEPT = 16_384
"""How many decoded events a process keeps, about 3 kB each.

Decoding is most of what reading a record costs, and a stored event never
changes: reads at nearby moments (every town's tail, in GET /towns) meet the
same rows again and again, and catching up meets the rows just appended.
"""

_DecodedKey = tuple[str, UUID, str, str, int]


class _Decoded:
    """The most recently used decoded events, by every stored part of their row.

    Keyed by every part, not the position alone: one process may open several
    databases, and events are frozen, so sharing one is safe.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[_DecodedKey, ReportedEvent | Correction] = OrderedDict()
        self._lock = Lock()

    def get(self, key: _DecodedKey) -> ReportedEvent | Correction | None:
        with self._lock:
            event = self._kept.get(key)
            if event is not None:
                self._kept.move_to_end(key)
            return event

    def put(self, key: _DecodedKey, event: ReportedEvent | Correction) -> None:
        with self._lock:
            self._kept[key] = event
            self._kept.move_to_end(key)
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)


_DECODED = _Decoded(DECODED_KEPT)
