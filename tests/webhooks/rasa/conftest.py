"""A real action server on 127.0.0.1 for the whole folder: rasa-sdk, and the stand-in.

rasa-sdk runs from this interpreter when it has `rasa_sdk`, else from the Python named by
`PARLEY_RASA_SDK_PYTHON`, else from a venv of its own that the tests make once under
`~/.cache/parley-tests/` (rasa-sdk's pins clash with parley's, see docs/dialects/rasa.md).
If that venv cannot be made the rasa-sdk cases skip — and fail under CI=true.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import free_port

HERE = Path(__file__).parent
STARTUP_SECONDS = 20
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


RASA_SDK = "rasa-sdk==3.21.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "parley-tests"


def _rasa_sdk_python() -> str | None:
    if importlib.util.find_spec("rasa_sdk") is not None:
        return sys.executable
    if os.environ.get("PARLEY_RASA_SDK_PYTHON"):
        return os.environ["PARLEY_RASA_SDK_PYTHON"]
    return _cached_venv()


def _cached_venv() -> str | None:
    """A venv with rasa-sdk beside parley's, made on first use (about a minute)."""
    venv = CACHE / RASA_SDK.replace("==", "-")
    python, ready = venv / "bin" / "python", venv / ".ready"
    if ready.is_file():
        return str(python)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             RASA_SDK],
            check=True,
            timeout=600,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"could not install {RASA_SDK} into {venv}: {exc}")
        return None
    ready.touch()
    return str(python)


def _command(kind: str, port: int) -> list[str]:
    if kind == "mini":
        return [sys.executable, str(HERE / "mini_server.py"), str(port)]
    python = _rasa_sdk_python()
    if python is None:
        pytest.skip(f"{RASA_SDK} could not be installed (set PARLEY_RASA_SDK_PYTHON)")
    return [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"action server exited with {process.returncode}")
        try:
            with _DIRECT.open(base_url + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"action server not healthy after {STARTUP_SECONDS} s")


@pytest.fixture(scope="package", params=["rasa_sdk", "mini"])
def action_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """Base URL of a running action server serving actions.py's three actions."""
    port = free_port()
    env = {**os.environ, "SANIC_HOST": "127.0.0.1"}
    process = subprocess.Popen(
        _command(request.param, port),
        cwd=HERE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a process group of its own, to stop with its worker
    )
    try:
        _wait_healthy(process, f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the server's whole process group at once: rasa-sdk's Sanic forks a worker and
    can ignore a polite signal sent while it is still starting; it keeps no state."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
