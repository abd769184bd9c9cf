"""The reference story over HTTP: Karak Sharqi as it was, and as it was known, at each moment.

Each report is posted a little after it happened, on a clock the test moves,
so `known_at` can ask what was believed before a correction, a late report or
a retraction arrived.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.bootstrap import create_app
from service.demo import story
from service.settings import Settings
from tests.clock import FakeClock
from tests.conftest import StoreFactory
from tests.make import at, body

EDITOR = {"Authorization": "Bearer editor-key"}
TOWN = "/towns/karak-sharqi"
TROOPS = "/captives/western-daraa-4th-division-soldiers"
STORMED = "00000000-0000-7000-8000-000000000006"
ENTERED = "00000000-0000-7000-8000-000000000018"


class Story:
    """The story posted over HTTP, with the moments worth asking about."""

    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.client = client
        self.clock = clock
        self.posted_at: dict[str, datetime] = {}
        for sent in story():
            occurred = sent.occurred_at or clock.now
            clock.set(max(clock.now + timedelta(minutes=1), occurred + timedelta(hours=2)))
            payload = sent.model_dump(mode="json", by_alias=True, exclude_none=True)
            response = client.post("/events", json=payload, headers=EDITOR)
            assert response.status_code == 201, response.json()
            self.posted_at[str(sent.id)[-2:]] = clock.now

    def get(self, path: str, as_of: str, known_at: datetime | None = None) -> Any:
        params = {"as_of": as_of}
        if known_at is not None:
            params["known_at"] = known_at.isoformat()
        response = self.client.get(path, params=params, headers=EDITOR)
        assert response.status_code == 200, response.json()
        return response.json()


@pytest.fixture
def karak(make_store: StoreFactory, clock: FakeClock) -> Story:
    settings = Settings(api_keys="editor-key=editor:newsdesk")
    app = create_app(settings, store=make_store(clock), clock=clock)
    return Story(TestClient(app), clock)


def names(actors: list[dict[str, str]]) -> list[str]:
    return [actor["name"] for actor in actors]


def test_before_the_checkpoint_raids_air_force_intelligence_controls_the_town(
    karak: Story,
) -> None:
    town = karak.get(TOWN, as_of="2020-03-04T12:00:00Z")

    assert town["status"] == "controlled"
    assert town["controller"]["name"] == "Air Force Intelligence"
    assert town["besieged_by"] == []
    assert town["captives_held"] == 0


def test_the_soldiers_arrested_in_western_daraa_are_held_in_karak_sharqi(karak: Story) -> None:
    town = karak.get(TOWN, as_of="2020-03-05T01:00:00Z")
    troops = karak.get(TROOPS, as_of="2020-03-05T01:00:00Z")

    assert town["status"] == "controlled"
    assert town["captives_held"] == 7
    assert troops["description"] == "soldiers including two officers"
    assert troops["held_at"] == "karak-sharqi"
    assert troops["affiliation"]["name"] == "4th Division"


def test_after_the_checkpoint_is_stormed_the_town_is_contested_and_holds_captives(
    karak: Story,
) -> None:
    town = karak.get(TOWN, as_of="2020-03-05T12:00:00Z")

    assert town["status"] == "contested"
    assert town["evidence"]["status"] == STORMED
    [checkpoint] = town["checkpoints"]
    assert checkpoint["holder"]["side"] == "opposition"
    assert town["captives_held"] == 7
    assert town["besieged_by"] == []


def test_after_the_encirclement_the_town_is_besieged_by_pro_assad_units(karak: Story) -> None:
    town = karak.get(TOWN, as_of="2020-03-05T14:00:00Z")

    assert names(town["besieged_by"]) == ["4th Division", "Air Force Intelligence"]
    assert town["evidence"]["besieged_by"].endswith("08")


def test_the_captives_pass_to_the_8th_division_as_a_neutral_party(karak: Story) -> None:
    before = karak.get(TROOPS, as_of="2020-03-09T13:00:00Z")
    after = karak.get(TROOPS, as_of="2020-03-09T15:00:00Z")

    assert before["holder"]["side"] == "opposition"
    assert before["status"] == "held"
    assert after["holder"]["name"] == "8th Division (5th Corps)"
    assert after["role"] == "neutral"
    assert after["status"] == "with_intermediary"
    assert [link["role"] for link in after["custody"]] == ["party", "neutral"]
    assert after["held"] == 7


def test_the_agreement_puts_the_town_under_truce_with_searches_allowed(karak: Story) -> None:
    town = karak.get(TOWN, as_of="2020-03-09T19:00:00Z")

    assert town["status"] == "truce"
    [agreement] = town["agreements"]
    assert {term["type"] for term in agreement["terms"]} >= {"no_entry", "search_allowed"}


def test_after_the_forces_entry_the_4th_division_controls_the_town(karak: Story) -> None:
    town = karak.get(TOWN, as_of="2020-03-11T06:00:00Z")

    assert town["status"] == "controlled"
    assert town["controller"]["name"] == "4th Division"
    assert set(names(town["forces_present"])) == {"4th Division", "Air Force Intelligence"}
    assert town["evidence"]["controller"] == ENTERED


def test_the_toll_reads_as_first_reported_until_the_correction_was_known(karak: Story) -> None:
    corrected_at = karak.posted_at["11"]

    believed = karak.get(TOWN, "2020-03-08", known_at=corrected_at - timedelta(seconds=1))
    now = karak.get(TOWN, "2020-03-08")

    assert believed["fatalities"] == {"low": 3, "best": 4, "high": 6}
    assert now["fatalities"] == {"low": 5, "best": 5, "high": 5}


def test_a_late_report_lands_in_its_place_in_history_but_not_in_earlier_knowledge(
    karak: Story,
) -> None:
    before_it_arrived = karak.clock.now
    karak.clock.advance(days=1)
    late = body("attack", occurred_at="2020-03-07T09:00:00Z", method="ied")
    late["fatalities"] = {"low": 2, "best": 2, "high": 2}

    posted = karak.client.post("/events", json=late, headers=EDITOR)

    assert posted.status_code == 201
    assert karak.get(TOWN, "2020-03-08")["fatalities"]["best"] == 7
    assert karak.get(TOWN, "2020-03-08", known_at=before_it_arrived)["fatalities"]["best"] == 5
    timeline = karak.get(f"{TOWN}/history", "2020-03-12")["data"]
    kinds = [entry["event"]["kind"] for entry in timeline]
    assert kinds.index("attack") == kinds.index("remains.handed_over") + 1


def test_a_retracted_entry_no_longer_counts_but_was_believed_before(karak: Story) -> None:
    before_retraction = karak.clock.now
    karak.clock.advance(hours=3)

    retracted = karak.client.post(
        f"/events/{ENTERED}/retraction", json={"reason": "no entry: a patrol"}, headers=EDITOR
    )

    assert retracted.status_code == 201
    town = karak.get(TOWN, as_of="2020-03-11T06:00:00Z")
    believed = karak.get(TOWN, as_of="2020-03-11T06:00:00Z", known_at=before_retraction)
    assert town["status"] == "truce"
    assert town["controller"]["name"] == "Air Force Intelligence"
    assert believed["controller"]["name"] == "4th Division"
    audit = karak.client.get(f"/events/{ENTERED}", headers=EDITOR).json()
    assert audit["retracted_by"] == retracted.json()["id"]


def test_statistics_are_listed_for_the_province_and_never_summed(karak: Story) -> None:
    province = karak.get("/towns/daraa-province", as_of="2020-03-12")

    assert sorted(s["metric"] for s in province["statistics"]) == ["attacks", "killed"]
    assert province["fatalities"] == {"low": 0, "best": 0, "high": 0}


def test_the_version_and_etag_follow_what_was_known(karak: Story) -> None:
    at_start = karak.posted_at["01"]

    early = karak.client.get(TOWN, params={"known_at": at_start.isoformat()}, headers=EDITOR)
    late = karak.client.get(TOWN, params={"as_of": "2020-03-01"}, headers=EDITOR)

    assert early.headers["ETag"] == '"1"'
    assert late.json()["version"] == 11
    assert late.headers["ETag"] == '"11"'


def test_nothing_of_karak_sharqi_was_known_before_its_first_report(karak: Story) -> None:
    before = karak.posted_at["01"] - timedelta(seconds=1)

    response = karak.client.get(TOWN, params={"known_at": before.isoformat()}, headers=EDITOR)

    assert response.status_code == 404
    assert at(karak.get(TOWN, "2020-02-01")["as_of"]) == at("2020-02-01T23:59:59.999999Z")
