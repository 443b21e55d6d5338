"""Delivery fixtures: the seed webhook server on a free port, and one pooled client.

The lead may hoist `seed_url` into tests/conftest.py; nothing here depends on where it lives.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from parley.webhooks import WebhookCaller, make_client

from .seed_server import running


@pytest.fixture
def seed_url() -> Iterator[str]:
    """Base URL of a real seed server on 127.0.0.1, stopped (and its threads joined) after."""
    with running() as base_url:
        yield base_url


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with make_client() as shared:
        yield shared


@pytest.fixture
def caller(client: aiohttp.ClientSession) -> WebhookCaller:
    return WebhookCaller(client)


@pytest.fixture
def refused_url() -> str:
    """A URL on a port that was just free: nothing listens there, so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/check_price"
