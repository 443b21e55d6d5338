from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from parley.config import Settings
from tests.harness import serve, write_bot
from tests.integration_api.accounts import BOT, Accounts, create_accounts
from tests.webhooks.seed_server import running


@pytest.fixture
def webhook() -> Iterator[str]:
    with running() as base_url:
        yield base_url


@pytest.fixture
async def accounts(tmp_path: Path) -> Accounts:
    return await create_accounts(f"sqlite:///{tmp_path}/parley.db")


@pytest.fixture
async def base_url(tmp_path: Path, webhook: str, accounts: Accounts) -> AsyncIterator[str]:
    bot = write_bot(tmp_path / "shop", BOT.format(base=webhook))
    with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/parley.db")) as base:
        yield base


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield client
