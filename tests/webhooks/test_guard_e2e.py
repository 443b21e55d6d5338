"""SSRF guard through a real parley server: production refuses 127.0.0.1, test reaches it,
and an allow-listed 127.0.0.1 works in production. All traffic stays on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot
from tests.webhooks.seed_server import running

BOT = """\
name: alpha
environments:
  test: {{base_url: "{base}"}}
  production: {{base_url: "{base}"}}
settings: {{bot_break_message: "Sorry, something went wrong."}}
intents:
  save: {{examples: ["remember me"]}}
nodes:
  save: {{intents: [save], webhook: {{path: /data}}}}
"""
SAVED = [{"type": "text", "content": "saved"}]
BROKE = [{"type": "text", "content": "Sorry, something went wrong."}]


@pytest.fixture
def webhook() -> Iterator[str]:
    with running() as base_url:
        yield base_url


async def _turns(tmp_path: Path, base: str, **settings: Any) -> tuple[Any, Any, Any]:
    folder = write_bot(tmp_path / "alpha", BOT.format(base=base))
    config = Settings(database_url=f"sqlite:///{tmp_path}/parley.db", **settings)
    with serve([folder], config) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            answers = []
            for user, environment in (("u1", "test"), ("u2", "production")):
                body = {
                    "conversation_id": f"c-{user}",
                    "message": {"type": "text", "content": "remember me"},
                    "user": {"id": user},
                    "environment": environment,
                }
                response = await api.post("/api/v1/bots/alpha/dialog", json=body)
                assert response.status_code == 200, response.text
                answers.append(response.json())
            calls = (await api.get("/api/v1/invocations")).json()["invocations"]
    return answers[0], answers[1], calls


async def test_production_webhook_to_loopback_is_refused_while_test_reaches_it(
    tmp_path: Path, webhook: str
) -> None:
    test, production, calls = await _turns(tmp_path, webhook)
    assert test["messages"] == SAVED
    assert production["messages"] == BROKE
    assert [(c["environment"], c["status"]) for c in calls] == [
        ("test", 200),
        ("production", None),
    ]
    reason = calls[1]["error"]
    assert "SSRF guard" in reason and "127.0.0.1 is loopback" in reason


async def test_numeric_loopback_forms_are_refused_in_production(
    tmp_path: Path, webhook: str
) -> None:
    port = webhook.rsplit(":", 1)[1]
    _, production, calls = await _turns(tmp_path, f"http://0x7f.1:{port}")
    assert production["messages"] == BROKE
    assert "0x7f.1 is 127.0.0.1, loopback" in calls[1]["error"]


@pytest.mark.parametrize("allowed", ["127.0.0.1", "127.0.0.0/8", "localhost"])
async def test_an_allow_listed_loopback_works_in_production(
    tmp_path: Path, webhook: str, allowed: str
) -> None:
    base = webhook.replace("127.0.0.1", "localhost") if allowed == "localhost" else webhook
    test, production, calls = await _turns(tmp_path, base, allowed_hosts=allowed)
    assert test["messages"] == SAVED and production["messages"] == SAVED
    assert [c["status"] for c in calls] == [200, 200]


def test_a_bad_allow_list_stops_the_server_at_start(tmp_path: Path) -> None:
    from parley.errors import ParleyError
    from parley.server.app import create_app

    with pytest.raises(ParleyError, match="PARLEY_ALLOWED_HOSTS"):
        create_app([], Settings(allowed_hosts="http://nope/"))


def test_the_allow_list_comes_from_the_environment() -> None:
    settings = Settings.from_env({"PARLEY_ALLOWED_HOSTS": "10.0.0.0/8, hooks.internal"})
    assert settings.allowed_hosts == "10.0.0.0/8, hooks.internal"
