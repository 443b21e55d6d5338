"""Request signatures: `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>`.

Shared by the dialects that sign and by `parley.sdk`, which verifies on the author's side.
"""

from __future__ import annotations

import hashlib
import hmac

SHA1_HEADER = "X-Hub-Signature"


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
