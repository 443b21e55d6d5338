"""RedisLocks against a real Redis of our own: arrival order across owners, a dead owner's
lock expiring with its lease, a live owner's lock outlasting it, Redis going away."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from parley.errors import Unavailable
from parley.runtime.redis_locks import RedisLocks
from tests.scale.services import RedisServer


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_server.url, socket_connect_timeout=1)
    try:
        yield redis
    finally:
        await redis.aclose()


@contextlib.asynccontextmanager
async def owners(client: Redis, count: int, lease: float = 2.0) -> AsyncIterator[list[RedisLocks]]:
    """`count` lock owners, as if each were a worker process of its own."""
    made = [RedisLocks(client, lease=lease, poll=0.02) for _ in range(count)]
    try:
        yield made
    finally:
        for locks in made:
            await locks.aclose()


async def test_waiters_across_owners_run_one_at_a_time_in_arrival_order(client: Redis) -> None:
    ran: list[int] = []
    inside = 0

    async def turn(locks: RedisLocks, n: int) -> None:
        nonlocal inside
        async with locks.hold("shop\0c1"):
            inside += 1
            assert inside == 1
            await asyncio.sleep(0.01)
            ran.append(n)
            inside -= 1

    async with owners(client, 4) as workers:
        tasks = []
        async with workers[3].hold("shop\0c1"):  # nobody runs until all have arrived
            for n in range(12):
                tasks.append(asyncio.create_task(turn(workers[n % 3], n)))
                # arrival order: n reaches Redis before n + 1 is sent, however busy the machine
                while await client.zcard("parley:lock:shop\0c1") < n + 2:
                    await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)

    assert ran == list(range(12))


HOLD_AND_HANG = """
import asyncio, sys
from redis.asyncio import Redis
from parley.runtime.redis_locks import RedisLocks

async def main():
    locks = RedisLocks(Redis.from_url(sys.argv[1]), lease=float(sys.argv[2]))
    held = locks.hold("shop\\0c1")
    await held.__aenter__()
    print("held", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_dead_owners_lock_expires_with_its_lease(
    client: Redis, redis_server: RedisServer
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_HANG, redis_server.url, "1.5"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        async with owners(client, 1) as (alive,):
            got = asyncio.create_task(_acquire(alive, "shop\0c1"))
            await asyncio.sleep(1.0)
            assert not got.done()  # a live holder keeps it
            holder.kill()  # dies holding it: no release, no more heartbeats
            await asyncio.wait_for(got, 5)
    finally:
        holder.kill()
        holder.communicate()


async def test_a_live_owner_keeps_its_lock_beyond_the_lease(client: Redis) -> None:
    async with owners(client, 2, lease=0.8) as (holder, other):
        async with holder.hold("shop\0c1"):
            got = asyncio.create_task(_acquire(other, "shop\0c1"))
            await asyncio.sleep(2.0)  # two and a half leases: the heartbeat renews it
            assert not got.done()
        await asyncio.wait_for(got, 5)


async def test_other_conversations_are_not_held_up(client: Redis) -> None:
    async with owners(client, 2) as (one, two), one.hold("shop\0c1"):
        await asyncio.wait_for(_acquire(two, "shop\0c2"), 5)


async def test_redis_down_is_unavailable_and_back_up_works(
    client: Redis, redis_server: RedisServer
) -> None:
    async with owners(client, 1) as (locks,):
        redis_server.stop()
        with pytest.raises(Unavailable):
            await _acquire(locks, "shop\0c1")
        redis_server.start()
        await asyncio.wait_for(_acquire(locks, "shop\0c1"), 5)


async def test_waiting_counts_the_holders_in_line(client: Redis) -> None:
    async with owners(client, 1) as (locks,):
        async with locks.hold("shop\0c1"):
            waiters = [asyncio.create_task(_acquire(locks, "shop\0c1")) for _ in range(3)]
            await asyncio.sleep(0.1)
            assert locks.waiting == 3
        await asyncio.gather(*waiters)
        assert locks.waiting == 0


async def _acquire(locks: RedisLocks, key: str) -> None:
    async with locks.hold(key):
        pass


async def test_a_poll_that_lands_after_its_waiters_release_does_not_requeue_it(
    client: Redis,
) -> None:
    """A poll sent before a waiter gave up but run after (a new connection, a retry) must not
    put the released token back at the end of the queue, where nobody would release it."""
    locks = RedisLocks(client, lease=10, poll=0.1)
    real_poll = locks._poll_head

    async def late_poll(keys: list[str], args: list[object]) -> object:
        await asyncio.sleep(0.05)
        return await real_poll(keys, args)

    locks._poll_head = late_poll  # type: ignore[method-assign]
    holding = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("k"):
            holding.set()
            await asyncio.sleep(0.3)

    async def waiter() -> None:
        async with locks.hold("k"):
            pass

    held = asyncio.create_task(holder())
    await holding.wait()
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.03)  # its poll is on the way
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await held
    try:
        async with asyncio.timeout(5), locks.hold("k"):
            pass
        assert await client.zrange("parley:lock:k", 0, -1) == []
    finally:
        await locks.aclose()


async def test_a_transport_closed_under_the_client_is_unavailable_not_a_crash(
    client: Redis,
) -> None:
    """While Redis restarts, uvloop may raise RuntimeError for a closed transport: a 503."""
    locks = RedisLocks(client, lease=10)

    async def closed(keys: list[str], args: list[object]) -> object:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>")

    locks._enqueue = closed  # type: ignore[method-assign]
    try:
        with pytest.raises(Unavailable):
            async with locks.hold("k"):
                pass
    finally:
        await locks.aclose()
