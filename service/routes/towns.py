"""Towns: control and presence as of any moment, their history and audit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from projections.town import Status
from service.deps import After, AsReader, At, KnownAt, Limit, Parts
from service.moments import utc
from service.present import JSONResponse, audited_json, change_json, town_json
from service.schemas import HistoryPublic, RecordsPublic, TownPublic, TownsPublic

router = APIRouter(prefix="/towns", tags=["towns"])
_UNKNOWN_TOWN: dict[int | str, dict[str, Any]] = {
    404: {"description": "no record of the town is known at known_at"}
}


@router.get("", response_model=TownsPublic)
def get_towns(
    parts: Parts,
    _caller: AsReader,
    at: At,
    province: str | None = None,
    side: str | None = None,
    status: Status | None = None,
) -> Response:
    """Every town's state, filtered by province, controlling side or status."""
    towns = [town_json(view) for view in parts.reads.towns(at, province, side, status)]
    return JSONResponse(
        {"data": towns, "count": len(towns), "as_of": at.as_of, "known_at": at.known_at}
    )


@router.get("/{town}", response_model=TownPublic, responses=_UNKNOWN_TOWN)
def get_town(town: str, parts: Parts, _caller: AsReader, at: At) -> Response:
    """One town's state; its ETag is the stream version as known at `known_at`."""
    view = parts.reads.town(town, at)
    return JSONResponse(town_json(view), headers={"ETag": f'"{view.version}"'})


@router.get("/{town}/history", response_model=HistoryPublic, responses=_UNKNOWN_TOWN)
def get_history(town: str, parts: Parts, _caller: AsReader, at: At) -> Response:
    """The town's reports in occurred order, each with the fields it changed."""
    changes = parts.reads.history(town, at)
    return JSONResponse(
        {
            "town": town,
            "as_of": utc(at.as_of),
            "known_at": utc(at.known_at),
            "data": [change_json(change) for change in changes],
        }
    )


@router.get("/{town}/audit", response_model=RecordsPublic)
def get_audit(
    town: str,
    parts: Parts,
    _caller: AsReader,
    known_at: KnownAt = None,
    after: After = 0,
    limit: Limit = 100,
) -> Response:
    """The town's records in recorded order, with corrections and retractions."""
    page = parts.reads.log(after, limit, known_at, town=town)
    next_after = page[-1].record.position if page else after
    return JSONResponse({"data": [audited_json(e) for e in page], "next_after": next_after})
