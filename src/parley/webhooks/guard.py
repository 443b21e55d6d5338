"""SSRF guard: production calls reach public addresses only, unless the operator allows more.

Every outbound call of a production conversation (webhook, event, HTTP block, logic, error
report) goes through `GuardedConnector`, the shared client's connector:

- its resolver (`GuardedResolver`) resolves a name ONCE, checks EVERY address of the answer
  and hands exactly those addresses to the connector, which connects to them: an answer that
  changes between a check and a connect cannot slip through (there is no second lookup);
- numeric hosts are read the way the OS reads them (`2130706433`, `0177.0.0.1`, `0x7f.1` are
  all 127.0.0.1) and checked before anything is sent;
- a kept-alive connection taken from the pool is checked again by its peer address, so a
  connection a test conversation opened to localhost is never lent to a production call;
- TLS SNI and `Host` stay the URL's name (aiohttp's own handling); redirects are never
  followed (`WebhookCaller`).

Refused: loopback, private (RFC 1918), unique-local, link-local, carrier-grade NAT, multicast,
unspecified, broadcast, reserved, documentation and benchmarking ranges, cloud metadata
(169.254.169.254, fd00:ec2::254, 100.100.100.200, `metadata.google.internal`, ...), in IPv4,
IPv6, IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 forms. Test conversations
are not guarded (developers call their laptop); `PARLEY_ALLOWED_HOSTS` lists host names and
CIDRs a self-hosted production setup may reach.

Which environment a call belongs to travels in a context variable (`environment_scope`), set
around each call by the caller; outside any scope a guarded client is guarded.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import re
import socket
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.resolver import ThreadedResolver
from aiohttp.tracing import Trace

from parley.errors import ParleyError

__all__ = [
    "AddressRefused",
    "Guard",
    "GuardedConnector",
    "GuardedResolver",
    "classify",
    "environment_scope",
    "parse_host",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_ENVIRONMENT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "parley_call_environment", default=None
)
UNGUARDED_ENVIRONMENTS = frozenset({"test"})


@contextmanager
def environment_scope(environment: str) -> Iterator[None]:
    """Calls made inside (and tasks started inside) belong to `environment`."""
    token = _ENVIRONMENT.set(environment)
    try:
        yield
    finally:
        _ENVIRONMENT.reset(token)


def guarded_now() -> bool:
    """Whether the current call is subject to the guard: anything but a test conversation."""
    return _ENVIRONMENT.get() not in UNGUARDED_ENVIRONMENTS


class AddressRefused(aiohttp.ClientConnectionError):
    """A production call to an address the guard refuses; `str()` is the log's reason."""


# --- classification -------------------------------------------------------------------------

METADATA = "cloud metadata"

_V4: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), name)
    for net, name in (
        ("169.254.169.254/32", METADATA),  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
        ("169.254.170.2/32", METADATA),  # AWS ECS task metadata
        ("100.100.100.200/32", METADATA),  # Alibaba Cloud
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT (100.64.0.0/10)"),
        ("169.254.0.0/16", "link-local"),
        ("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"),
        ("192.0.2.0/24", "documentation (TEST-NET-1)"),
        ("198.51.100.0/24", "documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation (TEST-NET-3)"),
        ("192.88.99.0/24", "reserved (6to4 relay anycast)"),
        ("198.18.0.0/15", "benchmarking (198.18.0.0/15)"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
    )
)
_V6: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), name)
    for net, name in (
        ("fd00:ec2::254/128", METADATA),  # AWS over IPv6
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
        ("100::/64", "discard-only (100::/64)"),
        ("64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)"),
        ("2001::/32", "Teredo tunnel (2001::/32)"),
        ("2001:db8::/32", "documentation (2001:db8::/32)"),
        ("2001::/23", "IETF protocol assignments (2001::/23)"),
        ("::/8", "reserved (::/8)"),
    )
)
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765)
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated IPv4-compatible
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_6TO4 = ipaddress.IPv6Network("2002::/16")

METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
    }
)


def embedded_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, ...) and the form's name."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    value = int(address)
    if address in _MAPPED:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF), "IPv4-mapped"
    if address in _TRANSLATED:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF), "IPv4-translated"
    if address in _NAT64:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF), "NAT64"
    if address in _6TO4:
        return ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF), "6to4"
    if address in _COMPATIBLE and value > 1:  # not :: or ::1
        return ipaddress.IPv4Address(value & 0xFFFFFFFF), "IPv4-compatible"
    return None


def classify(address: IPAddress) -> str | None:
    """Why a production call may not reach `address` (a category name), or None if public."""
    address = _without_scope(address)
    inner = embedded_ipv4(address)
    if inner is not None:
        v4, form = inner
        category = classify(v4)
        return None if category is None else f"{category}, as {form} {v4}"
    table = _V4 if isinstance(address, ipaddress.IPv4Address) else _V6
    for network, name in table:
        if address in network:
            return name
    if address.is_multicast:
        return "multicast"
    if not address.is_global:
        return "not globally routable"
    return None


def _without_scope(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return ipaddress.IPv6Address(int(address))
    return address


# --- host normalisation ---------------------------------------------------------------------

_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")


def parse_ipv4(text: str) -> ipaddress.IPv4Address | None:
    """`text` read as the OS's `inet_aton` reads it (1 to 4 parts, each decimal, 0-octal or
    0x-hex, the last filling the remaining bytes), or None if it is not such a number."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.match(p) for p in parts):
        return None
    values = [int(p, 16) if p[:2] in ("0x", "0X") else int(p, 8 if p.startswith("0") else 10)
              for p in parts]  # fmt: skip
    *head, last = values
    if any(v > 0xFF for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = last
    for index, value in enumerate(head):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


@functools.lru_cache(maxsize=4096)  # every call of a webhook at an IP literal asks again
def parse_host(host: str) -> IPAddress | None:
    """The address a URL's host names literally — in any form the OS accepts — or None for a
    name that needs DNS. Brackets, one trailing dot and letter case do not matter."""
    text = host.strip().strip("[]").rstrip(".") if host else ""
    if not text:
        return None
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return parse_ipv4(text)


def normalise_name(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


# --- the policy -----------------------------------------------------------------------------

_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


@dataclass(frozen=True, slots=True)
class Guard:
    """What production calls may reach beyond public addresses: `hosts` (names; `*.example`
    for any subdomain) and `networks` (CIDRs or single addresses). Cloud-metadata addresses
    are only allowed by naming them exactly (a /32 or /128, or their host name)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def parse(cls, allowed: str | Iterable[str] = "") -> Guard:
        """From `PARLEY_ALLOWED_HOSTS`: entries separated by commas or spaces."""
        entries = re.split(r"[,\s]+", allowed) if isinstance(allowed, str) else list(allowed)
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            literal = parse_host(entry) if "/" not in entry else None
            if literal is not None:
                networks.append(ipaddress.ip_network(literal))
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            name = normalise_name(entry)
            if not _NAME.match(name):
                raise ParleyError(
                    f"PARLEY_ALLOWED_HOSTS: {raw!r} is neither a host name nor a CIDR"
                )
            hosts.add(name)
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        name = normalise_name(host)
        if name in self.hosts:
            return True
        return any(h.startswith("*.") and name.endswith(h[1:]) for h in self.hosts)

    def address_allowed(self, address: IPAddress, category: str) -> bool:
        candidates = [_without_scope(address)]
        inner = embedded_ipv4(candidates[0])
        if inner is not None:
            candidates.append(inner[0])
        for network in self.networks:
            if category.startswith(METADATA) and network.num_addresses != 1:
                continue
            if any(c.version == network.version and c in network for c in candidates):
                return True
        return False

    def check_name(self, host: str) -> None:
        """Refuse a name that is internal by itself (metadata, localhost), before any DNS."""
        if not guarded_now() or self.host_allowed(host):
            return
        name = normalise_name(host)
        if name in METADATA_HOSTS:
            raise AddressRefused(_reason(host, None, METADATA))
        if name == "localhost" or name.endswith(".localhost"):
            raise AddressRefused(_reason(host, None, "loopback"))

    def check(self, host: str, addresses: Sequence[IPAddress]) -> None:
        """Raise `AddressRefused` if the current call is guarded and ANY address is refused."""
        if not guarded_now() or self.host_allowed(host):
            return
        if not addresses:
            raise AddressRefused(f"refused by the SSRF guard: {host} resolved to no address")
        for address in addresses:
            category = classify(address)
            if category is not None and not self.address_allowed(address, category):
                raise AddressRefused(_reason(host, address, category))


def _reason(host: str, address: IPAddress | None, category: str) -> str:
    shown = normalise_name(host)
    if address is None:
        what = f"{shown} is {category}"
    elif shown == str(address):
        what = f"{address} is {category}"
    else:
        what = f"{shown} is {address}, {category}"
    return (
        f"refused by the SSRF guard: {what}; production calls only reach public addresses "
        "(list the host or its network in PARLEY_ALLOWED_HOSTS to allow it)"
    )


# --- aiohttp plumbing -----------------------------------------------------------------------


def _address(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


class GuardedResolver(AbstractResolver):
    """Resolves once, checks every address of the answer, returns exactly what it checked.

    Numeric hosts are answered without DNS, as the OS reads them. Answers are cached for
    `ttl` seconds (the check runs on every use: one test call's answer does not pass a
    production call). `inner` defaults to the OS resolver (getaddrinfo in a thread).
    """

    def __init__(
        self, guard: Guard, inner: AbstractResolver | None = None, *, ttl: float = 60.0
    ) -> None:
        self.guard = guard
        self._inner = inner
        self._ttl = ttl
        self._cache: dict[tuple[str, int, int], tuple[float, list[ResolveResult]]] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        literal = parse_host(host)
        if literal is not None:
            self.guard.check(host, [literal])
            kind = socket.AF_INET if literal.version == 4 else socket.AF_INET6
            flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
            result = ResolveResult(
                hostname=host, host=str(literal), port=port, family=kind, proto=0, flags=flags
            )
            return [result]
        self.guard.check_name(host)
        answer = await self._lookup(host, port, family)
        self.guard.check(host, [_address(r["host"]) for r in answer])
        return answer

    async def _lookup(
        self, host: str, port: int, family: socket.AddressFamily
    ) -> list[ResolveResult]:
        key = (host, port, int(family))
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return list(cached[1])
        if self._inner is None:
            self._inner = ThreadedResolver()
        answer = await self._inner.resolve(host, port, family)
        if self._ttl > 0:
            if len(self._cache) >= 4096:
                self._cache.clear()
            self._cache[key] = (now + self._ttl, list(answer))
        return answer

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A `TCPConnector` that resolves through `GuardedResolver` (aiohttp's own DNS cache off,
    so every connection's addresses are checked) and re-checks pooled connections."""

    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        kwargs.pop("ttl_dns_cache", None)
        ttl = kwargs.pop("dns_ttl", 60.0)
        resolver = kwargs.pop("resolver", None) or GuardedResolver(guard, ttl=ttl)
        super().__init__(resolver=resolver, use_dns_cache=False, **kwargs)
        self.guard = guard

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        host = req.url.raw_host or ""
        literal = parse_host(host)
        if literal is not None:  # aiohttp connects to IP literals without the resolver
            self.guard.check(host, [literal])
        connection = await super().connect(req, traces, timeout)
        if guarded_now():
            transport = connection.transport
            peer = transport.get_extra_info("peername") if transport is not None else None
            try:
                if not peer:
                    raise AddressRefused(f"refused by the SSRF guard: no peer address for {host}")
                self.guard.check(host, [_address(str(peer[0]))])
            except BaseException:
                connection.release()  # back to the pool: it still serves test calls
                raise
        return connection
