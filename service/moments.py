"""The `as_of` / `known_at` / `from` / `to` query parameters: aware instants or bare dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import BeforeValidator

_END_OF_DAY = time(23, 59, 59, 999_999, tzinfo=UTC)
_START_OF_DAY = time(0, 0, tzinfo=UTC)


def _parse(value: object, day_time: time) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and len(value) == 10:
        try:
            return datetime.combine(date.fromisoformat(value), day_time)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a valid date (YYYY-MM-DD)") from error
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace(" ", "+"))
        except ValueError as error:
            raise ValueError(f"{value!r} is not an ISO 8601 time") from error
    else:
        raise ValueError("expected an ISO 8601 time or a YYYY-MM-DD date")
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; add Z or an offset such as +03:00")
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"{value!r} is out of range once converted to UTC") from error


def end_of_day(value: object) -> datetime:
    """An aware instant in UTC; a bare date means the end of that day."""
    return _parse(value, _END_OF_DAY)


def start_of_day(value: object) -> datetime:
    """An aware instant in UTC; a bare date means the start of that day."""
    return _parse(value, _START_OF_DAY)


def utc(moment: datetime) -> str:
    """An aware datetime as ISO 8601 in UTC with `Z`, as every response gives times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


Moment = Annotated[datetime, BeforeValidator(end_of_day)]
StartMoment = Annotated[datetime, BeforeValidator(start_of_day)]
