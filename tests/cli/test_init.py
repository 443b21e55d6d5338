"""`parley init`: a bot and a webhook that run as generated, as a new user tries them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from parley.cli import app
from parley.cli.init import bot_name_for
from parley.config import Settings
from tests.harness import free_port, serve


@contextmanager
def webhook_process(
    folder: Path, env: dict[str, str], argv: list[str] | None = None
) -> Iterator[str]:
    """The generated webhook, started exactly as its README says (`argv` + the port, run in
    `folder`; by default `python webhook.py PORT`)."""
    port = free_port()
    process = subprocess.Popen(
        [*(argv or [sys.executable, str(folder / "webhook.py")]), str(port)],
        cwd=folder,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the generated webhook never answered"
                time.sleep(0.05)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def init(*args: str) -> str:
    result = CliRunner().invoke(app, ["init", *args])
    assert result.exit_code == 0, result.output
    return result.output


async def say(base: str, bot: str, text: str, conversation: str) -> list[object]:
    body = {"conversation_id": conversation, "message": {"content": text}, "user": {"id": "u1"}}
    async with httpx.AsyncClient(base_url=base, timeout=10) as api:
        response = await api.post(f"/api/v1/bots/{bot}/dialog", json=body)
    assert response.status_code == 200, response.text
    return [m["content"] for m in response.json()["messages"]]


@pytest.mark.parametrize("dialect", ["haptik", "aimylogic", "rasa", "dialogflow"])
def test_the_generated_bot_passes_check_and_readme_gives_the_two_commands(
    tmp_path: Path, dialect: str
) -> None:
    folder = tmp_path / "my bot"

    output = init(str(folder), "--dialect", dialect)

    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "bot.yaml", "webhook.py"]
    check = CliRunner().invoke(app, ["check", str(folder)])
    assert check.exit_code == 0, check.output
    assert "bot 'my-bot'" in " ".join(check.output.split())  # rich wraps long lines
    readme = (folder / "README.md").read_text()
    assert f"python '{folder}/webhook.py' 9000" in readme and f"parley chat '{folder}'" in readme
    assert f"parley chat '{folder}'" in output


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")

    result = CliRunner().invoke(app, ["init", str(tmp_path)])

    assert result.exit_code == 1
    assert "already exists and is not an empty folder" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_fills_an_existing_empty_folder_and_takes_a_name(tmp_path: Path) -> None:
    init(str(tmp_path), "--name", "tea_shop")

    assert "name: tea_shop\n" in (tmp_path / "bot.yaml").read_text()


def test_bot_names_come_from_the_folder_made_valid() -> None:
    assert bot_name_for(Path("/x/My Shop!")) == "My-Shop-"
    assert bot_name_for(Path("/x/.hidden")) == "hidden"


async def test_the_haptik_scaffold_answers_through_a_real_parley(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "teashop"
    init(str(folder))
    monkeypatch.setenv("WEBHOOK_SECRET", "generated-test")
    with webhook_process(folder, {"WEBHOOK_SECRET": "generated-test"}) as hook:
        monkeypatch.setenv("WEBHOOK_URL", hook)
        with serve([folder], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            hello = await say(base, "teashop", "hi", "c1")
            tea = await say(base, "teashop", "how much is the tea", "c1")
            coffee = await say(base, "teashop", "what does a coffee cost", "c2")

    assert hello == ["Hi! I can tell you the price of tea or coffee."]
    assert tea[0] == "A tea costs Rs. 120."
    assert tea[1]["buttons"][1]["value"] == "price of coffee"  # type: ignore[index]
    assert coffee[0] == "A coffee costs Rs. 150."


async def test_the_aimylogic_scaffold_answers_through_a_real_parley(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "greeter"
    init(str(folder), "--dialect", "aimylogic")
    with webhook_process(folder, {}) as hook:
        monkeypatch.setenv("WEBHOOK_URL", hook)
        with serve([folder], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            first = await say(base, "greeter", "hi", "c1")
            second = await say(base, "greeter", "hello", "c1")

    assert first == ["Nice to meet you! Say hi again."]
    assert second == ["Welcome back! This is visit number 2."]


async def test_the_rasa_scaffold_answers_through_a_real_parley(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "actions"
    init(str(folder), "--dialect", "rasa")
    with webhook_process(folder, {}) as hook:
        monkeypatch.setenv("WEBHOOK_URL", hook)
        with serve([folder], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            hello = await say(base, "actions", "hi", "c1")
            tea = await say(base, "actions", "how much is the tea", "c1")
            coffee = await say(base, "actions", "what does a coffee cost", "c1")

    assert hello == ["Hi! I can tell you the price of tea or coffee."]
    assert tea[0] == "A tea costs Rs. 120."
    assert tea[1]["buttons"][1]["value"] == "price of coffee"  # type: ignore[index]
    assert tea[2] == "Anything else? Ask me about tea or coffee."  # from responses:
    assert coffee[0] == "A coffee costs Rs. 150."


async def test_the_dialogflow_scaffold_answers_through_a_real_parley(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "agent"
    init(str(folder), "--dialect", "dialogflow")
    monkeypatch.setenv("WEBHOOK_PASSWORD", "generated-test")
    with webhook_process(folder, {"WEBHOOK_PASSWORD": "generated-test"}) as hook:
        monkeypatch.setenv("WEBHOOK_URL", hook)
        with serve([folder], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            tea = await say(base, "agent", "how much is the tea", "c1")
            coffee = await say(base, "agent", "price of coffee", "c1")

    assert tea[0] == "A tea costs Rs. 120."
    assert tea[1]["buttons"][1]["value"] == "price of coffee"  # type: ignore[index]
    assert coffee[0] == "A coffee costs Rs. 150."


def test_the_initai_scaffold_passes_check_and_readme_gives_the_commands(tmp_path: Path) -> None:
    folder = tmp_path / "logic bot"

    output = init(str(folder), "--dialect", "initai")

    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "bot.yaml", "webhook.py"]
    check = CliRunner().invoke(app, ["check", str(folder)])
    assert check.exit_code == 0, check.output
    readme = (folder / "README.md").read_text()
    for command in (f"python '{folder}/webhook.py' 9000", f"parley run '{folder}'"):
        assert command in readme and command in output
    assert "/api/v1/bots/logic-bot/dialog" in readme


async def test_the_initai_scaffold_runs_the_conversation_through_a_real_parley(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "kiosk"
    init(str(folder), "--dialect", "initai")
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/p.db", public_url=f"http://127.0.0.1:{port}"
    )
    with webhook_process(folder, {}) as hook:
        monkeypatch.setenv("LOGIC_URL", hook)
        with serve([folder], settings, port=port) as base:
            hello = await say(base, "kiosk", "hi", "c1")
            button = hello[1]["buttons"][1]  # type: ignore[index]
            coffee = await say(base, "kiosk", button["value"], "c1")
            tea = await say(base, "kiosk", "how much is the tea", "c1")
            again = await say(base, "kiosk", "hello", "c1")

    assert hello[0] == "Hi! This is visit 1. Which price would you like?"
    assert button["title"] == "Coffee"
    assert coffee == ["A coffee costs Rs. 150."]
    assert tea == ["A tea costs Rs. 120."]
    assert again[0] == "Hi! This is visit 2. Which price would you like?"


def need(tool: str) -> str:
    """node/npm for the Express scaffold: a skip locally, a failure when CI=true."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed: the generated Express webhook needs node and npm"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_the_cai_scaffold_writes_an_express_webhook_and_passes_check(tmp_path: Path) -> None:
    folder = tmp_path / "Tea Shop"

    output = init(str(folder), "--dialect", "cai")

    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "bot.yaml",
        "package.json",
        "server.js",
    ]
    check = CliRunner().invoke(app, ["check", str(folder)])
    assert check.exit_code == 0, check.output
    assert "bot 'Tea-Shop'" in " ".join(check.output.split())
    assert "dialect: cai" in (folder / "bot.yaml").read_text()
    package = json.loads((folder / "package.json").read_text())
    assert package["name"] == "tea-shop-webhook"
    assert set(package["dependencies"]) == {"express", "body-parser"}
    assert all(v[0].isdigit() for v in package["dependencies"].values())  # pinned
    readme = (folder / "README.md").read_text()
    command = f"cd '{folder}' && npm install && node server.js 9000"
    assert command in readme and command in output
    assert f"parley run '{folder}'" in readme and f"parley chat '{folder}'" in readme


async def test_the_cai_scaffold_answers_through_a_real_parley(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, npm = need("node"), need("npm")
    folder = tmp_path / "cafe"
    init(str(folder), "--dialect", "cai")
    installed = subprocess.run(  # from the registry, as the README says
        [npm, "install", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    with webhook_process(folder, {}, [node, "server.js"]) as hook:
        monkeypatch.setenv("WEBHOOK_URL", hook)
        with serve([folder], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            hello = await say(base, "cafe", "hi", "c1")
            tea = await say(base, "cafe", "how much is the tea", "c1")
            async with httpx.AsyncClient(base_url=base, timeout=10) as api:
                cai = await api.post(  # CAI's own dialog API shows the webhook's memory
                    "/build/v1/dialog",
                    json={
                        "message": {"type": "text", "content": "price of coffee"},
                        "conversation_id": "c1",
                    },
                )

    assert hello == ["Hi! I can tell you the price of tea or coffee."]
    assert tea[0] == "A tea costs Rs. 120."
    assert tea[1]["buttons"][1]["value"] == "price of coffee"  # type: ignore[index]
    assert cai.status_code == 200, cai.text
    answer = cai.json()
    assert answer["messages"][0] == {"type": "text", "content": "A coffee costs Rs. 150."}
    assert answer["messages"][1]["type"] == "quickReplies"
    memory = answer["conversation"]["memory"]
    assert (memory["asked"], memory["last_product"]) == (2, "coffee")
