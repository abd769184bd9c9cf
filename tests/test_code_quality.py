"""The code's own rules, checked with the tests: layers, types, lint and format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["lint-imports"], id="layers: events <- projections <- service"),
        pytest.param(["mypy"], id="mypy --strict"),
        pytest.param(["ruff", "check", "."], id="ruff lint"),
        pytest.param(["ruff", "format", "--check", "."], id="ruff format"),
    ],
)
def test_the_code_keeps_its_own_rules(command: list[str]) -> None:
    found = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert found.returncode == 0, found.stdout + found.stderr
