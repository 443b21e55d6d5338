"""The console's admin API over real HTTP: the token guard, filters, replay, live calls, CORS
for the widget, and 4xx JSON for bad input."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from parley.config import Settings
from parley.server import inspector
from tests.console.shop import shop_yaml
from tests.harness import serve, write_bot
from tests.webhooks.seed_server import running

TOKEN = "admin-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WIDGET_SITE = "http://shop.example"


@dataclass(frozen=True)
class Server:
    base: str
    webhook: str
    second_webhook: str

    def admin(self, path: str) -> str:
        return f"{self.base}/api/v1/admin{path}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("admin")
    with running() as webhook, running() as second:
        bot = write_bot(tmp / "shop", shop_yaml(webhook))
        settings = Settings(
            database_url=f"sqlite:///{tmp}/parley.db", admin_token=TOKEN, cors_origins=WIDGET_SITE
        )
        with serve([bot], settings) as base:
            yield Server(base, webhook, second)


def chat(server: Server, conversation: str, content: str, kind: str = "text") -> dict[str, object]:
    body = {"conversation_id": conversation, "message": {"type": kind, "content": content}}
    response = httpx.post(server.admin("/bots/shop/chat"), json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_without_the_token_the_admin_api_is_401_json(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = httpx.get(server.admin("/bots"), headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_without_a_configured_token_only_a_loopback_server_serves_the_console(
    tmp_path: Path,
) -> None:
    bot = write_bot(tmp_path / "shop", shop_yaml("http://127.0.0.1:9"))
    database = f"sqlite:///{tmp_path}/parley.db"
    with serve([bot], Settings(database_url=database)) as base:
        assert httpx.get(f"{base}/api/v1/admin/bots").status_code == 200
    with serve([bot], Settings(database_url=database, host="0.0.0.0")) as base:
        response = httpx.get(f"{base}/api/v1/admin/bots")
        assert response.status_code == 403
        assert "PARLEY_ADMIN_TOKEN" in response.json()["error"]["message"]


def test_a_chat_turn_reports_nodes_variables_and_its_calls(server: Server) -> None:
    chat(server, "turns", "hi")
    answer = chat(server, "turns", "price of speaker", "postback")
    inspect = answer["inspect"]
    assert isinstance(inspect, dict)
    assert inspect["nodes"] == ["price", "thanks"]
    assert inspect["variables_before"]["entities"] == {}
    assert inspect["variables_after"]["entities"]["product_name"]["value"] == "speaker"
    (call,) = inspect["invocations"]
    assert (call["node"], call["status"], call["error"]) == ("price", 200, None)
    assert call["request_headers"]["X-Hub-Signature"] == "sha1=****"


def test_invocations_filter_by_node_status_and_time(server: Server) -> None:
    before = time.time()
    chat(server, "filters", "price of speaker", "postback")
    chat(server, "filters", "server error please")

    def listed(**query: object) -> list[dict[str, object]]:
        params = {"conversation_id": "filters", **query}
        response = httpx.get(server.admin("/invocations"), params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        rows: list[dict[str, object]] = response.json()["invocations"]
        return rows

    assert [row["node"] for row in listed()] == ["broken", "price"]  # newest first
    assert [row["node"] for row in listed(status="failed")] == ["broken"]
    assert [row["node"] for row in listed(status="ok")] == ["price"]
    assert [row["node"] for row in listed(status="500")] == ["broken"]
    assert [row["node"] for row in listed(node="price")] == ["price"]
    assert len(listed(since=before)) == 2
    assert listed(until=before) == []
    assert listed(bot="other") == []


def test_filters_read_the_log_back_page_by_page(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inspector, "PAGE", 1)  # every entry its own page
    chat(server, "paging", "price of speaker", "postback")
    chat(server, "paging", "server error please")
    chat(server, "paging", "server error please")
    params = {"conversation_id": "paging", "node": "price"}
    response = httpx.get(server.admin("/invocations"), params=params, headers=AUTH)
    assert [row["node"] for row in response.json()["invocations"]] == ["price"]


def test_replay_signs_again_and_shows_both_answers(server: Server) -> None:
    chat(server, "replay", "price of speaker", "postback")
    (row,) = httpx.get(
        server.admin("/invocations"), params={"conversation_id": "replay"}, headers=AUTH
    ).json()["invocations"]
    url = server.admin(f"/invocations/{row['id']}/replay")

    same = httpx.post(url, headers=AUTH).json()  # the seed route checks the signature
    assert same["recorded"]["status"] == same["replayed"]["status"] == 200
    assert "Rs.1599" in same["replayed"]["body"]
    assert same["replayed"]["request_headers"]["X-Hub-Signature"] == "sha1=****"

    other = httpx.post(url, headers=AUTH, json={"url": f"{server.second_webhook}/echo"}).json()
    received = json.loads(other["replayed"]["body"])["conversation_data"]
    assert json.loads(received["received_body"]) == json.loads(row["request_body"])
    assert received["received_headers"]["x-hub-signature"].startswith("sha1=")
    assert "Rs.1599" in other["recorded"]["body"]


def test_replay_to_an_unreachable_url_reports_the_failure(server: Server) -> None:
    chat(server, "unreachable", "price of speaker", "postback")
    (row,) = httpx.get(
        server.admin("/invocations"), params={"conversation_id": "unreachable"}, headers=AUTH
    ).json()["invocations"]
    answer = httpx.post(
        server.admin(f"/invocations/{row['id']}/replay"),
        headers=AUTH,
        json={"url": "http://127.0.0.1:9/nothing"},
    ).json()
    assert answer["replayed"]["status"] is None
    assert answer["replayed"]["error"] == "connection refused"


def test_new_invocations_stream_live_to_the_console(server: Server) -> None:
    frames: list[str] = []
    connected = threading.Event()

    def read() -> None:
        with httpx.stream("GET", server.admin("/events"), headers=AUTH, timeout=10) as stream:
            for line in stream.iter_lines():
                connected.set()
                frames.append(line)
                if line.startswith("data: "):
                    return

    reader = threading.Thread(target=read)
    reader.start()
    assert connected.wait(10)
    chat(server, "live", "server error please")
    reader.join(10)
    assert "event: invocation" in frames
    data = json.loads(frames[-1].removeprefix("data: "))
    assert (data["conversation_id"], data["node"], data["status"]) == ("live", "broken", 500)


def test_the_user_stream_never_carries_invocations(server: Server) -> None:
    frames: list[str] = []
    connected = threading.Event()
    stream_url = f"{server.base}/api/v1/bots/shop/conversations/private/events"

    def read() -> None:
        with httpx.stream("GET", stream_url, timeout=10) as stream:
            for line in stream.iter_lines():
                connected.set()
                frames.append(line)
                if line == "event: state":  # the hand-off, published after the turn's calls
                    return

    reader = threading.Thread(target=read)
    reader.start()
    assert connected.wait(10)
    chat(server, "private", "server error please")  # a failed call, then a hand-off
    reader.join(10)
    assert "event: message" in frames and "event: state" in frames
    assert "event: invocation" not in frames


def test_the_map_has_every_node_with_triggers_slots_integration_and_transitions(
    server: Server,
) -> None:
    graph = httpx.get(server.admin("/bots/shop/map"), headers=AUTH).json()
    nodes = {node["name"]: node for node in graph["nodes"]}
    assert list(nodes) == ["greet", "price", "thanks", "broken"]
    assert nodes["greet"]["start"] and nodes["greet"]["intents"] == ["greet"]
    price = nodes["price"]
    assert price["entities"][0] | {"sources": None} == {
        "name": "product_name",
        "required": True,
        "sources": None,
    }
    assert price["integration"]["kind"] == "webhook"
    assert price["integration"]["dialect"] == "haptik"
    assert price["next"] == [{"node": "thanks", "if": "product_name"}]
    assert nodes["thanks"]["end"]
    assert graph["problems"] == [] and all(not n["problems"] for n in nodes.values())


def test_bad_input_is_4xx_json(server: Server) -> None:
    cases = [
        ("GET", "/bots/nobody/map", None, 404),
        ("POST", "/bots/nobody/chat", {"conversation_id": "x", "message": {"content": "hi"}}, 404),
        ("POST", "/bots/shop/chat", {"conversation_id": "x"}, 422),
        ("POST", "/bots/shop/chat", {"conversation_id": "x", "message": {"content": " "}}, 400),
        ("GET", "/invocations?status=maybe", None, 422),
        ("GET", "/invocations?limit=0", None, 422),
        ("GET", "/invocations/999999", None, 404),
        ("GET", "/invocations/0", None, 422),
        ("POST", "/invocations/999999/replay", {}, 404),
        ("POST", "/invocations/1/replay", {"url": "file:///etc/passwd"}, 422),
    ]
    for method, path, body, status in cases:
        response = httpx.request(method, server.admin(path), json=body, headers=AUTH)
        assert response.status_code == status, (path, response.text)
        assert set(response.json()["error"]) == {"code", "message"}, path


def test_the_dialog_api_admits_the_widgets_origin_only(server: Server) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    dialog = f"{server.base}/api/v1/bots/shop/dialog"
    allowed = httpx.options(dialog, headers={**preflight, "Origin": WIDGET_SITE})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == WIDGET_SITE
    refused = httpx.options(dialog, headers={**preflight, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in refused.headers


def test_the_console_page_and_the_widget_script_are_served(server: Server) -> None:
    page = httpx.get(f"{server.base}/console")
    assert page.status_code == 200 and "parley console" in page.text
    script = httpx.get(f"{server.base}/widget.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "chat-widget" in script.text
    assert httpx.get(f"{server.base}/agent/").status_code == 200  # the agent console stays
