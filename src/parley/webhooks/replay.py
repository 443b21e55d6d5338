"""Replaying a logged call: the recorded body, sent again with fresh credentials.

The invocation log keeps bodies whole (up to its cut) but masks credentials, so a replay
drops the masked headers and the old signature and signs the body again with the webhook's
*current* secrets (`signing:`), as the webhook would receive it today. Like every call it
goes through the pooled client: the SSRF guard applies to the recorded environment.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from parley.bot.schema import WebhookSpec
from parley.dialects.headers import request_headers
from parley.dialects.signatures import SHA1_HEADER, sign_sha1, standard_headers
from parley.webhooks.caller import _reason  # one wording for transport failures
from parley.webhooks.guard import environment_scope
from parley.webhooks.redact import MASK, log_text, mask_headers, mask_url

_STALE = frozenset({"x-hub-signature", "webhook-id", "webhook-timestamp", "webhook-signature"})
_DROPPED = frozenset({"traceparent", "content-length", "host", "user-agent"})


@dataclass(frozen=True, slots=True)
class Replayed:
    """One answer to a replayed request, as the console shows it (credentials masked)."""

    url: str
    status: int | None
    body: str | None
    latency_ms: float
    error: str | None
    request_headers: dict[str, str]

    def to_json(self) -> dict[str, object]:
        return {
            "url": mask_url(self.url),
            "status": self.status,
            "body": self.body,
            "latency_ms": round(self.latency_ms, 2),
            "error": self.error,
            "request_headers": mask_headers(self.request_headers),
        }


def replay_headers(
    recorded: Mapping[str, str], spec: WebhookSpec | None, body: bytes
) -> dict[str, str]:
    """The recorded headers without masked values and stale signatures, then the webhook's
    configured headers and auth, then a fresh signature of `body`."""
    headers = {
        name: value
        for name, value in recorded.items()
        if MASK not in value and name.lower() not in _STALE | _DROPPED
    }
    if spec is None:
        return headers
    headers.update(request_headers(spec))
    secrets_ = spec.signing_secrets
    if secrets_ and spec.signing == "standard":
        msg_id = "msg_replay_" + secrets.token_hex(12)
        headers.update(standard_headers(secrets_, msg_id, int(time.time()), body))
    elif secrets_:
        headers[SHA1_HEADER] = sign_sha1(secrets_[0], body)
    return headers


async def send(
    client: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    environment: str,
    timeout: float = 30.0,
    limit: int = 1_048_576,
) -> Replayed:
    """One exchange, no retries, no breaker: a person asked for exactly this request."""
    started = time.perf_counter()
    status, text, error = None, None, None
    with environment_scope(environment):
        try:
            async with client.request(
                method,
                url,
                data=body if method != "GET" else None,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                status = response.status
                raw = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    raw += chunk
                    if len(raw) > limit:
                        break
                text = log_text(bytes(raw[:limit]))
                if len(raw) > limit:
                    error = f"response larger than {limit} bytes"
        except TimeoutError:
            error = f"timed out after {timeout} s"
        except (aiohttp.ClientError, ValueError, OSError) as exc:
            error = _reason(exc, url)
    latency = (time.perf_counter() - started) * 1000
    return Replayed(url, status, text, latency, error, headers)
