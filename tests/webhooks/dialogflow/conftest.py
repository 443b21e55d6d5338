"""Real Dialogflow fulfillment servers as processes on 127.0.0.1: Flask, and the official
`dialogflow-fulfillment` npm library on Express (installed with npm when missing).

Under CI (`CI=true`) a missing node or npm fails the Node tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

HERE = Path(__file__).parent
NODE_DIR = HERE / "node"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _process(argv: list[str], cwd: Path) -> Iterator[str]:
    """Start a server that takes its port as the last argument; yield its base URL."""
    port = _free_port()
    # a file, not a pipe: a server logging every request would block on a full pipe
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([*argv, str(port)], cwd=cwd, stdout=log, stderr=log)
        try:
            _wait_for(port, proc, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"webhook server exited with {proc.returncode}: {output}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"webhook server did not listen on port {port}")


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} not found on PATH (required under CI)")
    pytest.skip(f"{what} not found on PATH")


@pytest.fixture(scope="session")
def flask_url() -> Iterator[str]:
    with _process([sys.executable, str(HERE / "flask_app.py")], HERE) as url:
        yield url


@pytest.fixture(scope="session")
def node_url() -> Iterator[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("node or npm")
    assert node is not None and npm is not None
    if not (NODE_DIR / "node_modules" / "dialogflow-fulfillment").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
    with _process([node, "server.js"], NODE_DIR) as url:
        yield url
