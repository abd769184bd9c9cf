"""Request and response bodies: one schema per direction, documented in OpenAPI."""

from __future__ import annotations

import typing
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, create_model

from events.kinds import KINDS, Event
from events.values import Actor, Certainty, Estimate, Source, Term
from projections.captives import GroupStatus, Role
from projections.casualties import GroupBy
from projections.town import Status, Toll

# Requests


class BatchCreate(BaseModel):
    """`POST /events/batch`: 1 to 1,000 events, appended atomically and in order."""

    model_config = ConfigDict(extra="forbid")
    events: Annotated[list[Event], Field(min_length=1, max_length=1_000)]


class RetractionCreate(BaseModel):
    """`POST /events/{id}/retraction`."""

    model_config = ConfigDict(extra="forbid")
    id: UUID | None = None
    reason: Annotated[str, Field(min_length=1, max_length=10_000)]
    sources: Annotated[tuple[Source, ...], Field(max_length=50)] = ()
    notes: Annotated[str, Field(max_length=10_000)] | None = None


class CorrectionCreate(RetractionCreate):
    """`POST /events/{id}/correction`: the target's full body as it should have been."""

    replacement: dict[str, JsonValue]


# Records


class Bookkeeping(BaseModel):
    """What the server adds to every event it accepts."""

    position: int
    version: int
    recorded_at: datetime
    recorded_by: str
    retracted_by: UUID | None = Field(None, description="only on audit reads")
    corrected_by: list[UUID] = Field(default_factory=list, description="only on audit reads")


def _record_schema() -> Any:
    models = [
        create_model(f"{cls.__name__}Record", __base__=(cls, Bookkeeping)) for cls in KINDS.values()
    ]
    return Annotated[typing.Union[tuple(models)], Field(discriminator="kind")]  # noqa: UP007


RecordPublic: Any = _record_schema()
"""OpenAPI's view of a record: the event as sent, plus its bookkeeping."""


class RecordsPublic(BaseModel):
    """A page of the log, in position order."""

    data: list[RecordPublic]
    next_after: int


class BatchPublic(BaseModel):
    """The records of a batch, in order."""

    data: list[RecordPublic]
    count: int


# Read models


class Public(BaseModel):
    """Base of read-model responses, built from the projections' dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class AnomalyPublic(Public):
    code: str
    detail: str
    events: list[UUID]


class ControllerPublic(Public):
    name: str
    side: str
    certainty: Certainty


class CheckpointPublic(Public):
    name: str
    holder: Actor
    since: datetime
    event: UUID
    certainty: Certainty


class AgreementPublic(Public):
    agreement: str
    parties: list[Actor]
    mediator: Actor | None
    terms: list[Term]
    reached_at: datetime
    event: UUID


class StatisticPublic(Public):
    metric: str
    value: Estimate
    since: datetime
    until: datetime | None
    subject: str
    certainty: Certainty
    sources: list[str]
    event: UUID


class EvidencePublic(Public):
    controller: UUID | None
    status: UUID | None
    besieged_by: UUID | None


class LocationPublic(Public):
    lat: float
    lon: float


class TownPublic(Public):
    """A town's state as of `as_of`, as known at `known_at`."""

    town: str
    name: str | None
    province: str | None
    district: str | None
    location: LocationPublic | None
    as_of: datetime
    known_at: datetime
    version: int
    status: Status
    controller: ControllerPublic | None
    besieged_by: list[Actor]
    forces_present: list[Actor]
    checkpoints: list[CheckpointPublic]
    agreements: list[AgreementPublic]
    captives_held: int
    fatalities: Toll
    statistics: list[StatisticPublic]
    last_event_at: datetime | None
    evidence: EvidencePublic
    anomalies: list[AnomalyPublic]


class TownsPublic(BaseModel):
    data: list[TownPublic]
    count: int
    as_of: datetime
    known_at: datetime


class ChangePublic(BaseModel):
    event: RecordPublic = Field(description="the report as it folds: as last corrected")
    correction: UUID | None = Field(description="the correction it folds as, if any")
    changed: dict[str, Any] = Field(description="the town-state fields it set, new values")


class HistoryPublic(BaseModel):
    town: str
    as_of: datetime
    known_at: datetime
    data: list[ChangePublic]


class CustodyPublic(Public):
    holder: Actor
    role: Role
    since: datetime
    event: UUID


class CaptiveGroupPublic(Public):
    """One captive group with its custody chain."""

    group: str
    holder: Actor
    role: Role
    held_at: str
    affiliation: Actor
    description: str | None
    taken: int
    held: int
    released: int
    killed: int
    status: GroupStatus
    custody: list[CustodyPublic]
    anomalies: list[AnomalyPublic]
    split_from: str | None = Field(description="the group this one was split from, if any")


class RemainsPublic(Public):
    model_config = ConfigDict(from_attributes=True, validate_by_name=True, validate_by_alias=True)
    count: int
    from_: Actor = Field(alias="from")
    to: Actor
    via: Actor | None
    town: str
    occurred_at: datetime
    event: UUID


class CaptiveTotals(BaseModel):
    groups: int
    taken: int
    held: int
    released: int
    killed: int
    remains: int
    by_holder_side: dict[str, int]
    by_status: dict[str, int]


class LedgerPublic(BaseModel):
    """Captive groups, remains handed over, totals and what did not add up."""

    as_of: datetime
    known_at: datetime
    groups: list[CaptiveGroupPublic]
    remains: list[RemainsPublic]
    totals: CaptiveTotals
    anomalies: list[AnomalyPublic]


class TallyPublic(Public):
    key: str
    low: int
    best: int
    high: int
    events: int


class CasualtiesPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    group_by: GroupBy
    from_: datetime | None = Field(serialization_alias="from")
    to: datetime | None
    as_of: datetime
    known_at: datetime
    data: list[TallyPublic]


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    store: str
