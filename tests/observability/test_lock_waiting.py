"""`parley_lock_waiting`: turns queued behind their conversation's lock, seen at scrape time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from parley.config import Settings
from tests.harness import serve, write_bot
from tests.webhooks.seed_server import running

BOT = """\
name: slow
environments: {{test: {{base_url: "{base}"}}}}
intents: {{slow: {{examples: ["take your time"]}}}}
nodes: {{slow: {{intents: [slow], webhook: {{path: "/slow?s=0.5", timeout: 5}}}}}}
"""


async def waiting(http: httpx.AsyncClient, base: str) -> float:
    text = (await http.get(f"{base}/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "parley_lock_waiting":
                return sample.value
    raise AssertionError("no parley_lock_waiting gauge")


async def test_turns_behind_a_busy_conversation_are_counted_as_waiting(tmp_path: Path) -> None:
    with running() as webhook:
        bot = write_bot(tmp_path / "slow", BOT.format(base=webhook))
        with serve([bot], Settings(database_url="memory://")) as base:
            async with httpx.AsyncClient(timeout=30) as http:
                assert await waiting(http, base) == 0
                body = {"conversation_id": "c1", "message": {"content": "take your time"}}
                turns = [
                    asyncio.create_task(http.post(f"{base}/api/v1/bots/slow/dialog", json=body))
                    for _ in range(3)
                ]
                seen = 0.0
                while seen < 2 and not all(t.done() for t in turns):
                    seen = await waiting(http, base)
                    await asyncio.sleep(0.02)
                assert seen == 2  # one turn holds the lock, two wait
                assert all(r.status_code == 200 for r in await asyncio.gather(*turns))
                assert await waiting(http, base) == 0
