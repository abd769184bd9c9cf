"""Server processes for the benchmark: sitrep itself and the bare FastAPI baseline."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2

KEY = "bench-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Server:
    """A running server: its base URL and its process id."""

    url: str
    pid: int

    def peak_memory_mb(self) -> float:
        """The process's peak resident memory (VmHWM), in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.contextmanager
def sitrep(database_url: str) -> Iterator[Server]:
    """`sitrep serve` with one worker on `database_url`."""
    port = _port()
    env = {**os.environ, "SITREP_DATABASE_URL": database_url, "SITREP_API_KEYS": f"{KEY}=editor"}
    command = [str(BIN / "sitrep"), "serve", "--port", str(port)]
    with _running(command, env, f"http://127.0.0.1:{port}", "/health") as server:
        yield server


@contextlib.contextmanager
def bare() -> Iterator[Server]:
    """The bare FastAPI endpoint under the same uvicorn."""
    port = _port()
    command = [
        str(BIN / "uvicorn"),
        "bench.bare:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with _running(command, dict(os.environ), f"http://127.0.0.1:{port}", "/docs") as server:
        yield server


@contextlib.contextmanager
def _running(command: list[str], env: dict[str, str], url: str, probe: str) -> Iterator[Server]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(url + probe, timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{command[0]} did not start")
        yield Server(url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
