"""The sandbox worker: `python -I -c <boot> PARLEY_ROOT LEVEL NETWORK` (see pool.py).

The pool starts it with an empty environment. It isolates itself once (its own mount
namespace with the whole file system read-only, no network unless NETWORK is `online`, and
a user namespace when not root), says what it reached in a hello frame, then serves jobs
read from stdin, concurrently. It keeps `SPARES` calls ready ahead of their jobs: a forked
supervisor that has put itself in new pid and mount namespaces with a fresh tmpfs as /tmp,
and under it the process that will run the owner's code, already pid 1 of that namespace
(killing it kills everything it started), unprivileged, under Landlock and seccomp when
the kernel has them, waiting on a pipe. A job goes to a ready call, straight to the code's
process (one hop) and to its supervisor: the code's process sets the job's limits and
environment and runs it; the supervisor enforces the deadline and the output cap and answers
with one frame; the worker forwards it to stdout. Spares are forked while no call runs (a
fork would hold up a reply) and no job is arriving, or when none is left. The code's
process holds only the read end of its job pipe and the write end of its result pipe.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.sandbox import frames
from parley.sandbox.limits import Isolation

NOBODY = 65534
SPARES = 2
"""Calls set up ahead of their jobs, so a job starts at once."""
_IDLE_BEFORE_FORK = 0.002
"""Seconds without a job before a spare is forked: a caller's next job is often on its way."""
TMP_BYTES = 64 * 1024 * 1024
"""The size of a call's temp directory (and of any file it writes)."""
_PRINTED_KEPT = 8192
_cleanups: list[Callable[[], None]] = []
"""What a supervisor does after answering."""
_state: dict[str, Any] = {
    "level": Isolation.PROCESSES.value,
    "root": os.geteuid() == 0,
    "online": False,
    "landlock": 0,
    "seccomp": False,
}
_SYSTEM_READ = (
    "/usr", "/lib", "/lib64", "/lib32", "/bin", "/proc", "/dev/urandom", "/dev/random",
    "/dev/zero", "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/resolv.conf",
    "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf", "/etc/protocols",
    "/etc/services", "/etc/localtime", "/etc/mime.types",
)  # fmt: skip
"""Besides Python's own directories, what code may read under Landlock."""


def main() -> None:
    level, network = sys.argv[1], sys.argv[2]
    _state["online"] = network == "online"
    reached, why = _isolate(level, offline=network != "online")
    _state["level"] = reached
    if reached == Isolation.PROCESSES:
        _sweep_temp_dirs()
    _state["landlock"] = _landlock_abi()
    _state["seccomp"] = _seccomp()
    _preload()
    hello = {
        "hello": reached,
        "why": why,
        "landlock": _state["landlock"],
        "seccomp": _state["seccomp"],
        "pid": os.getpid(),
    }
    frames.write(1, hello)
    _serve()


def _sweep_temp_dirs(older_than: float = 3600.0) -> None:
    """Temp dirs of calls whose supervisor was killed before it could remove them (without
    namespaces a call's temp dir is a real directory); a call lasts 30 s at most, so an hour
    old one belongs to nobody."""
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

    root = bool(_state["root"])
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
    except OSError as exc:
        return Isolation.PROCESSES.value, f"namespaces are not available: {exc}"
    return Isolation.NAMESPACES.value, ""


def _python_dirs() -> list[str]:
    """Where Python and the importable packages live."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path}
    return sorted({os.path.realpath(d) for d in found if d and os.path.isdir(d)})


def _expose_python() -> None:
    """Python under a directory `nobody` cannot enter (`/root/.pyenv`): cover that
    directory with an empty tmpfs in this mount namespace and bind Python's directories
    back into it, so the code, as `nobody`, can import and sees nothing else there."""
    from parley.sandbox import _linux as linux

    hidden: dict[str, list[str]] = {}
    for path in _python_dirs():
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

    import parley.sandbox.initai_client
    import parley.sandbox.run  # noqa: F401


@dataclass(slots=True)
class _Spare:
    """A call ready before its job: a supervisor and, under it, the isolated process that
    will run the code, both waiting on pipes."""

    pid: int
    jobs: int
    """The supervisor's copy of the job (for its deadline and output cap)."""
    code_jobs: int
    """The job straight to the process that runs the code: one hop, not two."""
    replies: int


def _serve() -> None:
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, None)
    spares: deque[_Spare] = deque(_spare() for _ in range(SPARES))
    exited: list[int] = []  # supervisors that answered, to reap once they are gone
    while True:
        # A fork holds up this loop for a moment, so spares are forked when no call runs
        # (a reply would wait) and no job has come for a moment (it would wait), or at once
        # when none is left.
        running = len(selector.get_map()) - 1
        if len(spares) < (SPARES if running == 0 else 1):
            events = selector.select(timeout=_IDLE_BEFORE_FORK if spares else 0)
            if not events:
                spares.append(_spare())
                continue
        else:
            events = selector.select(timeout=1.0 if exited else None)
        for key, _ in events:
            if key.data is None:
                job = frames.read(0)
                if job is None:
                    return  # the server is gone; supervisors and spares die with us
                spare = spares.popleft() if spares else _spare()
                # A dead child or supervisor: its reply pipe says why (or ends: "died").
                for fd in (spare.code_jobs, spare.jobs):
                    with contextlib.suppress(OSError):
                        frames.write(fd, job)
                    os.close(fd)
                selector.register(
                    spare.replies, selectors.EVENT_READ, (job["id"], spare.pid, bytearray())
                )
                continue
            job_id, pid, buffer = key.data
            chunk = os.read(key.fd, 1 << 16)
            buffer += chunk
            body = _frame(buffer)
            if chunk and body is None:
                continue
            selector.unregister(key.fd)
            os.close(key.fd)
            try:
                reply = json.loads(body) if body is not None else None
            except ValueError:
                reply = None
            if not isinstance(reply, dict):
                reply = {"ok": False, "error": "the sandbox supervisor died"}
            frames.write(1, {**reply, "id": job_id})
            exited.append(pid)
        exited[:] = [pid for pid in exited if os.waitpid(pid, os.WNOHANG) == (0, 0)]


def _spare() -> _Spare:
    jobs_r, jobs_w = os.pipe()
    code_jobs_r, code_jobs_w = os.pipe()
    replies_r, replies_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        _only_fds(jobs_r, code_jobs_r, replies_w)
        _supervisor(jobs_r, code_jobs_r, replies_w)
    os.close(jobs_r)
    os.close(code_jobs_r)
    os.close(replies_w)
    return _Spare(pid, jobs_w, code_jobs_w, replies_r)


def _only_fds(*keep: int) -> None:
    """Point 0-2 at /dev/null and close every other descriptor but `keep`."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd not in keep:
            os.dup2(null, fd)
    last = 2
    for fd in sorted(keep):
        os.closerange(last + 1, fd)
        last = fd
    os.closerange(last + 1, 65536)


def _supervisor(jobs: int, code_jobs: int, out: int) -> None:
    """A forked supervisor: sets up the call's isolation and the process that runs the code,
    waits for the job, then enforces the deadline and the output cap; never returns."""
    reply: dict[str, Any]
    try:
        from parley.sandbox import _linux as linux

        linux.die_with_parent(signal.SIGKILL)
        reply = _supervise(jobs, code_jobs)
    except BaseException as exc:
        reply = {"ok": False, "error": f"the sandbox failed: {type(exc).__name__}: {exc}"}
    try:
        frames.write(out, reply)
        for cleanup in _cleanups:
            cleanup()
    finally:
        os._exit(0)


def _supervise(jobs: int, code_jobs: int) -> dict[str, Any]:
    namespaces = _state["level"] == Isolation.NAMESPACES
    if namespaces:
        from parley.sandbox import _linux as linux

        linux.unshare(linux.CLONE_NEWPID | linux.CLONE_NEWNS)
        options = f"size={TMP_BYTES},mode=1777"
        linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, options)
        workdir = "/tmp"
    else:
        workdir = tempfile.mkdtemp(prefix="parley-code-")
        if _state["root"]:
            os.chown(workdir, NOBODY, NOBODY)
    results_r, results_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        _only_fds(code_jobs, results_w)
        _child(code_jobs, results_w, workdir, namespaces)
    os.close(code_jobs)
    os.close(results_w)
    _cleanups.append(lambda: _reap(pid))
    if not namespaces:
        _cleanups.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
    job = frames.read(jobs)
    if job is None:  # the worker is gone: the child dies with us
        for cleanup in _cleanups:
            cleanup()
        os._exit(0)
    return _collect(job, pid, results_r)


def _reap(pid: int) -> None:
    """End the call's process and whatever it started (its namespace, or its group)."""
    _kill_group(pid)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _collect(job: dict[str, Any], pid: int, reader: int) -> dict[str, Any]:
    """The child's reply as soon as its frame is complete (the caller reaps the child after
    answering), or why there is none: the deadline, the output cap, its death."""
    limits = job["limits"]
    timeout = float(limits["timeout"])
    cap = int(limits["max_output_bytes"]) + 65536
    deadline, data, problem = time.monotonic() + timeout, bytearray(), None
    while (body := _frame(data)) is None:
        left = deadline - time.monotonic()
        if left <= 0:
            problem = f"the code ran over its {timeout:g} s deadline and was killed"
            break
        ready, _, _ = select.select([reader], [], [], left)
        if not ready:
            continue
        chunk = os.read(reader, 1 << 16)
        if not chunk:
            break
        data += chunk
        if len(data) > cap:
            problem = f"the code's output is over the {limits['max_output_bytes']} byte limit"
            break
    if problem is not None:
        return {"ok": False, "error": problem}
    if body is not None:
        with contextlib.suppress(ValueError):
            reply = json.loads(body)
            if isinstance(reply, dict):  # the code may write a frame of its own: not trusted
                return reply
    _kill_group(pid)
    _, status = os.waitpid(pid, 0)
    return {"ok": False, "error": _death(status, limits)}


def _frame(data: bytearray) -> bytes | None:
    """The body of the complete frame `data` holds, if it holds one."""
    if len(data) < frames.HEADER.size:
        return None
    (size,) = frames.HEADER.unpack_from(data)
    end = frames.HEADER.size + size
    return bytes(data[frames.HEADER.size : end]) if len(data) >= end else None


def _death(status: int, limits: dict[str, Any]) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return f"the code used up its {limits['cpu_seconds']} s of CPU and was killed"
        if sig == signal.SIGXFSZ:
            return "the code wrote a file over the temp directory's size limit and was killed"
        return f"the code's process was killed by {signal.Signals(sig).name}"
    return f"the code's process exited with status {os.WEXITSTATUS(status)} and no answer"


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


def _child(jobs: int, out: int, workdir: str, namespaces: bool) -> None:
    """The process that runs the owner's code: isolated and unprivileged before its job
    arrives; never returns."""
    me = os.getpid()
    try:
        from parley.sandbox import _linux as linux

        linux.die_with_parent(signal.SIGKILL)
        os.setsid()  # its own process group: kill(0) and killpg reach only the call
        if namespaces:
            flags = linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC | linux.MS_RDONLY
            linux.mount("proc", "/proc", "proc", flags)
        os.chdir(workdir)
        _drop_privileges()
        if _state["landlock"]:
            read = [*_python_dirs(), *_SYSTEM_READ]
            if not namespaces:  # without a pid namespace /proc shows the server's processes
                read.remove("/proc")
            linux.landlock(read, [workdir, os.devnull], tcp=bool(_state["online"]))
        if _state["seccomp"]:
            linux.refuse_syscalls()
        job = frames.read(jobs)
        if job is None:
            os._exit(0)
        os.close(jobs)
        _limit(job["limits"])
        os.environ.clear()
        os.environ.update({**job.get("env", {}), "HOME": workdir, "TMPDIR": workdir})
        tempfile.tempdir = workdir
        _guard_network(list(job["limits"].get("allowed_hosts") or ()))
        printed = _Printed()
        sys.stdout = sys.stderr = printed
        from parley.sandbox.run import dump, execute

        reply = execute(job)
        if os.getpid() != me:  # a process the code forked returned here: it has no say
            os._exit(0)
        reply["printed"] = printed.text()
        body = dump(reply, int(job["limits"]["max_output_bytes"]))
    except BaseException as exc:
        if os.getpid() != me:
            os._exit(0)
        body = json.dumps({"ok": False, "error": f"the sandbox failed: {exc}"}).encode()
    try:
        view = memoryview(frames.HEADER.pack(len(body)) + body)
        while view:
            view = view[os.write(out, view) :]
    finally:
        os._exit(0)


def _limit(limits: dict[str, Any]) -> None:
    cpu = int(limits["cpu_seconds"])
    memory = int(limits["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (TMP_BYTES, TMP_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    if _state["root"] or _state["level"] == Isolation.NAMESPACES:
        # counted per user and user namespace: only sandboxed processes count
        resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["processes"]),) * 2)


def _drop_privileges() -> None:
    from parley.sandbox import _linux as linux

    if _state["root"]:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    elif _state["level"] == Isolation.NAMESPACES:
        linux.drop_capabilities()  # root of its user namespace no more
    linux.no_new_privileges()


def _guard_network(allowed: list[str]) -> None:
    """Only the bot's allowed hosts: connections elsewhere raise PermissionError (an audit
    hook, under the network namespace when there is one)."""
    names = {host.lower() for host in allowed}
    addresses = set(names)
    for host in names:
        with contextlib.suppress(OSError):
            addresses.update(str(info[4][0]) for info in socket.getaddrinfo(host, None))

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            address = args[-1] if event != "socket.connect" else args[1]
            host = address[0] if isinstance(address, tuple) else address
        elif event in ("socket.getaddrinfo", "socket.gethostbyname"):
            host = args[0]
        else:
            return
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        if str(host).lower() not in addresses:
            raise PermissionError(f"network access to {host!r} is not allowed in the sandbox")

    sys.addaudithook(hook)


class _Printed:
    """What the code prints: the first few KB are kept for the invocation log."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        if self._size < _PRINTED_KEPT:
            self._parts.append(text[: _PRINTED_KEPT - self._size])
        self._size += len(text)
        return len(text)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "".join(self._parts)


if __name__ == "__main__":
    main()
