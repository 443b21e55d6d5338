"""The seed's own CAI sample servers (Express and Flask) as real processes on 127.0.0.1.

Each starts once per session on a port the OS picks and prints ("Server is running on port
N"). Without node/npm the Express tests skip locally and fail when CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
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
EXPRESS = HERE / "express"
FLASK = HERE / "flask_sample"
_READY = re.compile(rb"Server is running on port (\d+)")


@contextmanager
def running(argv: list[str], cwd: Path) -> Iterator[str]:
    """Run a sample server; yields its base URL once it says which port it listens on."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{_wait_for_port(process, log)}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_port(process: subprocess.Popen[bytes], log: IO[bytes]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        log.seek(0)
        output = log.read()
        found = _READY.search(output)
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            raise RuntimeError(f"sample server exited ({process.returncode}): {output[-2000:]!r}")
        time.sleep(0.05)
    raise RuntimeError("sample server did not start within 30 s")


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed: the Express sample server needs node and npm"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def express_url() -> Iterator[str]:
    node, npm = _need("node"), _need("npm")
    if not (EXPRESS / "node_modules").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=EXPRESS,
            check=True,
            capture_output=True,
            timeout=300,
        )
    with running([node, "server.js", "0"], EXPRESS) as url:
        yield url


@pytest.fixture(scope="session")
def flask_url() -> Iterator[str]:
    with running([sys.executable, "app.py", "0"], FLASK) as url:
        yield url
