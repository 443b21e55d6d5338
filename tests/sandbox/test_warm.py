"""The worker's policy for warm processes, without any process: who serves a key's call,
what is kept, and what is ended."""

from __future__ import annotations

from dataclasses import dataclass

from parley.sandbox.warm import WarmSet


@dataclass(eq=False)
class Fake:
    key: str = ""
    calls: int = 0
    idle_since: float = 0.0


def served(warm: WarmSet[Fake], key: str, now: float = 0.0) -> tuple[Fake, list[Fake]]:
    """One call of `key`: an idle process or a fresh one, then released."""
    process = warm.take(key)
    if process is None:
        process = Fake()
        warm.adopt(process, key)
    process.calls += 1
    return process, warm.release(process, now)


def test_a_key_gets_back_its_warm_process_and_never_another_keys() -> None:
    warm: WarmSet[Fake] = WarmSet()
    first, _ = served(warm, "bot-a")
    again, _ = served(warm, "bot-a")
    other, _ = served(warm, "bot-b")
    assert again is first and other is not first
    assert warm.take("bot-c") is None


def test_overlapping_calls_keep_up_to_per_key_processes_and_end_the_rest() -> None:
    warm: WarmSet[Fake] = WarmSet(per_key=2)
    running = [Fake() for _ in range(3)]
    for process in running:
        warm.adopt(process, "bot")
    ended = [warm.release(process, 0.0) for process in running]
    assert ended == [[running[0]], [], []]  # the first back finds three: one too many
    assert warm.count("bot") == 2 and warm.idle_count() == 2


def test_the_least_recently_used_idle_process_is_ended_over_the_total() -> None:
    warm: WarmSet[Fake] = WarmSet(total=2)
    oldest, _ = served(warm, "a", now=1.0)
    served(warm, "b", now=2.0)
    _, ended = served(warm, "c", now=3.0)
    assert ended == [oldest] and warm.take("a") is None


def test_a_process_is_replaced_after_its_calls() -> None:
    warm: WarmSet[Fake] = WarmSet(calls=2)
    first, kept = served(warm, "bot")
    second, ended = served(warm, "bot")
    third, _ = served(warm, "bot")
    assert second is first and kept == [] and ended == [first]
    assert third is not first


def test_idle_processes_expire_after_the_idle_time() -> None:
    warm: WarmSet[Fake] = WarmSet(idle_seconds=10)
    early, _ = served(warm, "a", now=0.0)
    late, _ = served(warm, "b", now=5.0)
    assert warm.next_expiry() == 10.0
    assert warm.expired(9.0) == []
    assert warm.expired(10.0) == [early]
    assert warm.next_expiry() == 15.0 and warm.take("b") is late


def test_a_discarded_process_is_forgotten_once() -> None:
    warm: WarmSet[Fake] = WarmSet()
    process, _ = served(warm, "bot")
    warm.discard(process)
    warm.discard(process)
    assert warm.count("bot") == 0 and warm.take("bot") is None
