"""The SQL store: the only code that speaks SQL (SQLAlchemy Core; SQLite and PostgreSQL)."""

from events.sql.database import connect
from events.sql.keys import SqlKeyRing
from events.sql.snapshots import SqlSnapshots
from events.sql.store import SqlEventStore

__all__ = ["SqlEventStore", "SqlKeyRing", "SqlSnapshots", "connect"]
