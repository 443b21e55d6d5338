"""Seed 004's Flask sample server, a real Python process, driven through `WebhookCaller`."""

from __future__ import annotations

from typing import Any

from parley.model import Message, Outcome
from parley.webhooks import WebhookCaller

from .calls import cai_call


async def test_seed_route_answers_roger_that_and_replaces_memory(
    caller: WebhookCaller, flask_url: str
) -> None:
    """The Flask sample adds `status: 200` to its answer; it is not a CAI key and is ignored."""
    outcome, invocation = await caller(cai_call(), flask_url + "/", "t-1")

    assert outcome == Outcome(messages=[Message.text("Roger that")], data={"key": "value"})
    assert invocation.status == 200


async def test_custom_body_arrives_as_json_with_typed_references(
    caller: WebhookCaller, flask_url: str
) -> None:
    body = {"who": "{{ memory.person.raw }}", "visits": "{{ memory.visits }}", "n": "{{ 6 * 7 }}"}

    outcome, _ = await caller(cai_call(body=body), flask_url + "/echo", "t-1")

    assert outcome.data is not None
    assert outcome.data["body"] == {"who": "Francois", "visits": 2, "n": 42}
    assert outcome.data["headers"]["content-type"] == "application/json"


async def test_get_sends_no_body_and_bearer_auth(caller: WebhookCaller, flask_url: str) -> None:
    spec: dict[str, Any] = {"method": "GET", "auth": {"type": "bearer", "token": "t0ken"}}

    outcome, _ = await caller(cai_call(**spec), flask_url + "/echo", "t-1")

    assert outcome.messages == [Message.text("GET received")]
    assert outcome.data is not None
    assert outcome.data["body"] is None
    assert outcome.data["headers"]["authorization"] == "Bearer t0ken"


async def test_errors_route_answers_json(caller: WebhookCaller, flask_url: str) -> None:
    """`POST /errors` answers `{"status": 200}`: success, no replies, memory untouched."""
    outcome, _ = await caller(cai_call(), flask_url + "/errors", "t-1")

    assert outcome == Outcome()


async def test_undeclared_method_is_a_405_failure(caller: WebhookCaller, flask_url: str) -> None:
    outcome, _ = await caller(cai_call(method="PUT"), flask_url + "/", "t-1")

    assert outcome.failure == "webhook answered HTTP 405"
