"""The seed's rules, enforced by every SDK app the same way on ASGI and WSGI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from parley.dialects.base import WireRequest
from parley.dialects.signatures import sign_sha1
from parley.sdk import (
    HaptikRequest,
    HaptikResponse,
    WebhookError,
    aimylogic_app,
    aimylogic_wsgi,
    haptik_app,
    haptik_wsgi,
)
from parley.sdk._transports import call_asgi, call_wsgi
from parley.sdk._wire import MAX_BODY
from parley.sdk.testing import WebhookClient

SECRET = "test"
Factory = Callable[..., Any]
BOTH = pytest.mark.parametrize("factory", [haptik_app, haptik_wsgi], ids=["asgi", "wsgi"])


def price(request: HaptikRequest) -> HaptikResponse:
    product = request.entity("product_name")
    if product == "crash":
        raise RuntimeError("boom")
    if product == "wrong":
        return {"status": True}  # type: ignore[return-value]  # what the app must catch
    if product != "speaker":
        raise WebhookError(400, f"unknown product {product}")
    return HaptikResponse.reply("Rs.1599", conversation_data={"seen": request.node})


def client(factory: Factory, secret: str | None = SECRET) -> WebhookClient:
    return WebhookClient(factory(price, secret=secret), secret=secret)


@BOTH
def test_a_signed_request_gets_the_handlers_answer(factory: Factory) -> None:
    result = client(factory).send("check_price", entities={"product_name": "speaker"})

    assert result.status == 200 and result.headers["content-type"] == "application/json"
    assert result.json() == {
        "status": True,
        "response": ["Rs.1599"],
        "conversation_data": {"seen": "check_price"},
    }
    assert result.outcome.failure is None and result.outcome.data == {"seen": "check_price"}


@BOTH
@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("sha1=0000", 401), ("sha1=", 401), (sign_sha1("other", b"{}"), 401)],
)
def test_a_missing_or_wrong_signature_is_401(
    factory: Factory, signature: str | None, status: int
) -> None:
    headers = {"X-Hub-Signature": signature} if signature else {}
    body = json.dumps({"node": "n"}).encode()

    assert client(factory).post(body, signed=False, headers=headers).status == status


@BOTH
def test_without_a_secret_signatures_are_not_checked(factory: Factory) -> None:
    body = json.dumps({"node": "n", "entities": {"product_name": [{"entity_value": "speaker"}]}})

    assert client(factory, secret=None).post(body.encode()).status == 200


@BOTH
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"node": "n"}'),
        (None, b'{"node": "n"}'),
        ("application/json", b""),
        ("application/json", b"<html>"),
        ("application/json", b"[1, 2]"),
        ("application/json", b'{"entities": {}}'),  # no node
        ("application/json", b'{"node": "n", "entities": {"a": "not a list"}}'),
    ],
    ids=["text", "no-type", "empty", "not-json", "not-object", "no-node", "bad-entities"],
)
def test_what_is_not_a_haptik_json_request_is_400(
    factory: Factory, content_type: str | None, body: bytes
) -> None:
    response = client(factory).post(body, content_type=content_type)

    assert response.status == 400
    assert response.headers["content-type"].startswith("text/plain")


@BOTH
def test_json_with_a_charset_is_json(factory: Factory) -> None:
    body = b'{"node": "n", "entities": {"product_name": [{"entity_value": "speaker"}]}}'

    response = client(factory).post(body, content_type="application/json; charset=utf-8")

    assert response.status == 200


@BOTH
def test_handler_refusals_crashes_and_bad_answers_are_statuses_not_tracebacks(
    factory: Factory,
) -> None:
    c = client(factory)

    refused = c.send(entities={"product_name": "tablet"})
    crashed = c.send(entities={"product_name": "crash"})
    wrong = c.send(entities={"product_name": "wrong"})

    assert (refused.status, refused.body) == (400, b"unknown product tablet\n")
    assert refused.outcome.failure == "webhook answered HTTP 400"
    assert (crashed.status, wrong.status) == (500, 500)


@BOTH
async def test_get_is_a_health_check_and_other_methods_are_405(factory: Factory) -> None:
    app = factory(price, secret=SECRET)

    async def status(method: str) -> int:
        request = WireRequest(method, "http://t/price", {}, b"")
        if factory is haptik_app:
            return (await call_asgi(app, request)).status
        return call_wsgi(app, request).status

    assert (await status("GET"), await status("PUT")) == (200, 405)


@BOTH
def test_a_body_over_the_cap_is_413(factory: Factory) -> None:
    body = b'{"node": "' + b"x" * MAX_BODY + b'"}'

    assert client(factory).post(body).status == 413


async def test_asgi_awaits_an_async_handler() -> None:
    async def handler(request: HaptikRequest) -> HaptikResponse:
        await asyncio.sleep(0)
        return HaptikResponse.fail("no", permanent_user_data={"vip": True})

    result = await WebhookClient(haptik_app(handler)).asend("n")

    assert result.json() == {
        "status": False,
        "response": ["no"],
        "permanent_user_data": {"vip": True},
    }
    assert result.outcome.status is False and result.outcome.user_data == {"vip": True}


@pytest.mark.parametrize("factory", [aimylogic_app, aimylogic_wsgi], ids=["asgi", "wsgi"])
def test_aimylogic_apps_answer_the_handlers_variables(factory: Factory) -> None:
    app = factory(lambda request: {"echo": request.variables, "action": request.action})
    c = WebhookClient(app, dialect="aimylogic")

    result = c.send("start", entities={"city": "Pune"}, data={"visits": 2}, text="hi")

    assert result.outcome.variables == {"echo": {"visits": 2, "city": "Pune"}, "action": "start"}
    assert c.post(b"[]").status == 400 and c.post(b"", content_type="text/plain").status == 400


@pytest.mark.parametrize("factory", [aimylogic_app, aimylogic_wsgi], ids=["asgi", "wsgi"])
def test_an_aimylogic_handler_that_answers_no_mapping_is_500(factory: Factory) -> None:
    result = WebhookClient(factory(lambda request: ["x"]), dialect="aimylogic").send("start")

    assert result.status == 500 and result.outcome.failure is not None


async def test_the_asgi_app_speaks_plain_asgi_to_other_clients() -> None:
    """httpx's ASGI transport, not our own test client: the app is standard ASGI."""
    body = b'{"node": "n", "entities": {"product_name": [{"entity_value": "speaker"}]}}'
    headers = {"Content-Type": "application/json", "X-Hub-Signature": sign_sha1(SECRET, body)}
    transport = httpx.ASGITransport(app=haptik_app(price, secret=SECRET))

    async with httpx.AsyncClient(transport=transport, base_url="http://hook") as http:
        response = await http.post("/price", content=body, headers=headers)

    assert response.status_code == 200 and response.json()["response"] == ["Rs.1599"]
