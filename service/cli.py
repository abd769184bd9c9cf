"""The `sitrep` command line: serve, demo, rebuild, keys."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from tqdm import tqdm

from events.errors import SitrepError
from events.keyring import StoredKey
from events.store import MAX_PAGE, EventStore
from projections.keeping import PAGES_PER_STEP
from service.auth import MAX_LABEL, Role, key_hash, new_key, parse_configured_keys
from service.bootstrap import Storage, collect_garbage_in_bulk, open_storage, system_clock
from service.demo import load_story
from service.importing import BATCH, Imported, import_jsonl, import_ucdp
from service.reads import Moment, Reads
from service.settings import Settings

Importer = Callable[[EventStore, Path, str, Callable[[int], object]], Imported]
FOLD_EVERY = PAGES_PER_STEP * MAX_PAGE
"""Events an import appends between folds: one projector step.

Smaller steps keep less of each town in memory between them, so late rows
read more back; the events of a step are still decoded in memory when folded.
"""
_DATABASE_URL = click.option(
    "--database-url", envvar="SITREP_DATABASE_URL", help="default: sqlite:///sitrep.db"
)


@click.group()
@click.version_option(package_name="sitrep")
def main() -> None:
    """sitrep: an event-sourced, bitemporal situation tracker."""


def run() -> NoReturn:
    """The `sitrep` command: `main`, in a process tuned for bulk work."""
    collect_garbage_in_bulk()
    try:
        main()
    except SystemExit as stop:
        _leave(stop.code)
    _leave(0)


def _leave(code: object) -> NoReturn:
    """Exit without the interpreter's teardown, which frees every object one by one.

    After importing the UCDP file that took 0.66 s of 4.5 s. By now every command
    has closed its database and its progress bars; only the output needs flushing.
    """
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None when started without one
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    os._exit(code or 0)


def _open(database_url: str | None) -> Storage:
    """The configured store, or a one-line error for the user."""
    try:
        return open_storage(_settings(database_url=database_url))
    except SitrepError as error:
        raise click.ClickException(str(error)) from error


def _settings(**overrides: Any) -> Settings:
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValueError as error:
        raise click.UsageError(str(error)) from error


@main.command()
@click.option("--host", envvar="SITREP_HOST", help="default: 127.0.0.1")
@click.option("--port", envvar="SITREP_PORT", type=int, help="default: 8000")
@click.option("--workers", envvar="SITREP_WORKERS", type=int, help="processes (default: 1)")
@_DATABASE_URL
def serve(
    host: str | None, port: int | None, workers: int | None, database_url: str | None
) -> None:
    """Serve the HTTP API (creating the schema if it is missing)."""
    import uvicorn  # only serving needs it; the other commands start without it

    settings = _settings(host=host, port=port, workers=workers, database_url=database_url)
    try:
        parse_configured_keys(settings.api_keys)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    storage = _open(settings.database_url)  # fail early and clearly; create the schema
    try:
        _catch_up(storage)  # so the first reads need not
    finally:
        storage.close()
    os.environ["SITREP_DATABASE_URL"] = settings.database_url
    click.echo(f"sitrep on http://{settings.host}:{settings.port} ({_where(settings)})", err=True)
    uvicorn.run(
        "service.asgi:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
        timeout_graceful_shutdown=3,  # live-feed clients reconnect with Last-Event-ID
    )


@main.command()
@_DATABASE_URL
def demo(database_url: str | None) -> None:
    """Load the Karak Sharqi reference story into the store (idempotent)."""
    storage = _open(database_url)
    try:
        outcomes = load_story(storage.store)
    finally:
        storage.close()
    added = sum(outcome.created for outcome in outcomes)
    click.echo(f"Karak Sharqi story: {added} events added, {len(outcomes) - added} already there")


@main.command()
@_DATABASE_URL
def rebuild(database_url: str | None) -> None:
    """Fold the whole log again into the kept read models, and report what it holds."""
    storage = _open(database_url)
    try:
        with tqdm(desc="rebuilding read models", unit=" events", file=sys.stderr) as bar:
            folded = storage.projector.rebuild(progress=bar.update)
        now = system_clock()
        reads = Reads(storage.store, storage.projector)
        towns = reads.towns(Moment(now, now))
        ledger = reads.captives(Moment(now, now))
    finally:
        storage.close()
    anomalies = sum(len(view.state.anomalies) for view in towns) + len(ledger.anomalies)
    anomalies += sum(len(group.anomalies) for group in ledger.groups)
    click.echo(
        f"{folded} events, {len(towns)} towns, {len(ledger.groups)} captive groups, "
        f"{anomalies} anomalies"
    )


@main.group("import")
def import_() -> None:
    """Bulk-import events from a file (idempotent: a second run adds nothing)."""


@import_.command("ucdp")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DATABASE_URL
def import_ucdp_command(file: Path, database_url: str | None) -> None:
    """Import a UCDP GED CSV (codebook 19.1) as clashes and attacks."""
    _import(import_ucdp, file, database_url, "ucdp-import")


@import_.command("jsonl")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DATABASE_URL
def import_jsonl_command(file: Path, database_url: str | None) -> None:
    """Import one event per line (a line without `id` gets one derived from its content)."""
    _import(import_jsonl, file, database_url, "jsonl-import")


def _import(importer: Importer, file: Path, database_url: str | None, label: str) -> None:
    storage = _open(database_url)

    unfolded = 0

    def stored(count: int) -> None:
        # Folded a step at a time, while the events just appended are still decoded
        # in memory: folding them after the whole file would decode them again.
        nonlocal unfolded
        unfolded += count
        if unfolded >= FOLD_EVERY:
            _fold_stored(storage, file, storage.projector.catch_up)
            unfolded = 0
        bar.update(count)

    try:
        with tqdm(desc=f"importing {file.name}", unit=" events", file=sys.stderr) as bar:
            done = importer(storage.store, file, label, stored)
        _fold_stored(storage, file, lambda: _catch_up(storage))
    except SitrepError as error:
        raise click.ClickException(
            f"{file}: {error} (nothing of its batch of {BATCH:,} was stored; "
            "batches before it were, and importing again skips them)"
        ) from error
    finally:
        storage.close()
    click.echo(
        f"{done.read} events read, {done.added} added, {done.read - done.added} already there"
    )
    for note in done.notes:
        click.echo(note)


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice([role.name for role in Role]))
@click.option(
    "--label",
    required=True,
    callback=lambda _ctx, _param, value: _label(value),
    help=f"who the key is for; goes into recorded_by (at most {MAX_LABEL} characters)",
)
@_DATABASE_URL
def create_key(role: str, label: str, database_url: str | None) -> None:
    """Create an API key and print it once; only its hash is stored."""
    key = new_key()
    storage = _open(database_url)
    try:
        storage.keyring.add(StoredKey(key_hash(key), role, label))
    finally:
        storage.close()
    click.echo(key)
    click.echo(f"{role} key for {label!r}: keep it now, it is not shown again", err=True)


def _label(value: str) -> str:
    if not 0 < len(value.strip()) <= MAX_LABEL:
        raise click.BadParameter(f"a label has 1 to {MAX_LABEL} characters")
    return value.strip()


def _fold_stored(storage: Storage, file: Path, fold: Callable[[], object]) -> None:
    """Fold what is stored; a failure here is not a failure to store."""
    try:
        fold()
    except SitrepError as error:
        raise click.ClickException(
            f"{file}: the events read so far are stored, but folding them failed: {error} "
            "(the service folds them on its first read, or run `sitrep rebuild`)"
        ) from error


def _catch_up(storage: Storage) -> None:
    """Bring the town snapshots up to the end of the log, with a progress bar."""
    behind = storage.store.select(after=storage.snapshots.checkpoint(), limit=1)
    if behind:
        with tqdm(desc="updating snapshots", unit=" events", file=sys.stderr) as bar:
            storage.projector.catch_up(progress=bar.update)


def _where(settings: Settings) -> str:
    url = settings.database_url
    return url if url.startswith("sqlite") else url.split("@")[-1]
