"""SSRF guard: the classifier, host normalisation, the allow-list, and the resolver/connector
against fake DNS answers (connections only ever go to 127.0.0.1)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from parley.errors import ParleyError
from parley.webhooks.guard import (
    AddressRefused,
    Guard,
    GuardedConnector,
    GuardedResolver,
    classify,
    environment_scope,
    parse_host,
)

# --- the classifier -------------------------------------------------------------------------

REFUSED = {
    # IPv4
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.1": "private",
    "10.255.255.255": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.255": "carrier-grade NAT",
    "169.254.0.1": "link-local",
    "169.254.169.254": "cloud metadata",
    "169.254.170.2": "cloud metadata",
    "100.100.100.200": "cloud metadata",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "this network",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "255.255.255.255": "broadcast",
    "240.0.0.1": "reserved",
    "192.0.0.8": "IETF",
    "192.0.2.10": "documentation",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "198.18.0.1": "benchmarking",
    # IPv6
    "::1": "loopback",
    "::": "unspecified",
    "fc00::1": "unique local",
    "fd12:3456::1": "unique local",
    "fd00:ec2::254": "cloud metadata",
    "fe80::1": "link-local",
    "fe80::1%eth0": "link-local",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "ff0e::1": "multicast",
    "100::1": "discard-only",
    "2001:db8::1": "documentation",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "64:ff9b:1::a": "local-use NAT64",
    # IPv4 inside IPv6
    "::ffff:127.0.0.1": "loopback, as IPv4-mapped 127.0.0.1",
    "::ffff:7f00:1": "loopback, as IPv4-mapped",
    "::ffff:10.1.2.3": "private",
    "::ffff:169.254.169.254": "cloud metadata",
    "64:ff9b::127.0.0.1": "loopback, as NAT64",
    "64:ff9b::a9fe:a9fe": "cloud metadata, as NAT64 169.254.169.254",
    "64:ff9b::c0a8:101": "private",
    "2002:7f00:1::": "loopback, as 6to4",
    "2002:a9fe:a9fe::1": "cloud metadata, as 6to4",
    "::127.0.0.1": "loopback, as IPv4-compatible",
    "::ffff:0:a00:1": "as IPv4-translated 10.0.0.1",
}

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above
    "172.15.255.255",
    "172.32.0.0",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "category"), sorted(REFUSED.items()))
def test_internal_addresses_are_classified(address: str, category: str) -> None:
    verdict = classify(ipaddress.ip_address(address))
    assert verdict is not None and category in verdict


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) is None


# --- host normalisation: the OS's reading ---------------------------------------------------

NUMERIC = {
    "2130706433": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "0x7f.1": "127.0.0.1",
    "0X7F.1": "127.0.0.1",
    "0x7f.0.0.1": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "017700000001": "127.0.0.1",
    "127.1": "127.0.0.1",
    "127.0.1": "127.0.0.1",
    "0x7f.00.0x0.01": "127.0.0.1",
    "0": "0.0.0.0",
    "0xa9fea9fe": "169.254.169.254",
    "169.254.43518": "169.254.169.254",
    "0251.0376.0251.0376": "169.254.169.254",
    "3232235777": "192.168.1.1",
    "4294967295": "255.255.255.255",
    "127.16777215": "127.255.255.255",
    "8.8.8.8": "8.8.8.8",
}
NOT_NUMERIC = [
    "4294967296",  # too large
    "1.2.3.4.5",
    "0x100.0.0.1",
    "08.0.0.1",  # 8 is no octal digit
    "00x7f.1",
    "1..1",
    "example.com",
    "0x7f.example",
    "localhost",
    "",
]


@pytest.mark.parametrize(("host", "address"), sorted(NUMERIC.items()))
def test_numeric_hosts_read_as_the_os_reads_them(host: str, address: str) -> None:
    assert str(parse_host(host)) == address
    assert socket.inet_ntoa(socket.inet_aton(host)) == address  # what the OS makes of it


@pytest.mark.parametrize("host", NOT_NUMERIC)
def test_names_and_malformed_numbers_are_not_addresses(host: str) -> None:
    assert parse_host(host) is None
    if host and not any(c.isalpha() and c not in "xX" for c in host):
        with pytest.raises(OSError):
            socket.inet_aton(host)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("[::1]", "::1"),
        ("[::ffff:7f00:1]", "::ffff:7f00:1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("127.0.0.1.", "127.0.0.1"),  # a trailing dot does not make it a name
        ("[fe80::1%25eth0]", "fe80::1%25eth0"),  # zoned: still link-local (scope ignored)
    ],
)
def test_ipv6_literals_and_trailing_dots(host: str, address: str | None) -> None:
    parsed = parse_host(host)
    assert (None if parsed is None else str(parsed)) == address


# --- the allow-list -------------------------------------------------------------------------


def test_allow_list_parses_hosts_wildcards_and_cidrs() -> None:
    guard = Guard.parse(" hooks.internal., *.corp.example,10.0.0.0/8  127.0.0.1 [::1] fd00::/8")
    assert guard.hosts == {"hooks.internal", "*.corp.example"}
    assert [str(n) for n in guard.networks] == ["10.0.0.0/8", "127.0.0.1/32", "::1/128", "fd00::/8"]
    assert guard.host_allowed("HOOKS.internal") and guard.host_allowed("a.b.corp.example")
    assert not guard.host_allowed("corp.example.evil") and not guard.host_allowed("corp.example")


@pytest.mark.parametrize("entry", ["http://x/", "a b/c", "-bad-.example", "10.0.0.0/33"])
def test_allow_list_rejects_what_is_neither_host_nor_cidr(entry: str) -> None:
    with pytest.raises(ParleyError, match="PARLEY_ALLOWED_HOSTS"):
        Guard.parse([entry])


def _check(guard: Guard, host: str, *addresses: str) -> str | None:
    try:
        with environment_scope("production"):
            guard.check(host, [ipaddress.ip_address(a) for a in addresses])
    except AddressRefused as exc:
        return str(exc)
    return None


def test_production_refuses_if_any_address_is_internal() -> None:
    reason = _check(Guard(), "mixed.example", "8.8.8.8", "10.1.1.1")
    assert reason is not None and "mixed.example is 10.1.1.1, private (RFC 1918)" in reason
    assert _check(Guard(), "public.example", "8.8.8.8", "2606:4700::1") is None


def test_test_environment_is_not_guarded_and_no_scope_is() -> None:
    with environment_scope("test"):
        Guard().check("localhost", [ipaddress.ip_address("127.0.0.1")])
        Guard().check_name("metadata.google.internal")
    with pytest.raises(AddressRefused):  # outside any scope: guarded
        Guard().check("localhost", [ipaddress.ip_address("127.0.0.1")])


def test_allowed_networks_and_hosts_open_their_addresses_only() -> None:
    guard = Guard.parse("10.0.0.0/8,hooks.internal")
    assert _check(guard, "a.example", "10.2.3.4") is None
    assert _check(guard, "a.example", "::ffff:10.2.3.4") is None  # mapped form of the same
    assert _check(guard, "a.example", "192.168.0.1") is not None
    assert _check(guard, "hooks.internal", "192.168.0.1", "127.0.0.1") is None


def test_metadata_needs_to_be_named_exactly() -> None:
    assert _check(Guard.parse("169.254.0.0/16"), "x", "169.254.169.254") is not None
    assert _check(Guard.parse("169.254.0.0/16"), "x", "169.254.1.1") is None
    assert _check(Guard.parse("169.254.169.254"), "x", "169.254.169.254") is None


@pytest.mark.parametrize(
    "host", ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata.goog", "localhost",
             "api.localhost", "instance-data"]
)  # fmt: skip
def test_internal_names_are_refused_before_any_lookup(host: str) -> None:
    with environment_scope("production"), pytest.raises(AddressRefused, match="SSRF guard"):
        Guard().check_name(host)


# --- resolver and connector against fake DNS ------------------------------------------------


class FakeDNS(AbstractResolver):
    """Answers each lookup of a name with the next of `answers` (the last one repeats)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        answer = self.answers[min(len(self.lookups), len(self.answers)) - 1]
        return [
            ResolveResult(
                hostname=host, host=a, port=port, proto=0, flags=socket.AI_NUMERICHOST,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
            )
            for a in answer
        ]  # fmt: skip

    async def close(self) -> None:
        pass


async def test_resolver_refuses_without_a_second_lookup() -> None:
    dns = FakeDNS(["127.0.0.1"], ["8.8.8.8"])
    resolver = GuardedResolver(Guard(), dns, ttl=0)
    with environment_scope("production"), pytest.raises(AddressRefused, match="loopback"):
        await resolver.resolve("rebind.example", 80)
    assert dns.lookups == ["rebind.example"]


async def test_resolver_returns_exactly_the_checked_answer() -> None:
    dns = FakeDNS(["8.8.8.8", "1.1.1.1"], ["127.0.0.1"])
    resolver = GuardedResolver(Guard(), dns, ttl=0)
    with environment_scope("production"):
        answer = await resolver.resolve("rebind.example", 443)
        assert [r["host"] for r in answer] == ["8.8.8.8", "1.1.1.1"]
        with pytest.raises(AddressRefused):  # the next lookup changed: checked again
            await resolver.resolve("rebind.example", 443)
    assert len(dns.lookups) == 2


async def test_cached_answers_are_checked_on_every_use() -> None:
    dns = FakeDNS(["127.0.0.1"])
    resolver = GuardedResolver(Guard(), dns, ttl=60)
    with environment_scope("test"):
        assert [r["host"] for r in await resolver.resolve("dev.example", 80)] == ["127.0.0.1"]
    with environment_scope("production"), pytest.raises(AddressRefused):
        await resolver.resolve("dev.example", 80)
    assert dns.lookups == ["dev.example"]


async def test_numeric_names_are_answered_without_dns() -> None:
    dns = FakeDNS(["8.8.8.8"])
    resolver = GuardedResolver(Guard(), dns)
    with environment_scope("production"), pytest.raises(AddressRefused, match=r"127\.0\.0\.1"):
        await resolver.resolve("0x7f.1", 80)
    with environment_scope("test"):
        assert (await resolver.resolve("0x7f.1", 80))[0]["host"] == "127.0.0.1"
    assert dns.lookups == []


@pytest.fixture
def hits() -> list[str]:
    return []


@asynccontextmanager
async def _server(hits: list[str]) -> AsyncIterator[int]:
    async def handle(request: web.Request) -> web.Response:
        hits.append(request.host)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


@asynccontextmanager
async def _session(guard: Guard, dns: AbstractResolver) -> AsyncIterator[aiohttp.ClientSession]:
    connector = GuardedConnector(guard, resolver=GuardedResolver(guard, dns, ttl=0))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def _get(session: aiohttp.ClientSession, url: str) -> int | str:
    try:
        async with session.get(url, allow_redirects=False) as response:
            await response.read()
            return response.status
    except AddressRefused as exc:
        return str(exc)


async def test_connection_goes_to_the_checked_address_when_dns_changes(hits: list[str]) -> None:
    dns = FakeDNS(["127.0.0.1"], ["127.0.0.3"])  # 127.0.0.3: not allowed, nothing listens
    guard = Guard.parse("127.0.0.1/32")
    async with _server(hits) as port, _session(guard, dns) as session:
        with environment_scope("production"):
            assert await _get(session, f"http://rebind.example:{port}/a") == 200
            assert await _get(session, f"http://rebind.example:{port}/b") == 200  # pooled
    assert dns.lookups == ["rebind.example"]  # one lookup, connected to what was checked
    assert hits == [f"rebind.example:{port}"] * 2  # Host stays the URL's name


async def test_a_new_answer_is_checked_for_a_new_connection(hits: list[str]) -> None:
    dns = FakeDNS(["127.0.0.1"], ["127.0.0.3"])
    guard = Guard.parse("127.0.0.1/32")
    async with _server(hits) as port:
        results = []
        for _ in range(2):
            async with _session(guard, dns) as session:  # a fresh pool each time
                with environment_scope("production"):
                    results.append(await _get(session, f"http://rebind.example:{port}/"))
    assert results[0] == 200 and "rebind.example is 127.0.0.3, loopback" in str(results[1])
    assert len(hits) == 1 and len(dns.lookups) == 2


async def test_a_pooled_test_connection_is_not_lent_to_production(hits: list[str]) -> None:
    dns = FakeDNS(["127.0.0.1"])
    async with _server(hits) as port, _session(Guard(), dns) as session:
        url = f"http://dev.example:{port}/"
        with environment_scope("test"):
            assert await _get(session, url) == 200
        with environment_scope("production"):
            refused = await _get(session, url)
        with environment_scope("test"):
            assert await _get(session, url) == 200  # the connection went back to the pool
    assert "dev.example is 127.0.0.1, loopback" in str(refused)
    assert len(hits) == 2


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.1", "0x7f000001", "127.1", "[::1]",
     "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[64:ff9b::7f00:1]", "localhost", "LocalHost."],
)  # fmt: skip
async def test_loopback_in_any_form_is_refused_in_production(hits: list[str], host: str) -> None:
    dns = FakeDNS(["127.0.0.1"])
    async with _server(hits) as port, _session(Guard(), dns) as session:
        with environment_scope("production"):
            result = await _get(session, f"http://{host}:{port}/")
    assert "SSRF guard" in str(result) and hits == []


async def test_redirects_are_not_followed(hits: list[str]) -> None:
    async def redirect(request: web.Request) -> web.Response:
        hits.append("redirect")
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    app = web.Application()
    app.router.add_get("/", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with _session(Guard.parse("127.0.0.1"), FakeDNS(["127.0.0.1"])) as session:
            with environment_scope("production"):
                assert await _get(session, f"http://127.0.0.1:{port}/") == 302
    finally:
        await runner.cleanup()
    assert hits == ["redirect"]
