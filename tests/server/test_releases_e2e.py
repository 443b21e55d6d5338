"""Releases through a real parley server: `parley deploy` and `parley rollback` (the CLI, on
the server's SQLite file) switch production conversations while the server runs, the test
environment keeps the working copy, and a turn in flight finishes on its release."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from parley.cli import app
from parley.config import Settings
from tests.harness import serve, write_bot

BOT = """\
name: train
environments:
  test: {{base_url: "{base}"}}
  production: {{base_url: "{base}"}}
settings: {{bot_break_message: "Sorry, something went wrong."}}
intents:
  hello: {{examples: ["hello there"]}}
  hold: {{examples: ["hold the line"]}}
nodes:
  hello: {{intents: [hello], says: "{version} says hello"}}
  hold:
    intents: [hold]
    webhook: {{path: /hold, timeout: 20}}
    success: "{version} after the webhook"
"""


class HoldingWebhook:
    """A Haptik webhook on 127.0.0.1 whose /hold answers only once `release()` is called."""

    def __init__(self) -> None:
        self.entered, self.gate = threading.Event(), threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                hook.entered.set()
                hook.gate.wait(20)
                body = json.dumps({"status": True, "response": ["from the webhook"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def webhook() -> Iterator[HoldingWebhook]:
    hook = HoldingWebhook()
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.gate.set()
    hook.server.shutdown()
    hook.server.server_close()


@pytest.fixture
def folder(tmp_path: Path, webhook: HoldingWebhook) -> Path:
    return write(tmp_path, webhook, "v1")


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/parley.db"


@contextmanager
def server(folder: Path, database: str) -> Iterator[httpx.Client]:
    settings = Settings(database_url=database, allowed_hosts="127.0.0.1")
    with serve([folder], settings) as base, httpx.Client(base_url=base, timeout=30) as api:
        yield api


def write(tmp_path: Path, webhook: HoldingWebhook, version: str) -> Path:
    return write_bot(tmp_path / "train", BOT.format(base=webhook.base, version=version))


def parley(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


counter = iter(range(10**6))


def say(api: httpx.Client, text: str, environment: str) -> tuple[list[str], int | None]:
    body = {
        "conversation_id": f"c{next(counter)}",
        "message": {"type": "text", "content": text},
        "environment": environment,
    }
    response = api.post("/api/v1/bots/train/dialog", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    return [m["content"] for m in answer["messages"]], answer.get("release")


def eventually(check: Callable[[], bool]) -> None:
    """A running server checks the current release once a second: wait that out."""
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, "the server never switched release"
        time.sleep(0.1)


def production_says(api: httpx.Client, text: str, release: int) -> Callable[[], bool]:
    return lambda: say(api, "hello there", "production") == ([text], release)


def test_deploy_switches_production_and_rollback_switches_it_back(
    tmp_path: Path, webhook: HoldingWebhook, folder: Path, database: str
) -> None:
    with server(folder, database) as api:
        assert say(api, "hello there", "production") == (["v1 says hello"], None)
        assert "release 1" in parley("deploy", folder, "--database", database)
        write(tmp_path, webhook, "v2")
        assert "release 2" in parley("deploy", folder, "--database", database, "--note", "v2")

        eventually(production_says(api, "v2 says hello", 2))
        assert say(api, "hello there", "test") == (["v1 says hello"], None)

        assert "now runs release 1" in parley("rollback", "1", "--database", database)
        eventually(production_says(api, "v1 says hello", 1))
        assert say(api, "hello there", "test") == (["v1 says hello"], None)


def test_a_turn_in_flight_during_a_deploy_finishes_on_the_release_it_began_with(
    tmp_path: Path, webhook: HoldingWebhook, folder: Path, database: str
) -> None:
    parley("deploy", folder, "--database", database)
    with (
        server(folder, database) as api,
        httpx.Client(base_url=api.base_url, timeout=30) as other,  # for the other thread
        ThreadPoolExecutor(1) as pool,
    ):
        held = pool.submit(say, other, "hold the line", "production")
        assert webhook.entered.wait(20), "the turn never reached the webhook"

        write(tmp_path, webhook, "v2")
        parley("deploy", folder, "--database", database)
        eventually(production_says(api, "v2 says hello", 2))  # the server did switch
        webhook.gate.set()

        assert held.result(30) == (["from the webhook", "v1 after the webhook"], 1)
        webhook.entered.clear()
        assert say(api, "hold the line", "production") == (
            ["from the webhook", "v2 after the webhook"],
            2,
        )


def test_a_release_the_server_cannot_load_is_a_503_for_production_only(
    tmp_path: Path,
    webhook: HoldingWebhook,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write(tmp_path, webhook, "v1")
    monkeypatch.setenv("TRAIN_GREETING", "v2")
    parley("deploy", write(tmp_path, webhook, "${TRAIN_GREETING}"), "--database", database)
    monkeypatch.delenv("TRAIN_GREETING")
    write(tmp_path, webhook, "v1")

    with server(folder, database) as api:
        body = {"conversation_id": "c1", "message": {"type": "text", "content": "hello there"}}
        response = api.post("/api/v1/bots/train/dialog", json={**body, "environment": "production"})
        assert response.status_code == 503
        assert response.json()["error"] == {
            "code": "unavailable",
            "message": "release 1 of bot 'train' cannot be loaded here (see the log)",
        }
        assert say(api, "hello there", "test") == (["v1 says hello"], None)
