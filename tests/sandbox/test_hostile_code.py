"""A hostile corpus through the real server: each attack is contained, the turn is a bot
break with the reason in the invocation log, and another conversation still works."""

from __future__ import annotations

import os
import socket
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot

SECRET = "parley-test-secret-0451"

ATTACKS = {
    "write_outside": "open('/work/pwned.txt', 'w').write('x')",
    "read_environ": "return open('/proc/self/environ').read()",
    "read_server_env": (
        "import os\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit():\n"
        "            try:\n"
        "                text = open(f'/proc/{pid}/environ').read()\n"
        "            except OSError:\n"
        "                continue\n"
        f"            assert '{SECRET}' not in text\n"
        f"    assert '{SECRET}' not in str(os.environ)\n"
        "    raise RuntimeError('no secret found')"
    ),
    "socket": "import socket\n    socket.create_connection(('127.0.0.1', PORT), timeout=1)",
    "fork_bomb": "import os\n    while True:\n        os.fork()",
    "memory_bomb": "blocks = [bytearray(10**8) for _ in range(100)]",
    "endless_loop": "while True:\n        pass",
    "deep_recursion": (
        "import sys\n    sys.setrecursionlimit(10**7)\n"
        "    def down(n):\n        return down(n + 1)\n    down(0)"
    ),
    "huge_output": "return {'statusCode': 200, 'body': 'x' * 100_000_000}",
    "kill_parent": "import os\n    os.kill(os.getppid(), 9)",
    "kill_group": "import os, signal\n    os.killpg(os.getpgrp(), signal.SIGKILL)",
    "kill_everyone": "import os\n    os.kill(-1, 9)",
    "forged_reply": (  # a frame of its own on every descriptor, then gone: not a reply
        "import os, struct\n"
        "    for fd in os.listdir('/proc/self/fd'):\n"
        "        try:\n"
        "            os.write(int(fd), struct.pack('>I', 3) + b'[1]')\n"
        "        except OSError:\n"
        "            pass\n"
        "    os._exit(0)"
    ),
}

NORMAL = """\
import json
def main(event, context):
    body = json.loads(event["body"])
    answer = {"status": True, "response": ["fine, " + body["user"]["user_id"]]}
    return {"statusCode": 200, "body": json.dumps(answer)}
"""


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[int, list[Any]]]:
    """A real listener on 127.0.0.1 that records whoever connects."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[Any] = []

    def accept() -> None:
        while True:
            try:
                connection, address = server.accept()
            except OSError:
                return
            accepted.append(address)
            connection.close()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


def _bot_yaml(port: int) -> str:
    intents = "\n".join(f"  {n}: {{examples: [attack {n}]}}" for n in ATTACKS)
    nodes = []
    for name, body in ATTACKS.items():
        source = f"def main(event, context):\n    {body.replace('PORT', str(port))}\n"
        code = textwrap.indent(source, " " * 6)
        nodes.append(f"  {name}:\n    intents: {name}\n    code: |\n{code}")
    normal = textwrap.indent(NORMAL, " " * 6)
    return (
        "name: hostile\n"
        "settings: {bot_break_message: 'Sorry, broken.'}\n"
        "sandbox: {timeout: 3, cpu_seconds: 3, memory_mb: 256}\n"
        f"intents:\n{intents}\n  normal: {{examples: [all good]}}\n"
        f"nodes:\n{chr(10).join(nodes)}\n"
        f"  normal:\n    intents: normal\n    code: |\n{normal}"
    )


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, listener: tuple[int, list[Any]]
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile")
    bot = write_bot(folder / "hostile", _bot_yaml(listener[0]))
    os.environ["PARLEY_TEST_SERVER_SECRET"] = SECRET
    try:
        with serve([bot], Settings(database_url=f"sqlite:///{folder}/parley.db")) as base:
            yield base
    finally:
        del os.environ["PARLEY_TEST_SERVER_SECRET"]


def say(base: str, conversation: str, text: str) -> Any:
    body = {
        "conversation_id": conversation,
        "message": {"type": "text", "content": text},
        "user": {"id": conversation},
    }
    response = httpx.post(f"{base}/api/v1/bots/hostile/dialog", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def invocations(base: str, conversation: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{base}/api/v1/invocations", params={"conversation_id": conversation})
    found: list[dict[str, Any]] = answer.json()["invocations"]
    return found


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_hostile_code_is_contained_and_reported(
    server: str, attack: str, listener: tuple[int, list[Any]]
) -> None:
    answer = say(server, f"attack-{attack}", f"attack {attack}")
    assert answer["messages"] == [{"type": "text", "content": "Sorry, broken."}]
    (logged,) = invocations(server, f"attack-{attack}")
    assert logged["kind"] == "code" and logged["error"], logged
    assert "worker died" not in logged["error"]  # one call's failure is that call's alone
    assert SECRET not in str(logged)
    assert not Path("/work/pwned.txt").exists()
    assert listener[1] == []  # nobody reached the listener
    after = say(server, f"after-{attack}", "all good")
    assert after["messages"] == [{"type": "text", "content": f"fine, after-{attack}"}]


def test_a_runtime_exception_logs_its_traceback_but_shows_the_user_only_the_break(
    server: str,
) -> None:
    answer = say(server, "trace", "attack write_outside")
    (logged,) = invocations(server, "trace")
    assert "Traceback (most recent call last)" in logged["error"]
    assert 'File "<inline code>", line 2, in main' in logged["error"]
    assert "Traceback" not in str(answer)
