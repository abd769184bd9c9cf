"""The write side: turn requests into pending events and append them."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from uuid import UUID

from events.errors import BatchRejected, InvalidEvent, NotFound, SitrepError
from events.kinds import (
    Correction,
    ReportCorrected,
    ReportedEvent,
    ReportRetracted,
    is_correction,
)
from events.store import Appended, EventStore, Pending
from service.auth import Caller, Forbidden, Role
from service.schemas import CorrectionCreate, RetractionCreate


class Writes:
    """Appends events on behalf of a caller, enforcing who may amend the record."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def append(
        self,
        batch: Sequence[ReportedEvent | Correction],
        caller: Caller,
        if_match: int | None = None,
    ) -> list[Appended]:
        """Append events in order, atomically; `if_match` guards a single event."""
        return self._store.append(self._pending(batch, caller, if_match), caller.label)

    def append_soon(
        self,
        batch: Sequence[ReportedEvent | Correction],
        caller: Caller,
        if_match: int | None = None,
    ) -> Future[list[Appended]]:
        """`append`, answered by a future: no thread waits for the commit."""
        return self._store.append_soon(self._pending(batch, caller, if_match), caller.label)

    @staticmethod
    def _pending(
        batch: Sequence[ReportedEvent | Correction], caller: Caller, if_match: int | None
    ) -> list[Pending]:
        if caller.role < Role.editor and any(is_correction(event) for event in batch):
            raise Forbidden(caller, Role.editor)
        pending = [Pending(event, event.expected_version) for event in batch]
        if if_match is not None:
            [only] = pending
            if only.expected_version not in (None, if_match):
                raise InvalidEvent(
                    f"If-Match says version {if_match}, expected_version says "
                    f"{only.expected_version}; send one of them",
                    loc=("expected_version",),
                )
            pending = [Pending(only.event, if_match)]
        return pending

    def append_batch(
        self, batch: Sequence[ReportedEvent | Correction], caller: Caller
    ) -> list[Appended]:
        """Append a batch; any event's failure says its index, even in a batch of one."""
        try:
            return self.append(batch, caller)
        except (BatchRejected, Forbidden):
            raise
        except SitrepError as error:
            raise BatchRejected(0, error) from error

    def retract(self, target: UUID, body: RetractionCreate, caller: Caller) -> Appended:
        """Append a retraction of `target`; NotFound if there is no such report."""
        event = ReportRetracted(
            id=body.id, target=target, reason=body.reason, sources=body.sources, notes=body.notes
        )
        return self._amend(event, caller)

    def correct(self, target: UUID, body: CorrectionCreate, caller: Caller) -> Appended:
        """Append a correction of `target`; NotFound if there is no such report."""
        event = ReportCorrected(
            id=body.id,
            target=target,
            reason=body.reason,
            sources=body.sources,
            notes=body.notes,
            replacement=body.replacement,
        )
        return self._amend(event, caller)

    def _amend(self, event: Correction, caller: Caller) -> Appended:
        try:
            [outcome] = self.append([event], caller)
        except InvalidEvent as error:
            if error.loc[:1] == ("target",):
                raise NotFound(str(error)) from error
            raise
        return outcome
