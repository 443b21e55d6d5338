"""Servers of our own for the multi-worker tests: a Redis per test, one PostgreSQL cluster
per session (a database per test)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.initai.test_callbacks import logic_url  # noqa: F401  (a fixture, defined there)
from tests.scale.services import PostgresServer, RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
async def postgres_url(postgres_cluster: PostgresServer) -> AsyncIterator[str]:
    name = f"parley_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_cluster.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield postgres_cluster.url(name)
