"""The real initai-node logic server (seed 000's sample) as a process on 127.0.0.1.

npm installs its `node_modules` once when missing. Without node or npm the tests that need
it are skipped, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import free_port

SERVER = Path(__file__).parent / "server"


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the Init.ai tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def logic_server_dir() -> Path:
    """The logic server folder, its npm dependencies installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("node and npm are needed for the initai-node logic server")
    assert npm is not None
    if not (SERVER / "node_modules" / "initai-node").is_dir():
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=SERVER,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            _missing(f"npm install failed: {done.stderr[-2000:]}")
    return SERVER


@dataclass(frozen=True)
class LogicServer:
    url: str
    log: Path
    """Where the server's stdout and stderr go (initai-node logs every result answer)."""


@pytest.fixture(scope="session")
def logic_server(
    logic_server_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LogicServer]:
    """`node server.js` on a free port of 127.0.0.1."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("initai") / "node.log"
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["node", "server.js"], cwd=logic_server_dir, env=env, stdout=log, stderr=log
        )
    try:
        _wait_for_port(port, process, log_path)
        yield LogicServer(f"http://127.0.0.1:{port}", log_path)
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the logic server exited: {log_path.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the logic server did not start listening")
