"""The one error root, and the domain's named failures."""

from __future__ import annotations

from uuid import UUID


class SitrepError(Exception):
    """Root of every error sitrep raises on purpose."""


class InvalidEvent(SitrepError):
    """The request itself is wrong (beyond schema validation): nothing was stored."""

    def __init__(self, detail: str, *, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.loc = loc


class UnknownTarget(InvalidEvent):
    """A correction or retraction names an event that is not in the log."""

    def __init__(self, target: UUID) -> None:
        super().__init__(f"no event with id {target} is in the log", loc=("target",))
        self.target = target


class VersionConflict(SitrepError):
    """The town stream is not at the version the client expected."""

    def __init__(self, town: str, expected: int, current: int) -> None:
        super().__init__(f"town {town!r} is at version {current}, not {expected}")
        self.town = town
        self.expected = expected
        self.current = current


class IdConflict(SitrepError):
    """An event with this id exists with other content."""

    def __init__(self, event_id: UUID) -> None:
        super().__init__(f"an event with id {event_id} exists with other content")
        self.event_id = event_id


class AlreadyRetracted(SitrepError):
    """The target of a correction or retraction has been retracted."""

    def __init__(self, target: UUID, retracted_by: UUID) -> None:
        super().__init__(f"event {target} was retracted by {retracted_by}")
        self.target = target
        self.retracted_by = retracted_by


class BatchRejected(SitrepError):
    """One event of a batch failed; the batch stored nothing."""

    def __init__(self, index: int, cause: SitrepError) -> None:
        super().__init__(f"event {index} of the batch: {cause}")
        self.index = index
        self.cause = cause


class NotFound(SitrepError):
    """What was asked for is not known (as of the time asked about)."""


class InvalidDatabaseUrl(SitrepError):
    """The configured database URL names no database sitrep can use."""


class StoreUnavailable(SitrepError):
    """The store cannot be reached or failed for reasons outside the request."""
