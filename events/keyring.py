"""API keys as the store keeps them: only a hash, a role and a label."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What is kept of one API key: never the key itself."""

    key_hash: str
    role: str
    label: str


class KeyRing(Protocol):
    """Where created API keys are kept."""

    def add(self, key: StoredKey) -> None:
        """Keep a new key's hash, role and label."""
        ...

    def find(self, key_hash: str) -> StoredKey | None:
        """The stored key with this hash, or None."""
        ...


class InMemoryKeyRing:
    """A KeyRing in a dict, for tests."""

    def __init__(self) -> None:
        self._keys: dict[str, StoredKey] = {}
        self._lock = threading.Lock()

    def add(self, key: StoredKey) -> None:
        """Keep a new key's hash, role and label."""
        with self._lock:
            self._keys[key.key_hash] = key

    def find(self, key_hash: str) -> StoredKey | None:
        """The stored key with this hash, or None."""
        return self._keys.get(key_hash)
