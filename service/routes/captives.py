"""Captives and casualties: the ledger with custody chains, and fatality sums."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from projections.captives import GroupStatus
from projections.casualties import GroupBy
from service.deps import AsReader, At, Parts
from service.moments import Moment, StartMoment
from service.present import JSONResponse, ledger_json
from service.schemas import CaptiveGroupPublic, CasualtiesPublic, LedgerPublic, TallyPublic

router = APIRouter(tags=["captives"])


@router.get("/captives", response_model=LedgerPublic)
def get_captives(
    parts: Parts,
    _caller: AsReader,
    at: At,
    status: GroupStatus | None = None,
    holder_side: str | None = None,
) -> Response:
    """Captive groups (filtered) by slug, the remains handed over, and totals over every group."""
    return JSONResponse(ledger_json(parts.reads.captives(at, status, holder_side)))


@router.get(
    "/captives/{group}",
    response_model=CaptiveGroupPublic,
    responses={404: {"description": "no such group is known"}},
)
def get_captive_group(group: str, parts: Parts, _caller: AsReader, at: At) -> CaptiveGroupPublic:
    """One captive group with its custody chain."""
    return CaptiveGroupPublic.model_validate(parts.reads.captive_group(group, at))


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
        known_at=at.known_at,
        data=[TallyPublic.model_validate(t) for t in tallies],
    )
