"""Warm processes through the real pool: a code's module stays loaded between its calls, in
processes no other bot, code or setting shares, each call starts clean, and anything that
goes wrong gets the process replaced while the next call works."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.sandbox import Job, Limits, SandboxPool, warm
from tests.sandbox.test_hostile_code import ATTACKS

CODE = """\
import os, sys, time
TOKEN = os.urandom(8).hex()  # one per process: the same token, the same process
calls = 0

def main(event, context):
    global calls
    calls += 1
    action = event["body"]
ACTIONS
    return {
        "token": TOKEN, "calls": calls, "files": sorted(os.listdir(".")), "cwd": os.getcwd(),
        "env": dict(os.environ), "umask": os.umask(0o022),
    }
"""

ACTIONS = {
    "look": "pass",
    "wait": "time.sleep(0.5)",
    "write": (
        "open('note.txt', 'w').write('x')\n"
        "os.makedirs('deep/er')\n"
        "open('deep/er/file', 'w').write('y')"
    ),
    "wander": "os.chdir('/usr')\nos.environ['LEAKED'] = '1'\nos.umask(0)",
    # crossing a limit
    "deadline": "while True:\n    pass",
    "cpu": "while True:\n    pass",
    "memory": "blocks = [bytearray(10**8) for _ in range(100)]",
    "output": "return {'statusCode': 200, 'body': 'x' * 3_000_000}",
    "crash": "os._exit(3)",
    "segfault": "import ctypes\nctypes.string_at(0)",
    "exception": "raise RuntimeError('no')",
    # leaving something behind
    "thread": "import threading\nthreading.Thread(target=time.sleep, args=(60,)).start()",
    "child": "if os.fork() == 0:\n    time.sleep(60)\n    os._exit(0)",
    "builtins": "import builtins\nbuiltins.len = lambda thing: 0",
    "os_module": "os.listdir = lambda path='.': ['forged']",
    "handler": "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)",
    "alarm": "import signal\nsignal.alarm(100)",
    "tracer": "sys.settrace(lambda *args: None)",
    "rlimit": "import resource\nresource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))",
}
LIMITS = Limits(timeout=3, cpu_seconds=10, memory_mb=256, max_output_bytes=1_000_000)
CPU_BOUND = Limits(timeout=20, cpu_seconds=1, memory_mb=256)
"""The CPU limit, not the deadline, stops an endless loop (whatever the machine's load)."""


def _source() -> str:
    branches = "".join(
        f"    if action == {name!r}:\n{textwrap.indent(code, ' ' * 8)}\n"
        for name, code in ACTIONS.items()
    )
    return CODE.replace("ACTIONS\n", branches)


def job(action: str, *, owner: str = "bot:test", **changes: Any) -> Job:
    fields: dict[str, Any] = {
        "source": _source(), "filename": "warm.py", "entry": "main", "payload": action,
        "owner": owner, "limits": LIMITS, "env": {"CURRENCY": "INR"},
    }  # fmt: skip
    return Job(**{**fields, **changes})


@pytest.fixture
async def pool() -> AsyncIterator[SandboxPool]:
    sandbox = SandboxPool()
    try:
        yield sandbox
    finally:
        await sandbox.aclose()


async def look(pool: SandboxPool, **changes: Any) -> dict[str, Any]:
    result = await pool.run(job("look", **changes))
    assert result.ok, result.error
    value: dict[str, Any] = result.value
    return value


async def test_calls_of_one_code_reuse_a_warm_process_and_its_module_state(
    pool: SandboxPool,
) -> None:
    first, second, third = [await look(pool) for _ in range(3)]
    assert first["token"] == second["token"] == third["token"]
    assert [first["calls"], second["calls"], third["calls"]] == [1, 2, 3]


async def test_at_the_processes_level_too_calls_reuse_a_process_and_start_clean() -> None:
    pool = SandboxPool("processes")
    try:
        written = await pool.run(job("write"))
        after = await look(pool)
    finally:
        await pool.aclose()
    assert written.ok and written.value["files"] == ["deep", "note.txt"], written.error
    assert after["token"] == written.value["token"] and after["calls"] == 2
    assert after["files"] == [] and after["cwd"].startswith("/tmp/parley-code-")


async def test_two_bots_never_share_a_process(pool: SandboxPool) -> None:
    a1, b1, a2, b2 = [await look(pool, owner=owner) for owner in ("a:test", "b:test") * 2]
    assert a1["token"] == a2["token"] and b1["token"] == b2["token"]
    assert a1["token"] != b1["token"]
    assert [a2["calls"], b2["calls"]] == [2, 2]


@pytest.mark.parametrize(
    "change",
    [
        {"owner": "bot:production"},
        {"env": {"CURRENCY": "USD"}},
        {"limits": Limits(timeout=4, cpu_seconds=10, memory_mb=256)},
        {"source": _source() + "\n# another release\n"},
    ],
    ids=["environment", "env", "limits", "code"],
)
async def test_other_code_or_settings_never_share_a_process(
    pool: SandboxPool, change: dict[str, Any]
) -> None:
    before = await look(pool)
    other = await look(pool, **change)
    after = await look(pool)
    assert before["token"] == after["token"] != other["token"]


async def test_a_file_written_in_the_temp_dir_is_gone_in_the_next_call(
    pool: SandboxPool,
) -> None:
    written = await pool.run(job("write"))
    after = await look(pool)
    assert written.ok and written.value["files"] == ["deep", "note.txt"]
    assert after["token"] == written.value["token"]  # the same process, emptied
    assert after["files"] == []


async def test_directory_environment_and_umask_changes_do_not_reach_the_next_call(
    pool: SandboxPool,
) -> None:
    wandered = await pool.run(job("wander"))
    after = await look(pool)
    assert wandered.ok, wandered.error
    assert wandered.value["cwd"] == "/usr" and "LEAKED" in wandered.value["env"]
    assert after["token"] == wandered.value["token"]
    assert after["cwd"] == "/tmp" and after["umask"] == 0o022
    assert after["env"] == {"CURRENCY": "INR", "HOME": "/tmp", "TMPDIR": "/tmp"}


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("deadline", "ran over its 3 s deadline"),
        ("cpu", "used up its 1 s of CPU"),
        ("memory", "MemoryError"),
        ("output", "over the 1000000 byte limit"),
        ("crash", "exited with status 3"),
        ("segfault", "killed by SIGSEGV"),
        ("exception", "RuntimeError: no"),
    ],
)
async def test_a_call_that_crosses_a_limit_gets_its_process_replaced_and_the_next_works(
    pool: SandboxPool, action: str, reason: str
) -> None:
    limits = CPU_BOUND if action == "cpu" else LIMITS
    before = await look(pool, limits=limits)
    crossed = await pool.run(job(action, limits=limits))
    after = await look(pool, limits=limits)
    assert not crossed.ok and reason in (crossed.error or ""), crossed.error
    assert after["token"] != before["token"] and after["calls"] == 1


@pytest.mark.parametrize(
    "action", ["thread", "child", "builtins", "os_module", "handler", "alarm", "tracer", "rlimit"]
)
async def test_a_call_that_leaves_something_behind_gets_its_process_replaced(
    pool: SandboxPool, action: str
) -> None:
    left = await pool.run(job(action))
    after = await look(pool)
    assert left.ok, left.error  # the call itself answered
    assert after["token"] != left.value["token"] and after["calls"] == 1
    assert after["files"] == [] and after["env"]["CURRENCY"] == "INR"


async def test_overlapping_calls_of_one_code_get_several_processes_then_reuse_them(
    pool: SandboxPool,
) -> None:
    async def waits() -> set[str]:
        results = await asyncio.gather(*(pool.run(job("wait")) for _ in range(3)))
        assert all(result.ok for result in results), [r.error for r in results]
        return {result.value["token"] for result in results}

    first = await waits()  # one process serves one call at a time
    second = await waits()
    assert len(first) == 3 and second == first


async def test_calls_beyond_a_codes_processes_wait_briefly_then_get_fresh_ones(
    pool: SandboxPool,
) -> None:
    """Six overlapping half-second calls: four warm processes, two fresh ones after a short
    wait (a long call does not hold up the next); four processes are kept."""

    async def waits() -> set[str]:
        results = await asyncio.gather(*(pool.run(job("wait")) for _ in range(6)))
        assert all(result.ok for result in results), [r.error for r in results]
        return {result.value["token"] for result in results}

    first = await waits()
    second = await waits()
    assert warm.PER_KEY == 4
    assert len(first) == len(second) == 6 and len(first & second) == 4


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


async def test_a_warm_process_that_dies_while_idle_is_replaced_without_failing_a_call(
    pool: SandboxPool,
) -> None:
    before = await look(pool)
    worker = pool._workers["offline"].process.pid
    killed = [code for supervisor in _children(worker) for code in _children(supervisor)]
    for code in killed:  # as the kernel's OOM killer might
        os.kill(code, signal.SIGKILL)
    for _ in range(1000):  # until they are gone (a kill is asynchronous)
        if not any(Path(f"/proc/{code}").exists() for code in killed):
            break
        await asyncio.sleep(0.01)
    after = await look(pool)
    assert after["token"] != before["token"] and after["calls"] == 1


def _hostile(body: str) -> str:
    return (
        "import os\nTOKEN = os.urandom(8).hex()\n"
        "def attack():\n"
        f"    {body.replace('PORT', '9')}\n"
        "def main(event, context):\n"
        "    if event['body'] == 'attack':\n"
        "        return attack()\n"
        "    return [TOKEN, sorted(os.listdir('.')), os.getcwd(), dict(os.environ)]\n"
    )


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_a_hostile_call_does_not_affect_the_next_call_of_the_same_code(
    pool: SandboxPool, attack: str
) -> None:
    source = _hostile(ATTACKS[attack])

    def call(body: str) -> Job:
        return Job(source, "hostile.py", "main", body, owner="hostile:test", limits=LIMITS)

    before = await pool.run(call("normal"))
    hostile = await pool.run(call("attack"))
    after = await pool.run(call("normal"))
    assert before.ok and after.ok, (before.error, after.error)
    assert after.value[1:] == [[], "/tmp", {"HOME": "/tmp", "TMPDIR": "/tmp"}]
    if not hostile.ok:
        assert after.value[0] != before.value[0]  # a failed call's process was replaced
