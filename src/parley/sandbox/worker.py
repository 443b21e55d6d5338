"""The sandbox worker: `python -I -c <boot> PARLEY_ROOT LEVEL NETWORK` (see pool.py).

The pool starts it with an empty environment. It isolates itself once (its own mount
namespace with the whole file system read-only, no network unless NETWORK is `online`, and
a user namespace when not root), says what it reached in a hello frame, then serves jobs
read from stdin, concurrently, each in a sandboxed process (process.py).

A process serves one code only: the first job of a key (`job_key`: the bot, its code and
its sandbox settings) takes a spare, a process forked ahead of any job and already
isolated; after answering, the process stays warm for the next job of that key, which
then costs a job frame in and a reply frame out over pipes, the code already loaded
(warm.py decides how many stay, and for how long). A job whose key's processes are all
busy waits up to `_WAIT_FOR_WARM` for one, then takes a fresh one. A process is never
shared between keys. The worker enforces each call's deadline and output cap; a call that
crosses one, or whose process dies or leaves anything behind, gets its process ended (the
next call of its key gets another). Spares are forked while no call runs (a fork would
hold up a reply) and no job is arriving, or when none is left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import json
import os
import select
import selectors
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from parley.sandbox import frames
from parley.sandbox.limits import Isolation
from parley.sandbox.process import (
    OUT_OF_CPU,
    Layers,
    only_fds,
    own_users_work,
    python_dirs,
    supervise,
)
from parley.sandbox.warm import WarmSet

SPARES = 2
"""Processes set up ahead of any job, so a key's first job starts at once."""
_IDLE_BEFORE_FORK = 0.002
"""Seconds without a job before a spare is forked: a caller's next job is often on its way."""
_WAIT_FOR_WARM = 0.05
"""Seconds a job waits for one of its key's busy processes (short calls free one within a
millisecond) before it gets a fresh process (a long call must not hold up the next)."""
REPLY_OVERHEAD = 64 * 1024
"""Room in a reply for what is not the code's output (printed text, a traceback)."""


def main() -> None:
    level, network = sys.argv[1], sys.argv[2]
    online, root = network == "online", os.geteuid() == 0  # before a user namespace
    reached, why = _isolate(level, offline=not online)
    if reached == Isolation.PROCESSES:
        _sweep_temp_dirs()
    layers = Layers(
        namespaces=reached == Isolation.NAMESPACES,
        root=root,
        online=online,
        landlock=_landlock_abi(),
        seccomp=_seccomp(),
    )
    layers = dataclasses.replace(layers, own_users=own_users_work(layers))
    _preload()
    gc.freeze()  # forked processes then leave the worker's objects' pages shared
    hello = {
        "hello": reached,
        "why": why,
        "landlock": layers.landlock,
        "seccomp": layers.seccomp,
        "own_users": layers.own_users,
        "pid": os.getpid(),
    }
    frames.write(1, hello)
    _Worker(layers).serve()


def _sweep_temp_dirs(older_than: float = 3600.0) -> None:
    """Temp dirs of processes whose supervisor was killed before it could remove them
    (without namespaces a process's temp dir is a real directory); a process touches its
    own at every call and ends after 5 idle minutes, so one untouched for an hour belongs
    to nobody."""
    cutoff = time.time() - older_than
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        path = os.path.join(base, name)
        with contextlib.suppress(OSError):
            if name.startswith("parley-code-") and os.stat(path).st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)


def _isolate(level: str, *, offline: bool) -> tuple[str, str]:
    if level == Isolation.PROCESSES:
        return Isolation.PROCESSES.value, "asked for"
    from parley.sandbox import _linux as linux

    root = os.geteuid() == 0
    uid, gid = os.geteuid(), os.getegid()
    flags = linux.CLONE_NEWNS | (linux.CLONE_NEWNET if offline else 0)
    try:
        linux.unshare(flags | (0 if root else linux.CLONE_NEWUSER))
        if not root:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1")
            _write("/proc/self/gid_map", f"0 {gid} 1")
        linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
        if root:
            _expose_python()
        linux.read_only_tree("/")
        with contextlib.suppress(OSError):
            # the supervisors write their user namespaces' maps here; the code's process
            # mounts a read-only /proc of its own over it
            linux.writable("/proc")
    except OSError as exc:
        return Isolation.PROCESSES.value, f"namespaces are not available: {exc}"
    return Isolation.NAMESPACES.value, ""


def _expose_python() -> None:
    """Python under a directory `nobody` cannot enter (`/root/.pyenv`): cover that
    directory with an empty tmpfs in this mount namespace and bind Python's directories
    back into it, so the code, as `nobody`, can import and sees nothing else there."""
    from parley.sandbox import _linux as linux

    hidden: dict[str, list[str]] = {}
    for path in python_dirs():
        closed = _first_closed(path)
        if closed is not None:
            hidden.setdefault(closed, []).append(path)
    for closed, paths in hidden.items():
        holds = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in paths}
        try:
            linux.mount("tmpfs", closed, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "mode=0755")
            for path, fd in holds.items():
                os.makedirs(path, exist_ok=True)
                linux.mount(f"/proc/self/fd/{fd}", path, None, linux.MS_BIND | linux.MS_REC)
        finally:
            for fd in holds.values():
                os.close(fd)


def _first_closed(path: str) -> str | None:
    """The outermost directory on `path` that others may not enter, if any."""
    current = "/"
    for part in path.strip("/").split("/"):
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return current
    return None


def _landlock_abi() -> int:
    try:
        from parley.sandbox import _linux as linux

        return linux.landlock_abi()
    except (OSError, AttributeError):
        return 0


def _seccomp() -> bool:
    """Whether the seccomp filter loads here (tried in a throwaway child)."""
    from parley.sandbox import _linux as linux

    if not linux.seccomp_available():
        return False
    pid = os.fork()
    if pid == 0:
        try:
            linux.no_new_privileges()
            linux.refuse_syscalls()
        except OSError:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def _preload() -> None:
    """Import what most calls need once, so forked calls start warm."""
    import datetime  # noqa: F401
    import decimal  # noqa: F401
    import encodings.idna  # noqa: F401
    import re  # noqa: F401
    import urllib.request  # noqa: F401

    # Everything the code's process imports after it is isolated: its /tmp is a new tmpfs,
    # so a parley installed under /tmp (a clone there, say) is out of its sight by then.
    import parley.sandbox._linux
    import parley.sandbox.hygiene
    import parley.sandbox.initai_client
    import parley.sandbox.run  # noqa: F401


def job_key(job: dict[str, Any]) -> str:
    """Jobs that may share a process: the same owner (a bot in one environment), code,
    entry, environment and limits."""
    identity = [
        job.get("owner", ""), job["filename"], job["source"], job["entry"],
        job.get("env") or {}, job["limits"],
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


@dataclass(slots=True)
class _Job:
    body: bytes
    job: dict[str, Any]
    since: float


@dataclass(slots=True)
class _Call:
    id: int
    limits: dict[str, Any]
    deadline: float
    received: bytearray = field(default_factory=bytearray)
    lost: bool = False
    """The code's process is gone without answering: its supervisor will say how."""


@dataclass(eq=False, slots=True)
class _Process:
    """A sandboxed process as the worker holds it: its supervisor and four pipes."""

    supervisor: int
    control: int
    """Closing it ends the process (the supervisor kills the code's process)."""
    status: int
    """The supervisor's one frame: how the code's process ended."""
    jobs: int
    replies: int
    key: str = ""
    calls: int = 0
    idle_since: float = 0.0
    call: _Call | None = None
    ended: bool = False


_Handler = Callable[[_Process], None]


class _Worker:
    def __init__(self, layers: Layers) -> None:
        self.layers = layers
        self.selector = selectors.DefaultSelector()
        self.selector.register(0, selectors.EVENT_READ, None)
        self.warm: WarmSet[_Process] = WarmSet()
        self.spares: deque[_Process] = deque()
        self.running: set[_Process] = set()
        self.waiting: dict[str, deque[_Job]] = {}  # jobs of keys whose processes are busy
        self.supervisors: list[int] = []  # of ended processes, to reap once they are gone
        self.top_up = True  # False after a spare died unused, until the next job

    def serve(self) -> None:
        self.spares.extend(self._fork() for _ in range(SPARES))
        while True:
            events = self.selector.select(self._timeout())
            if not events and self._spare_wanted():
                self.spares.append(self._fork())
            for key, _ in events:
                if key.data is None:
                    if not self._job():
                        return  # the server is gone; every process dies with us
                elif self.selector.get_map().get(key.fd) is key:  # not ended meanwhile
                    handler, process = key.data
                    handler(process)
            now = time.monotonic()
            self._expire(now)
            self._reap()

    def _spare_wanted(self) -> bool:
        # A fork holds up this loop for a moment, so spares are forked when no call runs
        # (a reply would wait) and no job has come for a moment, or when none is left.
        return self.top_up and len(self.spares) < (1 if self.running else SPARES)

    def _timeout(self) -> float | None:
        times = [process.call.deadline for process in self.running if process.call]
        if (expiry := self.warm.next_expiry()) is not None:
            times.append(expiry)
        times.extend(waiting[0].since + _WAIT_FOR_WARM for waiting in self.waiting.values())
        timeout = max(0.0, min(times) - time.monotonic()) if times else None
        if self._spare_wanted():
            fork_in = _IDLE_BEFORE_FORK if self.spares else 0.0
            timeout = fork_in if timeout is None else min(timeout, fork_in)
        if self.supervisors:
            timeout = 1.0 if timeout is None else min(timeout, 1.0)
        return timeout

    def _fork(self) -> _Process:
        control_r, control_w = os.pipe()
        status_r, status_w = os.pipe()
        jobs_r, jobs_w = os.pipe()
        replies_r, replies_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            only_fds(control_r, status_w, jobs_r, replies_w)
            supervise(self.layers, control_r, status_w, jobs_r, replies_w)
        for fd in (control_r, status_w, jobs_r, replies_w):
            os.close(fd)
        process = _Process(pid, control_w, status_r, jobs_w, replies_r)
        self._watch(replies_r, self._on_reply, process)
        self._watch(status_r, self._on_status, process)
        return process

    def _watch(self, fd: int, handler: _Handler, process: _Process) -> None:
        self.selector.register(fd, selectors.EVENT_READ, (handler, process))

    def _job(self) -> bool:
        body = frames.read_body(0)
        if body is None:
            return False
        job = _Job(body, json.loads(body), time.monotonic())
        self.top_up = True
        key = job_key(job.job)
        process = self.warm.take(key)
        if process is None and self.warm.count(key) >= self.warm.per_key:
            self.waiting.setdefault(key, deque()).append(job)  # one is free in a moment
            return True
        self._start(process or self._fresh(key), job)
        return True

    def _fresh(self, key: str) -> _Process:
        process = self.spares.popleft() if self.spares else self._fork()
        self.warm.adopt(process, key)
        return process

    def _start(self, process: _Process, job: _Job, *, retry: bool = True) -> None:
        limits = job.job["limits"]
        process.calls += 1
        deadline = time.monotonic() + float(limits["timeout"])
        process.call = _Call(job.job["id"], limits, deadline)
        self.running.add(process)
        try:
            frames.write_all(process.jobs, frames.HEADER.pack(len(job.body)) + job.body)
        except OSError:
            if not retry:
                self._lose(process)
                return
            # it died while idle and never read the job: nothing ran, a fresh one runs it
            process.call = None
            self.running.discard(process)
            self._end(process)
            self._start(self._fresh(process.key), job, retry=False)

    def _free(self, process: _Process) -> None:
        """`process` answered and is clean: the next job waiting for its key, else idle."""
        waiting = self.waiting.get(process.key)
        if waiting and process.calls < self.warm.calls:
            job = waiting.popleft()
            if not waiting:
                del self.waiting[process.key]
            self._start(process, job)
            return
        for ended in self.warm.release(process, time.monotonic()):
            self._end(ended)

    def _refill(self, key: str, now: float | None = None) -> None:
        """Fresh processes for the jobs waiting for `key`: while it has room for one, or
        (given `now`) for those that waited `_WAIT_FOR_WARM` (a long call holds its own)."""
        waiting = self.waiting.get(key)
        while waiting and (
            self.warm.count(key) < self.warm.per_key
            or (now is not None and waiting[0].since + _WAIT_FOR_WARM <= now)
        ):
            self._start(self._fresh(key), waiting.popleft())
        if not waiting:
            self.waiting.pop(key, None)

    def _on_reply(self, process: _Process, *, ending: bool = False) -> None:
        call = process.call
        try:
            chunk = os.read(process.replies, 1 << 16)
        except OSError:
            chunk = b""
        if call is None:  # idle: nothing may come (an end of file: it died)
            self._end(process)
            return
        if not chunk:
            self._lose(process)
            return
        call.received += chunk
        if len(call.received) > int(call.limits["max_output_bytes"]) + REPLY_OVERHEAD:
            limit = call.limits["max_output_bytes"]
            self._answer(process, _failed(f"the code's output is over the {limit} byte limit"))
            self._end(process)
            return
        whole = frames.complete(call.received)
        if whole is None:
            return
        body, end = whole
        reply, retire = _unwrap(body, call.id, extra=len(call.received) > end)
        self._answer(process, reply)
        if retire is not None or ending:
            self._end(process)
        else:
            self._free(process)

    def _on_status(self, process: _Process) -> None:
        """The code's process ended: the answer to its call, if it had one, says how."""
        if process.call is not None and not process.call.lost:
            self._drain(process)  # its reply may still be in the pipe
            if process.ended:
                return
        try:
            report = frames.read(process.status)
        except (OSError, ValueError):
            report = None
        if process.call is not None:
            self._answer(process, _failed(_why(report, process.call.limits)))
        self._end(process)

    def _drain(self, process: _Process) -> None:
        """Read what the code's process wrote before it ended, up to its whole reply."""
        while (
            (call := process.call) is not None
            and not (call.lost or process.ended)
            and select.select([process.replies], [], [], 0)[0]
        ):
            self._on_reply(process, ending=True)

    def _lose(self, process: _Process) -> None:
        """The code's process is gone without its answer: its supervisor will say why."""
        assert process.call is not None
        process.call.lost = True
        self._unwatch(process.replies)
        _close(process.control)  # ends it, if it only closed its pipe
        process.control = -1  # closed: its number may soon be another pipe's

    def _answer(self, process: _Process, reply: dict[str, Any]) -> None:
        assert process.call is not None
        frames.write(1, {**reply, "id": process.call.id})
        process.call = None
        self.running.discard(process)

    def _expire(self, now: float) -> None:
        for process in [p for p in self.running if p.call and p.call.deadline <= now]:
            assert process.call is not None
            timeout = float(process.call.limits["timeout"])
            problem = f"the code ran over its {timeout:g} s deadline and was killed"
            self._answer(process, _failed(problem))
            self._end(process)
        for process in self.warm.expired(now):
            self._end(process)
        for key in list(self.waiting):
            self._refill(key, now)

    def _end(self, process: _Process) -> None:
        """End `process`: closing its control pipe has its supervisor kill the code's."""
        if process.ended:
            return
        process.ended = True
        if process.call is not None:
            self._answer(process, _failed("the sandbox process ended"))
        self.warm.discard(process)
        if process in self.spares:  # died before any job: no new spare until a job comes
            self.spares.remove(process)
            self.top_up = False
        for fd in (process.replies, process.status):
            self._unwatch(fd)
        for fd in (process.replies, process.status, process.control, process.jobs):
            _close(fd)
        self.supervisors.append(process.supervisor)
        self._refill(process.key)

    def _unwatch(self, fd: int) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(fd)

    def _reap(self) -> None:
        alive = []
        for pid in self.supervisors:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG) == (0, 0):
                    alive.append(pid)
        self.supervisors = alive


def _close(fd: int) -> None:
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)


def _unwrap(body: bytes, call_id: int, *, extra: bool) -> tuple[dict[str, Any], str | None]:
    """The reply in a code process's frame, and why the process must not go on (None: it
    may). The code may write a frame of its own: one that is not exactly the expected
    answer fails the call and ends the process."""
    try:
        frame = json.loads(body)
    except ValueError:
        frame = None
    if (
        extra
        or not isinstance(frame, dict)
        or frame.get("id") != call_id
        or not isinstance(frame.get("reply"), dict)
        or "retire" not in frame
    ):
        return _failed("the code's process wrote to the sandbox's pipe"), "broken"
    retire = frame["retire"]
    return frame["reply"], None if retire is None else str(retire)


def _failed(reason: str) -> dict[str, Any]:
    return {"ok": False, "error": reason}


def _why(report: Any, limits: dict[str, Any]) -> str:
    """How the code's process ended, from its supervisor's report."""
    if not isinstance(report, dict):
        return "the sandbox supervisor died"
    if "status" not in report:
        return str(report.get("error") or "the sandbox supervisor died")
    status = int(report["status"])
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return f"the code used up its {limits['cpu_seconds']} s of CPU and was killed"
        if sig == signal.SIGXFSZ:
            return "the code wrote a file over the temp directory's size limit and was killed"
        return f"the code's process was killed by {signal.Signals(sig).name}"
    code = os.WEXITSTATUS(status)
    if code == OUT_OF_CPU:
        return f"the code used up its {limits['cpu_seconds']} s of CPU and was stopped"
    return f"the code's process exited with status {code} and no answer"


if __name__ == "__main__":
    main()
