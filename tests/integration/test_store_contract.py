"""One contract, every store: in memory, SQLite and PostgreSQL must behave the same."""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import uuid4

import pytest

from events.errors import (
    AlreadyRetracted,
    BatchRejected,
    IdConflict,
    InvalidEvent,
    UnknownTarget,
    VersionConflict,
)
from events.kinds import ReportCorrected
from events.store import MAX_PAGE, EventStore, Pending
from tests.clock import FakeClock
from tests.make import AFI, REBELS, correction, event, replacement, retraction


def seized(town: str = "karak-sharqi", **fields: object) -> Pending:
    return Pending(
        event("checkpoint.seized", town=town, checkpoint="AFI post", by=REBELS, **fields)
    )


def test_appends_number_positions_globally_and_versions_per_town(store: EventStore) -> None:
    outcomes = store.append([seized(), seized("tafas"), seized()], "alice")

    assert [o.record.position for o in outcomes] == [1, 2, 3]
    assert [o.record.version for o in outcomes] == [1, 1, 2]
    assert all(o.created for o in outcomes)


def test_an_attack_or_raid_names_its_target_without_being_an_amendment(
    store: EventStore,
) -> None:
    attack = event("attack", by=REBELS, target="an Air Force Intelligence patrol", method="ied")
    raid = event("raid", by=AFI, target="wanted men")

    written = store.append([Pending(attack), Pending(raid)], "alice")

    assert [store.get(o.record.id) for o in written] == [o.record for o in written]
    assert store.select(targets=[o.record.id for o in written]) == []


def test_a_recorded_by_longer_than_the_log_keeps_is_refused(store: EventStore) -> None:
    with pytest.raises(InvalidEvent):
        store.append([seized()], "x" * 201)

    assert store.select() == []


def test_a_record_reads_back_as_it_was_written(store: EventStore, clock: FakeClock) -> None:
    [written] = store.append([seized(fatalities={"low": 3, "best": 2, "high": 1})], "alice")

    read = store.get(written.record.id)

    assert read == written.record
    assert read.recorded_at == clock.now
    assert read.recorded_by == "alice"


def test_records_read_by_their_ids_leave_out_ids_the_log_does_not_hold(
    store: EventStore,
) -> None:
    written = store.append([seized(), seized(town="mayadin")], "alice")
    unknown = uuid.uuid4()

    read = store.get_many([unknown, *(one.record.id for one in written)])

    assert read == {one.record.id: one.record for one in written}


def test_an_identical_retry_returns_the_original_and_stores_nothing(store: EventStore) -> None:
    sent = seized().event.model_copy(update={"id": uuid4()})
    [first] = store.append([Pending(sent)], "alice")

    [again] = store.append([Pending(sent, expected_version=0)], "bob")

    assert not again.created
    assert again.record == first.record
    assert len(store.select()) == 1


def test_the_same_id_with_other_content_is_a_conflict(store: EventStore) -> None:
    sent = seized().event.model_copy(update={"id": uuid4()})
    store.append([Pending(sent)], "alice")

    with pytest.raises(IdConflict):
        store.append([Pending(sent.model_copy(update={"checkpoint": "another post"}))], "alice")

    assert len(store.select()) == 1


def test_a_stale_expected_version_is_refused_with_the_current_one(store: EventStore) -> None:
    store.append([seized(), seized()], "alice")

    with pytest.raises(VersionConflict) as refused:
        store.append([Pending(seized().event, expected_version=1)], "alice")

    assert refused.value.current == 2
    assert store.version("karak-sharqi") == 2


def test_expected_version_zero_means_the_stream_must_be_empty(store: EventStore) -> None:
    [first] = store.append([Pending(seized().event, expected_version=0)], "alice")

    with pytest.raises(VersionConflict):
        store.append([Pending(seized().event, expected_version=0)], "alice")

    assert first.record.version == 1


def test_a_batch_with_one_bad_event_stores_nothing(store: EventStore) -> None:
    store.append([seized()], "alice")
    batch = [seized("tafas"), Pending(seized().event, expected_version=0), seized("nawa")]

    with pytest.raises(BatchRejected) as refused:
        store.append(batch, "alice")

    assert refused.value.index == 1
    assert isinstance(refused.value.cause, VersionConflict)
    assert {r.town for r in store.select()} == {"karak-sharqi"}


def test_a_later_event_in_a_batch_may_amend_an_earlier_one(store: EventStore) -> None:
    first = seized().event.model_copy(update={"id": uuid4()})
    assert first.id is not None

    outcomes = store.append([Pending(first), Pending(retraction(first.id))], "editor")

    assert outcomes[1].record.town == "karak-sharqi"
    assert outcomes[1].record.version == 2


def test_recorded_at_never_decreases_even_when_the_clock_does(
    store: EventStore, clock: FakeClock
) -> None:
    [first] = store.append([seized()], "alice")
    clock.advance(hours=-1)

    [second] = store.append([seized()], "alice")

    assert second.record.recorded_at >= first.record.recorded_at


def test_select_filters_by_position_town_kind_and_known_time(
    store: EventStore, clock: FakeClock
) -> None:
    store.append([seized(), seized("tafas")], "alice")
    before = clock.now
    clock.advance(days=1)
    clash = event("clash", sides=[REBELS, AFI])
    store.append([Pending(clash), seized()], "alice")

    assert [r.position for r in store.select(after=2)] == [3, 4]
    assert [r.position for r in store.select(limit=1)] == [1]
    assert [r.position for r in store.select(town="karak-sharqi")] == [1, 3, 4]
    assert [r.position for r in store.select(kinds={"clash"})] == [3]
    assert [r.position for r in store.select(known_at=before)] == [1, 2]
    assert store.version("karak-sharqi", known_at=before) == 1
    assert store.select(known_at=before - timedelta(seconds=1)) == []


def test_no_read_returns_more_than_a_page(store: EventStore) -> None:
    store.append([seized() for _ in range(MAX_PAGE + 5)], "importer")

    assert len(store.select(limit=MAX_PAGE * 2)) == MAX_PAGE


def test_a_correction_joins_its_targets_stream_and_occurs_when_recorded(
    store: EventStore, clock: FakeClock
) -> None:
    [target] = store.append([seized()], "alice")
    clock.advance(days=2)
    body = replacement("checkpoint.seized", checkpoint="AFI post", by=REBELS)

    [amended] = store.append([Pending(correction(target.record.id, body))], "editor")

    assert amended.record.town == "karak-sharqi"
    assert amended.record.version == 2
    assert amended.record.event.occurred_at == clock.now
    found = store.select(targets=[target.record.id])
    assert [r.id for r in found] == [amended.record.id]


def test_a_replacement_is_stored_normalised(store: EventStore) -> None:
    [target] = store.append([seized()], "alice")
    body = replacement(
        "checkpoint.seized",
        checkpoint="AFI post",
        by=REBELS,
        occurred_at="2020-03-05T12:00:00+02:00",
    )

    [amended] = store.append([Pending(correction(target.record.id, body))], "editor")

    stored = amended.record.event
    assert isinstance(stored, ReportCorrected)
    assert stored.replacement["occurred_at"] == "2020-03-05T10:00:00Z"
    assert stored.replacement["certainty"] == "reported"


def test_an_invalid_replacement_is_refused(store: EventStore) -> None:
    [target] = store.append([seized()], "alice")

    with pytest.raises(InvalidEvent) as refused:
        store.append([Pending(correction(target.record.id, {"checkpoint": "x"}))], "editor")

    assert refused.value.loc[0] == "replacement"


def test_nothing_can_be_amended_after_a_retraction(store: EventStore) -> None:
    [target] = store.append([seized()], "alice")
    [struck] = store.append([Pending(retraction(target.record.id))], "editor")

    body = replacement("checkpoint.seized", checkpoint="x", by=REBELS)

    with pytest.raises(AlreadyRetracted) as twice:
        store.append([Pending(retraction(target.record.id))], "editor")
    with pytest.raises(AlreadyRetracted):
        store.append([Pending(correction(target.record.id, body))], "editor")

    assert twice.value.retracted_by == struck.record.id


def test_a_batch_that_retracts_a_report_and_then_corrects_it_stores_nothing(
    store: EventStore,
) -> None:
    [target] = store.append([seized()], "alice")
    body = replacement("checkpoint.seized", checkpoint="x", by=REBELS)
    struck, fixed = retraction(target.record.id), correction(target.record.id, body)

    with pytest.raises(BatchRejected) as refused:
        store.append([Pending(struck), Pending(fixed)], "editor")

    assert refused.value.index == 1
    assert isinstance(refused.value.cause, AlreadyRetracted)
    assert [record.id for record in store.select()] == [target.record.id]
    [again] = store.append([Pending(struck)], "editor")  # the failed batch left no retraction
    assert again.created


def test_amending_an_amendment_or_an_unknown_event_is_refused(store: EventStore) -> None:
    [target] = store.append([seized()], "alice")
    [struck] = store.append([Pending(retraction(target.record.id))], "editor")

    with pytest.raises(InvalidEvent):
        store.append([Pending(retraction(struck.record.id))], "editor")
    with pytest.raises(UnknownTarget):
        store.append([Pending(retraction(uuid4()))], "editor")


def test_an_amendment_naming_another_town_is_refused(store: EventStore) -> None:
    [target] = store.append([seized()], "alice")

    with pytest.raises(InvalidEvent) as refused:
        store.append([Pending(retraction(target.record.id, town="tafas"))], "editor")

    assert refused.value.loc == ("town",)
