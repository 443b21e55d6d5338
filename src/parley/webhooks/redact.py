"""What the invocation log may keep: credentials masked, bodies cut to a readable size."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "****"
LOG_BODY_LIMIT = 64 * 1024
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-hub-signature",
        "x-hub-signature-256",
        "webhook-signature",
    }
)
_SECRET_PARAM = re.compile(r"token|key|secret|pass|sig|auth", re.IGNORECASE)
# Keep a credential's scheme ("sha1=", "Bearer ") so the log still says what kind it was.
_SCHEME = re.compile(r"^(?:[A-Za-z0-9_-]+=|[A-Za-z]+ )")


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: mask_value(value) if name.lower() in SECRET_HEADERS else value
        for name, value in headers.items()
    }


def mask_value(value: str) -> str:
    """`sha1=abc` -> `sha1=****`, `Bearer xyz` -> `Bearer ****`, anything else -> `****`."""
    scheme = _SCHEME.match(value)
    return (scheme.group(0) if scheme else "") + MASK


def mask_url(url: str) -> str:
    """`url` with the password (or a lone user token) and secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    query = "&".join(_mask_param(pair) for pair in parts.query.split("&"))
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def log_text(body: bytes, limit: int = LOG_BODY_LIMIT) -> str:
    """`body` as text for the log, at most `limit` bytes of it."""
    text = body[:limit].decode("utf-8", "replace")
    return text if len(body) <= limit else f"{text}… [cut at {limit} bytes]"


def _mask_param(pair: str) -> str:
    name, sep, _ = pair.partition("=")
    return f"{name}={MASK}" if sep and _SECRET_PARAM.search(unquote(name)) else pair
