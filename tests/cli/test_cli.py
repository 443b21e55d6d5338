"""The CLI as a user runs it: real processes for `run` and `chat`, CliRunner for the rest."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from parley.cli import app
from parley.model import Conversation, Invocation, TurnRecord, User
from parley.storage import create_store
from tests.harness import free_port, write_bot

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
PARLEY = [sys.executable, "-c", "from parley.cli import main; main()"]


def spawn(args: list[str], webhook: int = 0, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if webhook:  # the example bot reads its test base URL from SHOP_WEBHOOK_URL
        env["SHOP_WEBHOOK_URL"] = f"http://127.0.0.1:{webhook}"
    return subprocess.Popen(args, env=env, text=True, cwd=kw.pop("cwd", ROOT), **kw)  # type: ignore[call-overload]


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out or ""


def wait_http(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the process exited early"
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def shop_webhook() -> Iterator[int]:
    port = free_port()
    process = spawn([sys.executable, str(SHOP / "webhook.py"), str(port)], stdout=subprocess.PIPE)
    wait_http(f"http://127.0.0.1:{port}/", process)
    yield port
    stop(process)


def test_check_accepts_the_example_bot() -> None:
    result = CliRunner().invoke(app, ["check", str(SHOP)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_check_names_file_line_and_key_and_exits_1(tmp_path: Path) -> None:
    bot = write_bot(tmp_path / "bad", "name: bad\nnodes:\n  a:\n    intents: [hi]\n    sayz: hi\n")
    result = CliRunner().invoke(app, ["check", str(bot)])
    assert result.exit_code == 1
    assert f"{bot / 'bot.yaml'}:5: nodes.a.sayz: unknown key" in result.output
    assert "did you mean `says`?" in result.output

    (bot / "bot.yaml").write_text("name: bad\nnodes:\n  a:\n    intents: [nope]\n")
    result = CliRunner().invoke(app, ["check", str(bot)])
    assert result.exit_code == 1
    assert f"{bot / 'bot.yaml'}:4: nodes.a.intents[0]" in result.output and "nope" in result.output


def test_run_serves_the_bot_and_logs_print_the_call(tmp_path: Path, shop_webhook: int) -> None:
    port, database = free_port(), f"sqlite:///{tmp_path}/parley.db"
    server = spawn(
        [*PARLEY, "run", str(SHOP), "--port", str(port), "--database", database],
        webhook=shop_webhook,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", server)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/bots/shop/dialog",
            json={"conversation_id": "cli", "message": {"content": "how much is the speaker"}},
            timeout=10,
        ).json()
    finally:
        output = stop(server)
    assert answer["messages"][0]["content"].endswith("Rs.1599")
    assert f"http://127.0.0.1:{port}/api/v1/bots/shop/dialog" in output
    assert "turn bot=shop conversation=cli" in output

    logs = CliRunner().invoke(app, ["logs", "--database", database])
    assert logs.exit_code == 0, logs.output
    assert "shop/check_price" in logs.output and "200" in logs.output
    assert "sha1=****" in logs.output and '"entity_value": "speaker"' in logs.output


def test_chat_talks_to_the_bot_and_numbers_choices(tmp_path: Path, shop_webhook: int) -> None:
    chat = spawn(
        [*PARLEY, "chat", str(SHOP), "--database", f"sqlite:///{tmp_path}/chat.db"],
        webhook=shop_webhook,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    script = "hi\n1\nwhat does it cost\npower bank\n/history\n/quit\n"
    out, _ = chat.communicate(script, timeout=60)
    assert chat.returncode == 0, out
    assert "1. Speaker" in out and "2. Power bank" in out
    assert "The Wireless Radio Alarm Clock Speaker can be yours only for Rs.1599" in out
    assert "Which product would you like to price?" in out
    assert "The Ambrane Powerbank can be yours only for Rs.1799" in out
    assert "user: power bank" in out and "user: price of the speaker" in out


async def test_logs_tail_prints_new_calls_as_they_happen(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/tail.db"
    store = create_store(database)
    await store.open()
    tail = spawn(
        [*PARLEY, "logs", "--tail", "--interval", "0.1", "--database", database],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in tail.stdout or []]).start()
    try:
        conv = Conversation("tail-1", "shop", "u1")
        call = Invocation(
            turn_id="t1", bot="shop", conversation_id="tail-1", node="check_price", kind="webhook",
            url="http://127.0.0.1:9/price", created_at=time.time(), dialect="haptik",
            status=500, error="webhook answered HTTP 500", request_body='{"node": "check_price"}',
        )  # fmt: skip
        await store.save_turn(TurnRecord("t1", conv, User("u1"), [], [call], 0))
        seen = ""
        deadline = time.monotonic() + 20
        while "webhook answered HTTP 500" not in seen and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                seen += lines.get(timeout=0.5)
    finally:
        stop(tail)
        await store.close()
    assert "shop/check_price" in seen and "failed: webhook answered HTTP 500" in seen
