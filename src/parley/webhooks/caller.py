"""Webhook delivery: encode with the call's dialect, send, decode; log every call.

Delivery moves bytes and knows no dialect's fields. One whole-call deadline bounds connect,
send and reading the body; the body is read up to a cap; transport trouble becomes
`Outcome.failed(reason)`, never an exception.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from parley import __version__
from parley.bot.schema import ResilienceSpec, WebhookSpec
from parley.dialects import UnknownDialect, WireRequest, WireResponse, get_dialect
from parley.model import Call, Invocation, Outcome
from parley.observability.context import outbound_traceparent
from parley.webhooks.breaker import Breakers, endpoint_of
from parley.webhooks.guard import AddressRefused, Guard, GuardedConnector
from parley.webhooks.limits import EndpointLimits, TooManyInFlight
from parley.webhooks.redact import log_text, mask_headers, mask_url
from parley.webhooks.urls import resolve_url

__all__ = ["WebhookCaller", "make_client", "resolve_url"]

_CHUNK = 64 * 1024
_RESILIENCE = ResilienceSpec()
_FIRST_BACKOFF = 0.05  # seconds before the first retry; doubles on each further one


def make_client(
    *, max_connections: int = 100, keepalive_expiry: float = 30.0, guard: Guard | None = None
) -> aiohttp.ClientSession:
    """The one pooled client the runtime shares between all webhook calls; close it on exit.
    Create it inside the running event loop.

    Redirects are not followed (a webhook answers, it does not send us elsewhere),
    `HTTP(S)_PROXY`/`.netrc` from the environment are ignored, so what a bot reaches does
    not depend on how the server process was started, and cookies are neither kept nor
    sent: the client is every bot's, so one webhook's session cookie would ride along on
    other bots' calls to its host. With a `guard`, production calls
    only reach public addresses or the guard's allow-list (`parley.webhooks.guard`).
    """
    connector = (aiohttp.TCPConnector if guard is None else partial(GuardedConnector, guard))(
        limit=max_connections, keepalive_timeout=keepalive_expiry, ttl_dns_cache=60
    )
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None),  # each call passes its own deadline
        headers={"User-Agent": f"parley/{__version__}"},
        raise_for_status=False,
    )


class WebhookCaller:
    """Runs webhook, event and HTTP-block calls over a shared client; returns the outcome and
    its log entry.

    Never raises for what the network or the webhook does: timeouts, refused connections,
    bad statuses, oversized or malformed answers all come back as `Outcome.failed(reason)`,
    with the same reason in `Invocation.error`.

    Each (bot, endpoint) has a circuit breaker and a concurrency limit, and connection errors
    may be retried (`ResilienceSpec`); `breakers`, `limits` and `pause` (the sleep between
    attempts) are injectable for tests.
    """

    def __init__(
        self,
        client: aiohttp.ClientSession,
        *,
        breakers: Breakers | None = None,
        limits: EndpointLimits | None = None,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self.breakers = breakers or Breakers()
        self.limits = limits or EndpointLimits()
        self._pause = pause

    async def __call__(
        self, call: Call, url: str, turn_id: str, resilience: ResilienceSpec | None = None
    ) -> tuple[Outcome, Invocation]:
        spec: WebhookSpec = call.spec
        policy = resilience or _RESILIENCE
        invocation = Invocation(
            turn_id=turn_id,
            bot=call.conversation.bot,
            conversation_id=call.conversation.id,
            node=call.node,
            kind=call.kind,
            url=mask_url(url),
            created_at=time.time(),
            dialect=spec.dialect,
            environment=call.conversation.environment.value,
        )
        try:
            dialect = get_dialect(spec.dialect)
            request = dialect.encode(call, url)
        except (UnknownDialect, TypeError, ValueError) as exc:
            return _failed(invocation, f"could not encode the request: {exc}")
        retries = getattr(spec, "retries", None)
        retries = policy.retries if retries is None else retries
        if retries:  # the same key on every attempt, so the webhook can drop duplicates
            request = replace(request, headers={**request.headers, "Idempotency-Key": turn_id})
        invocation.method = request.method
        invocation.request_headers = mask_headers(request.headers)
        invocation.request_body = log_text(request.body)
        if not any(name.lower() == "traceparent" for name in request.headers):
            # W3C trace context: the turn's trace, a new span per call; not in the
            # invocation's logged headers (docs/operations.md)
            request = replace(
                request, headers={**request.headers, "traceparent": outbound_traceparent()}
            )

        started = time.perf_counter()
        exchange = await self._resilient(
            call.conversation.bot, request, spec.timeout, spec.max_response_bytes, policy, retries
        )
        invocation.latency_ms = (time.perf_counter() - started) * 1000
        if exchange.status is None:
            return _failed(invocation, exchange.failure or "no response")
        invocation.status = exchange.status
        invocation.response_body = log_text(bytes(exchange.body))
        if exchange.failure:
            return _failed(invocation, exchange.failure)
        response = WireResponse(exchange.status, exchange.headers, bytes(exchange.body))
        outcome = dialect.decode(call, response)
        invocation.error = outcome.failure
        return outcome, invocation

    async def _resilient(
        self,
        bot: str,
        request: WireRequest,
        timeout: float,
        limit: int,
        policy: ResilienceSpec,
        retries: int,
    ) -> _Exchange:
        """`_exchange` behind the endpoint's breaker and concurrency limit, with retries."""
        endpoint = endpoint_of(request.url)
        threshold = policy.failure_threshold
        refusal = self.breakers.admit(bot, endpoint, threshold, policy.cool_down)
        if refusal is not None:
            return _Exchange(failure=refusal)
        deadline = asyncio.get_running_loop().time() + timeout
        judged = False
        try:
            try:
                async with self.limits.slot(bot, endpoint, policy.max_in_flight, timeout):
                    exchange = await self._attempts(request, timeout, deadline, limit, retries)
            except TooManyInFlight:  # our own limit, not the endpoint's fault: no verdict
                return _Exchange(
                    failure=f"too many calls in flight to {endpoint} "
                    f"(limit {policy.max_in_flight}, waited {timeout} s)"
                )
            if exchange.guarded:  # keep the guard's reason in every log entry: no verdict
                return exchange
            if _unhealthy(exchange):
                reason = exchange.failure or f"HTTP {exchange.status}"
                self.breakers.failure(bot, endpoint, threshold, reason)
            else:
                self.breakers.success(bot, endpoint)
            judged = True
            return exchange
        finally:
            if not judged:  # cancelled, or no slot: let the next call probe
                self.breakers.release(bot, endpoint)

    async def _attempts(
        self, request: WireRequest, timeout: float, deadline: float, limit: int, retries: int
    ) -> _Exchange:
        """Up to `1 + retries` exchanges, retrying only when no connection was made, so the
        request cannot have reached the webhook; all of them inside the one deadline."""
        loop = asyncio.get_running_loop()
        attempt = 1
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return _Exchange(failure=f"timed out after {timeout} s")
            exchange = await self._exchange(request, remaining, limit)
            if exchange.failure is not None and exchange.failure.startswith("timed out after"):
                exchange.failure = f"timed out after {timeout} s"  # the call's, not the attempt's
            backoff = _FIRST_BACKOFF * 2 ** (attempt - 1)
            if attempt > retries or not exchange.connect_failed:
                break
            if deadline - loop.time() <= backoff:  # no time left for another try
                break
            await self._pause(backoff)
            attempt += 1
        if attempt > 1 and exchange.failure is not None:
            exchange.failure += f" ({attempt} attempts)"
        return exchange

    async def _exchange(self, request: WireRequest, timeout: float, limit: int) -> _Exchange:
        exchange = _Exchange()
        try:
            # One deadline for connecting, sending and reading: asyncio's (the session has
            # no timeout of its own, so aiohttp arms no second timer per call).
            async with (
                asyncio.timeout(timeout),
                self._client.request(
                    request.method,
                    request.url,
                    data=request.body if request.method != "GET" else None,
                    headers=request.headers,
                    allow_redirects=False,
                ) as response,
            ):
                exchange.status = response.status
                exchange.headers = response.headers
                content = response.content
                exchange.body += content.read_nowait()  # what came with the head: often all
                if len(exchange.body) <= limit and not content.at_eof():
                    async for chunk in content.iter_chunked(_CHUNK):
                        exchange.body += chunk
                        if len(exchange.body) > limit:
                            break
                if len(exchange.body) > limit:
                    del exchange.body[limit:]
                    exchange.failure = f"response larger than {limit} bytes"
        except TimeoutError:
            exchange.failure = f"timed out after {timeout} s"
        except (aiohttp.ClientError, ValueError, OSError) as exc:
            exchange.failure = _reason(exc, request.url)
            exchange.connect_failed = isinstance(
                exc, aiohttp.ClientConnectorError
            ) and not isinstance(exc, aiohttp.ClientSSLError)
            exchange.guarded = isinstance(exc, AddressRefused)
        return exchange


@dataclass(slots=True)
class _Exchange:
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=CIMultiDict)
    body: bytearray = field(default_factory=bytearray)
    failure: str | None = None
    connect_failed: bool = False
    """No connection was made (refused, DNS, reset while connecting): safe to retry."""
    guarded: bool = False
    """The SSRF guard refused the address: policy, not the endpoint's health."""


def _unhealthy(exchange: _Exchange) -> bool:
    """Counts against the breaker: no answer, a cut-off or oversized one, HTTP 5xx or 429.
    Other statuses (4xx included) mean the endpoint is up and answering."""
    status = exchange.status
    return exchange.failure is not None or status is None or status >= 500 or status == 429


def _failed(invocation: Invocation, reason: str) -> tuple[Outcome, Invocation]:
    invocation.error = reason
    return Outcome.failed(reason), invocation


def _reason(exc: Exception, url: str) -> str:
    """A sentence for the log from a transport exception, looking through what it wraps."""
    if isinstance(exc, AddressRefused):
        return str(exc)
    for cause in _chain(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the webhook"
        if isinstance(cause, socket.gaierror):
            return f"could not resolve host {urlsplit(url).hostname} ({cause.strerror})"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError | ValueError):
        return f"invalid webhook URL: {exc}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the webhook closed the connection without answering"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return f"webhook broke the HTTP exchange: {exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "os_error", None)  # aiohttp's connector errors
        if isinstance(wrapped, BaseException) and id(wrapped) not in seen:
            seen.add(id(wrapped))
            yield wrapped
        current = current.__cause__ or current.__context__
