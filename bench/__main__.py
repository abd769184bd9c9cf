"""Run the benchmark: `python -m bench --quick` (under 3 minutes) or `python -m bench --full`.

Every figure is printed beside a baseline measured in the same run on the same
machine, because these machines are shared and noisy: compare ratios, not
absolute numbers, across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy import create_engine, make_url, text

from bench import feed, load, peer
from bench.processes import BIN, HEADERS, bare, sitrep
from bench.synthetic import history
from events.kinds import parse_event
from events.record import Record
from events.sql import SqlEventStore, SqlSnapshots, connect
from events.sql.store import as_row
from events.store import Pending
from projections.keeping import Projector
from service.bootstrap import collect_garbage_in_bulk

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
UCDP = (
    Path(__file__).resolve().parents[2]
    / "shared/data/ucdp-ged-syria-2016-2019/ged_syria_2016-01-01_2019-11-30.csv"
)
"""The real UCDP file, beside the checkout as CI has it; measured when present."""


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    backend: str
    size: int
    what: str
    value: float
    unit: str
    baseline: str = ""
    base: float = float("nan")

    def line(self) -> str:
        ratio = self.value / self.base if self.base == self.base and self.base else float("nan")
        shown = f"{ratio:.2f}" if ratio == ratio else ""
        base = f"{self.base:,.1f}" if self.base == self.base else ""
        return (
            f"| {self.backend} | {self.size:,} | {self.what} | {self.value:,.1f} {self.unit} "
            f"| {self.baseline} | {base} | {shown} |"
        )


def main() -> None:
    """Parse arguments, run every measurement, print the table."""
    collect_garbage_in_bulk()  # as every `sitrep` process does: import and rebuild run here
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="10k events, both backends (default)")
    mode.add_argument("--full", action="store_true", help="10k, 100k and 1M events")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--sizes", help="history sizes, comma-separated (default: 10000, or all three with --full)"
    )
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--out", type=Path, default=Path("bench/results.md"))
    args = parser.parse_args()
    sizes = [10_000, 100_000, 1_000_000] if args.full else [10_000]
    if args.sizes:
        sizes = [int(size) for size in args.sizes.split(",")]
    rows: list[Row] = []
    for backend in args.backends.split(","):
        for size in sizes:
            with database(backend, args.postgres_url) as url:
                measured = run(backend, url, size, quick=not args.full)
            rows.extend(measured)
            for row in measured:  # as they come, so a long run that stops keeps them
                print(row.line(), file=sys.stderr, flush=True)
        for row in ucdp_import(backend, args.postgres_url):
            rows.append(row)
            print(row.line(), file=sys.stderr, flush=True)
    rows.extend(peer.measure(2_000 if not args.full else 20_000))
    table = "\n".join(
        [
            "| backend | events | measurement | value | baseline | baseline value | ratio |",
            "|---|---|---|---|---|---|---|",
            *(row.line() for row in rows),
        ]
    )
    print(table)
    args.out.write_text(table + "\n")


@contextlib.contextmanager
def database(backend: str, postgres_url: str) -> Iterator[str]:
    """A fresh, empty database of the backend, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"sitrep_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(backend: str, url: str, size: int, *, quick: bool) -> list[Row]:
    """Every measurement of one backend at one history size."""
    bodies = history(size)
    single, parallel, batched, imported = _split(bodies, quick)
    reports = [b for b in bodies[:3_300] if not b["kind"].startswith("report.")]
    rows = [*raw_inserts(backend, url, reports[:3_000])]
    raw_batch = rows[1].value
    with bare() as baseline:
        bare_1 = _post_each(baseline.url, single[:1_000], 1).rate
        bare_16 = _post_each(baseline.url, parallel, 16).rate
    with sitrep(url) as server:
        rows.append(
            Row(
                backend,
                size,
                "POST /events, 1 client",
                _post_each(server.url, single, 1).rate,
                "events/s",
                "bare FastAPI, 1 client",
                bare_1,
            )
        )
        rows.append(
            Row(
                backend,
                size,
                "POST /events, 16 clients",
                _post_each(server.url, parallel, 16).rate,
                "events/s",
                "bare FastAPI, 16 clients",
                bare_16,
            )
        )
        rows.append(
            Row(
                backend,
                size,
                "POST /events/batch of 1,000",
                _post_batches(server.url, batched),
                "events/s",
                "raw driver, 1,000 a transaction",
                raw_batch,
            )
        )
        rows.append(
            Row(
                backend,
                size,
                "sitrep import jsonl",
                _import(url, imported),
                "events/s",
                "raw driver, 1,000 a transaction",
                raw_batch,
            )
        )
        rows.extend(reads(backend, url, server.url, size, samples=30 if quick else 200))
        delays = sorted(feed.latencies(server.url, parallel[:20]))
        rows.append(
            Row(
                backend,
                size,
                "live feed: POST answered to record received, p50",
                1000 * delays[len(delays) // 2],
                "ms",
            )
        )
        rows.append(
            Row(
                backend,
                size,
                "live feed: POST answered to record received, max",
                1000 * delays[-1],
                "ms",
            )
        )
        rows.append(Row(backend, size, "service peak memory", server.peak_memory_mb(), "MB"))
    rows.extend(rebuild(backend, url, size))
    rows.extend(captive_steps(backend, url, size))
    return rows


def _split(bodies: list[dict[str, Any]], quick: bool) -> tuple[list[dict[str, Any]], ...]:
    single = bodies[:1_000]
    parallel = [b for b in bodies[1_000:4_000] if not b["kind"].startswith("report.")]
    batch_end = 4_000 + (5_000 if quick else 20_000)
    return single, parallel, bodies[4_000:batch_end], bodies[batch_end:]


def raw_inserts(backend: str, url: str, bodies: list[dict[str, Any]]) -> list[Row]:
    """The driver alone inserting the same rows into a table of the same shape."""
    rows = [
        as_row(Record(parse_event(b), i, i, datetime.now(UTC), "raw"))
        for i, b in enumerate(bodies, 1)
    ]
    values = [
        (
            r["position"],
            str(r["id"]),
            r["town"],
            r["version"],
            r["kind"],
            1,
            r["occurred_at"],
            r["recorded_at"],
            "raw",
            None,
            r["body"],
        )
        for r in rows
    ]
    if backend == "sqlite":
        one, batch = _raw_sqlite(url, values)
    else:
        one, batch = _raw_postgres(url, values)
    return [
        Row(backend, len(bodies) // 3, "raw driver insert, one transaction each", one, "events/s"),
        Row(backend, len(bodies), "raw driver insert, 1,000 a transaction", batch, "events/s"),
    ]


_RAW_TABLE = (
    "CREATE TABLE raw_events (position BIGINT PRIMARY KEY, id {uuid} UNIQUE NOT NULL, "
    "town VARCHAR(120) NOT NULL, version INTEGER NOT NULL, kind VARCHAR(40) NOT NULL, "
    "schema_version SMALLINT NOT NULL, occurred_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL, "
    "recorded_by VARCHAR(200) NOT NULL, target {uuid}, body TEXT NOT NULL, UNIQUE (town, version))"
)


def _raw_sqlite(url: str, values: list[tuple[Any, ...]]) -> tuple[float, float]:
    path = make_url(url).database
    assert path is not None
    db = sqlite3.connect(Path(path).with_suffix(".raw.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(_RAW_TABLE.format(uuid="CHAR(36)"))
    insert = "INSERT INTO raw_events VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    singles = values[: len(values) // 3]
    started = time.perf_counter()
    for row in singles:
        db.execute("BEGIN IMMEDIATE")
        db.execute(insert, row)
        db.execute("COMMIT")
    one = len(singles) / (time.perf_counter() - started)
    rest = [(v[0] + 10**9, f"b{i}", f"b-{v[2]}", *v[3:]) for i, v in enumerate(values)]
    started = time.perf_counter()
    for i in range(0, len(rest), 1_000):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(insert, rest[i : i + 1_000])
        db.execute("COMMIT")
    batch = len(rest) / (time.perf_counter() - started)
    db.close()
    return one, batch


def _raw_postgres(url: str, values: list[tuple[Any, ...]]) -> tuple[float, float]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=False) as db:
        db.execute(_RAW_TABLE.format(uuid="uuid").encode())
        db.commit()
        insert = "INSERT INTO raw_events VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
        singles = values[: len(values) // 3]
        started = time.perf_counter()
        for row in singles:
            db.execute(insert, row)
            db.commit()
        one = len(singles) / (time.perf_counter() - started)
        rest = [(v[0] + 10**9, str(uuid.uuid4()), f"b-{v[2]}", *v[3:]) for v in values]
        started = time.perf_counter()
        with db.cursor() as cursor:
            for i in range(0, len(rest), 1_000):
                cursor.executemany(insert, rest[i : i + 1_000])
                db.commit()
        batch = len(rest) / (time.perf_counter() - started)
    return one, batch


def _post_each(url: str, bodies: list[dict[str, Any]], clients: int) -> load.Result:
    requests = [("POST", "/events", orjson.dumps(b)) for b in bodies]
    result = load.run(url, requests, clients, HEADERS)
    assert set(result.statuses) <= {200, 201}, result.statuses
    return result


def _post_batches(url: str, bodies: list[dict[str, Any]]) -> float:
    requests = [
        ("POST", "/events/batch", orjson.dumps({"events": bodies[i : i + 1_000]}))
        for i in range(0, len(bodies), 1_000)
    ]
    result = load.run(url, requests, 1, HEADERS)
    assert set(result.statuses) <= {200, 201}, result.statuses
    return len(bodies) / result.seconds


def _import(url: str, bodies: list[dict[str, Any]]) -> float:
    from service.importing import import_jsonl

    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl") as file:
        file.write(b"\n".join(orjson.dumps(b) for b in bodies))
        file.flush()
        engine = connect(url)
        store = SqlEventStore(engine, lambda: datetime.now(UTC))
        started = time.perf_counter()
        import_jsonl(store, Path(file.name), "bench", lambda _: None)
        seconds = time.perf_counter() - started
        Projector(store, SqlSnapshots(store)).catch_up()  # as `sitrep import` does, untimed
        engine.dispose()
    return len(bodies) / seconds


def ucdp_import(backend: str, postgres_url: str) -> list[Row]:
    """`sitrep import ucdp` of the whole UCDP file as a user runs it, twice.

    Timed from the command's start to its exit: start-up, reading the CSV,
    appending, and folding every event into the read models.
    """
    if not UCDP.exists():
        print(f"{UCDP} is not there: the UCDP import is not measured", file=sys.stderr)
        return []
    reports = [b for b in history(3_300) if not b["kind"].startswith("report.")]
    with database(backend, postgres_url) as url:
        raw_batch = raw_inserts(backend, url, reports[:3_000])[1].value
    rows = []
    with database(backend, postgres_url) as url:
        for run in ("into an empty log", "again (adds nothing)"):
            command = [str(BIN / "sitrep"), "import", "ucdp", str(UCDP), "--database-url", url]
            started = time.perf_counter()
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            read = int(done.stdout.split()[0])  # "18582 events read, ..."
            rows.append(
                Row(
                    backend,
                    read,
                    f"sitrep import ucdp, end to end, {run}",
                    read / seconds,
                    "events/s",
                    "raw driver, 1,000 a transaction",
                    raw_batch,
                )
            )
    return rows


def reads(backend: str, url: str, server: str, size: int, samples: int) -> list[Row]:
    """p50 and p99 of the read endpoints at random past as_of and known_at."""
    engine = connect(url)
    with engine.connect() as conn:
        first, last, earliest, latest = conn.execute(
            text(
                "SELECT min(recorded_at), max(recorded_at), min(occurred_at), max(occurred_at)"
                " FROM events"
            )
        ).one()
        towns = [t for (t,) in conn.execute(text("SELECT DISTINCT town FROM events"))]
    engine.dispose()
    rng = random.Random(11)

    def moment() -> str:  # anywhere in the history, in both times
        as_of = (earliest + rng.random() * (latest - earliest)) / 1e6
        known_at = (first + rng.random() * (last - first)) / 1e6
        return f"as_of={_iso(as_of)}&known_at={_iso(known_at)}"

    rows = []
    paths: list[tuple[str, Callable[[], str], int]] = [
        ("GET /towns/{town}", lambda: f"/towns/{rng.choice(towns)}?{moment()}", samples),
        ("GET /towns", lambda: f"/towns?{moment()}", max(5, samples // 6)),
        ("GET /captives", lambda: f"/captives?{moment()}", max(5, samples // 6)),
    ]
    for name, path, n in paths:
        result = load.run(server, [("GET", path(), b"") for _ in range(n)], 1, HEADERS)
        rows.append(Row(backend, size, f"{name} p50", result.percentile(50), "ms"))
        rows.append(Row(backend, size, f"{name} p99", result.percentile(99), "ms"))
    return rows


def rebuild(backend: str, url: str, size: int) -> list[Row]:
    """Every read model from the whole log, beside reading and decoding the same rows raw."""
    engine = connect(url)
    with engine.connect() as conn:
        started = time.perf_counter()
        count = sum(
            1 for (body,) in conn.execute(text("SELECT body FROM events")) if orjson.loads(body)
        )
        raw = count / (time.perf_counter() - started)
    store = SqlEventStore(engine, lambda: datetime.now(UTC))
    started = time.perf_counter()
    folded = Projector(store, SqlSnapshots(store)).rebuild()
    rate = folded / (time.perf_counter() - started)
    engine.dispose()
    return [
        Row(backend, size, "rebuild town snapshots", rate, "events/s", "raw read + orjson", raw)
    ]


def captive_steps(backend: str, url: str, size: int) -> list[Row]:
    """The captive ledger's long steps, each timed to the end of the catch-up that folds it.

    A new process's first captive report, and retractions of the oldest and
    of the newest capture, each beside a captive step of a process that has
    the ledger in memory.
    """
    engine = connect(url)
    store = SqlEventStore(engine, lambda: datetime.now(UTC))
    with engine.connect() as conn:
        captures = conn.execute(text(_CAPTURES)).scalars().all()
        last = conn.execute(text("SELECT max(occurred_at) FROM events")).scalar_one()
    after = _iso(last / 1e6 + 86_400)
    projector = Projector(store, SqlSnapshots(store))  # as a process that has just started

    def step(body: dict[str, Any]) -> float:
        store.append([Pending(parse_event(body))], "bench")
        started = time.perf_counter()
        projector.catch_up()
        return 1000 * (time.perf_counter() - started)

    first = step(_capture("first-after-start", after))
    warm = step(_capture("second-after-start", after))
    newest = step({"kind": "report.retracted", "target": str(captures[-1]), "reason": "bench"})
    oldest = step({"kind": "report.retracted", "target": str(captures[0]), "reason": "bench"})
    engine.dispose()
    baseline = "a captive step, ledger in memory"
    return [
        Row(backend, size, "first captive step of a new process", first, "ms", baseline, warm),
        Row(backend, size, "retraction of the newest capture", newest, "ms", baseline, warm),
        Row(backend, size, "retraction of the oldest capture", oldest, "ms", baseline, warm),
    ]


_CAPTURES = (
    "SELECT id FROM events WHERE kind = 'captives.taken'"
    " AND id NOT IN (SELECT target FROM events WHERE target IS NOT NULL)"
    " ORDER BY occurred_at, position"
)


def _capture(group: str, occurred_at: str) -> dict[str, Any]:
    actor = {"name": "bench brigade", "side": "opposition"}
    return {
        "kind": "captives.taken",
        "town": "town-000",
        "occurred_at": occurred_at,
        "group": group,
        "captor": actor,
        "count": 3,
        "affiliation": {"name": "bench police", "side": "government"},
        "sources": [{"name": "bench"}],
    }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


if __name__ == "__main__":
    main()
