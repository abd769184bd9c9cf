"""The read side pages through the store: a fold sees every record, however many."""

from __future__ import annotations

from events.memory import InMemoryStore
from events.store import MAX_PAGE, Pending
from service.reads import Moment, Reads
from tests.clock import FakeClock
from tests.make import REBELS, event


def test_a_town_with_more_records_than_a_page_folds_them_all() -> None:
    clock = FakeClock()
    store = InMemoryStore(clock)
    count = MAX_PAGE + 5
    seized = [event("checkpoint.seized", checkpoint=f"post {n}", by=REBELS) for n in range(count)]
    store.append([Pending(e) for e in seized], "importer")
    far = clock.advance(days=1)

    view = Reads(store).town("karak-sharqi", Moment(far, far))

    assert view.version == count
    assert len(view.state.checkpoints) == count
