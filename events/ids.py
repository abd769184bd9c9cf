"""Time-ordered event ids (UUIDv7, RFC 9562): they index far better than random ones."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from uuid import UUID

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def uuid7(at: datetime) -> UUID:
    """A new UUIDv7 for the instant `at`: 48 bits of Unix milliseconds, then 74 random bits."""
    ms = max(0, (at - _EPOCH) // _MILLISECOND)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return UUID(int=value)


_MILLISECOND = datetime.resolution * 1000
