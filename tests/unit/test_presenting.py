"""Town and ledger answers are written straight from the folds, and say what their schemas say."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from hypothesis import given, settings
from pydantic import BaseModel

from events.kinds import parse_event
from events.memory import InMemoryStore
from events.snapshots import InMemorySnapshots
from events.values import Source
from projections.keeping import Projector
from service.present import JSONResponse, ledger_json, town_json
from service.reads import Moment, Reads
from service.schemas import LedgerPublic, TownPublic
from tests.clock import FakeClock
from tests.keeping import Arrival, arrivals, play
from tests.make import AFI, REBELS, body
from tests.strategies import instants


def written(content: dict[str, Any]) -> Any:
    return orjson.loads(bytes(JSONResponse(content).body))


def as_the_schema_writes_it(schema: type[BaseModel], answer: Any) -> Any:
    return schema.model_validate(answer).model_dump(mode="json", by_alias=True)


@settings(max_examples=100)
@given(arrivals(max_size=15), instants)
def test_every_town_and_the_ledger_answer_exactly_what_their_schemas_say(
    script: list[Arrival], as_of: datetime
) -> None:
    clock = FakeClock()
    store = InMemoryStore(clock)
    projector = Projector(store, InMemorySnapshots(store))
    play(store, [projector], clock, script)
    reads = Reads(store, projector)
    at = Moment(as_of, clock.now)

    for view in reads.towns(at):
        town = written(town_json(view))
        assert as_the_schema_writes_it(TownPublic, town) == town
    ledger = written(ledger_json(reads.captives(at)))
    assert as_the_schema_writes_it(LedgerPublic, ledger) == ledger


def test_a_value_with_renamed_fields_is_written_as_its_schema_names_them() -> None:
    seized = parse_event(body("checkpoint.seized", checkpoint="gate", by=REBELS, from_=AFI))
    source = Source(name="SANA", url="https://sana.example/report")  # type: ignore[arg-type]

    answer = written({"event": seized, "source": source})

    assert answer["event"] == seized.model_dump(mode="json", by_alias=True)
    assert answer["event"]["from"] == AFI
    assert answer["source"] == {
        "name": "SANA",
        "url": "https://sana.example/report",
        "published_at": None,
    }
