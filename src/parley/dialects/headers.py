"""The request headers of the dialects whose webhooks take `headers:` and `auth:`."""

from __future__ import annotations

import base64
from typing import Any


def request_headers(spec: Any, *, json_body: bool = True) -> dict[str, str]:
    """`Content-Type: application/json` (with a body), then the webhook's `headers`, then
    its `auth` (basic or bearer). A header named again, in any case, replaces the earlier."""
    headers = {"Content-Type": "application/json"} if json_body else {}
    for name, value in (getattr(spec, "headers", None) or {}).items():
        _set(headers, name, value)
    auth = getattr(spec, "auth", None)
    if auth is not None and auth.type == "basic":
        pair = f"{auth.username}:{auth.password}".encode()
        _set(headers, "Authorization", "Basic " + base64.b64encode(pair).decode("ascii"))
    elif auth is not None and auth.type == "bearer":
        _set(headers, "Authorization", f"Bearer {auth.token}")
    return headers


def _set(headers: dict[str, str], name: str, value: str) -> None:
    for same in [key for key in headers if key.lower() == name.lower()]:
        del headers[same]
    headers[name] = value
