"""Opening a database: an engine, with its schema brought up to date."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from events.errors import StoreUnavailable
from events.sql.engine import create, redacted
from events.sql.migrate import upgrade


def connect(url: str, *, migrate: bool = True) -> Engine:
    """An engine for `url` with the schema migrated to the newest revision (unless told not to).

    Raises InvalidDatabaseUrl for a URL sitrep cannot use, StoreUnavailable when
    the database does not answer.
    """
    engine = create(url)
    if migrate:
        try:
            upgrade(engine)
        except (OperationalError, InterfaceError) as error:
            engine.dispose()
            raise StoreUnavailable(
                f"the database at {redacted(url)!r} did not answer: {error.orig}"
            ) from error
    return engine
