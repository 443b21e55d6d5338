"""The sandbox pool on its own: levels, the network allow-list, limits, a dead worker."""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.config import Settings
from parley.errors import ParleyError
from parley.sandbox import Isolation, Job, Limits, SandboxPool
from parley.server.app import create_app

CONNECT = """\
import socket
def main(event, context):
    with socket.create_connection((HOST, PORT), timeout=2) as sock:
        return sock.recv(10).decode()
"""


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connection.sendall(b"hello")
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def _connect(host: str, port: int, allowed: tuple[str, ...]) -> Job:
    source = CONNECT.replace("HOST", repr(host)).replace("PORT", str(port))
    return Job(source, "net.py", "main", "{}", limits=Limits(allowed_hosts=allowed))


async def test_only_the_allowed_hosts_are_reachable(listener: int) -> None:
    pool = SandboxPool()
    try:
        allowed = await pool.run(_connect("127.0.0.1", listener, ("127.0.0.1",)))
        other = await pool.run(_connect("127.0.0.2", listener, ("127.0.0.1",)))
        none = await pool.run(_connect("127.0.0.1", listener, ()))
    finally:
        await pool.aclose()
    assert allowed.ok and allowed.value == "hello", allowed.error
    assert not other.ok and "not allowed" in (other.error or "")
    assert not none.ok


async def test_the_isolation_level_is_logged_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    pool = SandboxPool()
    with caplog.at_level(logging.INFO, logger="parley.sandbox"):
        level = await pool.start()
    await pool.aclose()
    assert level is Isolation.NAMESPACES  # this machine offers them (root or `unshare -Ur`)
    assert f"code sandbox isolation: {level.value}" in caplog.text


async def test_the_standard_library_imports_though_python_is_in_a_closed_home() -> None:
    source = "import csv, zoneinfo, sqlite3\ndef main(event, context):\n    return 'ok'\n"
    pool = SandboxPool()
    try:
        result = await pool.run(Job(source, "imports.py", "main", "{}"))
    finally:
        await pool.aclose()
    assert result.ok, result.error


async def test_a_dead_worker_is_replaced_on_the_next_call() -> None:
    job = Job("def main(event, context):\n    return 2\n", "two.py", "main", "{}")
    pool = SandboxPool()
    try:
        await pool.start()
        pool._workers["offline"].process.kill()  # as if the kernel's OOM killer took it
        pool._workers["offline"].process.wait()
        result = await pool.run(job)
    finally:
        await pool.aclose()
    assert result.ok and result.value == 2


async def test_the_code_sees_only_the_declared_environment_and_its_temp_directory() -> None:
    source = (
        "import os\n"
        "def main(event, context):\n"
        "    open('note.txt', 'w').write('x')\n"
        "    return [dict(os.environ), os.listdir('.'), os.getcwd()]\n"
    )
    job = Job(source, "env.py", "main", "{}", env={"CURRENCY": "INR"})
    pool = SandboxPool()
    try:
        first, second = await pool.run(job), await pool.run(job)
    finally:
        await pool.aclose()
    environ, files, cwd = first.value
    assert environ == {"CURRENCY": "INR", "HOME": cwd, "TMPDIR": cwd}
    assert files == ["note.txt"] and second.value[1] == ["note.txt"]  # fresh every call


async def test_the_code_cannot_make_namespaces_mount_or_trace_but_may_fork_and_thread() -> None:
    source = """\
import ctypes, os, threading
def main(event, context):
    libc = ctypes.CDLL(None, use_errno=True)
    refused = []
    for call in (lambda: libc.unshare(0x10000000), lambda: libc.ptrace(16, 1, 0, 0),
                 lambda: libc.mount(None, b"/", None, 32 | 4096, None)):
        ctypes.set_errno(0)
        refused.append([call(), ctypes.get_errno()])
    worker = threading.Thread(target=lambda: None)
    worker.start()
    worker.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    return [refused, os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])]
"""
    pool = SandboxPool()
    try:
        result = await pool.run(Job(source, "calls.py", "main", "{}"))
    finally:
        await pool.aclose()
    assert result.ok, result.traceback
    refused, child = result.value
    assert refused == [[-1, 1], [-1, 1], [-1, 1]]  # EPERM, every one
    assert child == 7


def test_an_unknown_isolation_setting_is_refused_at_start_up() -> None:
    with pytest.raises(ParleyError, match="PARLEY_SANDBOX_ISOLATION must be auto"):
        create_app([], Settings(sandbox_isolation="chroot"))


def test_the_weak_level_sweeps_temp_dirs_left_by_killed_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without namespaces a call's temp dir is a real directory; an hour-old one is swept."""
    from parley.sandbox import worker

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old, fresh, other = (tmp_path / n for n in ("parley-code-old", "parley-code-new", "keep"))
    for folder in (old, fresh, other):
        folder.mkdir()
    two_hours_ago = time.time() - 7200
    for folder in (old, other):
        os.utime(folder, (two_hours_ago, two_hours_ago))
    worker._sweep_temp_dirs()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep", "parley-code-new"]


def test_the_worker_preloads_every_parley_module_a_code_process_imports() -> None:
    """A code's process imports after it is isolated, when its /tmp is a new tmpfs: a parley
    installed under /tmp (a CI clone, say) is then out of its sight, so the worker must have
    imported every parley module that process needs before it forks."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import parley.sandbox

    folder = Path(parley.sandbox.__file__).parent
    needed = set()
    for name in ("process.py", "run.py", "hygiene.py", "initai_client.py"):
        for node in ast.walk(ast.parse((folder / name).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "parley.sandbox":
                needed |= {f"parley.sandbox.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("parley."):
                needed.add(str(node.module))
    probe = (
        "import sys, parley.sandbox.worker as w; w._preload();"
        f"missing = {sorted(needed)!r}; print([m for m in missing if m not in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
