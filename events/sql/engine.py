"""Engines for SQLite and PostgreSQL, set up for a serialised, durable append path."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from events.errors import InvalidDatabaseUrl

SQLITE_AT_LEAST = (3, 35)
"""The oldest SQLite whose SQL the store speaks (MATERIALIZED common table expressions).

It must also have its JSON functions, built in from 3.38 and in most builds before.
"""

WRITE = {"sitrep_write": True}
"""Execution options of a connection that will append: it takes the write lock at BEGIN."""


def create(url: str) -> Engine:
    """An engine for `url` (sqlite or postgresql+psycopg); InvalidDatabaseUrl if unusable."""
    try:
        if make_url(url).get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (ArgumentError, NoSuchModuleError) as error:
        raise InvalidDatabaseUrl(
            f"cannot use database URL {redacted(url)!r}: {error}; expected sqlite:///FILE "
            "or postgresql+psycopg://USER@HOST:PORT/DATABASE"
        ) from error


def redacted(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_engine(url: str) -> Engine:
    if sqlite3.sqlite_version_info < SQLITE_AT_LEAST:
        raise InvalidDatabaseUrl(
            f"this Python links SQLite {sqlite3.sqlite_version}; sitrep needs "
            f"{'.'.join(map(str, SQLITE_AT_LEAST))} or later: use a newer Python, or PostgreSQL"
        )
    if not _sqlite_speaks_json():
        raise InvalidDatabaseUrl(
            f"this Python links SQLite {sqlite3.sqlite_version} built without its JSON "
            "functions, which sitrep needs: use a Python whose SQLite has them, or PostgreSQL"
        )
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged event survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Appends take SQLite's write lock at BEGIN, so their reads and their
        # insert see one state and positions commit in order; reads stay deferred.
        writing = connection.get_execution_options().get("sitrep_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def _sqlite_speaks_json() -> bool:
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("SELECT value FROM json_each('[1]')").fetchall()
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True
