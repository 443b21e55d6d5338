"""The sans-I/O core every SDK app shares: method, headers and body in, a `Reply` out.

The ASGI and WSGI adapters only move bytes; the rules of seed 001's sample server live here
once: POST only, `Content-Type: application/json` and a non-empty body (else 400), a valid
`X-Hub-Signature` when the app has a secret (else 401; with `signing="standard"` the Standard
Webhooks headers instead), a body the dialect's model accepts (else 400). A handler refuses a
request by raising `WebhookError`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Generic, Literal, TypeVar

from parley.dialects.signatures import (
    SHA1_HEADER,
    SIGNATURE_HEADER,
    TOLERANCE,
    standard_key,
    verify_sha1,
    verify_standard,
)

RequestT = TypeVar("RequestT")
AnswerT = TypeVar("AnswerT")

MAX_BODY = 1_000_000
"""Requests with a larger body are refused with 413 (parley's own cap on answers is the same)."""

_log = logging.getLogger("parley.sdk")
_JSON = "application/json"
_TEXT = "text/plain; charset=utf-8"


class WebhookError(Exception):
    """Raise from a handler to refuse a request: the app answers `status_code` (400 unless
    told) with `message` as plain text. parley treats any status but 200 as a failed call."""

    def __init__(self, status_code: int = 400, message: str = "") -> None:
        super().__init__(message or HTTPStatus(status_code).phrase)
        self.status_code = status_code
        self.message = message or HTTPStatus(status_code).phrase


Signing = Literal["hub-sha1", "standard"]


def verify_signature(secret: str | Sequence[str], body: bytes, header: str | None) -> bool:
    """Whether `header` (Haptik's `X-Hub-Signature: sha1=<hex>`) is the HMAC-SHA1 of exactly
    `body` keyed by `secret` (or by any of several secrets, during a rotation). Constant
    time; a missing header is False."""
    matched = False
    for one in _secrets(secret):
        matched |= verify_sha1(one, body, header)
    return matched


def verify_standard_signature(
    secret: str | Sequence[str],
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance: float = TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether `headers` (names in any case) carry a Standard Webhooks signature of exactly
    `body`: `webhook-signature` has a `v1,` entry that is the base64 HMAC-SHA256 of
    `"{webhook-id}.{webhook-timestamp}.{body}"` keyed by `secret` (`whsec_` + base64, or any
    of several during a rotation), and `webhook-timestamp` is within `tolerance` seconds of
    `now` (the clock unless given). Constant time; missing headers are False. Raises
    ValueError for a secret that is not base64."""
    keys = _secrets(secret)
    for one in keys:
        standard_key(one)
    clock = time.time() if now is None else now
    return verify_standard(keys, body, headers, now=clock, tolerance=tolerance)


def _secrets(secret: str | Sequence[str]) -> list[str]:
    return [secret] if isinstance(secret, str) else list(secret)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = _TEXT

    @classmethod
    def text(cls, status: int, message: str) -> Reply:
        return cls(status, f"{message}\n".encode())

    def header_list(self) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))]

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"


@dataclass(frozen=True, slots=True)
class Endpoint(Generic[RequestT, AnswerT]):
    """One dialect's webhook contract: how to read its request, how to write its answer."""

    parse: Callable[[Any], RequestT]
    render: Callable[[AnswerT], Any]
    secret: str | Sequence[str] | None = None
    """The secret (or secrets, any of which will do) requests must be signed with."""
    signature_header: str = SHA1_HEADER
    signing: Signing = "hub-sha1"
    """`standard`: require Standard Webhooks headers instead of `signature_header`."""
    tolerance: float = TOLERANCE
    """How far `webhook-timestamp` may be from the clock (`signing="standard"`)."""
    basic_auth: tuple[str, str] | None = None
    """When set, `Authorization: Basic` must carry this user and password (else 401)."""
    methods: frozenset[str] = frozenset({"POST"})
    """Methods that reach the handler; a `GET` not among them is a health check."""
    allow_empty: bool = False
    """Whether an empty body (no `Content-Type` needed) is parsed as `{}` instead of 400."""
    route: Callable[[str, str], Reply | None] | None = None
    """`(method, path)` -> a reply that answers before the rules (health, 404), or None."""
    refusal: Callable[[WebhookError], Reply] | None = None
    """How a `WebhookError` is answered (plain text unless set)."""

    def __post_init__(self) -> None:
        if self.signing not in ("hub-sha1", "standard"):
            raise ValueError(f"signing must be 'hub-sha1' or 'standard', not {self.signing!r}")
        if self.secret is not None and not _secrets(self.secret):
            raise ValueError("give at least one secret (or none at all)")
        if self.signing == "standard":
            if self.secret is None:
                raise ValueError("signing='standard' needs a secret")
            for one in _secrets(self.secret):
                standard_key(one)  # a bad secret fails now, not on every request

    @property
    def signature_headers(self) -> tuple[str, ...]:
        """The request headers the signature check reads."""
        if self.signing == "standard":
            return ("webhook-id", "webhook-timestamp", SIGNATURE_HEADER)
        return (self.signature_header,)

    def accept(
        self,
        method: str,
        content_type: str | None,
        body: bytes,
        signature: str | None,
        *,
        authorization: str | None = None,
        path: str = "/",
        headers: Mapping[str, str] | None = None,
    ) -> RequestT | Reply:
        """The typed request, or the reply that refuses it. `signature` is the
        `signature_header`'s value; `headers` (lower-case names) carries at least
        `signature_headers` when `signing="standard"`."""
        early = self.route(method, path) if self.route is not None else None
        if early is not None:
            return early
        if method == "GET" and "GET" not in self.methods:
            return Reply.text(200, "parley webhook: POST JSON here")
        if method not in self.methods:
            return Reply.text(405, f"{', '.join(sorted(self.methods))} only")
        if self.basic_auth is not None and not check_basic_auth(self.basic_auth, authorization):
            return Reply.text(401, "bad or missing Authorization")
        if body or not self.allow_empty:
            if _media_type(content_type) != _JSON:
                return Reply.text(400, "Content-Type must be application/json")
            if not body:
                return Reply.text(400, "empty body")
        if self.secret is not None and not self._signed(body, signature, headers or {}):
            return Reply.text(401, f"bad or missing {', '.join(self.signature_headers)}")
        try:
            return self.parse(json.loads(body or b"{}"))
        except (ValueError, TypeError, RecursionError) as exc:
            return Reply.text(400, f"not a valid request: {_first_line(exc)}")

    def _signed(self, body: bytes, signature: str | None, headers: Mapping[str, str]) -> bool:
        assert self.secret is not None
        if self.signing == "standard":
            return verify_standard_signature(self.secret, body, headers, tolerance=self.tolerance)
        return verify_signature(self.secret, body, signature)

    def refuse(self, error: WebhookError) -> Reply:
        if self.refusal is not None:
            return self.refusal(error)
        return Reply.text(error.status_code, error.message)

    def answer(self, result: AnswerT) -> Reply:
        """The 200 JSON reply for what the handler returned."""
        try:
            body = json.dumps(self.render(result), ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError):
            _log.exception("the webhook handler returned something that is not JSON")
            return Reply.text(500, "the handler's answer is not JSON")
        return Reply(200, body, _JSON)

    def crash(self) -> Reply:
        _log.exception("the webhook handler raised")
        return Reply.text(500, "the handler raised an exception")


def check_basic_auth(expected: tuple[str, str], header: str | None) -> bool:
    """Whether `header` is `Basic base64(user:password)` for `expected`; constant time."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    wanted = f"{expected[0]}:{expected[1]}".encode()
    return hmac.compare_digest(given, wanted)


def json_reply(status: int, document: Any) -> Reply:
    """A reply with `document` as its JSON body."""
    return Reply(status, json.dumps(document, ensure_ascii=False).encode("utf-8"), _JSON)


def too_large() -> Reply:
    return Reply.text(413, f"body larger than {MAX_BODY} bytes")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
