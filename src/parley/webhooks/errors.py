"""Error reports: after a webhook call failed, tell the owner's server (`settings.report_errors`).

The dialect says what to send (`Dialect.error_report`); this module only sends it, fire and
forget, bounded by a short deadline. A report never delays the turn, and whatever happens to
it (refused, slow, any status) is ignored: the failure itself is already in the invocation
log.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp

from parley.bot.schema import WebhookSpec
from parley.dialects import WireRequest, get_dialect
from parley.errors import ParleyError
from parley.model import Call
from parley.webhooks.urls import Environments, join_url, resolve_url

__all__ = ["ErrorReporter", "errors_url"]

ERRORS_PATH = "/errors"


def errors_url(spec: WebhookSpec, environments: Environments, environment: str) -> str:
    """`/errors` on the webhook's base URL: the environment's for a `path`, else `url`'s origin."""
    if spec.path is not None:
        return resolve_url(spec.model_copy(update={"path": ERRORS_PATH}), environments, environment)
    origin = urlsplit(spec.url or "")
    return join_url(f"{origin.scheme}://{origin.netloc}", ERRORS_PATH)


class ErrorReporter:
    """Sends error reports in the background over the shared client; `aclose` waits for them."""

    def __init__(self, client: aiohttp.ClientSession, timeout: float = 5.0) -> None:
        self._client = client
        self._timeout = timeout
        self._pending: set[asyncio.Task[None]] = set()

    def report(self, call: Call, reason: str, environments: Environments) -> None:
        """Schedule the report for `call`, if its dialect defines one; returns at once."""
        spec: WebhookSpec = call.spec
        try:
            url = errors_url(spec, environments, call.conversation.environment.value)
            request = get_dialect(spec.dialect).error_report(call, url, reason)
        except (ParleyError, ValueError):  # an unknown dialect or URL: nothing to report to
            return
        if request is None:
            return
        task = asyncio.create_task(self._send(request))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def aclose(self) -> None:
        """Wait for the reports still on their way (each is bounded by the timeout)."""
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def _send(self, request: WireRequest) -> None:
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._client.request(
                    request.method,
                    request.url,
                    data=request.body,
                    headers=request.headers,
                    allow_redirects=False,
                ) as response,
            ):
                await response.read()
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
            pass  # best effort: the failed call is logged already
