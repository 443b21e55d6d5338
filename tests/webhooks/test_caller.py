"""Delivery against a real server on 127.0.0.1: the seed's own webhook plus misbehaving routes.

Timing assertions are generous on purpose: they prove a call was bounded, not how fast it was.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from parley.dialects.signatures import verify_sha1
from parley.model import Message
from parley.webhooks import WebhookCaller
from parley.webhooks.caller import _reason

from .calls import make_call
from .seed_server import BUTTON_HSL, PRICES


@pytest.mark.parametrize("product", ["speaker", "powerbank"])
async def test_signed_call_is_answered_by_the_seed_server(
    caller: WebhookCaller, seed_url: str, product: str
) -> None:
    outcome, invocation = await caller(make_call(product, secret="test"), seed_url + "/p", "t-1")

    assert outcome.failure is None
    assert outcome.status is True
    assert outcome.messages == [Message.text(PRICES[product])]
    assert invocation.status == 200
    assert invocation.error is None


async def test_wrong_secret_is_refused_by_the_seed_server(
    caller: WebhookCaller, seed_url: str
) -> None:
    outcome, invocation = await caller(make_call(secret="not-test"), seed_url + "/p", "t-1")

    assert outcome.failure == "webhook answered HTTP 401"
    assert invocation.status == 401
    assert invocation.error == "webhook answered HTTP 401"


async def test_unsigned_call_is_refused_by_the_seed_server(
    caller: WebhookCaller, seed_url: str
) -> None:
    outcome, _ = await caller(make_call(), seed_url + "/p", "t-1")

    assert outcome.failure == "webhook answered HTTP 401"


async def test_product_the_seed_does_not_know_is_a_400(
    caller: WebhookCaller, seed_url: str
) -> None:
    outcome, _ = await caller(make_call("headphones", secret="test"), seed_url + "/p", "t-1")

    assert outcome.failure == "webhook answered HTTP 400"


async def test_slow_webhook_is_cut_at_the_timeout(caller: WebhookCaller, seed_url: str) -> None:
    started = time.perf_counter()

    outcome, invocation = await caller(make_call(timeout=0.5), seed_url + "/slow?s=30", "t-1")

    assert time.perf_counter() - started < 5
    assert outcome.failure == "timed out after 0.5 s"
    assert invocation.error == "timed out after 0.5 s"
    assert invocation.status is None
    assert invocation.latency_ms >= 400


async def test_trickling_body_is_cut_by_the_whole_call_deadline(
    caller: WebhookCaller, seed_url: str
) -> None:
    """Each byte arrives well within the timeout; only the deadline on the whole call ends it."""
    started = time.perf_counter()

    outcome, invocation = await caller(make_call(timeout=1.0), seed_url + "/trickle?s=10", "t-1")

    assert time.perf_counter() - started < 6
    assert outcome.failure == "timed out after 1.0 s"
    assert invocation.status == 200
    assert invocation.response_body is not None
    assert 0 < len(invocation.response_body) < len('{"status": true, "response": ["trickled"]}')


async def test_server_error_is_a_failure_with_its_body_logged(
    caller: WebhookCaller, seed_url: str
) -> None:
    outcome, invocation = await caller(make_call(), seed_url + "/500", "t-1")

    assert outcome.failure == "webhook answered HTTP 500"
    assert invocation.status == 500
    assert invocation.response_body == '{"error": "something broke"}'


async def test_html_page_is_a_failure_quoting_it(caller: WebhookCaller, seed_url: str) -> None:
    outcome, _ = await caller(make_call(), seed_url + "/html", "t-1")

    assert outcome.failure == (
        "webhook answered non-JSON (text/html): <html><body><h1>Test Server</h1></body></html>"
    )


async def test_oversized_answer_stops_at_the_cap(caller: WebhookCaller, seed_url: str) -> None:
    outcome, invocation = await caller(make_call(), seed_url + "/big", "t-1")

    assert outcome.failure == "response larger than 1048576 bytes"
    assert invocation.status == 200
    assert invocation.response_body is not None
    assert invocation.response_body.startswith('{"status": true, "response": ["xxx')
    assert len(invocation.response_body.encode()) < 70_000


async def test_a_compressed_answer_is_capped_as_it_inflates(
    caller: WebhookCaller, seed_url: str
) -> None:
    """20 kB on the wire under the cap, 20 MB once inflated: cut at the cap all the same."""
    outcome, invocation = await caller(make_call(), seed_url + "/gzip-bomb", "t-1")

    assert outcome.failure == "response larger than 1048576 bytes"
    assert invocation.response_body is not None
    assert len(invocation.response_body.encode()) < 70_000


async def test_cap_counts_every_byte_of_a_small_answer(
    caller: WebhookCaller, seed_url: str
) -> None:
    outcome, _ = await caller(make_call(max_response_bytes=50), seed_url + "/data", "t-1")

    assert outcome.failure == "response larger than 50 bytes"


async def test_refused_connection_is_a_failure(caller: WebhookCaller, refused_url: str) -> None:
    outcome, invocation = await caller(make_call(), refused_url, "t-1")

    assert outcome.failure == "connection refused"
    assert invocation.status is None
    assert invocation.response_body is None
    assert invocation.error == "connection refused"


async def test_unresolvable_host_is_a_failure(caller: WebhookCaller) -> None:
    outcome, _ = await caller(make_call(timeout=10), "http://parley-test.invalid/x", "t-1")

    assert outcome.failure is not None
    assert outcome.failure.startswith("could not resolve host parley-test.invalid")


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "example.com/hook", "http://[::1/x"])
async def test_unusable_url_is_a_failure(caller: WebhookCaller, url: str) -> None:
    outcome, invocation = await caller(make_call(), url, "t-1")

    assert outcome.failure is not None
    assert outcome.failure.startswith("invalid webhook URL: ")
    assert invocation.error == outcome.failure


async def test_answer_of_the_wrong_shape_names_the_field(
    caller: WebhookCaller, seed_url: str
) -> None:
    outcome, _ = await caller(make_call(), seed_url + "/bad-shape", "t-1")

    assert outcome.failure == '`status` must be true or false, got "maybe"'


async def test_redirect_is_not_followed(caller: WebhookCaller, seed_url: str) -> None:
    outcome, invocation = await caller(make_call(), seed_url + "/redirect", "t-1")

    assert outcome.failure == "webhook answered HTTP 302"
    assert invocation.status == 302


async def test_webhook_receives_the_exact_signed_bytes(
    caller: WebhookCaller, seed_url: str
) -> None:
    outcome, invocation = await caller(make_call(secret="s3cret"), seed_url + "/echo", "t-1")

    assert outcome.data is not None
    received = outcome.data["received_body"]
    headers = outcome.data["received_headers"]
    assert received == invocation.request_body
    assert verify_sha1("s3cret", received.encode(), headers["x-hub-signature"])
    assert headers["content-type"] == "application/json"
    assert json.loads(received)["entities"]["product_name"][0]["entity_value"] == "speaker"
    assert invocation.request_headers == {
        "Content-Type": "application/json",
        "X-Hub-Signature": "sha1=****",
    }


async def test_data_updates_reach_the_outcome(caller: WebhookCaller, seed_url: str) -> None:
    outcome, _ = await caller(make_call(), seed_url + "/data", "t-1")

    assert outcome.data == {"order_id": "A-17", "payment_mode": "COD"}
    assert outcome.user_data == {"phone_number": 8826755986}


async def test_hsl_answer_becomes_buttons(caller: WebhookCaller, seed_url: str) -> None:
    outcome, _ = await caller(make_call(), seed_url + "/hsl", "t-1")

    assert [m.type for m in outcome.messages] == ["buttons"]
    assert outcome.messages[0].meta == {"hsl": BUTTON_HSL}


async def test_invocation_records_the_call(caller: WebhookCaller, seed_url: str) -> None:
    before = time.time()

    _, invocation = await caller(make_call(secret="test"), seed_url + "/check_price", "turn-9")

    assert invocation.turn_id == "turn-9"
    assert (invocation.bot, invocation.conversation_id, invocation.node) == (
        "shop",
        "c-1",
        "check_price",
    )
    assert (invocation.kind, invocation.dialect, invocation.environment) == (
        "webhook",
        "haptik",
        "production",
    )
    assert (invocation.method, invocation.url) == ("POST", seed_url + "/check_price")
    assert json.loads(invocation.request_body)["node"] == "check_price"
    assert invocation.status == 200
    assert json.loads(invocation.response_body or "") == {
        "status": True,
        "response": [PRICES["speaker"]],
    }
    assert invocation.latency_ms > 0
    assert invocation.error is None
    assert before <= invocation.created_at <= time.time()


async def test_cookies_a_webhook_sets_are_never_sent_on_later_calls(
    caller: WebhookCaller, seed_url: str
) -> None:
    """The client is shared by every bot: a session cookie one webhook set would otherwise
    ride along on other bots' calls to the same host."""
    received = []
    by_name = seed_url.replace("127.0.0.1", "localhost")  # (a jar keeps no IP's cookies)
    for _ in range(2):
        outcome, _ = await caller(make_call(), by_name + "/cookie", "t-1")
        assert outcome.failure is None and outcome.data is not None
        received.append(outcome.data["received_headers"])
    assert [headers.get("cookie") for headers in received] == [None, None]  # type: ignore[union-attr]


async def test_credentials_in_the_url_are_sent_but_not_logged(
    caller: WebhookCaller, seed_url: str
) -> None:
    url = seed_url.replace("http://", "http://bot:hunter2@") + "/echo?token=abc&lang=en"

    outcome, invocation = await caller(make_call(), url, "t-1")

    assert outcome.data is not None
    assert outcome.data["received_headers"]["authorization"].startswith("Basic ")
    assert invocation.url == (
        seed_url.replace("http://", "http://bot:****@") + "/echo?token=****&lang=en"
    )
    assert "hunter2" not in json.dumps(invocation.to_json())


async def test_calls_on_the_shared_client_run_concurrently(
    caller: WebhookCaller, seed_url: str
) -> None:
    started = time.perf_counter()

    results = await asyncio.gather(
        *(caller(make_call(timeout=10), seed_url + "/slow?s=1", f"t-{n}") for n in range(5))
    )

    assert all(outcome.failure is None for outcome, _ in results)
    assert time.perf_counter() - started < 4  # one after another would take 5 s


def test_reset_connection_is_named_through_the_clients_wrapping() -> None:
    error = aiohttp.ClientOSError(104, "Connection reset by peer")
    error.__cause__ = ConnectionResetError(104, "Connection reset by peer")

    assert _reason(error, "http://example.com/") == "connection reset by the webhook"


def test_server_closing_without_an_answer_is_named() -> None:
    error = aiohttp.ServerDisconnectedError()

    assert _reason(error, "http://example.com/") == (
        "the webhook closed the connection without answering"
    )
