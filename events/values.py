"""Value types shared by event kinds: slugs, counts, actors, sources, estimates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_COUNT = 10_000_000


def _no_numbers(value: object) -> object:
    if isinstance(value, int | float):
        raise ValueError("a time must be an ISO 8601 string with a zone, not a number")
    return value


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("the time is out of range once converted to UTC") from error


UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_no_numbers), AfterValidator(_to_utc)]
"""A time-zone aware instant, normalised to UTC; a naive time or a number is rejected."""

Slug = Annotated[str, Field(pattern=SLUG_PATTERN, min_length=1, max_length=120)]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[int, Field(strict=True, ge=1, le=MAX_COUNT)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]

Precision = Literal["exact", "day", "week", "month"]
Certainty = Literal["claimed", "reported", "confirmed"]


class Value(BaseModel):
    """Base of every immutable value: frozen, and unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Value):
    """A party as reported (`name`) and the side it fights for (`side`)."""

    name: Name
    side: Slug


class Source(Value):
    """Where a report came from."""

    name: Name
    url: HttpUrl | None = None
    published_at: UtcDatetime | None = None


class Estimate(Value):
    """A low / best / high estimate, kept as given even when out of order."""

    low: Count
    best: Count
    high: Count

    @property
    def is_ordered(self) -> bool:
        """Whether `low <= best <= high`, as a careful source would give it."""
        return self.low <= self.best <= self.high


class Term(Value):
    """One term of an agreement: an open slug such as `no_entry`, with detail."""

    type: Annotated[str, Field(pattern=r"^[a-z0-9]+([_-][a-z0-9]+)*$", max_length=120)]
    detail: Text | None = None


Actors = Annotated[tuple[Actor, ...], Field(min_length=1, max_length=100)]
