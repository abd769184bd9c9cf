"""The read routes over HTTP: the log, towns, captives and casualties, at both clocks."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from events.values import MAX_COUNT
from tests.clock import FakeClock
from tests.e2e.conftest import PROBLEM, READER, append, append_all
from tests.make import AFI, EIGHTH, FOURTH, REBELS, body, replacement

UNKNOWN_ID = "00000000-0000-7000-8000-0000000000e1"
DAY_LATER = "2020-03-13T09:00:00Z"


def clash(**fields: Any) -> dict[str, Any]:
    """A clash between rebels and the Air Force Intelligence in Karak Sharqi."""
    fields.setdefault("sides", [REBELS, AFI])
    return body("clash", **fields)


def control(controller: dict[str, str], **fields: Any) -> dict[str, Any]:
    """A control.changed body."""
    return body("control.changed", controller=controller, mode="armed", **fields)


def retraction(target: str) -> dict[str, Any]:
    """A report.retracted body."""
    return {"kind": "report.retracted", "target": target, "reason": "no second source"}


def correction(target: str, new: dict[str, Any]) -> dict[str, Any]:
    """A report.corrected body."""
    return {"kind": "report.corrected", "target": target, "replacement": new, "reason": "fixed"}


def get(client: TestClient, url: str, **params: Any) -> Any:
    """The JSON of a GET that must succeed, as a reader."""
    response = client.get(url, params=params, headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


# GET /events


def test_the_log_pages_by_position_after_a_given_one(client: TestClient) -> None:
    append_all(client, clash(), clash(), clash())

    first = get(client, "/events", limit=2)
    rest = get(client, "/events", after=first["next_after"], limit=2)

    assert [r["position"] for r in first["data"]] == [1, 2]
    assert first["next_after"] == 2
    assert [r["position"] for r in rest["data"]] == [3]
    assert rest["next_after"] == 3


def test_an_empty_page_gives_back_after_as_next_after(client: TestClient) -> None:
    append_all(client, clash(), clash())

    page = get(client, "/events", after=2)

    assert page == {"data": [], "next_after": 2}


def test_the_log_returns_100_records_by_default(client: TestClient) -> None:
    append_all(client, *[clash()] * 101)

    page = get(client, "/events")

    assert len(page["data"]) == 100
    assert page["next_after"] == 100


def test_a_limit_of_1000_is_allowed(client: TestClient) -> None:
    response = client.get("/events", params={"limit": 1000}, headers=READER)

    assert response.status_code == 200


def test_a_limit_above_1000_is_a_422(client: TestClient) -> None:
    response = client.get("/events", params={"limit": 1001}, headers=READER)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert ["query", "limit"] in [error["loc"] for error in response.json()["errors"]]


def test_a_limit_of_zero_is_a_422(client: TestClient) -> None:
    response = client.get("/events", params={"limit": 0}, headers=READER)

    assert response.status_code == 422


def test_the_log_filters_by_town(client: TestClient) -> None:
    append_all(client, clash(), clash(town="nawa"), clash())

    page = get(client, "/events", town="nawa")

    assert [(r["town"], r["position"]) for r in page["data"]] == [("nawa", 2)]


def test_the_log_filters_by_kind(client: TestClient) -> None:
    append_all(client, clash(), control(AFI), clash())

    page = get(client, "/events", kind="control.changed")

    assert [(r["kind"], r["position"]) for r in page["data"]] == [("control.changed", 2)]


def test_an_unknown_kind_filter_is_a_422(client: TestClient) -> None:
    response = client.get("/events", params={"kind": "town.razed"}, headers=READER)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert ["query", "kind"] in [error["loc"] for error in response.json()["errors"]]


def test_the_log_known_at_a_moment_leaves_out_later_records(
    client: TestClient, clock: FakeClock
) -> None:
    append(client, clash(notes="early"))
    clock.set(DAY_LATER)
    append(client, clash(notes="late"))

    page = get(client, "/events", known_at="2020-03-12T12:00:00Z")

    assert [r["notes"] for r in page["data"]] == ["early"]


def test_the_log_shows_each_record_with_its_amendments(client: TestClient) -> None:
    target = append(client, clash())
    struck = append(client, retraction(target["id"]))

    page = get(client, "/events")

    assert page["data"][0]["retracted_by"] == struck["id"]
    assert page["data"][1]["retracted_by"] is None
    assert page["data"][1]["corrected_by"] == []


# GET /events/{id}


def test_a_record_is_found_by_id_with_no_amendments(client: TestClient) -> None:
    target = append(client, clash())

    found = get(client, f"/events/{target['id']}")

    assert found == {**target, "retracted_by": None, "corrected_by": []}


def test_a_record_names_the_retraction_that_struck_it(client: TestClient) -> None:
    target = append(client, clash())
    struck = append(client, retraction(target["id"]))

    found = get(client, f"/events/{target['id']}")

    assert found["retracted_by"] == struck["id"]


def test_a_record_lists_its_corrections_in_position_order(client: TestClient) -> None:
    target = append(client, clash())
    first = append(client, correction(target["id"], replacement("clash", sides=[REBELS])))
    second = append(client, correction(target["id"], replacement("clash", sides=[FOURTH])))

    found = get(client, f"/events/{target['id']}")

    assert found["corrected_by"] == [first["id"], second["id"]]


def test_a_record_shows_only_the_amendments_known_at_known_at(
    client: TestClient, clock: FakeClock
) -> None:
    target = append(client, clash())
    clock.set(DAY_LATER)
    append(client, retraction(target["id"]))

    found = get(client, f"/events/{target['id']}", known_at="2020-03-12T12:00:00Z")

    assert found["retracted_by"] is None


def test_a_record_not_yet_recorded_at_known_at_is_a_404(
    client: TestClient, clock: FakeClock
) -> None:
    clock.set(DAY_LATER)
    target = append(client, clash())

    response = client.get(
        f"/events/{target['id']}", params={"known_at": "2020-03-12"}, headers=READER
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_an_unknown_event_id_is_a_404(client: TestClient) -> None:
    response = client.get(f"/events/{UNKNOWN_ID}", headers=READER)

    assert response.status_code == 404


# GET /towns/{town}


def test_a_town_answers_its_state_with_its_version_as_etag(client: TestClient) -> None:
    append_all(client, control(AFI), clash())

    response = client.get("/towns/karak-sharqi", headers=READER)

    state = response.json()
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert state["version"] == 2
    assert state["status"] == "controlled"
    assert state["controller"] == {**AFI, "certainty": "reported"}


def test_a_town_without_any_record_is_a_404(client: TestClient) -> None:
    append(client, clash())

    response = client.get("/towns/nawa", headers=READER)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_a_town_is_a_404_at_a_known_at_before_its_first_record(
    client: TestClient, clock: FakeClock
) -> None:
    clock.set(DAY_LATER)
    append(client, clash())

    response = client.get(
        "/towns/karak-sharqi", params={"known_at": "2020-03-12T12:00:00Z"}, headers=READER
    )

    assert response.status_code == 404


def test_a_town_where_nothing_has_occurred_by_as_of_is_unknown_not_missing(
    client: TestClient,
) -> None:
    append(client, control(AFI, occurred_at="2020-03-05T10:00:00Z"))

    state = get(client, "/towns/karak-sharqi", as_of="2020-03-01T00:00:00Z")

    assert state["status"] == "unknown"
    assert state["controller"] is None
    assert state["version"] == 1


def test_a_bare_as_of_date_means_the_end_of_that_day_in_utc(client: TestClient) -> None:
    append(client, control(AFI, occurred_at="2020-03-06T01:30:00+02:00"))

    state = get(client, "/towns/karak-sharqi", as_of="2020-03-05")

    assert state["as_of"] == "2020-03-05T23:59:59.999999Z"
    assert state["status"] == "controlled"


def test_a_bare_as_of_date_leaves_out_the_next_day(client: TestClient) -> None:
    append(client, control(AFI, occurred_at="2020-03-06T00:00:00Z"))

    state = get(client, "/towns/karak-sharqi", as_of="2020-03-05")

    assert state["status"] == "unknown"


def test_an_as_of_without_a_zone_is_a_422(client: TestClient) -> None:
    append(client, clash())

    response = client.get(
        "/towns/karak-sharqi", params={"as_of": "2020-03-05T10:00:00"}, headers=READER
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert ["query", "as_of"] in [error["loc"] for error in response.json()["errors"]]


def test_a_known_at_without_a_zone_is_a_422(client: TestClient) -> None:
    append(client, clash())

    response = client.get(
        "/towns/karak-sharqi", params={"known_at": "2020-03-12T09:00:00"}, headers=READER
    )

    assert response.status_code == 422


def test_an_as_of_out_of_range_is_a_422(client: TestClient) -> None:
    append(client, clash())

    response = client.get(
        "/towns/karak-sharqi", params={"as_of": "9999-12-31T23:59:59-01:00"}, headers=READER
    )

    assert response.status_code == 422


def test_a_town_version_counts_every_record_known_whatever_as_of(
    client: TestClient, clock: FakeClock
) -> None:
    append(client, control(AFI, occurred_at="2020-03-05T10:00:00Z"))
    append(client, control(REBELS, occurred_at="2020-03-06T10:00:00Z"))

    response = client.get(
        "/towns/karak-sharqi", params={"as_of": "2020-03-01T00:00:00Z"}, headers=READER
    )

    assert response.json()["version"] == 2
    assert response.headers["ETag"] == '"2"'


def test_a_town_version_is_the_one_known_at_known_at(client: TestClient, clock: FakeClock) -> None:
    append(client, control(AFI))
    clock.set(DAY_LATER)
    append(client, control(REBELS))

    state = get(client, "/towns/karak-sharqi", known_at="2020-03-12T12:00:00Z")

    assert state["version"] == 1
    assert state["controller"]["side"] == "government"


def test_a_late_report_lands_in_its_place_in_history(client: TestClient) -> None:
    append(client, control(REBELS, occurred_at="2020-03-08T10:00:00Z"))
    append(client, control(AFI, occurred_at="2020-03-05T10:00:00Z"))

    state = get(client, "/towns/karak-sharqi")

    assert state["controller"]["side"] == "opposition"


def test_a_retracted_report_leaves_the_town_state_from_then_on(
    client: TestClient, clock: FakeClock
) -> None:
    append(client, control(AFI, occurred_at="2020-03-01T10:00:00Z"))
    rebels = append(client, control(REBELS))
    clock.set(DAY_LATER)
    append(client, retraction(rebels["id"]))

    before = get(client, "/towns/karak-sharqi", known_at="2020-03-12T12:00:00Z")
    after = get(client, "/towns/karak-sharqi")

    assert before["controller"]["side"] == "opposition"
    assert after["controller"]["side"] == "government"


def test_a_corrected_report_folds_as_its_replacement(client: TestClient) -> None:
    entered = append(client, control(AFI))
    new = replacement("control.changed", controller=FOURTH, mode="negotiated")
    append(client, correction(entered["id"], new))

    state = get(client, "/towns/karak-sharqi")

    assert state["controller"]["name"] == "4th Division"


# GET /towns


def register(town: str, province: str, **fields: Any) -> dict[str, Any]:
    """A town.registered body."""
    name = town.replace("-", " ").title()
    return body("town.registered", town=town, name=name, province=province, **fields)


def gazetteer(client: TestClient) -> None:
    """Three towns: one held by the government, one by rebels, one of unknown control."""
    append_all(
        client,
        register("karak-sharqi", "Daraa", controller=AFI),
        register("nawa", "Daraa", controller=REBELS),
        register("raqqa", "Raqqa"),
    )


def towns(client: TestClient, **params: str) -> list[str]:
    """The slugs GET /towns answers for these filters."""
    answer = get(client, "/towns", **params)
    assert answer["count"] == len(answer["data"])
    return [town["town"] for town in answer["data"]]


def test_towns_lists_every_town_known(client: TestClient) -> None:
    gazetteer(client)

    listed = towns(client)

    assert sorted(listed) == ["karak-sharqi", "nawa", "raqqa"]


def test_towns_filters_by_province(client: TestClient) -> None:
    gazetteer(client)

    listed = towns(client, province="Daraa")

    assert sorted(listed) == ["karak-sharqi", "nawa"]


def test_towns_filters_by_controlling_side(client: TestClient) -> None:
    gazetteer(client)

    listed = towns(client, side="opposition")

    assert listed == ["nawa"]


def test_towns_filters_by_status(client: TestClient) -> None:
    gazetteer(client)

    listed = towns(client, status="unknown")

    assert listed == ["raqqa"]


def test_towns_answer_the_moment_they_were_read_at(client: TestClient) -> None:
    gazetteer(client)

    answer = get(client, "/towns", as_of="2020-03-10")

    assert answer["as_of"] == "2020-03-10T23:59:59.999999Z"
    assert answer["known_at"] == "2020-03-12T09:00:00Z"


def test_an_unknown_status_filter_is_a_422(client: TestClient) -> None:
    response = client.get("/towns", params={"status": "occupied"}, headers=READER)

    assert response.status_code == 422


# GET /towns/{town}/history and /audit


def test_history_lists_events_in_occurred_order_with_what_changed(client: TestClient) -> None:
    later = append(client, control(REBELS, occurred_at="2020-03-08T10:00:00Z"))
    earlier = append(client, control(AFI, occurred_at="2020-03-05T10:00:00Z"))

    history = get(client, "/towns/karak-sharqi/history")

    assert [entry["event"]["id"] for entry in history["data"]] == [earlier["id"], later["id"]]
    assert history["data"][1]["changed"]["controller"]["side"] == "opposition"


def test_history_leaves_out_what_had_not_occurred_by_as_of(client: TestClient) -> None:
    append(client, control(AFI, occurred_at="2020-03-05T10:00:00Z"))
    append(client, control(REBELS, occurred_at="2020-03-08T10:00:00Z"))

    history = get(client, "/towns/karak-sharqi/history", as_of="2020-03-06")

    assert [entry["event"]["controller"]["side"] for entry in history["data"]] == ["government"]


def test_audit_lists_the_town_records_in_recorded_order_with_amendments(
    client: TestClient,
) -> None:
    late = append(client, control(REBELS, occurred_at="2020-03-08T10:00:00Z"))
    append(client, clash(town="nawa"))
    early = append(client, control(AFI, occurred_at="2020-03-05T10:00:00Z"))
    struck = append(client, retraction(late["id"]))

    audit = get(client, "/towns/karak-sharqi/audit")

    assert [r["id"] for r in audit["data"]] == [late["id"], early["id"], struck["id"]]
    assert audit["data"][0]["retracted_by"] == struck["id"]
    assert audit["data"][0]["recorded_by"] == "ed"
    assert audit["next_after"] == 4


def test_audit_pages_like_the_log(client: TestClient) -> None:
    append_all(client, clash(), clash(town="nawa"), clash(), clash())

    page = get(client, "/towns/karak-sharqi/audit", after=1, limit=2)

    assert [r["position"] for r in page["data"]] == [3, 4]
    assert page["next_after"] == 4


# GET /captives


def taken(group: str, **fields: Any) -> dict[str, Any]:
    """Rebels take seven Air Force Intelligence men captive as `group`."""
    return body("captives.taken", group=group, captor=REBELS, count=7, affiliation=AFI, **fields)


def ledger(client: TestClient) -> None:
    """One group still held by rebels, one with the 8th Division, one released."""
    append_all(
        client,
        taken("checkpoint-troops"),
        taken("officers", occurred_at="2020-03-05T11:00:00Z"),
        body(
            "captives.transferred",
            group="officers",
            to=EIGHTH,
            role="neutral",
            occurred_at="2020-03-09T16:00:00Z",
        ),
        taken("drivers"),
        body("captives.released", group="drivers", occurred_at="2020-03-10T12:00:00Z"),
    )


def groups(client: TestClient, **params: str) -> list[str]:
    """The groups GET /captives answers for these filters."""
    return [group["group"] for group in get(client, "/captives", **params)["groups"]]


def test_captives_lists_groups_and_totals(client: TestClient) -> None:
    ledger(client)

    answer = get(client, "/captives")

    assert sorted(g["group"] for g in answer["groups"]) == [
        "checkpoint-troops",
        "drivers",
        "officers",
    ]
    assert answer["totals"]["taken"] == 21
    assert answer["totals"]["held"] == 14
    assert answer["totals"]["released"] == 7
    assert answer["remains"] == []


def test_captives_lists_groups_by_slug_whenever_they_were_taken(client: TestClient) -> None:
    append_all(
        client,
        taken("zeta-patrol", occurred_at="2020-03-02T10:00:00Z"),
        taken("alpha-convoy", occurred_at="2020-03-09T10:00:00Z"),
        taken("mid-checkpoint", occurred_at="2020-03-05T10:00:00Z"),
    )

    assert groups(client) == ["alpha-convoy", "mid-checkpoint", "zeta-patrol"]


def test_captives_filter_by_status(client: TestClient) -> None:
    ledger(client)

    listed = groups(client, status="with_intermediary")

    assert listed == ["officers"]


def test_captives_filter_by_holder_side(client: TestClient) -> None:
    ledger(client)

    listed = groups(client, holder_side="opposition")

    assert sorted(listed) == ["checkpoint-troops", "drivers"]


def test_captives_list_the_remains_handed_over(client: TestClient) -> None:
    append(client, body("remains.handed_over", count=5, from_=REBELS, to=AFI, via=EIGHTH))

    answer = get(client, "/captives")

    assert [(r["count"], r["from"], r["via"]) for r in answer["remains"]] == [(5, REBELS, EIGHTH)]
    assert answer["totals"]["remains"] == 5


def test_a_captive_group_shows_its_custody_chain(client: TestClient) -> None:
    ledger(client)

    group = get(client, "/captives/officers")

    assert group["holder"] == EIGHTH
    assert group["status"] == "with_intermediary"
    assert [(c["holder"], c["role"]) for c in group["custody"]] == [
        (REBELS, "party"),
        (EIGHTH, "neutral"),
    ]


def test_a_captive_group_as_of_before_its_transfer_is_still_with_its_captor(
    client: TestClient,
) -> None:
    ledger(client)

    group = get(client, "/captives/officers", as_of="2020-03-08")

    assert group["holder"] == REBELS
    assert group["status"] == "held"


def test_an_unknown_captive_group_is_a_404(client: TestClient) -> None:
    ledger(client)

    response = client.get("/captives/no-such-group", headers=READER)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


# GET /casualties


def deaths(day: str, town: str = "karak-sharqi", low: int = 1) -> dict[str, Any]:
    """A clash on `day` that killed between `low` and `low + 2`."""
    toll = {"low": low, "best": low + 1, "high": low + 2}
    return clash(town=town, occurred_at=f"{day}T12:00:00Z", fatalities=toll)


def tallies(client: TestClient, **params: str) -> dict[str, tuple[int, int, int]]:
    """GET /casualties as {key: (low, best, high)}."""
    data = get(client, "/casualties", **params)["data"]
    return {t["key"]: (t["low"], t["best"], t["high"]) for t in data}


def test_casualties_sum_fatalities_per_town(client: TestClient) -> None:
    append_all(
        client,
        deaths("2020-03-04"),
        deaths("2020-03-05", low=10),
        deaths("2020-03-05", town="nawa"),
    )

    sums = tallies(client, group_by="town")

    assert sums == {"karak-sharqi": (11, 13, 15), "nawa": (1, 2, 3)}


def test_casualties_count_an_event_once_under_each_side(client: TestClient) -> None:
    append(client, deaths("2020-03-05"))

    sums = tallies(client, group_by="side")

    assert sums == {"opposition": (1, 2, 3), "government": (1, 2, 3)}


def test_casualties_group_by_month(client: TestClient) -> None:
    append_all(client, deaths("2020-02-20"), deaths("2020-03-01"), deaths("2020-03-05"))

    sums = tallies(client, group_by="month")

    assert sums == {"2020-02": (1, 2, 3), "2020-03": (2, 4, 6)}


def test_casualties_group_by_province_of_the_latest_registration(client: TestClient) -> None:
    append_all(
        client,
        register("karak-sharqi", "Daraa"),
        deaths("2020-03-05"),
        deaths("2020-03-05", town="nawa"),
    )

    sums = tallies(client, group_by="province")

    assert sums == {"Daraa": (1, 2, 3), "unknown": (1, 2, 3)}


def test_casualties_from_and_to_are_inclusive_days(client: TestClient) -> None:
    append_all(
        client,
        deaths("2020-03-04", low=100),
        deaths("2020-03-05"),
        deaths("2020-03-06", low=10),
        deaths("2020-03-07", low=1000),
    )

    sums = tallies(client, group_by="town", **{"from": "2020-03-05", "to": "2020-03-06"})

    assert sums == {"karak-sharqi": (11, 13, 15)}


def test_an_unknown_casualties_grouping_is_a_422(client: TestClient) -> None:
    response = client.get("/casualties", params={"group_by": "village"}, headers=READER)

    assert response.status_code == 422


def test_fatalities_add_up_past_the_most_one_report_may_give(client: TestClient) -> None:
    most = {"low": MAX_COUNT, "best": MAX_COUNT, "high": MAX_COUNT}
    append_all(
        client,
        clash(occurred_at="2020-03-04T12:00:00Z", fatalities=most),
        clash(occurred_at="2020-03-05T12:00:00Z", fatalities=most),
    )

    town = get(client, "/towns/karak-sharqi")
    sums = tallies(client, group_by="town")

    assert town["fatalities"] == {
        "low": 2 * MAX_COUNT,
        "best": 2 * MAX_COUNT,
        "high": 2 * MAX_COUNT,
    }
    assert sums == {"karak-sharqi": (2 * MAX_COUNT, 2 * MAX_COUNT, 2 * MAX_COUNT)}
