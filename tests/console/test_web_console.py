"""The web console and the chat widget in a real headless Chromium against a real server and
real webhooks: chat with a button click, inspect the call, replay it against a second
webhook, read the map, and chat through the widget on a plain page of another origin until
an agent answers. Screenshots go to `tmp_path` and `test-output/console/` for review."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from tests.console.shop import shop_yaml
from tests.console.test_console_browser import ARGS, chromium  # noqa: F401  # the fixture
from tests.harness import serve, write_bot
from tests.integration_api.accounts import create_accounts
from tests.webhooks.seed_server import running

ADMIN = "console-admin-token"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "console"


@dataclass(frozen=True)
class Site:
    parley: str
    webhook: str
    second_webhook: str
    page: str
    agent_token: str
    bot_dir: Path


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path}/parley.db"
    accounts = asyncio.run(create_accounts(url))
    pages = tmp_path / "site"
    pages.mkdir()
    host = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(pages)))
    thread = threading.Thread(target=host.serve_forever, daemon=True)
    thread.start()
    page_origin = f"http://127.0.0.1:{host.server_address[1]}"
    try:
        with running() as webhook, running() as second:
            bot = write_bot(tmp_path / "shop", shop_yaml(webhook))
            settings = Settings(
                database_url=url,
                admin_token=ADMIN,
                cors_origins=page_origin,
                allowed_hosts="127.0.0.1",  # the widget's production calls reach the webhook
            )
            with serve([bot], settings) as base:
                (pages / "index.html").write_text(
                    "<!doctype html><html><head><title>A shop</title></head><body>"
                    "<h1>Our little shop</h1><p>Questions? Ask in the chat.</p>"
                    f'<script src="{base}/widget.js" data-bot="shop" data-title="Shop help">'
                    "</script></body></html>"
                )
                yield Site(base, webhook, second, page_origin, accounts.ada, bot)
    finally:
        host.shutdown()
        host.server_close()


def shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, OUTPUT / path.name)
    assert path.stat().st_size > 0


def test_console_chats_inspects_replays_and_maps_a_bot(
    chromium: str,  # noqa: F811  # the imported fixture
    site: Site,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.goto(f"{site.parley}/console")
            page.fill("#token", "wrong")
            page.click("#login button")
            expect(page.locator("#login-error")).to_contain_text("wrong admin token")
            page.fill("#token", ADMIN)
            page.click("#login button")
            expect(page.locator("#tabs")).to_be_visible()

            # test chat: rich messages, a button click, what happened inside each turn
            page.fill("#say-text", "hi")
            page.click("#say button")
            first = page.locator("#turns .turn").nth(0)
            expect(first.locator(".parley-quick_replies")).to_contain_text("Pick a product")
            expect(first.locator(".parley-card")).to_have_count(2)
            expect(first.locator(".inspect")).to_contain_text("greet")
            first.locator(".parley-quick_replies .parley-button", has_text="Speaker").click()
            second = page.locator("#turns .turn").nth(1)
            expect(second.locator(".user-msg")).to_have_text("Speaker")
            expect(second.locator(".talk")).to_contain_text("Rs.1599")
            expect(second.locator(".inspect")).to_contain_text("price → thanks")
            expect(second.locator(".inspect .call.ok")).to_contain_text(
                "webhook haptik price → 200"
            )
            expect(second.locator(".vars tr.changed")).to_contain_text("@product_name")
            shot(page, tmp_path, "1-test-chat")

            # the inspector: the call is listed, a new one arrives live, replay side by side
            page.click("#tabs button[data-tab=inspector]")
            rows = page.locator("#calls tbody tr")
            expect(rows).to_have_count(1)
            talk(site.parley, "server error please")  # another user, while the page is open
            expect(rows).to_have_count(2)
            expect(rows.first).to_contain_text("webhook answered HTTP 500")
            page.select_option("#f-status", "failed")
            page.click("#filters button")
            expect(rows).to_have_count(1)
            page.select_option("#f-status", "")
            page.click("#filters button")
            page.locator("#calls tbody tr", has_text="price").click()
            expect(page.locator("#call-request")).to_contain_text("X-Hub-Signature: sha1=****")
            expect(page.locator("#call-response")).to_contain_text("Rs.1599")
            page.click("#replay button")  # against the node's current webhook
            expect(page.locator("#replay-replayed")).to_contain_text("HTTP 200")
            expect(page.locator("#replay-replayed")).to_contain_text("Rs.1599")
            page.fill("#replay-url", f"{site.second_webhook}/data")
            page.click("#replay button")
            expect(page.locator("#replay-replayed")).to_contain_text('"order_id": "A-17"')
            expect(page.locator("#replay-recorded")).to_contain_text("Rs.1599")
            shot(page, tmp_path, "2-inspector")

            # the map: nodes, transitions, a node's calls; a validation error on its node
            page.click("#tabs button[data-tab=map]")
            expect(page.locator("#graph .node")).to_have_count(4)
            expect(page.locator("#graph .edge")).to_have_count(1)
            page.locator("#graph .node[data-node=price]").click()
            expect(page.locator("#node-config")).to_contain_text('"dialect": "haptik"')
            expect(page.locator("#node-calls li")).to_contain_text("200")
            bot_yaml = site.bot_dir / "bot.yaml"
            bot_yaml.write_text(bot_yaml.read_text().replace("node: thanks", "node: thank_you"))
            page.click("#tabs button[data-tab=chat]")
            page.click("#tabs button[data-tab=map]")
            expect(page.locator("#graph .node.invalid")).to_have_count(2)  # + `thanks`, unreachable
            expect(page.locator("#graph .node.invalid[data-node=price]")).to_contain_text("⚠ 1")
            page.locator("#graph .node[data-node=price]").click()
            expect(page.locator("#node-config")).to_contain_text("thank_you")
            shot(page, tmp_path, "3-bot-map")
        finally:
            browser.close()


def test_widget_on_a_plain_page_chats_and_gets_an_agents_reply_live(
    chromium: str,  # noqa: F811  # the imported fixture
    site: Site,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 720})
            page.goto(f"{site.page}/index.html")
            widget = page.locator("#parley-widget")
            widget.locator(".bubble").click()
            widget.locator("input").fill("hi")
            widget.locator("form button").click()
            expect(widget.locator(".log")).to_contain_text("Hello! What would you like to price?")
            widget.locator(".parley-quick_replies .parley-button", has_text="Speaker").click()
            expect(widget.locator(".log")).to_contain_text("Rs.1599")

            widget.locator("input").fill("talk to a human")
            widget.locator("form button").click()
            expect(widget.locator(".status")).to_contain_text("Waiting for an agent")
            agent = {"Authorization": f"Bearer {site.agent_token}"}
            queue = httpx.get(f"{site.parley}/api/v1/agent/queue", headers=agent).json()
            (chat,) = queue["chats"]
            chats = f"{site.parley}/api/v1/agent/chats/{chat['conversation_id']}"
            httpx.post(f"{chats}/claim", headers=agent).raise_for_status()
            reply = {"text": "Hi, Ada here. How can I help?"}
            httpx.post(f"{chats}/messages", headers=agent, json=reply).raise_for_status()
            expect(widget.locator(".log")).to_contain_text("Ada here")  # live, no user turn
            expect(widget.locator(".status")).to_contain_text("chatting with an agent")
            shot(page, tmp_path, "4-widget")
        finally:
            browser.close()

    history = httpx.get(
        f"{site.parley}/api/v1/bots/shop/conversations/{chat['conversation_id']}"
    ).json()["history"]
    assert history[-1]["sender"] == "agent(Ada)"
    assert history[0]["message"]["content"] == "hi"


def talk(base: str, text: str) -> None:
    body = {"conversation_id": "other", "message": {"content": text}}
    httpx.post(f"{base}/api/v1/bots/shop/dialog", json=body).raise_for_status()
