"""API keys in the SQL database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import InterfaceError, OperationalError

from events.errors import StoreUnavailable
from events.keyring import StoredKey
from events.sql.schema import api_keys, to_micros


class SqlKeyRing:
    """A KeyRing in the `api_keys` table."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def add(self, key: StoredKey) -> None:
        """Keep a new key's hash, role and label."""
        row = {
            "key_hash": key.key_hash,
            "role": key.role,
            "label": key.label,
            "created_at": to_micros(self._clock()),
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(api_keys), [row])
        except (OperationalError, InterfaceError) as error:
            raise StoreUnavailable(f"the database did not answer: {error.orig}") from error

    def find(self, key_hash: str) -> StoredKey | None:
        """The stored key with this hash, or None."""
        query = select(api_keys).where(api_keys.c.key_hash == key_hash)
        try:
            with self._engine.connect() as conn:
                row = conn.execute(query).first()
        except (OperationalError, InterfaceError) as error:
            raise StoreUnavailable(f"the database did not answer: {error.orig}") from error
        return None if row is None else StoredKey(row.key_hash, row.role, row.label)
