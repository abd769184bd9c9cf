"""Every event kind of the domain contract, as frozen models in one discriminated union."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias, Union
from uuid import UUID

from pydantic import Field, JsonValue, TypeAdapter, model_validator

from events.values import (
    Actor,
    Actors,
    Certainty,
    Count,
    Estimate,
    Name,
    PositiveCount,
    Precision,
    Slug,
    Source,
    Term,
    Text,
    UtcDatetime,
    Value,
)

ExternalIds = Annotated[
    dict[Annotated[str, Field(max_length=60)], Annotated[str, Field(max_length=200)]],
    Field(max_length=20),
]

MAX_VERSION = 2**31 - 1
Guard = Annotated[int | None, Field(ge=0, le=MAX_VERSION, exclude=True)]
"""`expected_version`: a concurrency guard sent with an event, never part of its content."""


class Report(Value):
    """The envelope every reported development carries."""

    id: UUID | None = None
    town: Slug
    occurred_at: UtcDatetime
    precision: Precision = "day"
    certainty: Certainty = "reported"
    sources: Annotated[tuple[Source, ...], Field(min_length=1, max_length=50)]
    fatalities: Estimate | None = None
    notes: Text | None = None
    external_ids: ExternalIds = Field(default_factory=dict)
    expected_version: Guard = None


# Control and presence


class TownRegistered(Report):
    """Gazetteer data for a town; a given controller sets control."""

    kind: Literal["town.registered"] = "town.registered"
    name: Name
    province: Name
    district: Name | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    controller: Actor | None = None


class ControlChanged(Report):
    """A party took control of the town."""

    kind: Literal["control.changed"] = "control.changed"
    controller: Actor
    mode: Literal["armed", "negotiated", "withdrawal"]


class ForcesEntered(Report):
    """Forces entered the town; unless on patrol, the first of them controls it."""

    kind: Literal["forces.entered"] = "forces.entered"
    forces: Actors
    mode: Literal["forced", "negotiated", "patrol"]
    purpose: Text | None = None


class ForcesWithdrew(Report):
    """Forces left the town; control does not change."""

    kind: Literal["forces.withdrew"] = "forces.withdrew"
    forces: Actors


class CheckpointSeized(Report):
    """A checkpoint in or by the town changed hands."""

    kind: Literal["checkpoint.seized"] = "checkpoint.seized"
    checkpoint: Name
    by: Actor
    from_: Actor | None = Field(default=None, alias="from")


class TownEncircled(Report):
    """The town was besieged."""

    kind: Literal["town.encircled"] = "town.encircled"
    by: Actors


class EncirclementLifted(Report):
    """The siege of the town ended."""

    kind: Literal["encirclement.lifted"] = "encirclement.lifted"
    by: Annotated[tuple[Actor, ...], Field(max_length=100)] = ()


class AgreementReached(Report):
    """Parties agreed on terms; `no_entry` or `ceasefire` puts the town under truce."""

    kind: Literal["agreement.reached"] = "agreement.reached"
    agreement: Slug
    parties: Actors
    mediator: Actor | None = None
    terms: Annotated[tuple[Term, ...], Field(min_length=1, max_length=50)]


# Captives and the dead


class CaptivesTaken(Report):
    """A new captive group: its captor, how many, and whom they belong to."""

    kind: Literal["captives.taken"] = "captives.taken"
    group: Slug
    captor: Actor
    count: PositiveCount
    affiliation: Actor
    description: Text | None = None
    held_at: Slug | None = None


class CaptivesTransferred(Report):
    """Captives moved to another holder, whole group or a part of it."""

    kind: Literal["captives.transferred"] = "captives.transferred"
    group: Slug
    to: Actor
    role: Literal["party", "neutral", "intermediary"]
    count: PositiveCount | None = None
    new_group: Slug | None = None

    @model_validator(mode="after")
    def _part_needs_new_group(self) -> CaptivesTransferred:
        if self.count is not None and self.new_group is None:
            raise ValueError("new_group is required when count is given")
        if self.new_group is not None and self.new_group == self.group:
            raise ValueError("new_group must differ from group")
        return self


class CaptivesReleased(Report):
    """Captives were freed (all held, unless `count` says fewer)."""

    kind: Literal["captives.released"] = "captives.released"
    group: Slug
    count: PositiveCount | None = None
    to: Actor | None = None


class CaptivesKilled(Report):
    """Captives were killed (all held, unless `count` says fewer)."""

    kind: Literal["captives.killed"] = "captives.killed"
    group: Slug
    count: PositiveCount | None = None


class RemainsHandedOver(Report):
    """Bodies were handed over, possibly through an intermediary."""

    kind: Literal["remains.handed_over"] = "remains.handed_over"
    count: PositiveCount
    from_: Actor = Field(alias="from")
    to: Actor
    via: Actor | None = None


# Everything else: history and fatalities, no control effect


class Raid(Report):
    """A raid, for example to arrest wanted men."""

    kind: Literal["raid"] = "raid"
    by: Actor
    target: Name
    purpose: Text | None = None
    arrests: Count | None = None


class Clash(Report):
    """Armed parties fought."""

    kind: Literal["clash"] = "clash"
    sides: Actors


class Attack(Report):
    """One-sided violence: a shooting, a bomb, shelling, an assassination."""

    kind: Literal["attack"] = "attack"
    by: Actor | None = None
    target: Name | None = None
    method: Literal[
        "shooting",
        "ied",
        "car_bomb",
        "motorcycle_bomb",
        "shelling",
        "airstrike",
        "assassination",
        "other",
    ]


class NegotiationHeld(Report):
    """Parties negotiated, possibly through a mediator."""

    kind: Literal["negotiation.held"] = "negotiation.held"
    parties: Actors
    mediator: Actor | None = None


class Demonstration(Report):
    """People demonstrated."""

    kind: Literal["demonstration"] = "demonstration"
    stance: Name
    size: Count | None = None


class RoadCut(Report):
    """A road was cut."""

    kind: Literal["road.cut"] = "road.cut"
    by: Actor | None = None
    road: Name | None = None


class StatisticReported(Report):
    """A party's or outlet's aggregate claim; listed, never summed with events."""

    kind: Literal["statistic.reported"] = "statistic.reported"
    metric: Name
    value: Estimate
    since: UtcDatetime
    until: UtcDatetime | None = None
    subject: Name

    @model_validator(mode="after")
    def _until_after_since(self) -> StatisticReported:
        if self.until is not None and self.until < self.since:
            raise ValueError("until must not be before since")
        return self


# Corrections: the log is append-only


class Amendment(Value):
    """The envelope of a correction or retraction: it names its target, never folds."""

    id: UUID | None = None
    town: Slug | None = None
    occurred_at: UtcDatetime | None = None
    target: UUID
    reason: Annotated[str, Field(min_length=1, max_length=10_000)]
    sources: Annotated[tuple[Source, ...], Field(max_length=50)] = ()
    notes: Text | None = None
    expected_version: Guard = None


class ReportRetracted(Amendment):
    """The target is left out of every fold known after this."""

    kind: Literal["report.retracted"] = "report.retracted"


class ReportCorrected(Amendment):
    """The target folds as `replacement` for every read known after this."""

    kind: Literal["report.corrected"] = "report.corrected"
    replacement: dict[str, JsonValue]


ReportedEvent: TypeAlias = Union[  # noqa: UP007 - a Union reads better at this length
    TownRegistered,
    ControlChanged,
    ForcesEntered,
    ForcesWithdrew,
    CheckpointSeized,
    TownEncircled,
    EncirclementLifted,
    AgreementReached,
    CaptivesTaken,
    CaptivesTransferred,
    CaptivesReleased,
    CaptivesKilled,
    RemainsHandedOver,
    Raid,
    Clash,
    Attack,
    NegotiationHeld,
    Demonstration,
    RoadCut,
    StatisticReported,
]
Correction: TypeAlias = ReportRetracted | ReportCorrected
Event: TypeAlias = Annotated[ReportedEvent | Correction, Field(discriminator="kind")]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
KINDS: dict[str, type[ReportedEvent] | type[Correction]] = {
    cls.model_fields["kind"].default: cls
    for cls in (*typing.get_args(ReportedEvent), ReportRetracted, ReportCorrected)
}
CAPTIVE_KINDS = frozenset(
    {
        "captives.taken",
        "captives.transferred",
        "captives.released",
        "captives.killed",
        "remains.handed_over",
    }
)
CORRECTION_KINDS = frozenset({"report.retracted", "report.corrected"})

GROUP_FIELDS = ("group", "new_group")
"""The fields by which a captive report names the captive groups its fact may change."""


def groups_named(fields: Mapping[str, object]) -> frozenset[str]:
    """The captive groups a captive report's fields name (its stored body will do)."""
    return frozenset(value for name in GROUP_FIELDS if isinstance(value := fields.get(name), str))


def parse_event(data: Any) -> ReportedEvent | Correction:
    """Validate a JSON-like mapping as one event of any kind."""
    return EVENT_ADAPTER.validate_python(data)


_CORRECTIONS = (ReportRetracted, ReportCorrected)


def is_correction(event: ReportedEvent | Correction) -> bool:
    """Whether the event amends another rather than reporting a development."""
    # A tuple, not `A | B`: a union built on every call tests several times slower.
    return isinstance(event, _CORRECTIONS)
