"""Bulk import: UCDP GED rows and JSON lines become events, idempotently, odd figures kept."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from events.errors import InvalidEvent, StoreUnavailable
from events.kinds import Clash, Report, TownRegistered
from events.memory import InMemoryStore
from events.record import Record
from events.store import EventStore
from projections.keeping import Projector
from service import cli, importing
from service.bootstrap import open_storage
from service.cli import main
from service.importing import import_jsonl, import_ucdp
from service.reads import Moment, Reads
from service.settings import Settings
from tests.clock import FakeClock
from tests.keeping import kept_towns, replayed_towns

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = DATA / "ucdp_ged_syria_sample.csv"
FULL = (
    Path(__file__).resolve().parents[3]
    / "shared/data/ucdp-ged-syria-2016-2019/ged_syria_2016-01-01_2019-11-30.csv"
)
STORY = Path(__file__).resolve().parents[2] / "service/data/karak_sharqi.jsonl"
ODD = "219459"  # low 177, best 142, high 177 in the source


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def ucdp_id(record: Record) -> str | None:
    """The UCDP id a record was imported from, if any."""
    return record.event.external_ids.get("ucdp") if isinstance(record.event, Report) else None


def ignore(_: int) -> None:
    """A progress callback that shows nothing."""


FAR = datetime(2100, 1, 1, tzinfo=UTC)
EVERYTHING = Moment(FAR, FAR)


def test_every_ucdp_row_becomes_one_clash_or_attack_in_a_registered_place(
    store: EventStore,
) -> None:
    sample = rows(SAMPLE)

    imported = import_ucdp(store, SAMPLE, "ucdp-import", ignore)

    records = store.select()
    kinds = [r.kind for r in records]
    places = {r.town for r in records}
    assert kinds.count("clash") + kinds.count("attack") == len(sample)
    assert kinds.count("attack") == sum(row["type_of_violence"] == "3" for row in sample)
    assert kinds.count("town.registered") == len(places)
    assert imported.added == len(records)


def test_a_second_import_of_the_same_rows_adds_nothing(store: EventStore) -> None:
    import_ucdp(store, SAMPLE, "ucdp-import", ignore)

    again = import_ucdp(store, SAMPLE, "ucdp-import", ignore)

    assert again.added == 0
    assert again.read == len(store.select())


def test_odd_figures_are_kept_as_given_and_flagged(store: EventStore) -> None:
    imported = import_ucdp(store, SAMPLE, "ucdp-import", ignore)

    [odd] = [r for r in store.select() if ucdp_id(r) == ODD]
    town = Reads(store).town(odd.town, EVERYTHING)
    assert isinstance(odd.event, Report)
    assert odd.event.fatalities is not None
    assert (odd.event.fatalities.low, odd.event.fatalities.best) == (177, 142)
    assert any(
        a.code == "fatalities_out_of_order" and odd.id in a.events for a in town.state.anomalies
    )
    assert imported.notes == (
        "kept as given: 5 rows with low > best, 5 with best > high, 15 with best = 0",
    )


def test_sides_provinces_and_precision_follow_the_codebook() -> None:
    store = InMemoryStore(FakeClock())
    import_ucdp(store, SAMPLE, "ucdp-import", ignore)
    first = rows(SAMPLE)[0]

    [clash] = [r for r in store.select() if ucdp_id(r) == first["id"]]
    [place] = [r for r in store.select(town=clash.town) if r.kind == "town.registered"]

    assert isinstance(clash.event, Clash)
    assert isinstance(place.event, TownRegistered)
    assert clash.town == "teir-maaleh-village-homs"
    assert [(a.name, a.side) for a in clash.event.sides] == [
        ("Government of Syria", "government"),
        ("Syrian insurgents", "opposition"),
    ]
    assert clash.event.precision == "day"
    assert place.event.province == "Homs Governorate"


@pytest.mark.skipif(not FULL.exists(), reason="../shared/data (the full UCDP file) is absent")
def test_the_full_ucdp_file_imports_every_row() -> None:
    store = InMemoryStore(FakeClock())

    imported = import_ucdp(store, FULL, "ucdp-import", ignore)

    records = _all(store)
    assert imported.read == imported.added == len(records)
    assert sum(r.kind in ("clash", "attack") for r in records) == 16_566


def _all(store: EventStore) -> list[Record]:
    found: list[Record] = []
    after = 0
    while page := store.select(after=after):
        found.extend(page)
        after = page[-1].position
    return found


def test_json_lines_import_idempotently_even_without_ids(tmp_path: Path) -> None:
    store = InMemoryStore(FakeClock())
    lines = STORY.read_text().splitlines()
    without_ids = tmp_path / "story.jsonl"
    without_ids.write_text(
        "\n".join(
            orjson.dumps({k: v for k, v in orjson.loads(line).items() if k != "id"}).decode()
            for line in lines
            if '"report.corrected"' not in line
        )
    )

    first = import_jsonl(store, without_ids, "jsonl-import", ignore)
    second = import_jsonl(store, without_ids, "jsonl-import", ignore)

    assert first.added == len(lines) - 1
    assert second.added == 0


def test_an_invalid_line_is_named_and_nothing_of_its_batch_is_stored(tmp_path: Path) -> None:
    store = InMemoryStore(FakeClock())
    broken = tmp_path / "broken.jsonl"
    lines = STORY.read_text().splitlines()
    broken.write_text("\n".join([*lines[:3], '{"kind": "clash", "town": "x"}', *lines[3:]]))

    with pytest.raises(InvalidEvent, match="event 4: "):
        import_jsonl(store, broken, "jsonl-import", ignore)

    assert store.select() == []


def test_sitrep_import_reports_what_it_did(sqlite_url: str) -> None:
    runner = CliRunner(env={"SITREP_DATABASE_URL": sqlite_url})

    first = runner.invoke(main, ["import", "ucdp", str(SAMPLE)])
    second = runner.invoke(main, ["import", "ucdp", str(SAMPLE)])

    assert first.exit_code == 0, first.output
    assert " added, 0 already there" in first.output
    assert "kept as given: 5 rows with low > best" in first.output
    assert "0 added," in second.output


def test_sitrep_import_folds_as_it_goes_what_a_replay_folds(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH", 40)
    monkeypatch.setattr(cli, "FOLD_EVERY", 80)
    folds: list[int] = []
    catch_up = Projector.catch_up

    def counted(projector: Projector, progress: Callable[[int], object] | None = None) -> int:
        folds.append(catch_up(projector, progress))
        return folds[-1]

    monkeypatch.setattr(Projector, "catch_up", counted)

    done = CliRunner(env={"SITREP_DATABASE_URL": sqlite_url}).invoke(
        main, ["import", "ucdp", str(SAMPLE)]
    )

    assert done.exit_code == 0, done.output
    assert folds[:2] == [80, 80]  # every two batches, before the end
    storage = open_storage(Settings(database_url=sqlite_url))
    now = datetime.now(UTC)
    assert kept_towns(storage.projector, now, now) == replayed_towns(storage.store, now, now)
    storage.close()


def test_a_failure_to_fold_during_an_import_says_the_events_are_stored(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH", 40)
    monkeypatch.setattr(cli, "FOLD_EVERY", 40)

    def unavailable(_: Projector, progress: object = None) -> int:
        raise StoreUnavailable("the database did not answer: gone")

    monkeypatch.setattr(Projector, "catch_up", unavailable)

    done = CliRunner(env={"SITREP_DATABASE_URL": sqlite_url}).invoke(
        main, ["import", "ucdp", str(SAMPLE)]
    )

    assert done.exit_code == 1
    assert "the events read so far are stored, but folding them failed" in done.output
    storage = open_storage(Settings(database_url=sqlite_url))
    assert len(storage.store.select()) == 40
    storage.close()


@pytest.mark.parametrize(
    ("line", "said"),
    [("not json", "line 3 is not JSON: "), ("[1, 2]", "line 3 is not a JSON object")],
)
def test_a_line_that_is_not_a_json_object_is_named_and_nothing_of_its_batch_is_stored(
    tmp_path: Path, line: str, said: str
) -> None:
    store = InMemoryStore(FakeClock())
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([*STORY.read_text().splitlines()[:2], line]))

    with pytest.raises(InvalidEvent, match=said):
        import_jsonl(store, broken, "jsonl-import", ignore)

    assert store.select() == []
