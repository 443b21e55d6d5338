"""The agent console in a real headless Chromium against a real server: log in, see the
queue, claim, read, reply (the user sees it), close (the bot answers again)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot
from tests.integration_api.accounts import BOT, Accounts, create_accounts
from tests.webhooks.seed_server import running

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        message = "chromium is not installed (./scripts/bootstrap installs it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Accounts]]:
    url = f"sqlite:///{tmp_path}/parley.db"
    accounts = asyncio.run(create_accounts(url))
    with running() as webhook:
        bot = write_bot(tmp_path / "shop", BOT.format(base=webhook))
        with serve([bot], Settings(database_url=url)) as base:
            yield base, accounts


def talk(base: str, text: str) -> dict[str, object]:
    body = {"conversation_id": "c1", "message": {"content": text}, "user": {"id": "u1"}}
    answer: dict[str, object] = httpx.post(f"{base}/api/v1/bots/shop/dialog", json=body).json()
    return answer


def test_an_agent_answers_a_handed_over_chat_in_the_console(
    chromium: str, server: tuple[str, Accounts], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, accounts = server
    assert talk(base, "server error please")["conversation"]["state"] == "pending"  # type: ignore[index]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/agent/")
            page.fill("#token", "wrong")
            page.click("#login button")
            expect(page.locator("#login-error")).to_contain_text("unknown or inactive")

            page.fill("#token", accounts.ada)
            page.click("#login button")
            expect(page.locator("#whoami")).to_contain_text("Ada · team support · bot shop")
            expect(page.locator("#queue li")).to_contain_text("c1 (u1) · pending")

            page.click("#queue li .claim")
            expect(page.locator("#history")).to_contain_text("server error please")

            talk(base, "is anyone there?")  # arrives live over the agent's event stream
            expect(page.locator("#history")).to_contain_text("is anyone there?")

            page.fill("#reply-text", "Yes, Ada here.")
            page.click("#reply button")
            expect(page.locator("#history li").last).to_contain_text("agent(Ada)Yes, Ada here.")
            page.screenshot(path=str(tmp_path / "console.png"), full_page=True)

            page.click("#close")
            expect(page.locator("#chat")).to_be_hidden()
            expect(page.locator("#queue li")).to_have_count(0)
        finally:
            browser.close()

    user_view = httpx.get(f"{base}/api/v1/bots/shop/conversations/c1").json()
    assert user_view["history"][-1]["sender"] == "agent(Ada)"
    assert (tmp_path / "console.png").stat().st_size > 0
    assert talk(base, "hi")["messages"] == [{"type": "text", "content": "Hello! Ask me a price."}]
