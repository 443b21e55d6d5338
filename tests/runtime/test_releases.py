"""Which bot a turn runs: production the current release (checked at most once a second),
test the working copy; deploys and rollbacks reach a running runtime without a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from parley.bot import load_bot
from parley.errors import Unavailable
from parley.model import Environment
from parley.runtime import Callers, Inbound, LiveBot, Runtime
from parley.runtime.releases import ProductionBots, deploy, rollback
from parley.storage import MemoryStore
from tests.harness import write_bot

BOT = """\
name: shop
intents:
  greet: {{examples: [hello there]}}
  price: {{examples: [price please]}}
entities:
  product: {{values: {{speaker: [speaker]}}}}
nodes:
  greet: {{intents: [greet], says: "{version} says hello{secret}"}}
  price:
    intents: [price]
    entities: {{product: {{required: true, prompt: "{version}: which product?"}}}}
    says: "{version} prices it"
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.checks = 0

    async def current_release(self, bot: str) -> int | None:
        self.checks += 1
        await asyncio.sleep(0)  # like a database: other turns run meanwhile
        return await super().current_release(bot)


def write(folder: Path, version: str, secret: str = "") -> Path:
    return write_bot(folder, BOT.format(version=version, secret=secret))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def runtime(tmp_path: Path, clock: Clock) -> AsyncIterator[Runtime]:
    store = CountingStore()
    async with aiohttp.ClientSession() as session:
        runtime = Runtime([load_bot(write(tmp_path / "shop", "v1"))], store, Callers(session))
        runtime.production = ProductionBots(
            store, runtime.bots, LiveBot.from_bot, check_seconds=1.0, clock=clock
        )
        yield runtime


async def say(
    runtime: Runtime, text: str = "hello there", env: str = "production", cid: str = "c1"
) -> tuple[str, int | None]:
    output = await runtime.handle(Inbound("shop", cid, text, environment=Environment(env)))
    return str(output.result.messages[0].content), output.release


async def test_a_bot_never_deployed_runs_its_working_copy_in_production(runtime: Runtime) -> None:
    assert await say(runtime) == ("v1 says hello", None)


async def test_production_runs_the_new_release_after_the_check_and_test_the_working_copy(
    runtime: Runtime, tmp_path: Path, clock: Clock
) -> None:
    assert await say(runtime) == ("v1 says hello", None)
    done = await deploy(runtime.store, write(tmp_path / "shop", "v2"))
    assert (done.release.number, done.created) == (1, True)

    assert await say(runtime) == ("v1 says hello", None)  # checked less than a second ago
    clock.now += 1.0
    assert await say(runtime) == ("v2 says hello", 1)
    assert await say(runtime, env="test") == ("v1 says hello", None)


async def test_rollback_returns_production_to_the_older_release(
    runtime: Runtime, tmp_path: Path, clock: Clock
) -> None:
    await deploy(runtime.store, write(tmp_path / "shop", "v2"))
    await deploy(runtime.store, write(tmp_path / "shop", "v3"))
    assert await say(runtime) == ("v3 says hello", 2)

    await rollback(runtime.store, "shop", 1)
    clock.now += 1.0

    assert await say(runtime) == ("v2 says hello", 1)


async def test_the_store_is_asked_once_per_second_however_many_turns(
    runtime: Runtime, clock: Clock
) -> None:
    store = runtime.store
    assert isinstance(store, CountingStore)
    for i in range(20):
        await say(runtime, cid=f"c{i}")
    assert store.checks == 1

    clock.now += 1.0
    answers = await asyncio.gather(*(say(runtime, cid=f"d{i}") for i in range(20)))
    assert store.checks == 2  # the turns that found the answer stale shared one read
    assert set(answers) == {("v1 says hello", None)}


async def test_the_test_environment_never_asks_the_store(runtime: Runtime) -> None:
    await say(runtime, env="test")
    assert runtime.store.checks == 0  # type: ignore[attr-defined]


async def test_a_release_this_server_cannot_load_is_refused_until_it_can(
    runtime: Runtime,
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("GREETING_SUFFIX", "!")
    await deploy(runtime.store, write(tmp_path / "shop", "v2", secret="${GREETING_SUFFIX}"))
    monkeypatch.delenv("GREETING_SUFFIX")

    with caplog.at_level(logging.ERROR, "parley.releases"), pytest.raises(Unavailable) as caught:
        await say(runtime)
    assert "release 1 of bot 'shop' cannot be loaded here" in caught.value.message
    assert "shop release 1/bot.yaml" in caplog.text and "GREETING_SUFFIX" in caplog.text
    assert await say(runtime, env="test") == ("v1 says hello", None)

    monkeypatch.setenv("GREETING_SUFFIX", "!")
    clock.now += 1.0
    assert await say(runtime) == ("v2 says hello!", 1)


async def test_a_conversation_asking_for_an_entity_the_new_release_dropped_goes_on(
    runtime: Runtime, tmp_path: Path, clock: Clock
) -> None:
    assert await say(runtime, "price please") == ("v1: which product?", None)
    changed = BOT.format(version="v2", secret="").replace(
        '    entities: {product: {required: true, prompt: "v2: which product?"}}\n', ""
    )
    await deploy(runtime.store, write_bot(tmp_path / "shop", changed))
    clock.now += 1.0

    text, release = await say(runtime, "price please")

    assert (text, release) == ("v2 prices it", 1)
