"""The tables as the queries see them; migrations/ creates them and the triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("id", Uuid, nullable=False, unique=True),
    Column("town", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("schema_version", SmallInteger, nullable=False),
    Column("occurred_at", BigInteger, nullable=False, doc="microseconds since the Unix epoch"),
    Column("recorded_at", BigInteger, nullable=False, doc="microseconds since the Unix epoch"),
    Column("recorded_by", String(200), nullable=False),
    Column("target", Uuid, nullable=True, doc="the amended event, for corrections"),
    Column("body", Text, nullable=False, doc="canonical JSON of the event's other fields"),
    UniqueConstraint("town", "version", name="events_town_version_key"),
    Index("events_kind_position", "kind", "position"),
    Index("events_target", "target"),
    Index("events_recorded_at", "recorded_at"),
)

group_names = Table(
    "group_names",
    metadata,
    Column("name", String(120), primary_key=True, doc="a captive group's slug"),
    Column("position", BigInteger, primary_key=True, doc="the naming record's position"),
    Column("occurred_at", BigInteger, nullable=True, doc="a report's; NULL for a correction"),
    Column("report", Uuid, nullable=False, doc="the report named: its own id, or the target"),
    sqlite_with_rowid=False,
)
"""Each captive group that a captive report, or a correction's replacement, names.

Written with the log, in the append's transaction, so an amendment of an old
captive report finds the reports that name its groups by their names, not by
reading every captive report after it. A correction's row stands for the
report it corrects, at any time: a correction may move a report later or
into another group.
"""

FOREVER = 2**63 - 1
"""`known_until` of a snapshot that still holds."""

snapshots = Table(
    "snapshots",
    metadata,
    Column("stream", String(120), primary_key=True),
    Column("occurred_at", BigInteger, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("known_from", BigInteger, primary_key=True),
    Column("known_until", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("listed", Text, nullable=True),
    Column("low", BigInteger, nullable=False, server_default="0", doc="dead since the last one"),
    Column("best", BigInteger, nullable=False, server_default="0"),
    Column("high", BigInteger, nullable=False, server_default="0"),
    # For the reads that sum a town's dead and join its lists up to a moment:
    # the first covers the sum, so it walks small entries, not the rows with
    # their states; the second leads the join to the rows that have lists.
    # `listed` itself stays out of it: PostgreSQL refuses an index entry over
    # 2,704 bytes, and one long agreement makes a longer one.
    Index(
        "snapshots_tolls",
        "stream",
        "occurred_at",
        "known_from",
        "known_until",
        "low",
        "best",
        "high",
    ),
    Index(
        "snapshots_listed",
        "stream",
        "occurred_at",
        "position",
        "known_from",
        "known_until",
        sqlite_where=text("listed IS NOT NULL"),
        postgresql_where=text("listed IS NOT NULL"),
    ),
)

moves = Table(
    "moves",
    metadata,
    Column("town", String(120), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("known_from", BigInteger, nullable=False),
    Index("moves_town_occurred_at", "town", "occurred_at"),
    Index("moves_town_position", "town", "position"),
)

captives_held = Table(
    "captives_held",
    metadata,
    Column("town", String(120), primary_key=True),
    Column("occurred_at", BigInteger, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("known_from", BigInteger, primary_key=True),
    Column("known_until", BigInteger, nullable=False),
    Column("held", Integer, nullable=False),
    Index("captives_held_open", "known_until", "occurred_at", "position"),
)

captive_ledger = Table(
    "captive_ledger",
    metadata,
    Column("name", String(160), primary_key=True, doc="group:SLUG, remains:ID or anomaly:ID"),
    Column("occurred_at", BigInteger, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("known_from", BigInteger, primary_key=True),
    Column("known_until", BigInteger, nullable=False),
    Column("body", Text, nullable=False, doc="the entry as JSON"),
    Index("captive_ledger_open", "known_until", "occurred_at", "position"),
)

reaches = Table(
    "reaches",
    metadata,
    Column("town", String(120), primary_key=True),
    Column("known_from", BigInteger, primary_key=True),
    Column("occurred_at", BigInteger, primary_key=True),
)
"""How far in valid time each town's folded facts reach, as known from when.

A read as of a later time folds the same facts as one at this row's time,
so it searches the town's snapshots and reports only up to it: a read with
an early `known_at` and a late `as_of` (or the default, now) no longer walks
every report the town had after `known_at`.
"""

town_reports = Table(
    "town_reports",
    metadata,
    Column("town", String(120), primary_key=True),
    Column("occurred_at", BigInteger, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    sqlite_with_rowid=False,
)
"""Every report of the log up to the checkpoint, amendments left out, by town and occurred time.

The reads of a town's tail and the refolds' read-backs search it, then take
the rows from the log by position. The projector writes it a step at a time,
beside the snapshots: as an index of the log, every append paid for it, one
page of it for each town an append names.
"""

town_versions = Table(
    "town_versions",
    metadata,
    Column("town", String(120), primary_key=True),
    Column("known_from", BigInteger, primary_key=True),
    Column("version", Integer, primary_key=True),
    sqlite_with_rowid=False,
)
"""Each town stream's version from the `recorded_at` it was reached at, up to the checkpoint.

A read's version (its ETag) is the latest row known at `known_at`. Written by
the projector a step at a time, like `town_reports`; a batch that two steps
fold leaves two rows of one time, and the higher version is the read's.
"""

towns = Table(
    "towns",
    metadata,
    Column("town", String(120), primary_key=True),
    Column("first_known", BigInteger, nullable=False, doc="recorded_at of its first record"),
)

SNAPSHOTS_CHECKPOINT = "snapshots"
"""The `checkpoints` row of the log position the snapshots, moves and rows reflect."""

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the Unix epoch."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """Whole microseconds since the Unix epoch as an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=micros)
