"""The server's side of the sandbox: long-lived worker processes (one without network, one
for bots that allow hosts, started on first use), each running calls in isolated processes
it forks, kept warm between the calls of one code (worker.py). A worker that dies is
replaced on the next call; its calls in flight fail."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import parley
from parley.errors import ParleyError
from parley.sandbox import frames
from parley.sandbox.base import Job, Result, Sandbox
from parley.sandbox.limits import Isolation

log = logging.getLogger("parley.sandbox")

_HELLO_TIMEOUT = 30.0
"""Seconds a new worker has to say hello (a hung start must not hold every call)."""
_GRACE = 5.0
"""Seconds past a job's deadline before the server gives up on its worker."""
_PARLEY_ROOT = str(Path(parley.__file__).resolve().parent.parent)
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); import parley.sandbox.worker as w; w.main()"
)
"""The worker runs the server's own parley, whatever the worker's `sys.path` (`-I`)."""
_CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


class SandboxUnavailable(Exception):
    """The machine cannot give the isolation asked for."""


class _Worker:
    """One worker process and the calls waiting for its replies. The process is started
    with `subprocess` and reaped here (not by asyncio's child watcher, whose waiting thread
    races with `Popen.poll`)."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        stdout: tuple[asyncio.StreamReader, asyncio.BaseTransport],
        stdin: asyncio.WriteTransport,
        hello: dict[str, Any],
    ) -> None:
        self.process, self.stdin = process, stdin
        self.stdout, self._stdout_transport = stdout
        self.level = Isolation(hello["hello"])
        self.landlock = int(hello.get("landlock") or 0)
        self.seccomp = bool(hello.get("seccomp"))
        self.own_users = bool(hello.get("own_users"))
        self.why = str(hello.get("why") or "")
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, level: str, network: str) -> _Worker:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, _PARLEY_ROOT, level, network],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_CLEAN_ENV, cwd="/",
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        loop = asyncio.get_running_loop()
        stdout = asyncio.StreamReader(limit=frames.MAX_FRAME)
        reading, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stdout), process.stdout
        )
        stdin, _ = await loop.connect_write_pipe(asyncio.Protocol, process.stdin)
        try:
            hello = await asyncio.wait_for(_read_frame(stdout), _HELLO_TIMEOUT)
        except TimeoutError:
            process.kill()
            hello = None
        if hello is None:
            stdin.close()
            reading.close()
            await asyncio.to_thread(process.wait)
            raise SandboxUnavailable("the sandbox worker exited at start-up")
        return cls(process, (stdout, reading), stdin, hello)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and not self.reader.done()

    async def call(self, job_id: int, message: dict[str, Any], wait: float) -> dict[str, Any]:
        """The worker's reply to the job; TimeoutError after `wait` seconds."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.pending[job_id] = future
        # a timer on the future itself: `wait_for` would wrap every call in a task
        timer = loop.call_later(wait, _time_out, future)
        try:
            self.stdin.write(frames.encode({**message, "id": job_id}))
            return await future
        finally:
            timer.cancel()
            self.pending.pop(job_id, None)

    async def _read(self) -> None:
        try:
            while (reply := await _read_frame(self.stdout)) is not None:
                future = self.pending.get(reply.pop("id", -1))
                if future is not None and not future.done():
                    future.set_result(reply)
        except (OSError, ValueError) as exc:
            log.warning("sandbox worker %s sent garbage: %s", self.process.pid, exc)
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_result({"ok": False, "error": "the sandbox worker died"})
            self.kill()

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    async def close(self) -> None:
        self.kill()
        self.stdin.close()
        self._stdout_transport.close()
        await asyncio.to_thread(self.process.wait)
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


def _time_out(future: asyncio.Future[dict[str, Any]]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


async def _read_frame(stream: asyncio.StreamReader) -> Any | None:
    try:
        header = await stream.readexactly(frames.HEADER.size)
        (size,) = frames.HEADER.unpack(header)
        if size > frames.MAX_FRAME:
            raise ValueError(f"a frame of {size} bytes is over the limit")
        return json.loads(await stream.readexactly(size))
    except asyncio.IncompleteReadError:
        return None


class SandboxPool(Sandbox):
    """`isolation`: `auto` (the strongest the machine offers), `namespaces` (refuse to
    start without them) or `processes`."""

    def __init__(self, isolation: str = "auto") -> None:
        if isolation not in ("auto", *Isolation):
            raise ParleyError(
                f"PARLEY_SANDBOX_ISOLATION must be auto, namespaces or processes, not {isolation!r}"
            )
        self._asked = isolation
        self.isolation = Isolation.PROCESSES
        self._workers: dict[str, _Worker] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._ids = itertools.count(1)
        self._started = False

    async def start(self) -> Isolation:
        await self._worker("offline")
        return self.isolation

    async def run(self, job: Job) -> Result:
        started = time.perf_counter()
        network = "online" if job.limits.allowed_hosts else "offline"
        try:
            worker = await self._worker(network)
            reply = await worker.call(next(self._ids), job.to_json(), job.limits.timeout + _GRACE)
        except TimeoutError:
            worker.kill()  # wedged: the next call gets a new one
            reply = {"ok": False, "error": "the sandbox did not answer in time"}
        except (OSError, SandboxUnavailable) as exc:
            reply = {"ok": False, "error": f"the sandbox is unavailable: {exc}"}
        result = Result.from_reply(reply)
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

    async def _worker(self, network: str) -> _Worker:
        lock = self._locks.setdefault(network, asyncio.Lock())
        async with lock:
            worker = self._workers.get(network)
            if worker is not None and worker.alive:
                return worker
            if worker is not None:
                log.warning("sandbox worker %s died; starting another", worker.process.pid)
                await worker.close()
            level = "processes" if self._asked == "processes" else "namespaces"
            worker = await _Worker.spawn(level, network)
            why = worker.why
            if self._asked == "namespaces" and worker.level is not Isolation.NAMESPACES:
                await worker.close()
                raise SandboxUnavailable(why)
            self._workers[network] = worker
            if not self._started or worker.level is not self.isolation:
                self._started, self.isolation = True, worker.level
                detail = f" ({why})" if worker.level is Isolation.PROCESSES and why else ""
                layers = [f"Landlock ABI {worker.landlock}" if worker.landlock else "no Landlock"]
                layers.append("seccomp" if worker.seccomp else "no seccomp")
                if worker.own_users:
                    layers.append("a user namespace per process")
                log.info(
                    "code sandbox isolation: %s, %s%s",
                    worker.level.value, ", ".join(layers), detail,
                )  # fmt: skip
            return worker

    async def aclose(self) -> None:
        workers, self._workers, self._locks = list(self._workers.values()), {}, {}
        for worker in workers:
            await worker.close()
