"""Synthetic histories: many towns, every kind, captive stories, late reports, amendments."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

START = datetime(2016, 1, 1, tzinfo=UTC)
SIDES = ("government", "opposition", "russia", "sdf", "hts", "isis", "turkey")
ACTORS = [
    {"name": name, "side": side}
    for side in SIDES
    for name in (f"{side} brigade 1", f"{side} brigade 2", f"{side} police")
]
SOURCES = ("Syrian Observatory for Human Rights", "Enab Baladi", "Syria Direct", "SANA")
METHODS = ("shooting", "ied", "car_bomb", "shelling", "airstrike", "assassination")
AMENDED = frozenset(
    {
        "clash",
        "attack",
        "raid",
        "captives.taken",
        "captives.transferred",
        "captives.released",
        "captives.killed",
    }
)
"""The kinds whose reports get corrected or retracted: the commonest, and every captive story."""


def history(size: int, towns: int = 500, seed: int = 7) -> list[dict[str, Any]]:
    """`size` valid event bodies in arrival order.

    About 10% of reports arrive up to 200 places late; about 5% of arrivals are
    corrections or retractions of a report that has already arrived, about one
    in eight of them of a captive report (a count, or the role of a new holder).
    """
    rng = random.Random(seed)
    developments = list(_developments(rng, int(size * 0.95) + 1, towns))
    keys = [
        i + rng.randint(1, 200) + 0.5 if i >= towns and rng.random() < 0.1 else float(i)
        for i in range(len(developments))
    ]
    arrived = [body for _, body in sorted(zip(keys, developments, strict=True), key=_first)]
    return list(_with_amendments(rng, arrived, size))


def _first(pair: tuple[float, dict[str, Any]]) -> float:
    return pair[0]


def _with_amendments(
    rng: random.Random, arrived: list[dict[str, Any]], size: int
) -> Iterator[dict[str, Any]]:
    amendable: list[dict[str, Any]] = []
    made = 0
    for n, body in enumerate(arrived):
        if made >= size:
            return
        yield body
        made += 1
        if body["kind"] in AMENDED:
            amendable.append(body)
        if amendable and rng.random() < 0.053 and made < size:
            target = amendable.pop(rng.randrange(len(amendable)))
            yield _amendment(rng, n, target)
            made += 1


def _amendment(rng: random.Random, n: int, target: dict[str, Any]) -> dict[str, Any]:
    amendment_id = str(_id(rng, 10_000_000 + n))
    if rng.random() < 0.4:
        return {
            "id": amendment_id,
            "kind": "report.retracted",
            "target": target["id"],
            "reason": "the outlet withdrew it",
        }
    fixed = {k: v for k, v in target.items() if k not in ("id", "kind", "town")}
    kind = target["kind"]
    if kind == "captives.taken":
        fixed["count"] = rng.randint(2, 30)
    elif kind == "captives.transferred":
        fixed["role"] = "neutral" if fixed["role"] == "party" else "party"
    elif kind in ("captives.released", "captives.killed"):
        fixed["count"] = rng.randint(1, 5)
    else:
        fixed["fatalities"] = {"low": 1, "best": 2, "high": 3}
    return {
        "id": amendment_id,
        "kind": "report.corrected",
        "target": target["id"],
        "replacement": fixed,
        "reason": "better sources",
    }


def _developments(rng: random.Random, size: int, towns: int) -> Iterator[dict[str, Any]]:
    slugs = [f"town-{n:03d}" for n in range(towns)]
    clock = START
    groups: list[tuple[str, str]] = []
    for n, slug in enumerate(slugs):
        yield _body(
            rng,
            n,
            "town.registered",
            slug,
            clock,
            name=slug.title(),
            province=f"province-{n % 14}",
            controller=rng.choice(ACTORS),
        )
    for n in range(towns, size):
        clock += timedelta(minutes=rng.randint(1, 30))
        town = rng.choice(slugs)
        roll = rng.random()
        if roll < 0.05:
            group = f"group-{n}"
            groups.append((group, town))
            yield _body(
                rng,
                n,
                "captives.taken",
                town,
                clock,
                group=group,
                captor=rng.choice(ACTORS),
                count=rng.randint(2, 30),
                affiliation=rng.choice(ACTORS),
                description="soldiers including officers",
            )
        elif roll < 0.09 and groups:
            group, held_at = rng.choice(groups)
            kind = rng.choice(["captives.transferred", "captives.released", "captives.killed"])
            fields: dict[str, Any] = {"group": group}
            if kind == "captives.transferred":
                fields |= {"to": rng.choice(ACTORS), "role": rng.choice(["party", "neutral"])}
            else:
                fields["count"] = rng.randint(1, 5)
            yield _body(rng, n, kind, held_at, clock, **fields)
        else:
            yield _ordinary(rng, n, town, clock)


def _ordinary(rng: random.Random, n: int, town: str, clock: datetime) -> dict[str, Any]:
    kind = rng.choices(
        [
            "clash",
            "attack",
            "checkpoint.seized",
            "control.changed",
            "forces.entered",
            "forces.withdrew",
            "town.encircled",
            "encirclement.lifted",
            "agreement.reached",
            "raid",
            "negotiation.held",
            "demonstration",
            "road.cut",
            "remains.handed_over",
            "statistic.reported",
        ],
        weights=[40, 25, 6, 3, 3, 2, 2, 1, 2, 4, 3, 3, 2, 2, 2],
    )[0]
    a, b = rng.sample(ACTORS, 2)
    by_kind: dict[str, dict[str, Any]] = {
        "clash": {"sides": [a, b]},
        "attack": {"by": a, "method": rng.choice(METHODS), "target": "a checkpoint"},
        "checkpoint.seized": {"checkpoint": f"checkpoint {rng.randint(1, 4)}", "by": a, "from": b},
        "control.changed": {"controller": a, "mode": rng.choice(["armed", "negotiated"])},
        "forces.entered": {"forces": [a], "mode": rng.choice(["forced", "negotiated", "patrol"])},
        "forces.withdrew": {"forces": [a]},
        "town.encircled": {"by": [a]},
        "encirclement.lifted": {},
        "agreement.reached": {
            "agreement": f"deal-{n}",
            "parties": [a, b],
            "terms": [{"type": rng.choice(["no_entry", "ceasefire", "search_allowed"])}],
        },
        "raid": {"by": a, "target": "wanted men", "arrests": rng.randint(0, 9)},
        "negotiation.held": {"parties": [a, b]},
        "demonstration": {"stance": "against the siege", "size": rng.randint(10, 900)},
        "road.cut": {"by": a, "road": "the M5"},
        "remains.handed_over": {"count": rng.randint(1, 9), "from": a, "to": b},
        "statistic.reported": {
            "metric": "attacks",
            "value": {"low": 400, "best": 500, "high": 600},
            "since": "2015-07-01T00:00:00Z",
            "subject": "all",
        },
    }
    fields = by_kind[kind]
    if kind in ("clash", "attack", "raid", "checkpoint.seized"):
        low = rng.randint(0, 6)
        fields["fatalities"] = {
            "low": low,
            "best": low + rng.randint(0, 3),
            "high": low + rng.randint(3, 9),
        }
    return _body(rng, n, kind, town, clock, **fields)


def _body(
    rng: random.Random, n: int, kind: str, town: str, at: datetime, **fields: Any
) -> dict[str, Any]:
    return {
        "id": str(_id(rng, n)),
        "kind": kind,
        "town": town,
        "occurred_at": at.isoformat().replace("+00:00", "Z"),
        "precision": "day",
        "certainty": rng.choice(["claimed", "reported", "reported", "confirmed"]),
        "sources": [{"name": rng.choice(SOURCES)}],
        "notes": "synthetic",
        **fields,
    }


def _id(rng: random.Random, n: int) -> UUID:
    return UUID(int=(0x0190 << 112) | (7 << 76) | (2 << 62) | (n << 20) | rng.getrandbits(20))
