"""What every store promises about releases, on each backend."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from parley.errors import NotFound
from parley.storage import Store

FILES = {"bot.yaml": "name: shop\n", "code/price.py": "def main(event, context):\n    pass\n"}


async def test_releases_are_numbered_per_bot_and_the_newest_is_current(store: Store) -> None:
    first = await store.add_release("shop", "d1", FILES, author="ana", note="first")
    second = await store.add_release("shop", "d2", {"bot.yaml": "name: shop\n# two\n"})
    other = await store.add_release("faq", "d3", {"bot.yaml": "name: faq\n"})

    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert first.current and second.current and other.current
    assert (first.author, first.note, second.author, second.note) == ("ana", "first", "", "")
    assert await store.current_release("shop") == 2
    assert await store.current_release("faq") == 1
    listed = await store.releases("shop")
    assert [(r.number, r.digest, r.current) for r in listed] == [(1, "d1", False), (2, "d2", True)]
    assert listed[0] == replace(first, current=False)


async def test_release_files_round_trip_exactly(store: Store) -> None:
    files = {**FILES, "notes/ünïcode.txt": 'Zoë 李 🚀\ttab\nnul\x00 \\ "quote"\r\n'}
    release = await store.add_release("shop", "d1", files)

    assert await store.release_files("shop", release.number) == files
    assert await store.release_files("shop", 2) is None
    assert await store.release_files("faq", 1) is None


async def test_a_bot_never_deployed_has_no_current_release(store: Store) -> None:
    await store.add_release("shop", "d1", FILES)

    assert await store.current_release("faq") is None
    assert await store.releases("faq") == []


async def test_every_bot_is_listed_by_bot_then_number(store: Store) -> None:
    for bot, digest in (("shop", "a"), ("faq", "b"), ("shop", "c")):
        await store.add_release(bot, digest, FILES)

    listed = [(r.bot, r.number, r.digest) for r in await store.releases()]
    assert listed == [("faq", 1, "b"), ("shop", 1, "a"), ("shop", 2, "c")]


async def test_rollback_points_at_an_older_release_and_deletes_nothing(store: Store) -> None:
    for digest in ("d1", "d2", "d3"):
        await store.add_release("shop", digest, FILES)

    switched = await store.set_current_release("shop", 1)

    assert (switched.number, switched.digest, switched.current) == (1, "d1", True)
    assert await store.current_release("shop") == 1
    assert [(r.number, r.current) for r in await store.releases("shop")] == [
        (1, True),
        (2, False),
        (3, False),
    ]
    assert (await store.add_release("shop", "d4", FILES)).number == 4
    assert await store.current_release("shop") == 4


async def test_rollback_to_a_missing_release_changes_nothing(store: Store) -> None:
    await store.add_release("shop", "d1", FILES)
    await store.add_release("shop", "d2", FILES)

    for bot, number in (("shop", 3), ("shop", 0), ("faq", 1)):
        with pytest.raises(NotFound, match=f"no release {number}"):
            await store.set_current_release(bot, number)

    assert await store.current_release("shop") == 2
    assert await store.current_release("faq") is None


async def test_concurrent_deploys_get_distinct_numbers(store: Store) -> None:
    made = await asyncio.gather(*(store.add_release("shop", f"d{i}", FILES) for i in range(6)))

    assert sorted(r.number for r in made) == [1, 2, 3, 4, 5, 6]
    assert await store.current_release("shop") in {r.number for r in made}
    assert len(await store.releases("shop")) == 6


async def test_a_release_that_is_not_json_stores_nothing(store: Store) -> None:
    with pytest.raises((TypeError, ValueError)):
        await store.add_release("shop", "d1", {"bot.yaml": object()})  # type: ignore[dict-item]

    assert await store.releases("shop") == []
    assert await store.current_release("shop") is None
