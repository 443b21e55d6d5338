"""A turn writes the user only when it changed: fewer writes, and no lost update."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from parley.bot import load_bot
from parley.runtime import Callers, Inbound, Runtime
from parley.storage import SqliteStore
from tests.harness import write_bot

BOT = """\
name: hello
intents: {greet: {examples: [hi]}}
nodes: {greet: {intents: [greet], says: "Hello {{ user.name }}"}}
"""


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    bot = load_bot(write_bot(tmp_path / "hello", BOT))
    async with SqliteStore(f"sqlite:///{tmp_path}/p.db") as store, aiohttp.ClientSession() as s:
        yield Runtime([bot], store, Callers(s))


async def updated_at(runtime: Runtime, user_id: str) -> float:
    rows = await runtime.store._run(  # type: ignore[attr-defined]
        runtime.store._rows,
        "SELECT updated_at FROM users WHERE id = ?",
        (user_id,),  # type: ignore[attr-defined]
    )
    return float(rows[0][0])


async def test_an_unchanged_user_is_not_written_again_but_changes_are(runtime: Runtime) -> None:
    def say(**user: str) -> Inbound:
        return Inbound("hello", "c1", "hi", user={"id": "u1", **user})

    await runtime.handle(say(name="ada"))
    first = await updated_at(runtime, "u1")
    second_turn = await runtime.handle(say())
    assert second_turn.result.messages[0].content == "Hello ada"
    assert await updated_at(runtime, "u1") == first  # nothing changed: no write

    await runtime.handle(say(name="bo"))
    user = await runtime.store.get_user("u1")
    assert user is not None and user.name == "bo"
    assert await updated_at(runtime, "u1") > first
