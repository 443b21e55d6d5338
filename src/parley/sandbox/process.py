"""One sandboxed process, forked by the worker before its first job (worker.py).

It is two processes. The supervisor sets up the call's place (at the `namespaces` level new
pid and mount namespaces with a fresh tmpfs as /tmp; otherwise a temp directory) and forks
the process that runs the owner's code: pid 1 of that pid namespace (killing it kills
everything it started), in a user namespace of its own when the kernel allows, unprivileged,
under Landlock and seccomp when the kernel has them, warmed up and waiting for a job.

The code's process loads the code at its first job, then serves the jobs of that code (one
key, warm.py) one after another: a job frame in, one reply frame out, straight to and from
the worker, which enforces the deadline and the output cap. Before each reply it resets and
checks itself (hygiene.py) and says whether it can serve again. The supervisor never sees a
job: it waits until the code's process exits or the worker closes its control pipe (then it
kills that process and all it started), sends the exit status and cleans up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import linecache
import math
import os
import resource
import select
import shutil
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass
from typing import Any, NoReturn

from parley.sandbox import frames

NOBODY = 65534
TMP_BYTES = 64 * 1024 * 1024
"""The size of a call's temp directory (and of any file it writes)."""
ALL_PROCESSES = 1024
"""Processes of every sandboxed call together (each call has `Limits.processes` of its own)."""
SHARED_PROCESSES = 128
"""Without a user namespace of its own a call's process limit counts every sandboxed
process of its user, the warm ones included: these are let in on top of the call's own."""
CPU_BEFORE_REPLACING = 0.5
"""CPU seconds a process may have used and still serve a call. The hard CPU limit is a
call's seconds + 1, as for a fresh process, and can never be raised: a call must start
below one second of use to get its share."""
OUT_OF_CPU = 128 + signal.SIGXCPU
"""The exit status of a code's process that used up its CPU seconds."""
_PRINTED_KEPT = 8192
_SYSTEM_READ = (
    "/usr", "/lib", "/lib64", "/lib32", "/bin", "/proc", "/dev/urandom", "/dev/random",
    "/dev/zero", "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/resolv.conf",
    "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf", "/etc/protocols",
    "/etc/services", "/etc/localtime", "/etc/mime.types",
)  # fmt: skip
"""Besides Python's own directories, what code may read under Landlock."""
_os_write = os.write  # the reply goes out this way even if a call replaced `os.write`
_WARM_UP: dict[str, Any] = {
    "source": "import json\ndef main(event, context):\n    return json.loads(event['body'])\n",
    "filename": "<sandbox warm-up>", "entry": "main", "payload": '{"warm": [1, "up"]}',
    "name": "", "request_id": "", "limits": {"timeout": 1},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Layers:
    """What the worker reached at start-up; every process it forks works within it."""

    namespaces: bool
    root: bool
    online: bool = False
    landlock: int = 0
    seccomp: bool = False
    own_users: bool = False
    """Each process in a user namespace of its own (as `nobody` when root), so that the
    process limit, counted per user and user namespace (Linux 5.14+), counts that process's
    own processes only, not the other warm ones."""


def supervise(layers: Layers, control: int, status: int, jobs: int, replies: int) -> NoReturn:
    """The supervisor: set up the place, fork the code's process, wait for its end."""
    try:
        from parley.sandbox import _linux as linux

        signal.signal(signal.SIGTERM, _worker_gone)
        linux.die_with_parent(signal.SIGTERM)
        workdir = _place(layers)
        linux.die_with_parent(signal.SIGTERM)  # a change of user cleared it
        pid = os.fork()
        if pid == 0:
            only_fds(jobs, replies)
            _code_process(layers, jobs, replies, workdir)
        os.close(jobs)
        os.close(replies)
        with contextlib.suppress(_WorkerGone):  # it still ends the code's and cleans up
            _await_end(control, pid)
        kill_group(pid)
        _, state = os.waitpid(pid, 0)
        report: dict[str, Any] = {"status": state}
        if not layers.namespaces:
            shutil.rmtree(workdir, ignore_errors=True)
    except BaseException as exc:
        report = {"error": f"the sandbox failed: {type(exc).__name__}: {exc}"}
    try:
        frames.write(status, report)
    except OSError:
        pass  # nobody reads it any more
    finally:
        os._exit(0)


class _WorkerGone(BaseException):
    """The worker died (killed with the server): end the call's process and clean up."""


def _worker_gone(signum: int, frame: Any) -> None:
    raise _WorkerGone


def own_users_work(layers: Layers) -> bool:
    """Whether a process can get a user namespace of its own here (tried in a throwaway
    supervisor and code process, which must be able to mount its /proc there)."""
    pid = os.fork()
    if pid == 0:
        try:
            workdir = _place(dataclasses.replace(layers, own_users=True))
            child = os.fork()
            if child == 0:
                try:
                    if layers.namespaces:
                        _mount_proc()
                except OSError:
                    os._exit(1)
                os._exit(0)
            _, status = os.waitpid(child, 0)
            if not layers.namespaces:
                shutil.rmtree(workdir, ignore_errors=True)
            os._exit(os.waitstatus_to_exitcode(status))
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _place(layers: Layers) -> str:
    """The call's temp directory (a fresh tmpfs as /tmp in new pid and mount namespaces, or
    without namespaces a directory of its own), and the user namespace of its processes."""
    from parley.sandbox import _linux as linux

    workdir = "/tmp"
    if not layers.namespaces:
        workdir = tempfile.mkdtemp(prefix="parley-code-")
        if layers.root:
            os.chown(workdir, NOBODY, NOBODY)
    flags = linux.CLONE_NEWPID | linux.CLONE_NEWNS if layers.namespaces else 0
    if layers.own_users:
        _own_user_namespace(layers, flags)
    elif flags:
        linux.unshare(flags)
    if layers.namespaces:
        options = f"size={TMP_BYTES},mode=1777"
        linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, options)
    return workdir


def _own_user_namespace(layers: Layers, flags: int) -> None:
    """Enter a new user namespace (and the namespaces in `flags`, which it then owns) that
    maps only the user this process is: `nobody` when the worker is root."""
    from parley.sandbox import _linux as linux

    if layers.root:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        linux.set_dumpable(True)  # its own /proc files, to write its maps (cleared below)
    uid, gid = os.getuid(), os.getgid()
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    every = ALL_PROCESSES if hard == resource.RLIM_INFINITY else min(hard, ALL_PROCESSES)
    resource.setrlimit(resource.RLIMIT_NPROC, (every, every))  # the cap over all of them
    try:
        linux.unshare(linux.CLONE_NEWUSER | flags)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    finally:
        if layers.root:
            linux.set_dumpable(False)


def _await_end(control: int, pid: int) -> None:
    """Until the code's process exits, or the worker closes `control` (or dies)."""
    try:
        exited = os.pidfd_open(pid)
    except OSError:  # before Linux 5.3: look every so often
        while not select.select([control], [], [], 0.2)[0]:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return
        return
    select.select([control, exited], [], [])


def kill_group(pid: int) -> None:
    """End the code's process and whatever it started (its namespace, or its group)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


def only_fds(*keep: int) -> None:
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


def _code_process(layers: Layers, jobs: int, out: int, workdir: str) -> NoReturn:
    """The process that runs the owner's code, job after job, until it must not go on."""
    me = os.getpid()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # its supervisor's handler is not its own
    try:
        _isolate(layers, workdir)
        session: _Session | str = _Session(layers, workdir)
    except BaseException as exc:
        session = f"the sandbox failed: {exc}"  # the answer to the first job
    with contextlib.suppress(BaseException):
        while (job := frames.read(jobs)) is not None:
            try:
                if isinstance(session, str):
                    raise RuntimeError(session)
                body, retire = session.call(job)
            except BaseException as exc:
                if os.getpid() != me:  # a process the code forked returned here: no say
                    os._exit(0)
                failure = {"ok": False, "error": str(exc) or type(exc).__name__}
                body, retire = json.dumps(failure).encode(), "the sandbox failed"
            _send(out, job["id"], retire, body)
            if retire is not None:
                break
    os._exit(0)


def _isolate(layers: Layers, workdir: str) -> None:
    """Isolated and unprivileged before the first job."""
    from parley.sandbox import _linux as linux

    os.setsid()  # its own process group: kill(0) and killpg reach only the call
    linux.adopt_orphans()  # what the code leaves running is found between calls
    if layers.namespaces:
        _mount_proc()
    os.chdir(workdir)
    if layers.root and not layers.own_users:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    if layers.own_users or (layers.namespaces and not layers.root):
        linux.drop_capabilities()  # root of its user namespace no more
    linux.no_new_privileges()
    if layers.landlock:
        read = [*python_dirs(), *_SYSTEM_READ]
        if not layers.namespaces:  # without a pid namespace /proc shows the server's processes
            read.remove("/proc")
        linux.landlock(read, [workdir, os.devnull], tcp=layers.online)
    if layers.seccomp:
        linux.refuse_syscalls()
    linux.die_with_parent(signal.SIGKILL)  # last: a change of credentials clears it


def _mount_proc() -> None:
    """A read-only /proc that shows the call's pid namespace only."""
    from parley.sandbox import _linux as linux

    flags = linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC | linux.MS_RDONLY
    linux.mount("proc", "/proc", "proc", flags)


def python_dirs() -> list[str]:
    """Where Python and the importable packages live."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path}
    return sorted({os.path.realpath(d) for d in found if d and os.path.isdir(d)})


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


class _Session:
    """The code's process, ready before its first job: then the code's settings, set once
    for the process's life, and the code's module once loaded."""

    def __init__(self, layers: Layers, workdir: str) -> None:
        from parley.sandbox.hygiene import Snapshot

        self.layers, self.workdir = layers, workdir
        self.limits: dict[str, Any] | None = None
        self.namespace: dict[str, Any] | None = None
        self.stdout, self.stderr, self.me = sys.stdout, sys.stderr, os.getpid()
        signal.signal(signal.SIGXCPU, _out_of_cpu)
        tempfile.tempdir = workdir
        self.snapshot = Snapshot.take()  # before any owner's code is loaded
        self._warm_up()

    def _warm_up(self) -> None:
        """Take a tiny code through a call's whole path once while waiting for the first
        job: a forked process shares its parent's pages until it writes to them, and a
        call's first run would otherwise copy thousands of them (5 ms, measured)."""
        from parley.sandbox import run

        run.dump(run.call(run.load(_WARM_UP), _WARM_UP), 1 << 20)
        linecache.cache.pop(_WARM_UP["filename"], None)
        problem = self.snapshot.left_behind() or self.snapshot.reset(self.workdir)
        if problem is not None:
            raise RuntimeError(f"the sandbox's warm-up left something behind: {problem}")

    def call(self, job: dict[str, Any]) -> tuple[bytes, str | None]:
        """Run `job`: the reply's JSON, and why the process must not serve the next call
        (None: it may)."""
        from parley.sandbox import run

        if self.limits is None:
            self.limits = job["limits"]
            _limit(self.limits, self.layers)
            _guard_network(list(self.limits.get("allowed_hosts") or ()))
            self.snapshot.keep_limits()
        cpu = int(self.limits["cpu_seconds"])
        os.environ.clear()
        os.environ.update({**job.get("env", {}), "HOME": self.workdir, "TMPDIR": self.workdir})
        _cpu_for_call(cpu)
        printed = _Printed()
        sys.stdout = sys.stderr = printed
        try:
            if self.namespace is None:
                self.namespace = run.load(job)
            reply = run.call(self.namespace, job)
        except run.CodeFailed as failed:
            reply = failed.reply
        if os.getpid() != self.me:  # a process the code forked returned here: no say
            os._exit(0)
        sys.stdout, sys.stderr = self.stdout, self.stderr
        problem = self.snapshot.left_behind()  # first: it puts back what the reply needs
        reply["printed"] = printed.text()
        body, whole = run.dump(reply, int(self.limits["max_output_bytes"]))
        if not (whole and reply.get("ok")):
            return body, problem or "the call failed"
        problem = problem or self.snapshot.reset(self.workdir)
        if problem is None and _cpu_used() > CPU_BEFORE_REPLACING:
            problem = "it used its share of CPU time"
        return body, problem


def _send(out: int, job_id: int, retire: str | None, reply: bytes) -> None:
    """The reply frame: `reply` (JSON) for job `job_id`, and why this process must not serve
    the next call of its code (null: it may)."""
    head = b'{"id":%d,"retire":%s,"reply":' % (job_id, json.dumps(retire).encode())
    body = head + reply + b"}"
    view = memoryview(frames.HEADER.pack(len(body)) + body)
    while view:
        view = view[_os_write(out, view) :]


def _limit(limits: dict[str, Any], layers: Layers) -> None:
    """The process's limits for its life; the CPU time is given call by call."""
    cpu = int(limits["cpu_seconds"])
    memory = int(limits["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (TMP_BYTES, TMP_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    processes = int(limits["processes"])
    if layers.own_users:  # its supervisor counts too
        resource.setrlimit(resource.RLIMIT_NPROC, (processes + 1, processes + 1))
    elif layers.root or layers.namespaces:
        # counted per user and user namespace: only sandboxed processes count
        shared = processes + SHARED_PROCESSES
        resource.setrlimit(resource.RLIMIT_NPROC, (shared, shared))


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_for_call(cpu: int) -> None:
    """This call's CPU seconds on top of what the process has used (whole seconds: at
    least `cpu - CPU_BEFORE_REPLACING` of them)."""
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = min(math.floor(_cpu_used()) + cpu, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _out_of_cpu(signum: int, frame: Any) -> None:
    """SIGXCPU: pid 1 of a namespace ignores it unless handled (the hard limit, a second
    later, kills it whatever it runs)."""
    os._exit(OUT_OF_CPU)


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
