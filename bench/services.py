"""Processes the bench starts: on free 127.0.0.1 ports, awaited until they answer, and
stopped by PID (TERM, then KILL) however the run ends."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from bench.server import HOST

_PR_SET_PDEATHSIG = 1
_STOP_GRACE_S = 5.0


class ServiceError(Exception):
    """A service did not start or answer in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # Runs in the child before exec: if the bench itself is killed (even by SIGKILL, where no
    # `finally` runs) the kernel sends the child SIGTERM.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Services:
    """Starts processes and stops every one of them on exit, in reverse order."""

    def __init__(self) -> None:
        self._running: list[Service] = []
        self._databases: list[tuple[str, str]] = []

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for service in reversed(list(self._running)):
            self.stop(service)
        for server, name in self._databases:
            _psql(server, f"DROP DATABASE IF EXISTS {name}")

    def scratch_postgres(self, server: str) -> str:
        """A fresh database on the PostgreSQL `server` URL, dropped on exit; its URL."""
        name = f"parley_bench_{os.getpid()}_{len(self._databases)}"
        _psql(server, f"DROP DATABASE IF EXISTS {name}")
        _psql(server, f"CREATE DATABASE {name}")
        self._databases.append((server, name))
        return f"{server.rstrip('/')}/{name}"

    def start(
        self, name: str, argv: Sequence[str], port: int, log: Path, env: Mapping[str, str]
    ) -> Service:
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env),
                start_new_session=True,  # Ctrl-C reaches the bench only; it stops the rest
                preexec_fn=_die_with_parent,
            )
        service = Service(name, process, port, log)
        self._running.append(service)
        return service

    def stop(self, service: Service) -> None:
        process = service.process
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(_STOP_GRACE_S)
        if service in self._running:
            self._running.remove(service)

    def finish(self, service: Service, timeout_s: float) -> None:
        """Let `service` end by itself within `timeout_s`, else stop it."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.process.wait(timeout_s)
        self.stop(service)


def _psql(server: str, sql: str) -> None:
    subprocess.run(
        ["psql", f"{server.rstrip('/')}/postgres", "-qc", sql], check=True, capture_output=True
    )


def wait_healthy(service: Service, path: str, timeout_s: float) -> float:
    """Seconds until GET `path` answers 200; raises ServiceError on exit or timeout."""
    started = time.monotonic()
    deadline = started + timeout_s
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise ServiceError(f"{service.name} exited:\n{service.log_tail()}")
            try:
                if client.get(service.base_url + path).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise ServiceError(f"{service.name} did not answer {path} in {timeout_s} s")
