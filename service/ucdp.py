"""UCDP GED rows as sitrep events (codebook 19.1): clashes, attacks, and the places they name.

- `type_of_violence` 1 (state-based) and 2 (non-state) become `clash` with both sides;
  3 (one-sided) becomes `attack` by `side_a` on `side_b` (civilians), method `other`.
- `low/best/high` are kept exactly as given, even out of order; odd rows are counted.
- `side_a`/`side_b` may list several groups, comma-separated: one actor each.
- The town is `where_coordinates`, made unique by its governorate (`adm_1`), and
  registered once with name, province, district and coordinates.
- `date_start` (the earliest possible day) is `occurred_at`; `date_prec` sets `precision`.
- The UCDP `id` is kept in `external_ids` and gives a deterministic event id,
  so importing the same rows again adds nothing.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = uuid.UUID("6f1c2d0e-8a5b-4d6c-9e3f-1a2b3c4d5e6f")
SOURCE = "UCDP GED 19.1 (Syria)"
PRECISION = {"1": "day", "2": "week", "3": "week", "4": "month", "5": "month"}
SIDES = {
    "Government of Syria": "government",
    "Syrian insurgents": "opposition",
    "IS": "isis",
    "SDF": "sdf",
    "HTS": "hts",
    "Jabhat Fateh al-Sham": "hts",
    "Tahrir al- Sham Army": "hts",
    "SNA": "sna",
    "Government of Turkey": "turkey",
    "Government of Russia (Soviet Union)": "russia",
    "Government of Iran": "iran",
    "Government of Iraq": "iraq",
    "Government of Israel": "israel",
    "Civilians": "civilians",
}
OPPOSITION = frozenset(
    {
        "Ahrar al-Sham", "Southern Front", "Jaysh al-Islam", "FSA", "Sham Legion",
        "National Front for Liberation", "Syrian Liberation Front", "Jaysh al-Nukhba",
        "23rd Division", "Jaysh al Nasr", "Nour al-Din al-Zenki", "Rahman Corps",
        "Fatah Halab", "Hawar Kilis Operations Room", "Jaysh Asoud al-Sharqiya",
        "Martyr Lieutenant Ahmed Abdou Brigades", "Suqour al-Sham Brigades",
        "Sons of Yarmouk Movement", "Levant Front", "Islamic Front", "Hamza Division",
        "Liwa al-Sultan Murad", "Ahrar al-Sharqiya", "Mare' Operations Room",
    }
)  # fmt: skip


@dataclass
class Oddities:
    """Rows kept as given whose figures a careful reader should know about."""

    low_above_best: list[str] = field(default_factory=list)
    best_above_high: list[str] = field(default_factory=list)
    best_zero: list[str] = field(default_factory=list)

    def note(self, row: dict[str, str]) -> None:
        """Count the row if its figures are odd."""
        low, best, high = int(row["low"]), int(row["best"]), int(row["high"])
        if low > best:
            self.low_above_best.append(row["id"])
        if best > high:
            self.best_above_high.append(row["id"])
        if best == 0:
            self.best_zero.append(row["id"])

    def summary(self) -> str:
        """One line for the user."""
        return (
            f"kept as given: {len(self.low_above_best)} rows with low > best, "
            f"{len(self.best_above_high)} with best > high, {len(self.best_zero)} with best = 0"
        )


def events(rows: Iterable[dict[str, str]], oddities: Oddities) -> Iterator[dict[str, Any]]:
    """Each place's registration before its first event, then the row's event, in row order."""
    registered: set[str] = set()
    for row in rows:
        town = town_slug(row)
        if town not in registered:
            registered.add(town)
            yield _registration(row, town)
        oddities.note(row)
        yield _event(row, town)


def town_slug(row: dict[str, str]) -> str:
    """The place named by `where_coordinates`, qualified by its governorate."""
    province = row["adm_1"].removesuffix(" Governorate")
    return slug(f"{row['where_coordinates']} {province}")


def slug(text: str) -> str:
    """An ASCII slug of at most 120 characters."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return words[:120].rstrip("-") or "unknown"


def _registration(row: dict[str, str], town: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(NAMESPACE, f"town:{town}")),
        "kind": "town.registered",
        "town": town,
        "occurred_at": f"{row['date_start']}T00:00:00Z",
        "sources": [{"name": SOURCE}],
        "name": row["where_coordinates"][:200],
        "province": row["adm_1"] or "unknown",
        "lat": float(row["latitude"]),
        "lon": float(row["longitude"]),
        "notes": f"first named by UCDP event {row['id']}",
    }
    if row["adm_2"]:
        body["district"] = row["adm_2"][:200]
    return body


def _event(row: dict[str, str], town: str) -> dict[str, Any]:
    side_a, side_b = _actors(row["side_a"]), _actors(row["side_b"])
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(NAMESPACE, f"ucdp:{row['id']}")),
        "town": town,
        "occurred_at": f"{row['date_start']}T00:00:00Z",
        "precision": PRECISION.get(row["date_prec"], "month"),
        "certainty": "reported",
        "sources": _sources(row),
        "fatalities": {"low": int(row["low"]), "best": int(row["best"]), "high": int(row["high"])},
        "external_ids": {"ucdp": row["id"]},
        "notes": row["source_headline"][:2_000] or None,
    }
    if row["type_of_violence"] == "3":
        body |= {
            "kind": "attack",
            "by": side_a[0],
            "target": row["side_b"][:200],
            "method": "other",
        }
    else:
        body |= {"kind": "clash", "sides": [*side_a, *side_b]}
    return body


def _actors(names: str) -> list[dict[str, str]]:
    return [
        {"name": name[:200], "side": SIDES.get(name) or _side(name)}
        for name in (part.strip() for part in names.split(","))
        if name
    ] or [{"name": "unknown", "side": "unknown"}]


def _side(name: str) -> str:
    return "opposition" if name in OPPOSITION else slug(name)


def _sources(row: dict[str, str]) -> list[dict[str, str]]:
    offices = [o.strip() for o in row["source_office"].split(";") if o.strip()]
    return [{"name": SOURCE}, *({"name": office[:200]} for office in dict.fromkeys(offices))][:50]
