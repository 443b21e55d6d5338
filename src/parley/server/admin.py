"""The admin guard of the web console's API: `Authorization: Bearer <PARLEY_ADMIN_TOKEN>`.

Without a configured token the API answers only when the server binds to a loopback host
(a developer's machine); anywhere else it is 403 until `PARLEY_ADMIN_TOKEN` is set.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Header, Request

from parley.config import Settings
from parley.errors import ParleyError, Unauthorized

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class Forbidden(ParleyError):
    code = "forbidden"
    status_code = 403


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def require_admin(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    settings = settings_of(request)
    expected = settings.admin_token
    if not expected:
        if is_loopback(settings.host):
            return
        raise Forbidden(
            "the console is off: set PARLEY_ADMIN_TOKEN (a server on a non-loopback host"
            " serves it only with a token)"
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the admin token as 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Unauthorized("wrong admin token")


Admin = Depends(require_admin)
