"""Webhook resilience against real servers on 127.0.0.1: circuit breakers, retries on
connection errors with an Idempotency-Key, and the per-endpoint concurrency limit.

What reached a webhook is counted on the server side. Breakers read a fake clock, so no test
waits out a cool-down; timing assertions are generous, they only prove a call was bounded.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from pydantic import ValidationError

from parley.bot.schema import BotSpec, ResilienceSpec
from parley.model import Call, Conversation, Environment
from parley.runtime.callers import Callers
from parley.webhooks import WebhookCaller, make_client
from parley.webhooks.breaker import Breakers, BreakerState, endpoint_of
from parley.webhooks.guard import Guard

from .calls import make_call

OK = json.dumps({"status": True, "response": ["ok"]}).encode()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder(ThreadingHTTPServer):
    """Counts requests per path, remembers their Idempotency-Keys and the most calls it ever
    had in flight at once. `healthy` flips /flaky from 500 to 200."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, *, listen: bool = True) -> None:
        super().__init__(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server_bind()
        if listen:
            self.server_activate()
        self.stopping = threading.Event()
        self.healthy = False
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.keys: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients cut off on purpose (timeouts) are what these tests provoke


class Handler(BaseHTTPRequestHandler):
    server: Recorder
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        server = self.server
        with server.lock:
            server.hits[url.path] += 1
            server.keys.append(self.headers.get("Idempotency-Key"))
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            self.route(url.path, float(query.get("s", "0")))
        finally:
            with server.lock:
                server.in_flight -= 1

    def route(self, path: str, seconds: float) -> None:
        if path == "/500" or (path == "/flaky" and not self.server.healthy):
            self.answer(500, b'{"error": "broken"}')
        elif path == "/blackhole":
            self.server.stopping.wait(30)  # never answers while the test runs
        elif path == "/reset":  # the request arrived; the connection dies without an answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(OK)))
            self.end_headers()
            for byte in OK:
                if self.server.stopping.wait(0.1):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        else:  # /ok, /hold?s=, a healthy /flaky
            self.server.stopping.wait(seconds)
            self.answer(200, OK)

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def recorder(*, listen: bool = True) -> Iterator[Recorder]:
    server = Recorder(listen=listen)
    if listen:
        server.start()
    try:
        yield server
    finally:
        server.stopping.set()
        if server.thread is not None:
            server.shutdown()
        server.server_close()


@pytest.fixture
def webhook() -> Iterator[Recorder]:
    with recorder() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def resilient(
    client: aiohttp.ClientSession, clock: FakeClock
) -> AsyncIterator[WebhookCaller]:
    yield WebhookCaller(client, breakers=Breakers(clock, wall=lambda: 0.0))


def call_for(bot: str = "shop", **spec: Any) -> Call:
    call = make_call(**spec)
    conv = call.conversation
    return Call(
        kind=call.kind,
        node=call.node,
        spec=call.spec,
        entities=call.entities,
        conversation=Conversation(
            id=conv.id, bot=bot, user_id=conv.user_id, environment=Environment.PRODUCTION
        ),
        user=call.user,
    )


FIVE = ResilienceSpec()


# --- the breaker -------------------------------------------------------------------------


async def test_500s_open_the_breaker_after_five_and_then_nothing_reaches_the_webhook(
    resilient: WebhookCaller, webhook: Recorder
) -> None:
    url = webhook.url + "/500"
    for _ in range(5):
        outcome, invocation = await resilient(call_for(), url, "t-1", FIVE)
        assert outcome.failure == "webhook answered HTTP 500"
    assert webhook.hits["/500"] == 5

    started = time.perf_counter()
    for _ in range(20):
        outcome, invocation = await resilient(call_for(), url, "t-2", FIVE)
        assert outcome.failure == (
            f"circuit open for {url} after 5 failures; retrying at 1970-01-01T00:00:30Z"
        )
        assert invocation.error == outcome.failure
        assert invocation.status is None
    assert time.perf_counter() - started < 1  # failed fast, no network
    assert webhook.hits["/500"] == 5
    assert resilient.breakers.state("shop", url, 30) is BreakerState.OPEN


async def test_a_success_resets_the_count_of_consecutive_failures(
    resilient: WebhookCaller, webhook: Recorder
) -> None:
    for _ in range(4):
        await resilient(call_for(), webhook.url + "/flaky", "t", FIVE)
    webhook.healthy = True
    assert (await resilient(call_for(), webhook.url + "/flaky", "t", FIVE))[0].failure is None
    webhook.healthy = False
    for _ in range(4):
        outcome, _ = await resilient(call_for(), webhook.url + "/flaky", "t", FIVE)
        assert outcome.failure == "webhook answered HTTP 500"
    assert webhook.hits["/flaky"] == 9


async def test_four_hundreds_are_answers_and_do_not_open_the_breaker(
    resilient: WebhookCaller, seed_url: str
) -> None:
    for _ in range(8):  # unsigned: the seed answers 401 every time
        outcome, _ = await resilient(call_for(), seed_url + "/p", "t", FIVE)
        assert outcome.failure == "webhook answered HTTP 401"


async def test_half_open_lets_one_probe_through_and_its_success_closes_the_breaker(
    resilient: WebhookCaller, webhook: Recorder, clock: FakeClock
) -> None:
    url = webhook.url + "/flaky"
    for _ in range(5):
        await resilient(call_for(), url, "t", FIVE)
    clock.now += 29.9
    assert str((await resilient(call_for(), url, "t", FIVE))[0].failure).startswith("circuit open")
    assert webhook.hits["/flaky"] == 5

    clock.now += 0.1
    webhook.healthy = True
    slow_probe = asyncio.create_task(resilient(call_for(), url + "?s=0.3", "t", FIVE))
    await asyncio.sleep(0.1)
    meanwhile, _ = await resilient(call_for(), url, "t", FIVE)
    assert meanwhile.failure == f"circuit half-open for {url}: a probe call is in flight"
    probe, _ = await slow_probe
    assert probe.failure is None
    assert webhook.hits["/flaky"] == 6  # only the probe

    for _ in range(3):
        outcome, _ = await resilient(call_for(), url, "t", FIVE)
        assert outcome.failure is None
    assert webhook.hits["/flaky"] == 9
    assert resilient.breakers.state("shop", url, 30) is BreakerState.CLOSED


async def test_a_failed_probe_opens_the_breaker_for_another_cool_down(
    resilient: WebhookCaller, webhook: Recorder, clock: FakeClock
) -> None:
    url = webhook.url + "/500"
    for _ in range(5):
        await resilient(call_for(), url, "t", FIVE)
    clock.now += 30
    probe, _ = await resilient(call_for(), url, "t", FIVE)
    assert probe.failure == "webhook answered HTTP 500"
    assert webhook.hits["/500"] == 6

    clock.now += 29
    again, _ = await resilient(call_for(), url, "t", FIVE)
    assert again.failure == (
        f"circuit open for {url} after 6 failures; retrying at 1970-01-01T00:00:01Z"
    )
    assert webhook.hits["/500"] == 6


async def test_other_endpoints_and_other_bots_are_unaffected_while_one_is_open(
    resilient: WebhookCaller, webhook: Recorder
) -> None:
    broken = webhook.url + "/500"
    for _ in range(5):
        await resilient(call_for("shop"), broken, "t", FIVE)
    still, _ = await resilient(call_for("shop"), broken, "t", FIVE)
    assert str(still.failure).startswith("circuit open")

    same_host, _ = await resilient(call_for("shop"), webhook.url + "/ok", "t", FIVE)
    assert same_host.failure is None
    other_bot, _ = await resilient(call_for("other"), broken, "t", FIVE)
    assert other_bot.failure == "webhook answered HTTP 500"  # it reached the webhook
    assert webhook.hits == Counter({"/500": 6, "/ok": 1})


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/blackhole", "timed out after 0.3 s"),
        ("/trickle", "timed out after 0.3 s"),
        ("/reset", "connection reset by the webhook"),
        ("/500", "webhook answered HTTP 500"),
    ],
)
async def test_black_holes_resets_trickles_and_500s_all_open_the_breaker(
    resilient: WebhookCaller, webhook: Recorder, path: str, reason: str
) -> None:
    policy = ResilienceSpec(failure_threshold=2)
    url = webhook.url + path
    for _ in range(2):
        outcome, _ = await resilient(call_for(timeout=0.3), url, "t", policy)
        assert outcome.failure == reason
    outcome, _ = await resilient(call_for(timeout=0.3), url, "t", policy)
    assert outcome.failure is not None
    assert outcome.failure.startswith(f"circuit open for {url} after 2 failures")
    assert webhook.hits[path] == 2


async def test_refused_connections_open_the_breaker(
    resilient: WebhookCaller, refused_url: str
) -> None:
    for _ in range(5):
        assert (await resilient(call_for(), refused_url, "t", FIVE))[0].failure == (
            "connection refused"
        )
    outcome, _ = await resilient(call_for(), refused_url, "t", FIVE)
    assert outcome.failure is not None
    assert outcome.failure.startswith(f"circuit open for {refused_url} after 5 failures")


async def test_threshold_zero_turns_the_breaker_off(
    resilient: WebhookCaller, webhook: Recorder
) -> None:
    off = ResilienceSpec(failure_threshold=0)
    for _ in range(8):
        assert (await resilient(call_for(), webhook.url + "/500", "t", off))[0].failure == (
            "webhook answered HTTP 500"
        )
    assert webhook.hits["/500"] == 8


async def test_the_breaker_counts_by_endpoint_not_by_query(
    resilient: WebhookCaller, webhook: Recorder
) -> None:
    for n in range(5):
        await resilient(call_for(), f"{webhook.url}/500?n={n}&token=secret", "t", FIVE)
    outcome, _ = await resilient(call_for(), webhook.url + "/500?n=9", "t", FIVE)
    assert outcome.failure is not None
    assert outcome.failure.startswith(f"circuit open for {webhook.url}/500 after 5")
    assert "secret" not in outcome.failure


async def test_bot_settings_reach_the_breaker_through_the_runtime_callers(
    client: aiohttp.ClientSession, webhook: Recorder
) -> None:
    bot = BotSpec.model_validate(
        {"name": "shop", "nodes": {}, "settings": {"resilience": {"failure_threshold": 1}}}
    )
    callers = Callers(client)
    call = call_for(path=None, url=webhook.url + "/500")
    first, _ = await callers.perform(bot, call, "t-1")
    second, invocation = await callers.perform(bot, call, "t-2")
    await callers.aclose()

    assert first.failure == "webhook answered HTTP 500"
    assert second.failure is not None
    assert second.failure.startswith(f"circuit open for {webhook.url}/500 after 1 failures")
    assert invocation.error == second.failure
    assert webhook.hits["/500"] == 1


# --- retries -----------------------------------------------------------------------------


class Pauses:
    """Stands in for the sleep between attempts; runs `between` at the first one."""

    def __init__(self, between: Any = None) -> None:
        self.seen: list[float] = []
        self.between = between

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        if self.between is not None and len(self.seen) == 1:
            self.between()


async def test_a_refused_connection_is_retried_once_the_webhook_listens_with_the_same_key(
    client: aiohttp.ClientSession,
) -> None:
    with recorder(listen=False) as late:  # bound, not listening: connecting is refused

        def come_up() -> None:
            late.server_activate()
            late.start()

        pauses = Pauses(come_up)
        caller = WebhookCaller(client, pause=pauses)
        policy = ResilienceSpec(retries=2)

        outcome, invocation = await caller(call_for(), late.url + "/ok", "turn-42", policy)

        assert outcome.failure is None
        assert invocation.status == 200
        assert len(pauses.seen) == 1  # refused once, then answered
        assert late.hits["/ok"] == 1
        assert late.keys == ["turn-42"]
        assert invocation.request_headers["Idempotency-Key"] == "turn-42"


async def test_retries_give_up_after_the_configured_attempts(
    client: aiohttp.ClientSession, refused_url: str
) -> None:
    pauses = Pauses()
    caller = WebhookCaller(client, pause=pauses)

    outcome, _ = await caller(call_for(), refused_url, "t", ResilienceSpec(retries=2))

    assert outcome.failure == "connection refused (3 attempts)"
    assert pauses.seen == [0.05, 0.1]


async def test_retries_stay_inside_the_calls_deadline(
    client: aiohttp.ClientSession, refused_url: str
) -> None:
    caller = WebhookCaller(client)  # real sleeps between attempts
    started = time.perf_counter()

    outcome, _ = await caller(call_for(timeout=0.2), refused_url, "t", ResilienceSpec(retries=5))

    assert time.perf_counter() - started < 1
    assert outcome.failure is not None
    assert outcome.failure.startswith("connection refused (")


async def test_an_unresolvable_host_is_retried(client: aiohttp.ClientSession) -> None:
    pauses = Pauses()
    caller = WebhookCaller(client, pause=pauses)

    outcome, _ = await caller(
        call_for(), "http://no-such-host.invalid/hook", "t", ResilienceSpec(retries=1)
    )

    assert outcome.failure is not None
    assert outcome.failure.startswith("could not resolve host no-such-host.invalid")
    assert outcome.failure.endswith("(2 attempts)")
    assert len(pauses.seen) == 1


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/blackhole", "timed out after 0.3 s"),
        ("/500", "webhook answered HTTP 500"),
        ("/reset", "connection reset by the webhook"),
    ],
)
async def test_no_retry_once_the_request_may_have_reached_the_webhook(
    client: aiohttp.ClientSession, webhook: Recorder, path: str, reason: str
) -> None:
    pauses = Pauses()
    caller = WebhookCaller(client, pause=pauses)

    outcome, _ = await caller(
        call_for(timeout=0.3), webhook.url + path, "turn-7", ResilienceSpec(retries=3)
    )

    assert outcome.failure is not None
    assert outcome.failure.startswith(reason)
    assert "attempts" not in outcome.failure
    assert pauses.seen == []
    assert webhook.hits[path] == 1
    assert webhook.keys == ["turn-7"]  # the key is on the first attempt too


async def test_no_idempotency_key_without_retries(caller: WebhookCaller, webhook: Recorder) -> None:
    outcome, invocation = await caller(call_for(), webhook.url + "/ok", "t-1")

    assert outcome.failure is None
    assert webhook.keys == [None]
    assert "Idempotency-Key" not in invocation.request_headers


async def test_a_webhooks_own_retries_override_the_bot_setting(
    client: aiohttp.ClientSession, refused_url: str, webhook: Recorder
) -> None:
    pauses = Pauses()
    caller = WebhookCaller(client, pause=pauses)
    bot_retries = ResilienceSpec(retries=3)

    outcome, _ = await caller(call_for(retries=0), refused_url, "t", bot_retries)
    assert outcome.failure == "connection refused"
    await caller(call_for(retries=1), webhook.url + "/ok", "t-9", FIVE)
    assert webhook.keys == ["t-9"]


# --- the concurrency limit ---------------------------------------------------------------


async def test_the_concurrency_limit_holds_on_the_server_side(
    resilient: WebhookCaller, webhook: Recorder
) -> None:
    policy = ResilienceSpec(max_in_flight=3)
    url = webhook.url + "/hold?s=0.15"

    results = await asyncio.gather(
        *(resilient(call_for(timeout=10), url, f"t-{n}", policy) for n in range(12))
    )

    assert all(outcome.failure is None for outcome, _ in results)
    assert webhook.hits["/hold"] == 12
    assert webhook.max_in_flight == 3
    assert resilient.limits.in_flight("shop", f"{webhook.url}/hold") == 0


async def test_calls_that_find_no_slot_before_their_deadline_fail(
    resilient: WebhookCaller, webhook: Recorder
) -> None:
    policy = ResilienceSpec(max_in_flight=1)
    url = webhook.url + "/hold?s=0.6"

    first = asyncio.create_task(resilient(call_for(timeout=5), url, "t-1", policy))
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    waited, invocation = await resilient(call_for(timeout=0.2), url, "t-2", policy)
    assert time.perf_counter() - started < 0.5
    done, _ = await first

    assert done.failure is None
    assert waited.failure == (
        f"too many calls in flight to {webhook.url}/hold (limit 1, waited 0.2 s)"
    )
    assert invocation.error == waited.failure
    assert webhook.hits["/hold"] == 1
    # waiting for a slot is not the webhook's fault: the breaker did not count it
    assert resilient.breakers.state("shop", f"{webhook.url}/hold", 30) is BreakerState.CLOSED


async def test_the_limit_is_per_bot_and_endpoint(
    resilient: WebhookCaller, webhook: Recorder
) -> None:
    policy = ResilienceSpec(max_in_flight=1)
    calls = [
        resilient(call_for("shop", timeout=5), webhook.url + "/hold?s=0.3", "t", policy),
        resilient(call_for("other", timeout=5), webhook.url + "/hold?s=0.3", "t", policy),
        resilient(call_for("shop", timeout=5), webhook.url + "/ok?s=0.3", "t", policy),
    ]
    results = await asyncio.gather(*calls)

    assert all(outcome.failure is None for outcome, _ in results)
    assert webhook.max_in_flight == 3


# --- pieces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("http://Example.COM/hook?x=1#f", "http://example.com:80/hook"),
        ("https://user:pw@example.com/a/b", "https://example.com:443/a/b"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("http://[::1]:9000/x", "http://[::1]:9000/x"),
    ],
)
def test_endpoint_is_scheme_host_port_and_path(url: str, endpoint: str) -> None:
    assert endpoint_of(url) == endpoint


def test_the_resilience_block_in_bot_yaml() -> None:
    bot = BotSpec.model_validate(
        {
            "name": "shop",
            "settings": {
                "resilience": {
                    "failure_threshold": 3,
                    "cool_down": 10,
                    "retries": 2,
                    "max_in_flight": 20,
                }
            },
            "nodes": {"n": {"webhook": {"path": "/p", "retries": 0}}},
        }
    )
    assert bot.settings.resilience == ResilienceSpec(
        failure_threshold=3, cool_down=10, retries=2, max_in_flight=20
    )
    assert bot.nodes["n"].webhook is not None
    assert bot.nodes["n"].webhook.retries == 0
    assert BotSpec.model_validate({"name": "b", "nodes": {}}).settings.resilience == FIVE
    for bad in ({"retries": 9}, {"max_in_flight": 0}, {"cool_down": 0}, {"breaker": 1}):
        with pytest.raises(ValidationError):
            BotSpec.model_validate({"name": "b", "nodes": {}, "settings": {"resilience": bad}})


async def test_ssrf_guard_refusals_never_open_the_breaker(webhook: Recorder) -> None:
    async with make_client(guard=Guard()) as guarded:
        caller = WebhookCaller(guarded)
        for _ in range(8):  # a production call to 127.0.0.1: the guard's reason every time
            outcome, _ = await caller(call_for(), webhook.url + "/ok", "t", FIVE)
            assert str(outcome.failure).startswith("refused by the SSRF guard")
    assert webhook.hits["/ok"] == 0
