"""Captives and casualties: the ledger with custody chains, and fatality sums."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from events.errors import NotFound
from projections.casualties import GroupBy
from service.deps import AsReader, At, Parts
from service.moments import Moment, StartMoment
from service.reads import totals
from service.schemas import (
    AnomalyPublic,
    CaptiveGroupPublic,
    CasualtiesPublic,
    LedgerPublic,
    RemainsPublic,
    TallyPublic,
)

router = APIRouter(tags=["captives"])
GroupStatus = Literal["held", "with_intermediary", "released", "killed", "resolved"]


@router.get("/captives", response_model=LedgerPublic)
def get_captives(
    parts: Parts,
    _caller: AsReader,
    at: At,
    status: GroupStatus | None = None,
    holder_side: str | None = None,
) -> LedgerPublic:
    """Every captive group, the remains handed over, and totals."""
    ledger = parts.reads.ledger(at)
    groups = [
        CaptiveGroupPublic.model_validate(group)
        for group in ledger.groups.values()
        if (status is None or group.status == status)
        and (holder_side is None or group.holder.side == holder_side)
    ]
    return LedgerPublic.model_validate(
        {
            "as_of": at.as_of,
            "known_at": at.shown_known_at,
            "groups": groups,
            "remains": [RemainsPublic.model_validate(r) for r in ledger.remains],
            "totals": totals(ledger),
            "anomalies": [AnomalyPublic.model_validate(a) for a in ledger.anomalies],
        }
    )


@router.get(
    "/captives/{group}", response_model=CaptiveGroupPublic, responses={404: {"description": ""}}
)
def get_captive_group(group: str, parts: Parts, _caller: AsReader, at: At) -> CaptiveGroupPublic:
    """One captive group with its custody chain."""
    found = parts.reads.ledger(at).groups.get(group)
    if found is None:
        raise NotFound(f"no captive group {group!r} is known as of {at.as_of}")
    return CaptiveGroupPublic.model_validate(found)


@router.get("/casualties", response_model=CasualtiesPublic)
def get_casualties(
    parts: Parts,
    _caller: AsReader,
    at: At,
    group_by: GroupBy = "town",
    from_: Annotated[StartMoment | None, Query(alias="from")] = None,
    to: Annotated[Moment | None, Query()] = None,
) -> CasualtiesPublic:
    """Fatality sums `{low, best, high}` per group; `from` and `to` are inclusive."""
    tallies = parts.reads.casualties(at, group_by, from_, to)
    return CasualtiesPublic(
        group_by=group_by,
        from_=from_,
        to=to,
        as_of=at.as_of,
        known_at=at.shown_known_at,
        data=[TallyPublic.model_validate(t) for t in tallies],
    )
