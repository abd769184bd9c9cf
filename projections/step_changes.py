"""What one step of the captive projection writes: held rows, ledger entries, and cuts.

Nothing is written until the step is saved with its checkpoint, so a fold
within the step that reads the kept rows lays these over them (`still_open`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from events.snapshots import Cut, Entry, Held, Key

_Place = tuple[str, Key, datetime]

_Row = TypeVar("_Row", Held, Entry)


@dataclass(slots=True)
class Changes:
    """The rows, ledger entries and cuts one step of the projection makes."""

    cuts: list[Cut] = field(default_factory=list)
    rows: dict[_Place, Held] = field(default_factory=dict)
    entries: dict[_Place, Entry] = field(default_factory=dict)

    def cut(
        self,
        key: Key,
        at: datetime,
        towns: frozenset[str] | None = None,
        names: frozenset[str] | None = None,
    ) -> None:
        """End every row and entry from `key` on at `at` (only of `towns` and `names`, if given),
        the step's own included."""
        cut = Cut(key, at, towns, names)
        self.cuts.append(cut)
        _cut(self.rows, cut)
        _cut(self.entries, cut)

    def hold(self, town: str, key: Key, at: datetime, held: int) -> None:
        """From `at` on, `town` holds `held` after the fact at `key`."""
        self.rows[(town, key, at)] = Held(town, key, at, held)

    def enter(self, name: str, key: Key, at: datetime, body: str) -> None:
        """From `at` on, the ledger's entry `name` reads `body` after the fact at `key`."""
        self.entries[(name, key, at)] = Entry(name, key, at, body)

    def still_open(self, kept: Iterable[_Row], own: Iterable[_Row]) -> list[_Row]:
        """In key order, the `kept` rows that no cut of the step ended, and the step's `own` that
        still hold: what holds now, once the step is saved."""
        rows = [row for row in kept if not any(cut.ends(row) for cut in self.cuts)]
        rows += [row for row in own if row.known_until is None]
        return sorted(rows, key=_key)


def _cut(rows: dict[_Place, _Row], cut: Cut) -> None:
    for place, row in list(rows.items()):
        if row.known_until is not None or not cut.ends(row):
            continue
        if row.known_from == cut.at:
            del rows[place]  # never held: its replacement comes from the same moment
        else:
            rows[place] = replace(row, known_until=cut.at)


def _key(row: Held | Entry) -> Key:
    return row.key
