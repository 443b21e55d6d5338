"""The CLI as a user runs it: real processes for `run` and `chat`, CliRunner for the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from parley.cli import app
from tests.harness import free_port, write_bot

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
PARLEY = [sys.executable, "-c", "from parley.cli import main; main()"]


def spawn(args: list[str], **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
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


def shop_copy(tmp_path: Path, webhook_port: int) -> Path:
    """The example bot with its test base URL pointed at this test's webhook port."""
    text = (SHOP / "bot.yaml").read_text(encoding="utf-8")
    assert "http://127.0.0.1:9000" in text
    return write_bot(tmp_path / "shop", text.replace(":9000", f":{webhook_port}"))


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
    bot = shop_copy(tmp_path, shop_webhook)
    server = spawn(
        [*PARLEY, "run", str(bot), "--port", str(port), "--database", database],
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
    bot = shop_copy(tmp_path, shop_webhook)
    chat = spawn(
        [*PARLEY, "chat", str(bot), "--database", f"sqlite:///{tmp_path}/chat.db"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = chat.communicate("hi\nwhat does it cost\npower bank\n/history\n/quit\n", timeout=60)
    assert chat.returncode == 0, out
    assert "Which product would you like to price?" in out
    assert "The Ambrane Powerbank can be yours only for Rs.1799" in out
    assert "user: power bank" in out
