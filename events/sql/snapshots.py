"""Snapshots, moves and their checkpoint in the same database as the log."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Insert,
    String,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from events.codec import decode_body
from events.kinds import CAPTIVE_KINDS, groups_named
from events.record import Record
from events.snapshots import (
    CaptiveKey,
    Closure,
    Cut,
    Entry,
    Held,
    Key,
    Move,
    ReadBack,
    Snapshot,
    TownRead,
    Update,
)
from events.sql.bulk import insert_rows
from events.sql.every_town import BEFORE_ALL, CHECKPOINT, read_towns
from events.sql.json_list import in_json_list, json_list
from events.sql.read_back import read_back
from events.sql.schema import (
    FOREVER,
    SNAPSHOTS_CHECKPOINT,
    captive_ledger,
    captives_held,
    checkpoints,
    events,
    from_micros,
    group_names,
    moves,
    reaches,
    snapshots,
    to_micros,
    town_reports,
    town_versions,
    towns,
)
from events.sql.store import SqlEventStore, record_of


class SqlSnapshots:
    """Snapshots kept by SQL beside the log; they go through the log's own connections."""

    def __init__(self, log: SqlEventStore) -> None:
        self._log = log

    def checkpoint(self) -> int:
        """The log position every snapshot and move reflects."""
        with self._log.connection() as conn:
            return int(conn.execute(CHECKPOINT).scalar_one())

    def read_back(
        self,
        starts: Mapping[str, Key],
        through: int,
        also: Mapping[str, Collection[int]],
        ahead: int | None = None,
    ) -> dict[str, ReadBack]:
        """For each town of `starts`, the stretch of its history a refold from there needs."""
        with self._reading() as conn:
            return read_back(conn, starts, through, also, ahead)

    def moves(self, reports: Collection[tuple[str, int]]) -> list[Move]:
        """Every move of the `reports`, each named by its town and position."""
        # A position names one report, so the two lists cannot pair up wrongly.
        query = select(moves).where(
            moves.c.town.in_(sorted({town for town, _ in reports})),
            moves.c.position.in_(sorted({position for _, position in reports})),
        )
        with self._log.connection() as conn:
            return [
                Move(
                    row.town,
                    row.position,
                    from_micros(row.occurred_at),
                    from_micros(row.known_from),
                )
                for row in conn.execute(query)
            ]

    def captive_keys(self, through: int, since: Key | None) -> list[CaptiveKey]:
        """The stored key, id and groups named of each captive report from `since` on."""
        start = _from_key(since) if since else {"from_occurred": BEFORE_ALL, "from_position": 0}
        params = {"through": through, **start}
        with self._log.connection() as conn:
            return [
                (
                    (from_micros(row.occurred_at), row.position),
                    row.id,
                    groups_named(decode_body(row.kind, row.body, row.schema_version)),
                )
                for row in conn.execute(_CAPTIVE_KEYS, params)
            ]

    def open_entries_of(self, names: Collection[str]) -> list[Entry]:
        """Every ledger entry of those names that still holds, in key order."""
        with self._log.connection() as conn:
            rows = conn.execute(_OPEN_ENTRIES_OF, {"names": json_list(sorted(names))})
            return [_entry(row) for row in rows]

    def open_held(self, towns: Collection[str]) -> list[Held]:
        """Every row of captives held in those towns that still holds, in key order."""
        with self._log.connection() as conn:
            rows = conn.execute(_OPEN_HELD, {"towns": json_list(sorted(towns))})
            return [
                Held(
                    row.town,
                    (from_micros(row.occurred_at), row.position),
                    from_micros(row.known_from),
                    row.held,
                )
                for row in rows
            ]

    def recent_key(self, count: int) -> Key | None:
        """The key of the `count`-th latest fact the ledger's kept entries hold; None if fewer."""
        with self._log.connection() as conn:
            row = conn.execute(_RECENT_KEY, {"skip": count - 1}).first()
        return None if row is None else (from_micros(row.occurred_at), row.position)

    def open_entries(self, before: Key) -> list[Entry]:
        """Of each name, the latest ledger entry before `before` that still holds, in key order."""
        with self._reading() as conn:
            return _latest(conn.execute(_OPEN_ENTRIES, _from_key(before)))

    def captive_amendments(self, through: int) -> list[Record]:
        """Every amendment of a captive report up to position `through`, in position order."""
        with self._log.connection() as conn:
            rows = conn.execute(_CAPTIVE_AMENDMENTS, {"through": through})
            return [record_of(row) for row in rows]

    def naming(
        self, groups: Collection[str], through: int, since: Key, also: Collection[UUID] = ()
    ) -> list[Record]:
        """The captive reports naming `groups` from `since` on, the reports `also`, and their
        amendments, in position order: through `group_names`, written with the log."""
        params = {"groups": json_list(sorted(groups)), "through": through, **_from_key(since)}
        with self._log.connection() as conn:
            found = {*also, *conn.execute(_NAMING, params).scalars()} if groups else set(also)
            if not found:
                return []
            ids = {"ids": json_list(sorted(found)), "through": through}
            rows = conn.execute(_AMENDMENTS_OF, ids)
            amendments = [record_of(row) for row in rows]
        reports = [r for r in self._log.get_many(found).values() if r.position <= through]
        return sorted([*reports, *amendments], key=_position)

    def records(self, ids: Collection[UUID]) -> dict[UUID, Record]:
        """The records of those events in the log, by id."""
        return self._log.get_many(ids)

    def every_town(self, as_of: datetime, known_at: datetime) -> list[TownRead]:
        """What reading each town known at `known_at` as of `as_of` takes, in a few queries."""
        with self._reading() as conn:
            return read_towns(conn, as_of, known_at)

    def read_town(self, town: str, as_of: datetime, known_at: datetime) -> TownRead:
        """What reading `town` as of `as_of` as known at `known_at` takes."""
        with self._reading() as conn:
            found = read_towns(conn, as_of, known_at, town)
        return found[0] if found else TownRead(town, None, [], 0, 0)

    def ledger(self, as_of: datetime, known_at: datetime, name: str | None = None) -> list[Entry]:
        """Of each name (or just `name`), the latest entry up to `as_of` that held at `known_at`.

        The entries that held come in key order, so the last of each name wins;
        only its body is kept while the rest stream past.
        """
        query = (
            select(captive_ledger)
            .where(
                captive_ledger.c.occurred_at <= to_micros(as_of),
                captive_ledger.c.known_from <= to_micros(known_at),
                captive_ledger.c.known_until > to_micros(known_at),
            )
            .order_by(captive_ledger.c.occurred_at, captive_ledger.c.position)
        )
        if name is not None:
            query = query.where(captive_ledger.c.name == name)
        with self._reading() as conn:
            return _latest(conn.execute(query))

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A transaction that sees one state of the database from its first query to its last."""
        with self._log.connection() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def save(self, change: Update) -> bool:
        """Apply `change` atomically; False, changing nothing, if the checkpoint is not `after`."""
        with self._log.connection(write=True) as conn, conn.begin():
            moved = conn.execute(
                update(checkpoints)
                .where(
                    checkpoints.c.name == SNAPSHOTS_CHECKPOINT,
                    checkpoints.c.position == change.after,
                )
                .values(position=change.through)
            )
            if moved.rowcount != 1:
                conn.rollback()
                return False
            self._write(conn, change)
        return True

    def reset(self) -> None:
        """Forget every snapshot, move, town, held row and entry; the checkpoint goes back to 0."""
        with self._log.connection(write=True) as conn, conn.begin():
            # The checkpoint first: a step that another process saves meanwhile waits on
            # its row, then finds it moved and fails. Were it moved last, such a step could
            # commit between the deletes on PostgreSQL and leave its rows behind.
            conn.execute(
                update(checkpoints)
                .where(checkpoints.c.name == SNAPSHOTS_CHECKPOINT)
                .values(position=0)
            )
            conn.execute(delete(snapshots))
            conn.execute(delete(moves))
            conn.execute(delete(towns))
            conn.execute(delete(reaches))
            conn.execute(delete(town_reports))
            conn.execute(delete(town_versions))
            conn.execute(delete(captives_held))
            conn.execute(delete(captive_ledger))

    @staticmethod
    def _write(conn: Connection, change: Update) -> None:
        if change.closures:
            ended = [_closure_row(closure) for closure in change.closures]
            conn.execute(_NEVER_HELD, ended)
            conn.execute(_ENDED, ended)
        insert_rows(conn, snapshots, [_snapshot_row(s) for s in change.snapshots])
        insert_rows(conn, moves, [_move_row(m) for m in change.moves])
        insert_rows(conn, town_reports, _report_rows(change.records))
        insert_rows(conn, town_versions, _version_rows(change.records))
        for cut in change.cuts:
            _apply_cut(conn, cut)
        insert_rows(conn, captives_held, [_held_row(row) for row in change.held])
        insert_rows(conn, captive_ledger, [_entry_row(e) for e in change.entries])
        if change.towns:
            known = select(towns.c.town).where(towns.c.town.in_(list(change.towns)))
            new = change.towns.keys() - set(conn.execute(known).scalars())
            rows = [{"town": t, "first_known": to_micros(change.towns[t])} for t in sorted(new)]
            if rows:
                conn.execute(insert(towns), rows)
        if change.reach:
            reached = [
                {
                    "of_town": town,
                    "from": to_micros(change.towns[town]),
                    "to": to_micros(change.reach[town]),
                }
                for town in sorted(change.reach)
            ]
            conn.execute(_FURTHER, reached)


def _report_rows(records: list[Record]) -> list[dict[str, Any]]:
    """The `town_reports` rows of the reports among `records`, in key order."""
    rows = [
        {"town": r.town, "occurred_at": to_micros(r.event.occurred_at), "position": r.position}
        for r in records
        if r.target is None and r.event.occurred_at is not None
    ]
    return sorted(rows, key=lambda row: (row["town"], row["occurred_at"], row["position"]))


def _version_rows(records: list[Record]) -> list[dict[str, Any]]:
    """Of each town and `recorded_at` among `records`, the version it reached then."""
    reached: dict[tuple[str, int], int] = {}
    for record in records:
        at = (record.town, to_micros(record.recorded_at))
        reached[at] = max(reached.get(at, 0), record.version)
    return [
        {"town": town, "known_from": known_from, "version": version}
        for (town, known_from), version in sorted(reached.items())
    ]


def _further() -> Insert:
    """A row of the town's reach from the step's first record on, if the step reaches further.

    Each row reaches further than the one before, so the latest is the furthest.
    """
    town = bindparam("of_town", type_=String)
    to = bindparam("to", type_=BigInteger)
    latest = (
        select(reaches.c.occurred_at)
        .where(reaches.c.town == town)
        .order_by(reaches.c.known_from.desc(), reaches.c.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    further = select(town, bindparam("from", type_=BigInteger), to).where(
        to > func.coalesce(latest, BEFORE_ALL)
    )
    return insert(reaches).from_select(["town", "known_from", "occurred_at"], further)


_FURTHER = _further()


def _snapshot_row(snapshot: Snapshot) -> dict[str, Any]:
    until = snapshot.known_until
    return {
        "stream": snapshot.stream,
        "occurred_at": to_micros(snapshot.key[0]),
        "position": snapshot.key[1],
        "known_from": to_micros(snapshot.known_from),
        "known_until": FOREVER if until is None else to_micros(until),
        "state": snapshot.state,
        "listed": snapshot.listed,
        "low": snapshot.toll[0],
        "best": snapshot.toll[1],
        "high": snapshot.toll[2],
    }


def _closure_row(closure: Closure) -> dict[str, Any]:
    return {
        "of_stream": closure.stream,
        "at_occurred": to_micros(closure.key[0]),
        "at_position": closure.key[1],
        "ended_at": to_micros(closure.at),
    }


_OPEN_AT_KEY = (
    snapshots.c.stream == bindparam("of_stream"),
    snapshots.c.occurred_at == bindparam("at_occurred", type_=BigInteger),
    snapshots.c.position == bindparam("at_position", type_=BigInteger),
    snapshots.c.known_until == FOREVER,
)
_NEVER_HELD = delete(snapshots).where(
    *_OPEN_AT_KEY, snapshots.c.known_from >= bindparam("ended_at", type_=BigInteger)
)
"""A snapshot a closure ends before it began never held: it goes, leaving its place free."""
_ENDED = (
    update(snapshots)
    .where(*_OPEN_AT_KEY)
    .values(known_until=bindparam("ended_at", type_=BigInteger))
)


def _apply_cut(conn: Connection, cut: Cut) -> None:
    """End the open rows of captives held and ledger entries from the cut's key on, at its moment.

    A row that began at that moment itself never held: it goes, so that the
    step's own row for the same place and moment can take its place. A cut
    of some towns ends only their rows of captives held, and one of some
    names only their entries; as in `Cut.ends`, None is every one.
    """
    params: dict[str, Any] = {**_from_key(cut.key), "ended_at": to_micros(cut.at)}
    statements = []
    for scope, every, some, name in zip(
        (cut.towns, cut.names), _CUTS, _SCOPED_CUTS, ("towns", "names"), strict=True
    ):
        if scope is None:
            statements.append(every)
        elif scope:
            statements.append(some)
            params[name] = json_list(sorted(scope))
    for never, ended in statements:
        conn.execute(never, params)
        conn.execute(ended, params)


def _still_open(table: Any) -> ColumnElement[bool]:
    """`known_until = FOREVER`, for a statement about a few towns or names.

    Written `known_until + 0` so that SQLite leads with the table's key (town
    or name first) rather than with the index of every open row by key: that
    walked every open row of every town from the key on, so a regroup of an
    old report cost more the longer the history (188 ms at 1M).
    """
    still_open: ColumnElement[bool] = table.c.known_until + literal_column("0") == FOREVER
    return still_open


def _cuts(table: Any, scope: str | None = None) -> tuple[Any, Any]:
    """The statements that delete the rows a cut leaves never holding, and end the rest.

    With `scope` (`town` or `name`), only of the values bound as its plural.
    """
    open_from = [tuple_(table.c.occurred_at, table.c.position) >= _FROM_KEY]
    if scope is None:
        open_from.append(table.c.known_until == FOREVER)
    else:
        open_from += [_still_open(table), in_json_list(table.c[scope], f"{scope}s")]
    ended_at = bindparam("ended_at", type_=BigInteger)
    never = delete(table).where(*open_from, table.c.known_from == ended_at)
    return never, update(table).where(*open_from).values(known_until=ended_at)


def _held_row(row: Held) -> dict[str, Any]:
    return {"town": row.town, **_times(row), "held": row.held}


def _times(row: Held | Entry) -> dict[str, Any]:
    """A bitemporal row's key and the span it holds, as stored."""
    until = FOREVER if row.known_until is None else to_micros(row.known_until)
    return {
        "occurred_at": to_micros(row.key[0]),
        "position": row.key[1],
        "known_from": to_micros(row.known_from),
        "known_until": until,
    }


def _move_row(move: Move) -> dict[str, Any]:
    return {
        "town": move.town,
        "position": move.position,
        "occurred_at": to_micros(move.occurred_at),
        "known_from": to_micros(move.known_from),
    }


def _entry_row(entry: Entry) -> dict[str, Any]:
    return {"name": entry.name, **_times(entry), "body": entry.body}


def _latest(rows: Iterable[Any]) -> list[Entry]:
    """Of each name, the last of `rows` (in key order), as entries in key order.

    Only the latest row of each name is kept while the rest stream past.
    """
    latest: dict[str, Any] = {}
    for row in rows:
        latest[row.name] = row
    return sorted((_entry(row) for row in latest.values()), key=_entry_key)


def _from_key(key: Key) -> dict[str, int]:
    return {"from_occurred": to_micros(key[0]), "from_position": key[1]}


def _entry(row: Any) -> Entry:
    until = None if row.known_until == FOREVER else from_micros(row.known_until)
    key = (from_micros(row.occurred_at), row.position)
    return Entry(row.name, key, from_micros(row.known_from), row.body, until)


def _position(record: Record) -> int:
    return record.position


def _entry_key(entry: Entry) -> Key:
    return entry.key


_CAPTIVE = events.c.kind.in_(sorted(CAPTIVE_KINDS))
_FROM_KEY = tuple_(
    bindparam("from_occurred", type_=BigInteger), bindparam("from_position", type_=BigInteger)
)
_CUTS = (_cuts(captives_held), _cuts(captive_ledger))
_SCOPED_CUTS = (_cuts(captives_held, "town"), _cuts(captive_ledger, "name"))
_CAPTIVE_KEYS = select(
    events.c.occurred_at,
    events.c.position,
    events.c.id,
    events.c.kind,
    events.c.schema_version,
    events.c.body,
).where(
    _CAPTIVE,
    events.c.position <= bindparam("through"),
    tuple_(events.c.occurred_at, events.c.position) >= _FROM_KEY,
)
_OPEN_ENTRIES_OF = (
    select(captive_ledger)
    .where(in_json_list(captive_ledger.c.name, "names"), _still_open(captive_ledger))
    .order_by(captive_ledger.c.occurred_at, captive_ledger.c.position, captive_ledger.c.known_from)
)
_OPEN_HELD = (
    select(captives_held)
    .where(in_json_list(captives_held.c.town, "towns"), _still_open(captives_held))
    .order_by(captives_held.c.occurred_at, captives_held.c.position, captives_held.c.known_from)
)
_RECENT_KEY = (
    select(captive_ledger.c.occurred_at, captive_ledger.c.position)
    .where(captive_ledger.c.known_until == FOREVER)
    .distinct()
    .order_by(captive_ledger.c.occurred_at.desc(), captive_ledger.c.position.desc())
    .offset(bindparam("skip", type_=BigInteger))
    .limit(1)
)
_OPEN_ENTRIES = (
    select(captive_ledger)
    .where(
        captive_ledger.c.known_until == FOREVER,
        tuple_(captive_ledger.c.occurred_at, captive_ledger.c.position) < _FROM_KEY,
    )
    .order_by(captive_ledger.c.occurred_at, captive_ledger.c.position, captive_ledger.c.known_from)
)
_NAMING = (
    select(group_names.c.report)
    .where(
        in_json_list(group_names.c.name, "groups"),
        group_names.c.position <= bindparam("through"),
        or_(
            group_names.c.occurred_at.is_(None),
            tuple_(group_names.c.occurred_at, group_names.c.position) >= _FROM_KEY,
        ),
    )
    .distinct()
)
_AMENDMENTS_OF = (
    select(events)
    .where(in_json_list(events.c.target, "ids"), events.c.position <= bindparam("through"))
    .order_by(events.c.position)
)
_CAPTIVE_AMENDMENTS = (
    select(events)
    .where(
        events.c.position <= bindparam("through"),
        events.c.target.in_(select(events.c.id).where(_CAPTIVE)),
    )
    .order_by(events.c.position)
)
