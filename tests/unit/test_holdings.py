"""Captives held per town, kept from the ledger's fold: exact at every moment, late or amended."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID, uuid4

import pytest

from events.kinds import Correction, ReportedEvent
from events.memory import InMemoryStore
from events.record import Record
from events.snapshots import CaptiveKey, Entry, Held, InMemorySnapshots, Key
from events.store import Pending
from projections.holdings import Holdings
from projections.keeping import Projector
from tests.clock import FakeClock
from tests.make import AFI, EIGHTH, REBELS, at, correction, event, replacement, retraction

NAWA = "nawa"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> InMemoryStore:
    return InMemoryStore(clock)


@pytest.fixture(params=[1, 64], ids=["a state kept after every fact", "states kept rarely"])
def projector(request: pytest.FixtureRequest, store: InMemoryStore) -> Projector:
    snapshots = InMemorySnapshots(store)
    holdings = Holdings(snapshots, point_every=request.param, points_kept=8, page=3)
    return Projector(store, snapshots, holdings=holdings)


def post(store: InMemoryStore, clock: FakeClock, *sent: ReportedEvent | Correction) -> datetime:
    """Append each event a second apart; when the last was recorded."""
    for one in sent:
        clock.advance(seconds=1)
        store.append([Pending(one)], "reporter")
    return clock.now


def taken(group: str, count: int, day: str, **fields: object) -> ReportedEvent:
    return event(
        "captives.taken",
        id=str(uuid4()),
        occurred_at=day,
        group=group,
        captor=REBELS,
        count=count,
        affiliation=AFI,
        **fields,
    )


def held(projector: Projector, town: str, as_of: str, known_at: datetime) -> int:
    projector.catch_up()
    return projector.town(town, at(as_of), known_at).captives_held


def test_captives_count_where_their_group_is_held_not_where_the_report_was_filed(
    projector: Projector, store: InMemoryStore, clock: FakeClock
) -> None:
    now = post(store, clock, taken("afi-troops", 12, "2020-03-05T10:00:00Z", held_at=NAWA))

    assert held(projector, NAWA, "2020-03-06T00:00:00Z", now) == 12
    assert held(projector, "karak-sharqi", "2020-03-06T00:00:00Z", now) == 0
    assert held(projector, NAWA, "2020-03-05T09:00:00Z", now) == 0


def test_a_corrected_count_holds_from_when_it_was_known_and_not_before(
    projector: Projector, store: InMemoryStore, clock: FakeClock
) -> None:
    first = taken("afi-troops", 12, "2020-03-05T10:00:00Z")
    assert first.id is not None
    before = post(store, clock, first, taken("others", 2, "2020-03-06T10:00:00Z"))
    fixed = replacement(
        "captives.taken",
        occurred_at="2020-03-05T10:00:00Z",
        group="afi-troops",
        captor=REBELS,
        count=3,
        affiliation=AFI,
    )

    after = post(store, clock, correction(first.id, fixed))

    assert held(projector, "karak-sharqi", "2020-03-07T00:00:00Z", before) == 14
    assert held(projector, "karak-sharqi", "2020-03-07T00:00:00Z", after) == 5


def test_a_late_capture_folds_before_the_release_that_arrived_first(
    projector: Projector, store: InMemoryStore, clock: FakeClock
) -> None:
    release = event(
        "captives.released", occurred_at="2020-03-08T10:00:00Z", group="afi-troops", count=4
    )
    capture = taken("afi-troops", 12, "2020-03-05T10:00:00Z")

    only_release = post(store, clock, release)
    both = post(store, clock, capture)

    assert held(projector, "karak-sharqi", "2020-03-09T00:00:00Z", only_release) == 0
    assert held(projector, "karak-sharqi", "2020-03-06T00:00:00Z", both) == 12
    assert held(projector, "karak-sharqi", "2020-03-09T00:00:00Z", both) == 8


def test_a_split_moves_no_captive_out_of_the_town_and_a_retraction_undoes_it(
    projector: Projector, store: InMemoryStore, clock: FakeClock
) -> None:
    capture = taken("afi-troops", 12, "2020-03-05T10:00:00Z")
    split = event(
        "captives.transferred",
        occurred_at="2020-03-06T10:00:00Z",
        group="afi-troops",
        to=EIGHTH,
        role="neutral",
        count=5,
        new_group="handed-over",
    )
    killed = event("captives.killed", occurred_at="2020-03-07T10:00:00Z", group="handed-over")
    assert capture.id is not None
    with_kill = post(store, clock, capture, split, killed)

    undone = post(store, clock, retraction(capture.id))

    assert held(projector, "karak-sharqi", "2020-03-06T12:00:00Z", with_kill) == 12
    assert held(projector, "karak-sharqi", "2020-03-08T00:00:00Z", with_kill) == 7
    assert held(projector, "karak-sharqi", "2020-03-08T00:00:00Z", undone) == 0


def test_a_batch_folded_in_two_steps_keeps_one_answer_per_moment(
    projector: Projector, store: InMemoryStore, clock: FakeClock
) -> None:
    # Events of one batch share their recorded_at; the projector may fold them in two steps.
    clock.advance(seconds=1)
    store.append([Pending(taken("afi-troops", 12, "2020-03-05T10:00:00Z"))], "importer")
    projector.catch_up()
    store.append([Pending(taken("others", 3, "2020-03-04T10:00:00Z"))], "importer")

    assert held(projector, "karak-sharqi", "2020-03-06T00:00:00Z", clock.now) == 15
    assert held(projector, "karak-sharqi", "2020-03-04T12:00:00Z", clock.now) == 3


class CountedLog:
    """The captive log of `snapshots`, counting what a fold of the ledger reads from it."""

    def __init__(self, snapshots: InMemorySnapshots) -> None:
        self.snapshots = snapshots
        self.loads = 0
        self.decoded: set[UUID] = set()

    def captive_keys(self, through: int, since: Key | None) -> list[CaptiveKey]:
        self.loads += 1
        return self.snapshots.captive_keys(through, since)

    def open_entries_of(self, names: Collection[str]) -> list[Entry]:
        return self.snapshots.open_entries_of(names)

    def open_held(self, towns: Collection[str]) -> list[Held]:
        return self.snapshots.open_held(towns)

    def open_entries(self, before: Key) -> list[Entry]:
        return self.snapshots.open_entries(before)

    def recent_key(self, count: int) -> Key | None:
        return self.snapshots.recent_key(count)

    def captive_amendments(self, through: int) -> list[Record]:
        return self.snapshots.captive_amendments(through)

    def naming(
        self, groups: Collection[str], through: int, since: Key, also: Collection[UUID] = ()
    ) -> list[Record]:
        found = self.snapshots.naming(groups, through, since, also)
        self.decoded.update(record.id for record in found if record.target is None)
        return found

    def records(self, ids: Collection[UUID]) -> dict[UUID, Record]:
        self.decoded.update(ids)
        return self.snapshots.records(ids)


def test_a_process_that_follows_another_folds_on_without_reading_the_captive_reports_again(
    store: InMemoryStore, clock: FakeClock
) -> None:
    snapshots = InMemorySnapshots(store)
    log = CountedLog(snapshots)
    ours = Projector(store, snapshots, holdings=Holdings(log))
    theirs = Projector(store, snapshots)
    post(store, clock, taken("afi-troops", 12, "2020-03-05T10:00:00Z"))
    ours.catch_up()  # its first captive report: the ledger is read once
    post(store, clock, taken("drivers", 4, "2020-03-06T10:00:00Z"))
    theirs.catch_up()
    now = post(store, clock, taken("officers", 2, "2020-03-05T12:00:00Z"))  # late

    assert held(ours, "karak-sharqi", "2020-03-07T00:00:00Z", now) == 18
    assert held(ours, "karak-sharqi", "2020-03-05T13:00:00Z", now) == 14
    assert log.loads == 1


MARCH = [taken(f"group-{day}", day, f"2020-03-{day:02d}T10:00:00Z") for day in range(1, 29)]
"""A capture a day, of as many captives as the day's date."""


def started_late(store: InMemoryStore, clock: FakeClock) -> tuple[Projector, CountedLog]:
    """A process that starts once another has folded March: two states kept, one every two facts."""
    snapshots = InMemorySnapshots(store)
    post(store, clock, *MARCH)
    Projector(store, snapshots).catch_up()
    log = CountedLog(snapshots)
    holdings = Holdings(log, point_every=2, points_kept=2, page=4)
    return Projector(store, snapshots, holdings=holdings), log


def warm_after_march(store: InMemoryStore, clock: FakeClock) -> tuple[Projector, CountedLog]:
    """A process started late that then folded a capture of 29 March: its states cover the end."""
    ours, log = started_late(store, clock)
    post(store, clock, taken("newest", 100, "2020-03-29T10:00:00Z"))
    ours.catch_up()
    return ours, log


def test_a_process_that_starts_on_a_long_captive_history_reads_only_its_recent_reports(
    store: InMemoryStore, clock: FakeClock
) -> None:
    ours, log = started_late(store, clock)
    newest = taken("newest", 100, "2020-03-29T10:00:00Z")

    now = post(store, clock, newest)
    ours.catch_up()

    # It folds the last four reports again, to keep the states after them; the new one
    # then folds on, in order.
    assert log.decoded == {c.id for c in MARCH[-4:]}
    assert held(ours, "karak-sharqi", "2020-03-30T00:00:00Z", now) == sum(range(1, 29)) + 100
    assert held(ours, "karak-sharqi", "2020-03-28T23:00:00Z", now) == sum(range(1, 29))


def test_a_process_that_starts_cold_folds_a_report_a_little_late_from_the_states_it_kept(
    store: InMemoryStore, clock: FakeClock
) -> None:
    ours, log = warm_after_march(store, clock)

    now = post(store, clock, taken("late", 1000, "2020-03-27T12:00:00Z"))

    assert held(ours, "karak-sharqi", "2020-03-27T13:00:00Z", now) == sum(range(1, 28)) + 1000
    assert log.loads == 1


def test_an_amendment_of_an_old_captive_report_folds_again_only_the_groups_it_touches(
    store: InMemoryStore, clock: FakeClock
) -> None:
    snapshots = InMemorySnapshots(store)
    log = CountedLog(snapshots)
    ours = Projector(store, snapshots, holdings=Holdings(log, point_every=2, points_kept=2, page=4))
    split = event(
        "captives.transferred",
        id=str(uuid4()),
        occurred_at="2020-03-25T12:00:00Z",
        group="group-20",
        to=EIGHTH,
        role="neutral",
        count=5,
        new_group="handed-over",
    )
    freed = event(
        "captives.released",
        id=str(uuid4()),
        occurred_at="2020-03-27T12:00:00Z",
        group="handed-over",
    )
    post(store, clock, *MARCH, split, freed)
    ours.catch_up()
    log.decoded.clear()
    old = MARCH[19].id  # 20 March: long before the states kept in memory
    assert old is not None
    fewer = replacement(
        "captives.taken",
        occurred_at="2020-03-20T10:00:00Z",
        group="group-20",
        captor=REBELS,
        count=3,
        affiliation=AFI,
    )

    now = post(store, clock, correction(old, fewer))
    ours.catch_up()
    rebuilt = Projector(store, InMemorySnapshots(store))

    # The capture, and the reports that name its group or the group split from it.
    assert log.decoded == {old, split.id, freed.id}
    for day in range(1, 30):
        as_of = f"2020-03-{day:02d}T23:00:00Z"
        assert held(ours, "karak-sharqi", as_of, now) == held(rebuilt, "karak-sharqi", as_of, now)
        assert ours.ledger(at(as_of), now) == rebuilt.ledger(at(as_of), now)
    # Five handed over out of three held: the whole group moves, and none is split off.
    after = ours.ledger(at("2020-03-28T00:00:00Z"), now)
    assert (after.groups["group-20"].held, "handed-over" in after.groups) == (3, False)


def test_a_late_report_beyond_the_states_in_memory_folds_on_what_its_own_step_folded_before_it(
    store: InMemoryStore, clock: FakeClock
) -> None:
    # One state kept, after every fact: by the release, memory holds only the state after
    # the third capture, and the first capture is in no kept entry yet, only in the step.
    snapshots = InMemorySnapshots(store)
    ours = Projector(store, snapshots, holdings=Holdings(snapshots, point_every=1, points_kept=1))
    release = event(
        "captives.released", occurred_at="2020-03-10T12:00:00Z", group="group-a", count=5
    )
    post(
        store,
        clock,
        taken("group-a", 12, "2020-03-10T10:00:00Z"),
        taken("group-b", 1, "2020-03-11T10:00:00Z"),
        taken("group-c", 1, "2020-03-12T10:00:00Z"),
    )

    now = post(store, clock, release)
    ours.catch_up()  # all four in one step

    assert held(ours, "karak-sharqi", "2020-03-10T11:00:00Z", now) == 12
    assert held(ours, "karak-sharqi", "2020-03-11T00:00:00Z", now) == 7
    assert held(ours, "karak-sharqi", "2020-03-13T00:00:00Z", now) == 9
    assert ours.ledger(at("2020-03-13T00:00:00Z"), now).anomalies == ()


def test_a_late_report_beyond_the_states_in_memory_leaves_out_what_its_step_retracted_before_it(
    store: InMemoryStore, clock: FakeClock
) -> None:
    snapshots = InMemorySnapshots(store)
    ours = Projector(store, snapshots, holdings=Holdings(snapshots, point_every=1, points_kept=1))
    first = taken("group-a", 12, "2020-03-10T10:00:00Z")
    assert first.id is not None
    post(
        store,
        clock,
        first,
        taken("group-b", 1, "2020-03-11T10:00:00Z"),
        taken("group-c", 1, "2020-03-12T10:00:00Z"),
    )
    ours.catch_up()

    now = post(store, clock, retraction(first.id), taken("group-d", 2, "2020-03-11T12:00:00Z"))
    ours.catch_up()  # both in one step: the capture's kept entry is cut, though not yet saved

    assert held(ours, "karak-sharqi", "2020-03-11T11:00:00Z", now) == 1
    assert held(ours, "karak-sharqi", "2020-03-13T00:00:00Z", now) == 4
    assert set(ours.ledger(at("2020-03-13T00:00:00Z"), now).groups) == {
        "group-b",
        "group-c",
        "group-d",
    }


def test_a_group_whose_old_capture_is_retracted_is_unknown_to_the_reports_after_it(
    store: InMemoryStore, clock: FakeClock
) -> None:
    ours, _ = warm_after_march(store, clock)
    capture = MARCH[4].id  # group-5, long before the states kept in memory
    assert capture is not None
    post(store, clock, retraction(capture))
    ours.catch_up()
    release = event("captives.released", occurred_at="2020-03-30T10:00:00Z", group="group-5")

    now = post(store, clock, release)
    ours.catch_up()
    rebuilt = Projector(store, InMemorySnapshots(store))
    rebuilt.catch_up()

    ledger = ours.ledger(at("2020-03-31T00:00:00Z"), now)
    assert "group-5" not in ledger.groups
    assert [anomaly.code for anomaly in ledger.anomalies] == ["unknown_group"]
    assert ledger == rebuilt.ledger(at("2020-03-31T00:00:00Z"), now)


def test_a_report_moved_past_every_fact_folds_after_the_reports_that_come_between(
    store: InMemoryStore, clock: FakeClock
) -> None:
    ours, _ = warm_after_march(store, clock)
    capture = MARCH[4].id  # group-5, long before the states kept in memory
    assert capture is not None
    later = replacement(
        "captives.taken",
        occurred_at="2020-03-31T10:00:00Z",
        group="group-5",
        captor=REBELS,
        count=5,
        affiliation=AFI,
    )
    post(store, clock, correction(capture, later))
    ours.catch_up()
    release = event("captives.released", occurred_at="2020-03-30T10:00:00Z", group="group-5")

    now = post(store, clock, release)  # between the moved capture and every other fact
    ours.catch_up()
    rebuilt = Projector(store, InMemorySnapshots(store))
    rebuilt.catch_up()

    for as_of in ("2020-03-30T23:00:00Z", "2020-04-01T00:00:00Z"):
        assert ours.ledger(at(as_of), now) == rebuilt.ledger(at(as_of), now)
        assert held(ours, "karak-sharqi", as_of, now) == held(rebuilt, "karak-sharqi", as_of, now)
    assert ours.ledger(at("2020-04-01T00:00:00Z"), now).groups["group-5"].held == 5


def test_a_town_whose_only_capture_is_retracted_far_back_holds_none_before_its_next_one(
    store: InMemoryStore, clock: FakeClock
) -> None:
    # Kept after every fact, and only the last: the retraction folds before it, alone.
    snapshots = InMemorySnapshots(store)
    ours = Projector(store, snapshots, holdings=Holdings(snapshots, point_every=1, points_kept=1))
    first = taken("afi-troops", 12, "2020-03-05T10:00:00Z", held_at=NAWA)
    assert first.id is not None
    post(store, clock, taken("others", 3, "2020-03-06T10:00:00Z", held_at="tafas"), first)
    ours.catch_up()
    post(store, clock, retraction(first.id))
    ours.catch_up()

    now = post(store, clock, taken("afi-later", 5, "2020-03-07T10:00:00Z", held_at=NAWA))

    assert held(ours, NAWA, "2020-03-08T00:00:00Z", now) == 5


def test_a_process_that_follows_another_past_an_old_amendment_starts_again_from_the_entries(
    store: InMemoryStore, clock: FakeClock
) -> None:
    ours, log = warm_after_march(store, clock)
    theirs = Projector(store, log.snapshots)
    capture = MARCH[4].id  # group-5, long before the states ours keeps in memory
    assert capture is not None
    post(store, clock, retraction(capture))
    theirs.catch_up()

    now = post(store, clock, taken("after", 7, "2020-03-30T10:00:00Z"))
    ours.catch_up()  # it cannot follow the retraction: it fills its memory again
    rebuilt = Projector(store, InMemorySnapshots(store))

    assert log.loads == 2
    for as_of in ("2020-03-05T23:00:00Z", "2020-03-31T00:00:00Z"):
        assert held(ours, "karak-sharqi", as_of, now) == held(rebuilt, "karak-sharqi", as_of, now)
    assert held(ours, "karak-sharqi", "2020-03-31T00:00:00Z", now) == sum(range(1, 29)) - 5 + 107
