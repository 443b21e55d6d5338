"""The sandbox worker: `python -I -m parley.sandbox.worker LEVEL NETWORK`.

The pool starts it with an empty environment. It isolates itself once (its own mount
namespace with the whole file system read-only, no network unless NETWORK is `online`, and
a user namespace when not root), says which level it reached in a hello frame, then serves
jobs read from stdin, concurrently: for each it forks a supervisor, which puts the call in
new pid and mount namespaces with a fresh tmpfs as /tmp and forks the process that runs the
owner's code (pid 1 of its namespace: killing it kills everything it started). The
supervisor enforces the deadline and the output cap and writes one reply; the worker
forwards replies to stdout. The code's process never sees the worker's pipes.
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
from typing import Any

from parley.sandbox import frames
from parley.sandbox.limits import Isolation

NOBODY = 65534
_PRINTED_KEPT = 8192
_state = {"level": Isolation.PROCESSES.value, "root": os.geteuid() == 0}


def main() -> None:
    level, network = sys.argv[1], sys.argv[2]
    reached, why = _isolate(level, offline=network != "online")
    _state["level"] = reached
    _preload()
    frames.write(1, {"hello": reached, "why": why, "pid": os.getpid()})
    _serve()


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
        linux.read_only_tree("/")
    except OSError as exc:
        return Isolation.PROCESSES.value, f"namespaces are not available: {exc}"
    return Isolation.NAMESPACES.value, ""


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


def _serve() -> None:
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, None)
    while True:
        for key, _ in selector.select():
            if key.data is None:
                job = frames.read(0)
                if job is None:
                    return  # the server is gone; supervisors die with us
                reader, writer = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(reader)
                    _supervisor(job, writer)
                os.close(writer)
                selector.register(reader, selectors.EVENT_READ, (job["id"], pid, bytearray()))
                continue
            job_id, pid, buffer = key.data
            chunk = os.read(key.fd, 1 << 16)
            if chunk:
                buffer += chunk
                continue
            selector.unregister(key.fd)
            os.close(key.fd)
            os.waitpid(pid, 0)
            try:
                reply = json.loads(buffer)
            except ValueError:
                reply = {"ok": False, "error": "the sandbox supervisor died"}
            frames.write(1, {**reply, "id": job_id})


def _supervisor(job: dict[str, Any], out: int) -> None:
    """The forked supervisor of one call; never returns."""
    try:
        from parley.sandbox import _linux as linux

        linux.die_with_parent(signal.SIGKILL)
        reply = _supervise(job)
    except BaseException as exc:
        reply = {"ok": False, "error": f"the sandbox failed: {type(exc).__name__}: {exc}"}
    try:
        data = memoryview(json.dumps(reply).encode("utf-8"))
        while data:
            data = data[os.write(out, data) :]
    finally:
        os._exit(0)


def _supervise(job: dict[str, Any]) -> dict[str, Any]:
    limits = job["limits"]
    namespaces = _state["level"] == Isolation.NAMESPACES
    if namespaces:
        from parley.sandbox import _linux as linux

        linux.unshare(linux.CLONE_NEWPID | linux.CLONE_NEWNS)
        size = int(limits["tmp_bytes"])
        options = f"size={size},mode=1777"
        linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, options)
        workdir = "/tmp"
    else:
        workdir = tempfile.mkdtemp(prefix="parley-code-")
        if _state["root"]:
            os.chown(workdir, NOBODY, NOBODY)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        _child(job, writer, workdir, namespaces)
    os.close(writer)
    try:
        return _collect(job, pid, reader)
    finally:
        if not namespaces:
            _kill_group(pid)
            shutil.rmtree(workdir, ignore_errors=True)


def _collect(job: dict[str, Any], pid: int, reader: int) -> dict[str, Any]:
    limits = job["limits"]
    timeout = float(limits["timeout"])
    cap = int(limits["max_output_bytes"]) + 65536
    deadline, data, problem = time.monotonic() + timeout, bytearray(), None
    while True:
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
        _kill_group(pid)
    _, status = os.waitpid(pid, 0)
    if problem is not None:
        return {"ok": False, "error": problem}
    if data:
        try:
            reply: dict[str, Any] = json.loads(data)
            return reply
        except ValueError:
            pass
    return {"ok": False, "error": _death(status, limits)}


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


def _child(job: dict[str, Any], out: int, workdir: str, namespaces: bool) -> None:
    """The process that runs the owner's code; never returns."""
    me = os.getpid()
    try:
        os.setsid()  # its own process group: kill(0) and killpg reach only the call
        if namespaces:
            from parley.sandbox import _linux as linux

            flags = linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC | linux.MS_RDONLY
            linux.mount("proc", "/proc", "proc", flags)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, out)
        os.closerange(out + 1, 65536)
        _limit(job["limits"])
        os.chdir(workdir)
        _drop_privileges()
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
        body = json.dumps({"ok": False, "error": f"the sandbox failed: {exc}"}).encode()
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(out, view) :]
    finally:
        os._exit(0)


def _limit(limits: dict[str, Any]) -> None:
    cpu = int(limits["cpu_seconds"])
    memory = int(limits["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["tmp_bytes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    if _state["root"]:  # counted per user: as `nobody`, only sandboxed processes count
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
