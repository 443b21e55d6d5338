"""Request signatures, shared by the dialects that sign and by `parley.sdk`, which verifies
on the author's side. Two schemes, chosen by a webhook's `signing:` key:

* `hub-sha1` (Haptik's, the default): `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>`.
* `standard` (Standard Webhooks, https://www.standardwebhooks.com/): `webhook-id`,
  `webhook-timestamp` (epoch seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
  "{id}.{timestamp}.{body}">`, one `v1,` entry per active secret, space-separated, so a
  receiver holding either the old or the new secret accepts the request during a rotation.
  Secrets are `whsec_` + base64 of the key bytes, as every Standard Webhooks library expects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence

from parley.model import Call

SHA1_HEADER = "X-Hub-Signature"

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
TOLERANCE = 300.0
"""Seconds a `webhook-timestamp` may be off the receiver's clock, either way (the spec's 5 min)."""

MIN_KEY_BYTES = 16
"""parley refuses shorter `standard` secrets in bot.yaml (the SDK accepts what libraries do)."""


def sign_sha1(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature` value for `body`: `sha1=` and the hex HMAC-SHA1 keyed by `secret`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()
    return f"sha1={digest}"


def verify_sha1(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of exactly `body` under `secret` (constant time)."""
    if not header:
        return False
    expected = sign_sha1(secret, body).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


# -- Standard Webhooks -------------------------------------------------------------------


def standard_key(secret: str) -> bytes:
    """The HMAC key a Standard Webhooks secret stands for: the base64 after `whsec_` (the
    prefix is optional, as in the reference libraries). ValueError when it is not base64."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Standard Webhooks secret is `whsec_` + base64") from None
    if not key:
        raise ValueError("a Standard Webhooks secret must not be empty")
    return key


def sign_standard(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256>` per secret, space-separated."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join("v1," + _hmac_sha256_b64(standard_key(s), signed) for s in secrets)


def _hmac_sha256_b64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def standard_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed with every secret."""
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign_standard(secrets, msg_id, timestamp, body),
    }


def verify_standard(
    secrets: Sequence[str],
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float,
    tolerance: float = TOLERANCE,
) -> bool:
    """Whether `headers` (names in any case) carry a Standard Webhooks signature of exactly
    `body` by any of `secrets`, with a timestamp within `tolerance` seconds of `now`.
    Constant-time comparisons; missing or malformed headers are False."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get(ID_HEADER, "").strip()
    stamp = lower.get(TIMESTAMP_HEADER, "").strip()
    given = lower.get(SIGNATURE_HEADER, "")
    if not msg_id or not stamp.isascii() or not stamp.isdigit() or not given:
        return False
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        return False
    offered = [
        entry.partition(",")[2].encode("utf-8", "replace")
        for entry in given.split()
        if entry.startswith("v1,")
    ]
    matched = False
    for secret in secrets:
        expected = sign_standard([secret], msg_id, timestamp, body)[3:].encode("ascii")
        for candidate in offered:  # no early exit: the time taken says nothing
            matched |= hmac.compare_digest(expected, candidate)
    return matched


def message_id(call: Call) -> str:
    """The call's `webhook-id`: derived from the conversation, its stored version (one per
    turn), the node and the turn's start, so it is unique per call and the same every time
    the same call is encoded (a retry of the request carries the same id)."""
    conv = call.conversation
    seed = f"{conv.id}\0{conv.conversation_no}\0{conv.version}\0{call.node}\0{call.now!r}"
    return "msg_" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]


def signature_headers(call: Call, body: bytes) -> dict[str, str]:
    """The headers that sign `body` for `call` as its webhook spec asks (none without a
    secret): `X-Hub-Signature` for `signing: hub-sha1`, the Standard Webhooks trio for
    `signing: standard` with the turn's start (`call.now`) as the timestamp. No clock read."""
    spec = call.spec
    secrets: list[str] = list(getattr(spec, "signing_secrets", ()))
    if not secrets:
        return {}
    if getattr(spec, "signing", "hub-sha1") == "standard":
        return standard_headers(secrets, message_id(call), int(call.now), body)
    return {SHA1_HEADER: sign_sha1(secrets[0], body)}
