"""API keys and roles: who may read, report, edit and administer, by key hash alone."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import IntEnum

from events.appending import MAX_RECORDED_BY
from events.errors import SitrepError
from events.keyring import KeyRing, StoredKey


class Role(IntEnum):
    """Roles in order; each includes the ones before it."""

    reader = 1
    reporter = 2
    editor = 3
    admin = 4


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: a role and the label that goes into `recorded_by`."""

    role: Role
    label: str


PUBLIC = Caller(Role.reader, "public")
MAX_LABEL = MAX_RECORDED_BY
"""The longest label a key may have: it is stored with every record it posts."""


class Unauthenticated(SitrepError):
    """No key, or a key sitrep does not know."""


class Forbidden(SitrepError):
    """A known key whose role is too weak for the call."""

    def __init__(self, caller: Caller, needed: Role) -> None:
        super().__init__(f"this call needs the {needed.name} role; the key is a {caller.role.name}")


def key_hash(key: str) -> str:
    """The sha256 of a key, in hex: all that sitrep ever keeps of it."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random API key."""
    return "sitrep_" + secrets.token_urlsafe(32)


def parse_configured_keys(spec: str) -> dict[str, StoredKey]:
    """`key=role[:label],…` (SITREP_API_KEYS) as stored keys by hash; ValueError if malformed."""
    keys: dict[str, StoredKey] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, rest = item.partition("=")
        role, _, label = rest.partition(":")
        if not sep or not key or role not in Role.__members__:
            raise ValueError(
                f"SITREP_API_KEYS entry {_masked(item)!r} is not key=role[:label] "
                f"with a role among {', '.join(Role.__members__)}"
            )
        if len(label) > MAX_LABEL:
            raise ValueError(
                f"SITREP_API_KEYS label {label[:20]!r}… is over {MAX_LABEL} characters"
            )
        digest = key_hash(key)
        keys[digest] = StoredKey(digest, role, label or f"{role}-{digest[:8]}")
    return keys


class Gate:
    """Decides which caller an Authorization header stands for."""

    def __init__(self, configured: dict[str, StoredKey], ring: KeyRing, public_reads: bool) -> None:
        self._configured = configured
        self._ring = ring
        self._public_reads = public_reads

    def admit(self, authorization: str | None, needed: Role) -> Caller:
        """The caller for this header if its role suffices; else Unauthenticated or Forbidden.

        A key created with `sitrep keys create` is looked up in the key ring: a
        database read, so call this from a worker thread.
        """
        caller = self.admit_from_memory(authorization, needed)
        if caller is None:
            stored = self._ring.find(_digest(authorization))
            if stored is None:
                raise Unauthenticated("the API key is not known")
            caller = _checked(stored, needed)
        return caller

    def admit_from_memory(self, authorization: str | None, needed: Role) -> Caller | None:
        """As `admit`, without I/O: None when only the key ring can tell who the key is."""
        if authorization is None and self._public_reads and needed == Role.reader:
            return PUBLIC
        stored = self._configured.get(_digest(authorization))
        return None if stored is None else _checked(stored, needed)


def _digest(authorization: str | None) -> str:
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    return key_hash(key.strip())


def _checked(stored: StoredKey, needed: Role) -> Caller:
    caller = Caller(Role[stored.role], stored.label)
    if caller.role < needed:
        raise Forbidden(caller, needed)
    return caller


def _masked(item: str) -> str:
    key, sep, rest = item.partition("=")
    return f"{key[:2]}…{sep}{rest}" if sep else item[:2] + "…"
