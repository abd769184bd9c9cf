"""POST /events, /events/batch and the amendment routes, over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.clock import FakeClock
from tests.e2e.conftest import EDITOR, PROBLEM, REPORTER, append, append_all, stored
from tests.make import AFI, FOURTH, REBELS, at, body, replacement

EVENT_ID = "00000000-0000-7000-8000-0000000000e1"
AMENDMENT_ID = "00000000-0000-7000-8000-0000000000a1"


def clash(**fields: Any) -> dict[str, Any]:
    """A clash between rebels and the Air Force Intelligence in Karak Sharqi."""
    fields.setdefault("sides", [REBELS, AFI])
    return body("clash", **fields)


def retraction(target: str, **fields: Any) -> dict[str, Any]:
    """A report.retracted body for POST /events."""
    return {"kind": "report.retracted", "target": target, "reason": "no second source", **fields}


def correction(target: str, new: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A report.corrected body for POST /events."""
    return {
        "kind": "report.corrected",
        "target": target,
        "replacement": new,
        "reason": "better sources",
        **fields,
    }


# POST /events


def test_posting_an_event_answers_201_with_its_location_and_record(client: TestClient) -> None:
    response = client.post("/events", json=clash(), headers=REPORTER)

    record = response.json()
    assert response.status_code == 201
    assert response.headers["Location"] == f"/events/{record['id']}"
    assert record["kind"] == "clash"
    assert record["sides"] == [REBELS, AFI]
    assert record["occurred_at"] == "2020-03-05T10:00:00Z"


def test_a_record_carries_its_position_version_and_recording(client: TestClient) -> None:
    append(client, clash(town="nawa"))

    record = append(client, clash(), REPORTER)

    assert record["position"] == 2
    assert record["version"] == 1
    assert record["recorded_at"] == "2020-03-12T09:00:00Z"
    assert record["recorded_by"] == "rita"


def test_recorded_by_names_the_key_label_and_never_the_key(client: TestClient) -> None:
    response = client.post("/events", json=clash(), headers=REPORTER)

    assert response.json()["recorded_by"] == "rita"
    assert "reporter-key" not in response.text


def test_recorded_at_keeps_microseconds_in_utc_with_z(client: TestClient, clock: FakeClock) -> None:
    clock.set("2020-03-12T09:30:00.123456+00:00")

    record = append(client, clash())

    assert record["recorded_at"] == "2020-03-12T09:30:00.123456Z"


def test_recorded_at_is_answered_in_utc_whatever_zone_the_clock_reads(
    client: TestClient, clock: FakeClock
) -> None:
    clock.set("2020-03-12T11:30:00.123456+02:00")

    record = append(client, clash())

    assert record["recorded_at"] == "2020-03-12T09:30:00.123456Z"


def test_recorded_at_never_decreases_along_position_when_the_clock_goes_back(
    client: TestClient, clock: FakeClock
) -> None:
    first = append(client, clash())
    clock.set("2020-03-12T08:00:00+00:00")

    second = append(client, clash())

    assert second["position"] > first["position"]
    assert at(second["recorded_at"]) >= at(first["recorded_at"])


def test_occurred_at_is_stored_and_answered_in_utc(client: TestClient) -> None:
    record = append(client, clash(occurred_at="2020-03-05T12:00:00+02:00"))

    assert record["occurred_at"] == "2020-03-05T10:00:00Z"


def test_an_identical_retry_by_id_answers_200_with_the_original_record(
    client: TestClient, clock: FakeClock
) -> None:
    original = append(client, clash(id=EVENT_ID), REPORTER)
    clock.advance(minutes=5)

    retry = client.post("/events", json=clash(id=EVENT_ID), headers=REPORTER)

    assert retry.status_code == 200
    assert retry.json() == original
    assert len(stored(client)) == 1


def test_an_identical_retry_wins_over_its_now_stale_expected_version(client: TestClient) -> None:
    original = append(client, clash(id=EVENT_ID, expected_version=0))
    append(client, clash(notes="a later report"))

    retry = client.post("/events", json=clash(id=EVENT_ID, expected_version=0), headers=EDITOR)

    assert retry.status_code == 200
    assert retry.json() == original


def test_an_identical_retry_wins_over_a_stale_if_match(client: TestClient) -> None:
    original = append(client, clash(id=EVENT_ID))
    append(client, clash(notes="a later report"))

    retry = client.post("/events", json=clash(id=EVENT_ID), headers={**EDITOR, "If-Match": '"0"'})

    assert retry.status_code == 200
    assert retry.json() == original


def test_a_retry_that_spells_a_time_in_another_zone_is_still_identical(
    client: TestClient,
) -> None:
    original = append(client, clash(id=EVENT_ID, occurred_at="2020-03-05T10:00:00Z"))

    retry = client.post(
        "/events", json=clash(id=EVENT_ID, occurred_at="2020-03-05T13:00:00+03:00"), headers=EDITOR
    )

    assert retry.status_code == 200
    assert retry.json() == original


def test_a_retry_spelling_out_the_defaults_is_still_identical(client: TestClient) -> None:
    original = append(client, clash(id=EVENT_ID))

    retry = client.post(
        "/events",
        json=clash(id=EVENT_ID, precision="day", certainty="reported", external_ids={}),
        headers=EDITOR,
    )

    assert retry.status_code == 200
    assert retry.json() == original


def test_a_retry_by_another_key_answers_the_original_record(client: TestClient) -> None:
    original = append(client, clash(id=EVENT_ID), REPORTER)

    retry = client.post("/events", json=clash(id=EVENT_ID), headers=EDITOR)

    assert retry.status_code == 200
    assert retry.json()["recorded_by"] == "rita"
    assert retry.json() == original


def test_the_same_id_with_other_content_is_a_409_and_stores_nothing(client: TestClient) -> None:
    append(client, clash(id=EVENT_ID))

    response = client.post("/events", json=clash(id=EVENT_ID, notes="other"), headers=EDITOR)

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert len(stored(client)) == 1


def test_a_matching_expected_version_is_appended(client: TestClient) -> None:
    append(client, clash())

    response = client.post("/events", json=clash(expected_version=1), headers=EDITOR)

    assert response.status_code == 201
    assert response.json()["version"] == 2


def test_expected_version_zero_requires_an_empty_stream(client: TestClient) -> None:
    append(client, clash())

    response = client.post("/events", json=clash(expected_version=0), headers=EDITOR)

    assert response.status_code == 409


def test_a_mismatched_expected_version_is_a_409_naming_the_current_version(
    client: TestClient,
) -> None:
    append(client, clash())
    append(client, clash())

    response = client.post("/events", json=clash(expected_version=1), headers=EDITOR)

    problem = response.json()
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert problem["status"] == 409
    assert problem["current_version"] == 2
    assert len(stored(client)) == 2


def test_expected_version_is_a_guard_not_part_of_the_record(client: TestClient) -> None:
    record = append(client, clash(expected_version=0))

    assert "expected_version" not in record


def test_a_matching_if_match_is_appended(client: TestClient) -> None:
    append(client, clash())

    response = client.post("/events", json=clash(), headers={**EDITOR, "If-Match": '"1"'})

    assert response.status_code == 201
    assert response.json()["version"] == 2


def test_a_stale_if_match_is_a_409_naming_the_current_version(client: TestClient) -> None:
    append(client, clash())

    response = client.post("/events", json=clash(), headers={**EDITOR, "If-Match": '"0"'})

    assert response.status_code == 409
    assert response.json()["current_version"] == 1


def test_an_if_match_that_is_not_a_version_is_a_422(client: TestClient) -> None:
    response = client.post("/events", json=clash(), headers={**EDITOR, "If-Match": '"abc"'})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert stored(client) == []


def test_if_match_and_a_different_expected_version_together_are_a_422(
    client: TestClient,
) -> None:
    append(client, clash())

    response = client.post(
        "/events", json=clash(expected_version=1), headers={**EDITOR, "If-Match": '"0"'}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert len(stored(client)) == 1


def test_if_match_and_an_equal_expected_version_together_are_accepted(
    client: TestClient,
) -> None:
    append(client, clash())

    response = client.post(
        "/events", json=clash(expected_version=1), headers={**EDITOR, "If-Match": '"1"'}
    )

    assert response.status_code == 201


# Corrections and retractions through POST /events


def test_a_reporter_may_not_post_a_correction(client: TestClient) -> None:
    target = append(client, clash())

    response = client.post(
        "/events",
        json=correction(target["id"], replacement("clash", sides=[REBELS])),
        headers=REPORTER,
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert len(stored(client)) == 1


def test_a_reporter_may_not_post_a_retraction(client: TestClient) -> None:
    target = append(client, clash())

    response = client.post("/events", json=retraction(target["id"]), headers=REPORTER)

    assert response.status_code == 403


def test_an_editor_posts_a_correction_into_the_target_stream(client: TestClient) -> None:
    target = append(client, clash())

    response = client.post(
        "/events",
        json=correction(target["id"], replacement("clash", sides=[REBELS])),
        headers=EDITOR,
    )

    record = response.json()
    assert response.status_code == 201
    assert record["town"] == "karak-sharqi"
    assert record["version"] == 2
    assert record["occurred_at"] == record["recorded_at"]


def test_correcting_a_retracted_event_is_a_409(client: TestClient) -> None:
    target = append(client, clash())
    append(client, retraction(target["id"]))

    response = client.post(
        "/events",
        json=correction(target["id"], replacement("clash", sides=[REBELS])),
        headers=EDITOR,
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert len(stored(client)) == 2


def test_retracting_a_retracted_event_is_a_409(client: TestClient) -> None:
    target = append(client, clash())
    append(client, retraction(target["id"]))

    response = client.post("/events", json=retraction(target["id"]), headers=EDITOR)

    assert response.status_code == 409


def test_targeting_a_retraction_is_a_422(client: TestClient) -> None:
    target = append(client, clash())
    first = append(client, retraction(target["id"]))

    response = client.post("/events", json=retraction(first["id"]), headers=EDITOR)

    assert response.status_code == 422
    assert ["body", "target"] in [error["loc"] for error in response.json()["errors"]]


def test_targeting_a_correction_is_a_422(client: TestClient) -> None:
    target = append(client, clash())
    fixed = append(client, correction(target["id"], replacement("clash", sides=[REBELS])))

    response = client.post("/events", json=retraction(fixed["id"]), headers=EDITOR)

    assert response.status_code == 422
    assert len(stored(client)) == 2


def test_targeting_an_unknown_id_is_a_422(client: TestClient) -> None:
    response = client.post("/events", json=retraction(EVENT_ID), headers=EDITOR)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert stored(client) == []


def test_a_replacement_that_is_not_a_valid_body_of_the_target_kind_is_a_422(
    client: TestClient,
) -> None:
    target = append(client, clash())
    invalid = replacement("clash", sides=[])

    response = client.post("/events", json=correction(target["id"], invalid), headers=EDITOR)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:2] == ["body", "replacement"]
    assert len(stored(client)) == 1


def test_a_replacement_may_not_set_the_kind(client: TestClient) -> None:
    target = append(client, clash())
    other_kind = {**replacement("clash", sides=[REBELS]), "kind": "raid"}

    response = client.post("/events", json=correction(target["id"], other_kind), headers=EDITOR)

    assert response.status_code == 422


def test_a_correction_naming_another_town_than_its_target_is_a_422(client: TestClient) -> None:
    target = append(client, clash())

    response = client.post("/events", json=retraction(target["id"], town="nawa"), headers=EDITOR)

    assert response.status_code == 422


# POST /events/{id}/retraction and /correction


def test_the_retraction_route_appends_a_retraction_of_the_event(client: TestClient) -> None:
    target = append(client, clash())

    response = client.post(
        f"/events/{target['id']}/retraction", json={"reason": "hoax"}, headers=EDITOR
    )

    record = response.json()
    assert response.status_code == 201
    assert response.headers["Location"] == f"/events/{record['id']}"
    assert record["kind"] == "report.retracted"
    assert record["target"] == target["id"]
    assert record["recorded_by"] == "ed"


def test_the_retraction_route_needs_an_editor(client: TestClient) -> None:
    target = append(client, clash())

    response = client.post(
        f"/events/{target['id']}/retraction", json={"reason": "hoax"}, headers=REPORTER
    )

    assert response.status_code == 403


def test_a_retraction_retried_with_its_id_answers_200_with_the_original(
    client: TestClient,
) -> None:
    target = append(client, clash())
    url = f"/events/{target['id']}/retraction"
    first = client.post(url, json={"reason": "hoax", "id": AMENDMENT_ID}, headers=EDITOR)

    retry = client.post(url, json={"reason": "hoax", "id": AMENDMENT_ID}, headers=EDITOR)

    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert len(stored(client)) == 2


def test_a_correction_retried_with_its_id_answers_200_with_the_original(
    client: TestClient,
) -> None:
    target = append(client, clash())
    url = f"/events/{target['id']}/correction"
    sent = {"replacement": replacement("clash", sides=[REBELS]), "reason": "x", "id": AMENDMENT_ID}
    first = client.post(url, json=sent, headers=EDITOR)

    retry = client.post(url, json=sent, headers=EDITOR)

    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert len(stored(client)) == 2


def test_retracting_twice_through_the_route_is_a_409(client: TestClient) -> None:
    target = append(client, clash())
    url = f"/events/{target['id']}/retraction"
    client.post(url, json={"reason": "hoax"}, headers=EDITOR)

    response = client.post(url, json={"reason": "still a hoax"}, headers=EDITOR)

    assert response.status_code == 409


def test_retracting_an_unknown_id_through_the_route_is_a_404(client: TestClient) -> None:
    response = client.post(f"/events/{EVENT_ID}/retraction", json={"reason": "x"}, headers=EDITOR)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_retracting_a_retraction_through_the_route_is_a_404(client: TestClient) -> None:
    target = append(client, clash())
    first = append(client, retraction(target["id"]))

    response = client.post(
        f"/events/{first['id']}/retraction", json={"reason": "x"}, headers=EDITOR
    )

    assert response.status_code == 404


def test_the_correction_route_appends_a_correction_of_the_event(client: TestClient) -> None:
    target = append(client, clash())
    new = replacement("clash", sides=[REBELS, FOURTH])

    response = client.post(
        f"/events/{target['id']}/correction",
        json={"replacement": new, "reason": "it was the 4th Division"},
        headers=EDITOR,
    )

    record = response.json()
    assert response.status_code == 201
    assert record["kind"] == "report.corrected"
    assert record["target"] == target["id"]
    assert record["replacement"]["sides"] == [REBELS, FOURTH]


def test_correcting_an_unknown_id_through_the_route_is_a_404(client: TestClient) -> None:
    response = client.post(
        f"/events/{EVENT_ID}/correction",
        json={"replacement": replacement("clash", sides=[REBELS]), "reason": "x"},
        headers=EDITOR,
    )

    assert response.status_code == 404


def test_correcting_a_correction_through_the_route_is_a_404(client: TestClient) -> None:
    target = append(client, clash())
    fixed = append(client, correction(target["id"], replacement("clash", sides=[REBELS])))

    response = client.post(
        f"/events/{fixed['id']}/correction",
        json={"replacement": replacement("clash", sides=[AFI]), "reason": "x"},
        headers=EDITOR,
    )

    assert response.status_code == 404


def test_correcting_a_retracted_event_through_the_route_is_a_409(client: TestClient) -> None:
    target = append(client, clash())
    append(client, retraction(target["id"]))

    response = client.post(
        f"/events/{target['id']}/correction",
        json={"replacement": replacement("clash", sides=[REBELS]), "reason": "x"},
        headers=EDITOR,
    )

    assert response.status_code == 409


def test_an_invalid_replacement_through_the_route_is_a_422(client: TestClient) -> None:
    target = append(client, clash())

    response = client.post(
        f"/events/{target['id']}/correction",
        json={"replacement": replacement("clash", sides=[REBELS], precision="hour"), "reason": "x"},
        headers=EDITOR,
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert len(stored(client)) == 1


# POST /events/batch


def test_a_batch_answers_201_with_its_records_in_order(client: TestClient) -> None:
    events = [clash(notes="first"), clash(notes="second"), clash(town="nawa", notes="third")]

    response = client.post("/events/batch", json={"events": events}, headers=REPORTER)

    answer = response.json()
    assert response.status_code == 201
    assert answer["count"] == 3
    assert [r["notes"] for r in answer["data"]] == ["first", "second", "third"]
    assert [(r["position"], r["version"]) for r in answer["data"]] == [(1, 1), (2, 2), (3, 1)]


def test_a_batch_with_an_invalid_event_at_index_2_stores_nothing(client: TestClient) -> None:
    events = [clash(), clash(), clash(occurred_at="2020-03-05T10:00:00")]

    response = client.post("/events/batch", json={"events": events}, headers=EDITOR)

    problem = response.json()
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert problem["index"] == 2
    assert problem["errors"]
    assert stored(client) == []


def test_a_batch_with_a_version_conflict_at_index_2_stores_nothing(client: TestClient) -> None:
    events = [clash(expected_version=0), clash(expected_version=1), clash(expected_version=5)]

    response = client.post("/events/batch", json={"events": events}, headers=EDITOR)

    problem = response.json()
    assert response.status_code == 409
    assert problem["index"] == 2
    assert problem["current_version"] == 2
    assert problem["errors"][0]["loc"] == ["body", "events", 2]
    assert problem["errors"][0]["type"] == "version_conflict"
    assert stored(client) == []


def test_a_batch_with_an_unknown_target_at_index_2_stores_nothing(client: TestClient) -> None:
    events = [clash(), clash(), retraction(EVENT_ID)]

    response = client.post("/events/batch", json={"events": events}, headers=EDITOR)

    problem = response.json()
    assert response.status_code == 422
    assert problem["index"] == 2
    assert problem["errors"][0]["loc"] == ["body", "events", 2, "target"]
    assert stored(client) == []


def test_a_later_event_of_a_batch_may_target_an_earlier_one(client: TestClient) -> None:
    events = [clash(id=EVENT_ID), correction(EVENT_ID, replacement("clash", sides=[REBELS]))]

    records = append_all(client, *events)

    assert records[1]["target"] == EVENT_ID
    assert client.get(f"/events/{EVENT_ID}", headers=EDITOR).json()["corrected_by"] == [
        records[1]["id"]
    ]


def test_a_batch_that_corrects_an_event_it_retracted_is_a_409_at_that_index(
    client: TestClient,
) -> None:
    events = [
        clash(id=EVENT_ID),
        retraction(EVENT_ID),
        correction(EVENT_ID, replacement("clash", sides=[REBELS])),
    ]

    response = client.post("/events/batch", json={"events": events}, headers=EDITOR)

    assert response.status_code == 409
    assert response.json()["index"] == 2
    assert stored(client) == []


def test_a_reporter_may_not_slip_a_correction_into_a_batch(client: TestClient) -> None:
    events = [clash(id=EVENT_ID), retraction(EVENT_ID)]

    response = client.post("/events/batch", json={"events": events}, headers=REPORTER)

    assert response.status_code == 403
    assert stored(client) == []


def test_a_batch_of_1000_events_is_accepted(client: TestClient) -> None:
    events = [clash()] * 1000

    response = client.post("/events/batch", json={"events": events}, headers=REPORTER)

    assert response.status_code == 201
    assert response.json()["count"] == 1000


def test_a_batch_of_more_than_1000_events_is_a_422(client: TestClient) -> None:
    events = [clash()] * 1001

    response = client.post("/events/batch", json={"events": events}, headers=REPORTER)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert stored(client) == []


def test_an_empty_batch_is_a_422(client: TestClient) -> None:
    response = client.post("/events/batch", json={"events": []}, headers=REPORTER)

    assert response.status_code == 422


def test_a_batch_retried_identically_answers_200_with_the_original_records(
    client: TestClient,
) -> None:
    events = [clash(id=EVENT_ID), clash(id=AMENDMENT_ID, town="nawa")]
    first = append_all(client, *events)

    retry = client.post("/events/batch", json={"events": events}, headers=EDITOR)

    assert retry.status_code == 200
    assert retry.json()["data"] == first
    assert len(stored(client)) == 2
