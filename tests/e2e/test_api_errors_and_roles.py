"""Problems, keys and roles, the OpenAPI document, and no 500 whatever a client sends."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.keyring import InMemoryKeyRing, StoredKey
from events.memory import InMemoryStore
from service.auth import key_hash
from service.bootstrap import create_app
from service.settings import Settings
from tests.clock import FakeClock
from tests.e2e.conftest import (
    ADMIN,
    API_KEYS,
    EDITOR,
    PROBLEM,
    READER,
    REPORTER,
    append,
    bearer,
    build_app,
    serve,
    stored,
)
from tests.make import AFI, REBELS, body

KINDS = {
    "town.registered",
    "control.changed",
    "forces.entered",
    "forces.withdrew",
    "checkpoint.seized",
    "town.encircled",
    "encirclement.lifted",
    "agreement.reached",
    "captives.taken",
    "captives.transferred",
    "captives.released",
    "captives.killed",
    "remains.handed_over",
    "raid",
    "clash",
    "attack",
    "negotiation.held",
    "demonstration",
    "road.cut",
    "statistic.reported",
    "report.retracted",
    "report.corrected",
}
UNKNOWN_ID = "00000000-0000-7000-8000-0000000000e1"
TOO_MANY = 10_000_001


def clash(**fields: Any) -> dict[str, Any]:
    """A clash between rebels and the Air Force Intelligence in Karak Sharqi."""
    fields.setdefault("sides", [REBELS, AFI])
    return body("clash", **fields)


def captives(**fields: Any) -> dict[str, Any]:
    """Rebels take Air Force Intelligence men captive."""
    return body(
        "captives.taken",
        **{"group": "troops", "captor": REBELS, "count": 7, "affiliation": AFI, **fields},
    )


def without(event: dict[str, Any], field: str) -> dict[str, Any]:
    """The event with one field left out."""
    return {name: value for name, value in event.items() if name != field}


def locs(response: Any) -> list[list[str]]:
    """The `loc` of every error a problem lists."""
    return [error["loc"] for error in response.json()["errors"]]


# Invalid events: 422 problem+json naming the field, and nothing stored

INVALID = [
    pytest.param({**clash(), "kind": "town.razed"}, ["body", "kind"], id="unknown kind"),
    pytest.param(without(clash(), "kind"), ["body", "kind"], id="no kind"),
    pytest.param(clash(colour="red"), ["body", "colour"], id="unknown field"),
    pytest.param(
        clash(occurred_at="2020-03-05T10:00:00"), ["body", "occurred_at"], id="naive datetime"
    ),
    pytest.param(
        clash(occurred_at="2020-03-05"), ["body", "occurred_at"], id="bare date as occurred_at"
    ),
    pytest.param(
        clash(occurred_at="0001-01-01T00:00:00+01:00"),
        ["body", "occurred_at"],
        id="time out of range in utc",
    ),
    pytest.param(without(clash(), "sources"), ["body", "sources"], id="no sources"),
    pytest.param(clash(sources=[]), ["body", "sources"], id="empty sources"),
    pytest.param(captives(count=-1), ["body", "count"], id="negative count"),
    pytest.param(captives(count=TOO_MANY), ["body", "count"], id="count above 10^7"),
    pytest.param(captives(count="7"), ["body", "count"], id="count as a string"),
    pytest.param(captives(count=7.5), ["body", "count"], id="count as a fraction"),
    pytest.param(
        clash(fatalities={"low": -1, "best": 0, "high": 0}),
        ["body", "fatalities", "low"],
        id="negative fatalities",
    ),
    pytest.param(
        clash(fatalities={"low": 0, "high": 0}), ["body", "fatalities", "best"], id="no best"
    ),
    pytest.param(body("attack", method="nuke"), ["body", "method"], id="bad enum: attack method"),
    pytest.param(clash(precision="hour"), ["body", "precision"], id="bad enum: precision"),
    pytest.param(clash(certainty="rumoured"), ["body", "certainty"], id="bad enum: certainty"),
    pytest.param(clash(town="Karak Sharqi"), ["body", "town"], id="bad slug: town"),
    pytest.param(clash(town="a" * 121), ["body", "town"], id="slug longer than 120"),
    pytest.param(
        clash(sides=[{"name": "Rebels", "side": "Opposition"}]),
        ["body", "sides", "0", "side"],
        id="bad slug: side",
    ),
    pytest.param(captives(group="troops_1"), ["body", "group"], id="bad slug: group"),
    pytest.param(clash(id="not-a-uuid"), ["body", "id"], id="bad id"),
    pytest.param(clash(sides=[]), ["body", "sides"], id="no actors"),
    pytest.param(
        body("town.registered", name="Nawa", province="Daraa", lat=91),
        ["body", "lat"],
        id="latitude out of range",
    ),
    pytest.param(
        clash(sources=[{"name": "SOHR", "url": "ftp://example.org"}]),
        ["body", "sources", "0", "url"],
        id="source url not http",
    ),
    pytest.param(clash(expected_version=-1), ["body", "expected_version"], id="negative guard"),
    pytest.param(
        {
            "kind": "report.retracted",
            "target": UNKNOWN_ID,
            "reason": "hoax",
            "occurred_at": "2020-03-05T10:00:00Z",
        },
        ["body", "occurred_at"],
        id="retraction with occurred_at",
    ),
]


@pytest.mark.parametrize(("event", "loc"), INVALID)
def test_an_invalid_event_is_a_422_problem_naming_the_field(
    client: TestClient, event: dict[str, Any], loc: list[str]
) -> None:
    response = client.post("/events", json=event, headers=EDITOR)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert loc in locs(response)


@pytest.mark.parametrize(("event", "loc"), INVALID)
def test_an_invalid_event_stores_nothing(
    client: TestClient, event: dict[str, Any], loc: list[str]
) -> None:
    client.post("/events", json=event, headers=EDITOR)

    assert stored(client) == []


def test_a_correction_with_occurred_at_is_a_422_even_for_a_known_target(
    client: TestClient,
) -> None:
    target = append(client, clash())
    sent = {
        "kind": "report.retracted",
        "target": target["id"],
        "reason": "hoax",
        "occurred_at": "2020-03-05T10:00:00Z",
    }

    response = client.post("/events", json=sent, headers=EDITOR)

    assert response.status_code == 422
    assert ["body", "occurred_at"] in locs(response)
    assert len(stored(client)) == 1


def test_a_validation_problem_has_the_rfc_9457_members(client: TestClient) -> None:
    response = client.post("/events", json=clash(precision="hour"), headers=EDITOR)

    problem = response.json()
    assert problem["status"] == 422
    assert {"type", "title", "detail", "errors"} <= problem.keys()
    assert {"loc", "msg", "type"} <= problem["errors"][0].keys()


def test_fatalities_out_of_order_are_kept_as_given(client: TestClient) -> None:
    record = append(client, clash(fatalities={"low": 9, "best": 2, "high": 5}))

    assert record["fatalities"] == {"low": 9, "best": 2, "high": 5}


# No PUT, PATCH or DELETE on events


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_the_log_refuses_edits_with_405_and_allow(client: TestClient, method: str) -> None:
    response = client.request(method, "/events", json=clash(), headers=ADMIN)

    assert response.status_code == 405
    assert set(re.split(r",\s*", response.headers["Allow"])) == {"GET", "POST"}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_an_event_refuses_edits_with_405_and_allow(client: TestClient, method: str) -> None:
    target = append(client, clash())

    response = client.request(method, f"/events/{target['id']}", json=clash(), headers=ADMIN)

    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert stored(client) == [{**target, "retracted_by": None, "corrected_by": []}]


# Keys and roles


@pytest.mark.parametrize(("method", "url"), [("GET", "/events"), ("POST", "/events")])
def test_a_call_without_a_key_is_a_401_with_www_authenticate(
    client: TestClient, method: str, url: str
) -> None:
    response = client.request(method, url, json=clash())

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_call_with_an_unknown_key_is_a_401_with_www_authenticate(client: TestClient) -> None:
    response = client.get("/events", headers=bearer("guessed-key"))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_sent_without_the_bearer_scheme_is_a_401(client: TestClient) -> None:
    response = client.get("/events", headers={"Authorization": "reader-key"})

    assert response.status_code == 401


def test_a_reader_may_read(client: TestClient) -> None:
    response = client.get("/events", headers=READER)

    assert response.status_code == 200


def test_a_reader_may_not_post_events(client: TestClient) -> None:
    response = client.post("/events", json=clash(), headers=READER)

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert stored(client) == []


def test_a_reader_may_not_post_a_batch(client: TestClient) -> None:
    response = client.post("/events/batch", json={"events": [clash()]}, headers=READER)

    assert response.status_code == 403


def test_a_reporter_may_post_events(client: TestClient) -> None:
    response = client.post("/events", json=clash(), headers=REPORTER)

    assert response.status_code == 201


def test_an_editor_may_retract(client: TestClient) -> None:
    target = append(client, clash(), REPORTER)

    response = client.post(
        f"/events/{target['id']}/retraction", json={"reason": "hoax"}, headers=EDITOR
    )

    assert response.status_code == 201


def test_an_admin_may_do_what_an_editor_does(client: TestClient) -> None:
    target = append(client, clash(), REPORTER)

    response = client.post(
        f"/events/{target['id']}/retraction", json={"reason": "hoax"}, headers=ADMIN
    )

    assert response.json()["recorded_by"] == "alice"


def test_a_key_without_a_label_records_its_role_and_hash_prefix(clock: FakeClock) -> None:
    digest = hashlib.sha256(b"plain-key").hexdigest()

    with serve(build_app(clock, api_keys="plain-key=reporter")) as client:
        record = append(client, clash(), bearer("plain-key"))

    assert record["recorded_by"] == f"reporter-{digest[:8]}"


def test_public_reads_let_anyone_read(clock: FakeClock) -> None:
    with serve(build_app(clock, public_reads=True)) as client:
        response = client.get("/events")

    assert response.status_code == 200


def test_public_reads_do_not_let_anyone_post(clock: FakeClock) -> None:
    with serve(build_app(clock, public_reads=True)) as client:
        response = client.post("/events", json=clash())

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_sitrep_public_reads_in_the_environment_lets_anyone_read(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITREP_PUBLIC_READS", "true")
    app = create_app(Settings(api_keys=API_KEYS), store=InMemoryStore(clock), clock=clock)

    with serve(app) as client:
        read = client.get("/towns")
        write = client.post("/events", json=clash())

    assert read.status_code == 200
    assert write.status_code == 401


def test_a_key_created_in_the_key_ring_is_accepted(clock: FakeClock) -> None:
    ring = InMemoryKeyRing()
    ring.add(StoredKey(key_hash("sitrep_night_desk"), "reporter", "night-desk"))

    with serve(build_app(clock, keyring=ring)) as client:
        response = client.post("/events", json=clash(), headers=bearer("sitrep_night_desk"))

    assert response.status_code == 201
    assert response.json()["recorded_by"] == "night-desk"


def test_a_key_ring_key_keeps_its_role(clock: FakeClock) -> None:
    ring = InMemoryKeyRing()
    ring.add(StoredKey(key_hash("sitrep_viewer"), "reader", "viewer"))

    with serve(build_app(clock, keyring=ring)) as client:
        response = client.post("/events", json=clash(), headers=bearer("sitrep_viewer"))

    assert response.status_code == 403


def test_health_answers_ok_and_names_the_store(client: TestClient) -> None:
    response = client.get("/health", headers=READER)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": "memory"}


# The OpenAPI document

ENDPOINTS = {
    ("post", "/events"),
    ("post", "/events/batch"),
    ("post", "/events/{}/retraction"),
    ("post", "/events/{}/correction"),
    ("get", "/events"),
    ("get", "/events/{}"),
    ("get", "/towns"),
    ("get", "/towns/{}"),
    ("get", "/towns/{}/history"),
    ("get", "/towns/{}/audit"),
    ("get", "/captives"),
    ("get", "/captives/{}"),
    ("get", "/casualties"),
    ("get", "/health"),
}


def test_openapi_lists_every_endpoint_of_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    listed = {
        (method, re.sub(r"\{[^}]*\}", "{}", path))
        for path, operations in paths.items()
        for method in operations
    }

    assert listed >= ENDPOINTS


def test_openapi_documents_every_kind_of_the_event_union(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    schema = paths["/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]

    assert set(schema["discriminator"]["mapping"]) == KINDS


# No 500 for anything a client sends

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
fields = st.sampled_from(
    ["id", "town", "occurred_at", "sources", "fatalities", "target", "replacement", "count"]
)
event_like = st.builds(
    lambda kind, rest: {"kind": kind, **rest},
    st.sampled_from(sorted(KINDS)),
    st.dictionaries(fields | st.text(max_size=12), json_values, max_size=6),
)
garbage_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def post_json(client: TestClient, url: str, value: Any) -> int:
    """Post `value` as a JSON body as a reporter; the status answered."""
    content = json.dumps(value)
    headers = {**REPORTER, "Content-Type": "application/json"}
    return client.post(url, content=content, headers=headers).status_code


@garbage_settings
@given(value=json_values | event_like)
def test_any_json_posted_as_an_event_is_a_4xx_and_stores_nothing(
    client: TestClient, value: Any
) -> None:
    status = post_json(client, "/events", value)

    assert 400 <= status < 500
    assert stored(client) == []


@garbage_settings
@given(value=json_values | st.builds(lambda events: {"events": events}, st.lists(event_like)))
def test_any_json_posted_as_a_batch_is_a_4xx_and_stores_nothing(
    client: TestClient, value: Any
) -> None:
    status = post_json(client, "/events/batch", value)

    assert 400 <= status < 500
    assert stored(client) == []


@pytest.mark.parametrize(
    "text",
    [b"", b"{", b"not json", b'{"kind": "clash",}', b"[NaN]", b"\xff\xfe", b"1e999"],
    ids=["empty", "unclosed", "words", "trailing comma", "nan", "not utf-8", "huge number"],
)
@pytest.mark.parametrize("url", ["/events", "/events/batch"])
def test_a_body_that_is_not_json_is_a_4xx(client: TestClient, url: str, text: bytes) -> None:
    headers = {**REPORTER, "Content-Type": "application/json"}

    response = client.post(url, content=text, headers=headers)

    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("url", ["/events", "/towns/karak-sharqi/audit"])
def test_a_position_beyond_64_bits_is_a_4xx(client: TestClient, url: str) -> None:
    append(client, clash())

    response = client.get(url, params={"after": 2**70}, headers=READER)

    assert 400 <= response.status_code < 500


def test_an_event_id_that_is_not_a_uuid_is_a_422(client: TestClient) -> None:
    response = client.get("/events/not-a-uuid", headers=READER)

    assert response.status_code == 422
