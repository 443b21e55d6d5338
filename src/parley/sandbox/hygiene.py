"""What a warm process must find as it was for it to serve its code's next call.

Between calls the process resets what a call may change in passing (its current
directory, its environment, its umask, its temp directory's contents). Anything else the
code left behind retires the process instead, so the next call gets a fresh one: a thread
or a child process still running, a change to `builtins` or to a module the sandbox itself
relies on, a signal handler, a timer, a tracer, a resource limit. Module-level state of the
owner's own code, and the modules it imported, stay (as in AWS Lambda).
"""

from __future__ import annotations

import importlib
import os
import resource
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WATCHED = (
    "builtins", "sys", "os", "posixpath", "json", "json.decoder", "json.encoder",
    "json.scanner", "signal", "_signal", "time", "math", "resource", "tempfile", "shutil",
    "parley.sandbox.frames", "parley.sandbox.run", "parley.sandbox.hygiene",
    "parley.sandbox.process", "parley.sandbox.initai_client",
)  # fmt: skip
"""Modules whose namespaces must stay as they were: `builtins`, and what the sandbox runs
between the owner's calls. (Other modules are the code's own state, as its globals are.)"""
_LIMITS = (
    resource.RLIMIT_AS, resource.RLIMIT_FSIZE, resource.RLIMIT_CORE, resource.RLIMIT_NOFILE,
    resource.RLIMIT_NPROC,
)  # fmt: skip
_TIMERS = (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)
_QUIET = (0.0, 0.0)
# What runs before the watched modules are known to be intact: taken now, not looked up
# in `builtins` or `os` after the owner's code may have replaced them.
_tuple, _zip = tuple, zip
_getsignal: Callable[[int], Any] = importlib.import_module("_signal").getsignal
"""`signal.getsignal` without its conversion to an Enum, 30 times faster (no stub exists)."""
_stat, _waitpid = os.stat, os.waitpid


@dataclass(slots=True)
class _Namespace:
    name: str
    namespace: dict[str, Any]
    keys: tuple[str, ...]
    values: tuple[Any, ...]

    def changed(self) -> bool:
        # a tuple comparison in C: identical items are equal at once (a name bound to an
        # equal object instead, or only renamed, is not seen: harmless to the sandbox)
        return _tuple(self.namespace.values()) != self.values

    def restore(self) -> None:
        self.namespace.clear()
        self.namespace.update(_zip(self.keys, self.values))


@dataclass(slots=True)
class Snapshot:
    """The process as it was before any owner's code was loaded (its resource limits as
    they were set for its code: `keep_limits`)."""

    namespaces: list[_Namespace]
    handlers: list[tuple[int, Any]]
    limits: list[tuple[int, tuple[int, int]]]
    cpu_hard: int
    recursion: int
    umask: int
    threads: int

    @classmethod
    def take(cls) -> Snapshot:
        namespaces = []
        for name in WATCHED:
            module = sys.modules.get(name)
            if module is not None:
                space = vars(module)
                namespaces.append(_Namespace(name, space, tuple(space), tuple(space.values())))
        umask = os.umask(0o022)
        os.umask(umask)
        return cls(
            namespaces=namespaces,
            handlers=[(s, _getsignal(s)) for s in sorted(signal.valid_signals())],
            limits=[(limit, resource.getrlimit(limit)) for limit in _LIMITS],
            cpu_hard=resource.getrlimit(resource.RLIMIT_CPU)[1],
            recursion=sys.getrecursionlimit(),
            umask=umask,
            threads=_threads(),
        )

    def keep_limits(self) -> None:
        self.limits = [(limit, resource.getrlimit(limit)) for limit in _LIMITS]
        self.cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]

    def left_behind(self) -> str | None:
        """What the last call left that a reset cannot undo, if anything (the first found).
        Changed modules are put back first, so that the call's own reply can be sent."""
        changed = [space for space in self.namespaces if space.changed()]
        for space in changed:
            space.restore()
        if changed:
            return f"the `{changed[0].name}` module was changed"
        if _threads() != self.threads:
            return "a thread still runs"
        if _children_alive():
            return "a child process still runs"
        for number, handler in self.handlers:
            if _getsignal(number) is not handler:
                return f"a handler for signal {number} was set"
        if any(signal.getitimer(timer) != _QUIET for timer in _TIMERS):
            return "a timer was set"
        if sys.gettrace() is not None or sys.getprofile() is not None:
            return "a tracer was set"
        if resource.getrlimit(resource.RLIMIT_CPU)[1] != self.cpu_hard or any(
            resource.getrlimit(limit) != values for limit, values in self.limits
        ):
            return "a resource limit was changed"
        return None

    def reset(self, workdir: str) -> str | None:
        """Undo what a call may change in passing; why the process cannot go on, if so."""
        os.umask(self.umask)
        sys.setrecursionlimit(self.recursion)
        try:
            os.chdir(workdir)
            empty(workdir)
            os.utime(workdir)  # in use: a worker's start-up sweep keeps it (worker.py)
        except OSError as exc:
            return f"its temp directory could not be emptied: {exc}"
        return None


def empty(directory: str) -> None:
    """Remove everything in `directory`, keeping it."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


def _threads() -> int:
    """This process's threads, whoever started them (`/proc` counts them in its links)."""
    try:
        return _stat("/proc/self/task").st_nlink - 2
    except OSError:
        import threading

        return threading.active_count()


def _children_alive() -> bool:
    """Reap finished children (this process adopts orphans); whether any still runs."""
    while True:
        try:
            pid, _ = _waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True
