"""The `sitrep` command line against a real SQLite file, and a real server process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from service.bootstrap import create_app
from service.cli import main
from service.settings import Settings
from tests.make import REBELS, body
from tests.servers import serving


@pytest.fixture
def runner(sqlite_url: str) -> CliRunner:
    return CliRunner(env={"SITREP_DATABASE_URL": sqlite_url})


def test_demo_loads_the_story_once_however_often_it_runs(runner: CliRunner) -> None:
    first = runner.invoke(main, ["demo"])
    second = runner.invoke(main, ["demo"])

    assert first.exit_code == 0, first.output
    assert "19 events added, 0 already there" in first.output
    assert "0 events added, 19 already there" in second.output


def test_rebuild_replays_the_whole_log(runner: CliRunner) -> None:
    runner.invoke(main, ["demo"])

    rebuilt = runner.invoke(main, ["rebuild"])

    assert rebuilt.exit_code == 0, rebuilt.output
    assert "19 events, 3 towns, 1 captive groups, 0 anomalies" in rebuilt.output


def test_a_created_key_works_and_only_its_hash_is_stored(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    created = runner.invoke(main, ["keys", "create", "--role", "editor", "--label", "newsdesk"])
    key = created.stdout.strip()

    client = TestClient(create_app(Settings(database_url=sqlite_url)))
    posted = client.post(
        "/events",
        json=body("checkpoint.seized", checkpoint="AFI post", by=REBELS),
        headers={"Authorization": f"Bearer {key}"},
    )

    assert created.exit_code == 0
    assert posted.status_code == 201
    assert posted.json()["recorded_by"] == "newsdesk"
    assert key.encode() not in (tmp_path / "sitrep.db").read_bytes()


def test_a_bad_database_url_is_a_one_line_error() -> None:
    runner = CliRunner(env={"SITREP_DATABASE_URL": "nonsense://somewhere"})

    result = runner.invoke(main, ["demo"])

    assert result.exit_code == 1
    assert "Error: cannot use database URL 'nonsense://somewhere'" in result.output
    assert "expected sqlite:///FILE" in result.output


def test_an_sqlite_too_old_for_the_store_is_a_one_line_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")

    result = runner.invoke(main, ["demo"])

    assert result.exit_code == 1
    assert "SQLite 3.34.1; sitrep needs 3.35 or later" in result.output


def test_an_sqlite_without_its_json_functions_is_a_one_line_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_connect = sqlite3.connect

    class WithoutJson(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if "json_each" in sql:  # what such a build answers
                raise sqlite3.OperationalError("no such table: json_each")
            return super().execute(sql, *args)

    def without_json(database: str, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = real_connect(
            database, *args, **{**kwargs, "factory": WithoutJson}
        )
        return connection

    monkeypatch.setattr(sqlite3, "connect", without_json)

    result = runner.invoke(main, ["demo"])

    assert result.exit_code == 1
    assert "built without its JSON functions" in result.output


def test_an_unreachable_database_is_a_one_line_error() -> None:
    runner = CliRunner(
        env={"SITREP_DATABASE_URL": "postgresql+psycopg://nobody:secret@127.0.0.1:9/none"}
    )

    result = runner.invoke(main, ["rebuild"])

    assert result.exit_code == 1
    assert "did not answer" in result.output
    assert "secret" not in result.output


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    with serving(sqlite_url, keys="reporter-key=reporter:field-team") as url:
        yield url


def test_sitrep_serve_answers_over_real_http(server: str) -> None:
    headers = {"Authorization": "Bearer reporter-key"}

    posted = httpx2.post(
        f"{server}/events",
        json=body("checkpoint.seized", checkpoint="AFI post", by=REBELS),
        headers=headers,
    )
    town = httpx2.get(f"{server}/towns/karak-sharqi", headers=headers)

    assert posted.status_code == 201
    assert posted.json()["recorded_by"] == "field-team"
    assert town.json()["checkpoints"][0]["holder"]["side"] == "opposition"
    assert httpx2.get(f"{server}/health").json() == {"status": "ok", "store": "sqlite"}


def test_the_installed_command_prints_everything_and_exits_with_its_status(
    sqlite_url: str, tmp_path: Path
) -> None:
    # `sitrep` leaves without the interpreter's teardown; nothing it says may be lost.
    sitrep = Path(sys.executable).parent / "sitrep"
    env = {**os.environ, "SITREP_DATABASE_URL": sqlite_url}
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(orjson.dumps(body("checkpoint.seized", checkpoint="AFI post", by=REBELS)))
    bad.write_text("not json\n")

    imported = subprocess.run(
        [sitrep, "import", "jsonl", good], env=env, capture_output=True, text=True, check=False
    )
    refused = subprocess.run(
        [sitrep, "import", "jsonl", bad], env=env, capture_output=True, text=True, check=False
    )

    assert (imported.returncode, imported.stdout) == (
        0,
        "1 events read, 1 added, 0 already there\n",
    )
    assert refused.returncode == 1
    assert f"Error: {bad}: line 1 is not JSON: " in refused.stderr
    assert "nothing of its batch of 1,000 was stored" in refused.stderr
