"""The sandbox as a normal user (a user namespace instead of root's `nobody`): run a pool
as uid 1000 through `setpriv`, with the system's Python (the sandbox needs only the
standard library)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src"
PYTHON = shutil.which("python3", path="/usr/bin:/bin")

SCRIPT = """
import asyncio, json, sys
from parley.sandbox import Job, Limits, SandboxPool
CASES = {
    "ok": "def main(e, c):\\n    return 1",
    "view": "import os\\ndef main(e, c):\\n    return [os.getppid(), "
    "[p for p in os.listdir('/proc') if p.isdigit()]]",
    "write": "def main(e, c):\\n    open('/tmp/../etc/pwned', 'w')",
    "remount": "import ctypes\\ndef main(e, c):\\n    return ctypes.CDLL(None).mount("
    "None, b'/', None, 32 | 4096, None)",
    "fork": "import os\\ndef main(e, c):\\n    while True:\\n        os.fork()",
}
async def run():
    pool = SandboxPool("namespaces")
    out = {"level": (await pool.start()).value}
    for name, source in CASES.items():
        result = await pool.run(Job(source, "x.py", "main", "{}", limits=Limits(timeout=5)))
        out[name] = [result.ok, result.value, result.error]
    await pool.aclose()
    print(json.dumps(out))
asyncio.run(run())
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv") or PYTHON is None,
    reason="needs root (to become uid 1000), setpriv and /usr/bin/python3",
)
def test_a_normal_user_gets_namespaces_and_the_same_containment(tmp_path: Path) -> None:
    probe = subprocess.run([str(PYTHON), "-c", "import sys; print(sys.version_info >= (3, 11))"],
                           capture_output=True, text=True)  # fmt: skip
    if probe.stdout.strip() != "True":
        pytest.skip("the system Python is older than 3.11")
    done = subprocess.run(
        ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", str(PYTHON), "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["level"] == "namespaces"
    assert out["ok"] == [True, 1, None]
    assert out["view"][1] == [0, ["1"]]  # no parent, only itself: the server is invisible
    assert out["write"][0] is False and "Read-only file system" in out["write"][2]
    assert out["remount"][1] == -1  # no capability left to remount anything writable
    assert out["fork"][0] is False and "Resource temporarily unavailable" in out["fork"][2]
    assert not Path("/etc/pwned").exists()
