"""What every `Store` promises, run against each backend by the `store` fixture."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace

import pytest

from parley.errors import Conflict, StorageError
from parley.model import (
    Conversation,
    Detection,
    EntityValue,
    Environment,
    HistoryEntry,
    Invocation,
    Message,
    State,
    StoredAnswer,
    TurnRecord,
    User,
)
from parley.storage import Store

NESTED = {
    "name": "Zoë 李 🚀",
    "escapes": 'tab\t newline\n quote" backslash\\ nul\x00 lone\ud800',
    "nested": {"list": [1, 2.5, None, True, {"deep": ["x"]}], "empty": {}, "none": None},
    "big": 2**53 + 1,
    "negative": -0.125,
}


def conversation(cid: str = "c1", bot: str = "bot", user_id: str = "u1") -> Conversation:
    return Conversation(id=cid, bot=bot, user_id=user_id)


def entry(conv: Conversation, text: str, *, no: int = 1, sender: str = "user") -> HistoryEntry:
    return HistoryEntry(conv.id, conv.bot, no, sender, Message.text(text), 1700000000.5, "t")


def invocation(conv: Conversation, node: str = "n") -> Invocation:
    return Invocation("t", conv.bot, conv.id, node, "webhook", "https://example.com", 1700000000.0)


def turn(
    conv: Conversation,
    *,
    user: User | None = None,
    history: list[HistoryEntry] | None = None,
    invocations: list[Invocation] | None = None,
) -> TurnRecord:
    return TurnRecord(
        turn_id="t",
        conversation=conv,
        user=user or User(conv.user_id),
        history=history if history is not None else [entry(conv, "hi")],
        invocations=invocations if invocations is not None else [invocation(conv)],
        expected_version=conv.version,
    )


INJECTED = (RuntimeError, StorageError)
"""What `fail_on_invocation_insert` raises: the store's code failing, or the database."""


async def footprint(store: Store, conv: Conversation) -> tuple[object, ...]:
    """Everything a save of `conv` could have touched."""
    return (
        await store.get_conversation(conv.bot, conv.id),
        await store.get_user(conv.user_id),
        await store.history(conv.bot, conv.id),
        await store.invocations(),
    )


async def test_conversation_round_trips_every_field(store: Store) -> None:
    conv = Conversation(
        id="c-ü",
        bot="bot",
        user_id="u1",
        environment=Environment.PRODUCTION,
        state=State.AGENT,
        conversation_no=3,
        node="ask_city",
        asking="city",
        language="hi",
        data=NESTED,
        entities={
            "city": EntityValue("Pune", "pune", Detection.MESSAGE, 4, 8),
            "count": EntityValue({"n": [1, 2]}, "one two", Detection.STRUCTURED),
        },
        team="support",
    )
    await store.save_turn(turn(conv))

    assert await store.get_conversation("bot", "c-ü") == replace(conv, version=1)


async def test_empty_and_none_fields_round_trip(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv))

    loaded = await store.get_conversation("bot", "c1")
    assert loaded == conv
    assert loaded is not None and loaded.node is None and loaded.team is None


async def test_user_round_trips_every_field(store: Store) -> None:
    user = User(
        id="u1",
        name="Zoë",
        full_name="Zoë 李",
        device_platform=3,
        language="fr",
        auth_id="auth-1",
        auth_code="s3cret",
        profile={"email": "z@example.com", "tags": ["a", None]},
        data=NESTED,
    )
    await store.save_turn(turn(conversation(), user=user))

    assert await store.get_user("u1") == user


async def test_history_entry_round_trips_every_field(store: Store) -> None:
    conv = conversation()
    card = Message(
        "quick_replies",
        {"title": "Pick ✓", "buttons": [{"title": "Yes", "value": "y", "type": "text"}]},
        {"hsl": {"type": "BUTTON", "data": NESTED}},
    )
    saved = HistoryEntry("c1", "bot", 2, "agent(Ann)", card, 1700000000.123456, "turn-9")
    await store.save_turn(turn(conv, history=[saved]))

    assert await store.history("bot", "c1") == [saved]


async def test_invocation_round_trips_every_field(store: Store) -> None:
    conv = conversation()
    inv = Invocation(
        turn_id="turn-1",
        bot="bot",
        conversation_id="c1",
        node="lookup",
        kind="webhook",
        url="https://example.com/hook?q=é",
        created_at=1700000000.25,
        dialect="haptik",
        method="PUT",
        request_headers={"content-type": "application/json", "x-sig": "***"},
        request_body='{"q": "é"}',
        status=502,
        response_body="<html>bad gateway</html>",
        latency_ms=123.456,
        error="status 502",
        environment="production",
    )
    await store.save_turn(turn(conv, invocations=[inv]))

    assert await store.invocations() == [inv]


async def test_missing_conversation_and_user_read_as_none(store: Store) -> None:
    assert await store.get_conversation("bot", "nope") is None
    assert await store.get_user("nope") is None
    assert await store.history("bot", "nope") == []
    assert await store.invocations(conversation_id="nope") == []


async def test_save_bumps_version_and_assigns_ids(store: Store) -> None:
    conv = conversation()
    first = turn(conv, history=[entry(conv, "a"), entry(conv, "b")])
    await store.save_turn(first)
    second = turn(
        conv, history=[entry(conv, "c")], invocations=[invocation(conv), invocation(conv)]
    )
    await store.save_turn(second)

    assert conv.version == 2
    stored = await store.get_conversation("bot", "c1")
    assert stored is not None and stored.version == 2
    history_ids = [e.id for e in first.history + second.history]
    assert [e.id for e in await store.history("bot", "c1")] == history_ids
    assert history_ids == sorted(set(history_ids))
    invocation_ids = [i.id for i in first.invocations + second.invocations]
    assert [i.id for i in await store.invocations()] == invocation_ids
    assert invocation_ids == sorted(set(invocation_ids))


async def test_reads_return_copies_the_caller_may_mutate(store: Store) -> None:
    conv = replace(conversation(), data={"cart": [1]})
    record = turn(conv, user=User("u1", data={"tier": "gold"}))
    await store.save_turn(record)
    conv.data["cart"].append("saved object mutated")
    record.user.data["tier"] = "saved object mutated"

    loaded = await store.get_conversation("bot", "c1")
    user = await store.get_user("u1")
    history = await store.history("bot", "c1")
    assert loaded is not None and user is not None
    loaded.data["cart"].append("read object mutated")
    user.data["tier"] = "read object mutated"
    history[0].message.meta["x"] = 1

    again = await store.get_conversation("bot", "c1")
    assert again is not None and again.data == {"cart": [1]}
    assert await store.get_user("u1") == User("u1", data={"tier": "gold"})
    assert (await store.history("bot", "c1"))[0].message.meta == {}


async def test_stale_version_conflicts_and_writes_nothing(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv))
    winner = turn(replace(conv, node="winner"), user=User("u1", name="winner"))
    loser = turn(replace(conv, node="loser"), user=User("u1", name="loser"))
    await store.save_turn(winner)
    before = await footprint(store, conv)

    with pytest.raises(Conflict):
        await store.save_turn(loser)

    assert await footprint(store, conv) == before
    assert loser.conversation.version == 1
    assert [e.id for e in loser.history] == [None]
    assert [i.id for i in loser.invocations] == [None]
    stored = await store.get_conversation("bot", "c1")
    assert stored is not None and (stored.node, stored.version) == ("winner", 2)
    assert len(await store.history("bot", "c1")) == 2
    assert len(await store.invocations()) == 2


async def test_creating_an_existing_conversation_conflicts(store: Store) -> None:
    await store.save_turn(turn(conversation()))
    before = await footprint(store, conversation())

    with pytest.raises(Conflict):
        await store.save_turn(turn(conversation()))

    assert await footprint(store, conversation()) == before


async def test_updating_an_absent_conversation_conflicts(store: Store) -> None:
    conv = replace(conversation(), version=4)

    with pytest.raises(Conflict):
        await store.save_turn(turn(conv))

    assert await footprint(store, conv) == (None, None, [], [])


async def test_racing_saves_from_one_version_let_exactly_one_win(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv))
    racers = [turn(replace(conv, node=f"n{i}"), history=[entry(conv, f"{i}")]) for i in range(8)]

    results = await asyncio.gather(*(store.save_turn(r) for r in racers), return_exceptions=True)

    assert sum(result is None for result in results) == 1
    assert all(isinstance(result, Conflict) for result in results if result is not None)
    assert len(await store.history("bot", "c1")) == 2
    assert len(await store.invocations()) == 2


async def test_value_that_is_not_json_fails_the_turn_without_a_trace(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv))
    before = await footprint(store, conv)
    bad = Message("custom", {"when": object()})
    record = turn(
        replace(conv, node="changed"),
        user=User("u1", name="changed"),
        history=[entry(conv, "fine"), replace(entry(conv, "bad"), message=bad)],
    )

    with pytest.raises(TypeError):
        await store.save_turn(record)

    assert await footprint(store, conv) == before
    assert record.conversation.version == 1


async def test_failure_midway_rolls_back_the_whole_turn(
    store: Store,
    fail_on_invocation_insert: Callable[[Store], contextlib.AbstractContextManager[None]],
) -> None:
    """The failure hits the last write, after conversation, user and history were written."""
    first, new = conversation("c1"), conversation("c2", user_id="u2")
    await store.save_turn(turn(first))
    before = await footprint(store, first)

    with fail_on_invocation_insert(store):
        with pytest.raises(INJECTED, match="injected failure"):
            await store.save_turn(turn(replace(first, node="changed"), user=User("u1", name="x")))
        with pytest.raises(INJECTED, match="injected failure"):
            await store.save_turn(turn(new))

    assert await footprint(store, first) == before
    assert await footprint(store, new) == (None, None, [], before[3])
    await store.save_turn(turn(first))  # the store still works, at the old version
    assert first.version == 2


async def test_history_is_oldest_first_and_limit_keeps_the_newest(store: Store) -> None:
    conv = conversation()
    for batch in (["1", "2"], ["3"], ["4", "5"]):
        await store.save_turn(turn(conv, history=[entry(conv, text) for text in batch]))

    def texts(entries: list[HistoryEntry]) -> list[str]:
        return [e.message.content for e in entries]

    assert texts(await store.history("bot", "c1")) == ["1", "2", "3", "4", "5"]
    assert texts(await store.history("bot", "c1", limit=3)) == ["3", "4", "5"]
    assert texts(await store.history("bot", "c1", limit=10)) == ["1", "2", "3", "4", "5"]
    assert await store.history("bot", "c1", limit=0) == []


async def test_history_filters_by_conversation_no(store: Store) -> None:
    conv = conversation()
    history = [entry(conv, "a", no=1), entry(conv, "b", no=2), entry(conv, "c", no=2)]
    await store.save_turn(turn(conv, history=history))
    await store.save_turn(turn(conv, history=[entry(conv, "d", no=1)]))

    assert [e.message.content for e in await store.history("bot", "c1", 2)] == ["b", "c"]
    assert [e.message.content for e in await store.history("bot", "c1", 1)] == ["a", "d"]
    assert [e.message.content for e in await store.history("bot", "c1", 1, limit=1)] == ["d"]
    assert await store.history("bot", "c1", 3) == []


async def test_history_is_kept_per_bot_and_conversation(store: Store) -> None:
    one, two, other_bot = conversation("c1"), conversation("c2"), conversation("c1", bot="b2")
    for conv in (one, two, other_bot):
        await store.save_turn(turn(conv, history=[entry(conv, f"{conv.bot}/{conv.id}")]))

    assert [e.message.content for e in await store.history("bot", "c1")] == ["bot/c1"]
    assert [e.message.content for e in await store.history("b2", "c1")] == ["b2/c1"]


async def test_invocations_filter_by_bot_and_conversation(store: Store) -> None:
    a1, a2, b1 = conversation("c1"), conversation("c2"), conversation("c1", bot="b2")
    for conv in (a1, a2, b1):
        await store.save_turn(turn(conv, invocations=[invocation(conv), invocation(conv)]))

    def keys(invocations: list[Invocation]) -> list[str]:
        return [f"{i.bot}/{i.conversation_id}" for i in invocations]

    assert keys(await store.invocations()) == ["bot/c1"] * 2 + ["bot/c2"] * 2 + ["b2/c1"] * 2
    assert keys(await store.invocations(bot="bot")) == ["bot/c1"] * 2 + ["bot/c2"] * 2
    assert keys(await store.invocations(conversation_id="c2")) == ["bot/c2"] * 2
    assert keys(await store.invocations(bot="b2", conversation_id="c1")) == ["b2/c1"] * 2
    assert await store.invocations(bot="nobody") == []


async def test_invocations_page_with_after_id_and_limit(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv, invocations=[invocation(conv, f"n{i}") for i in range(5)]))
    other = conversation("c2")
    await store.save_turn(turn(other, invocations=[invocation(other, "other")]))
    await store.save_turn(turn(conv, invocations=[invocation(conv, "n5")]))

    pages, after = [], 0
    while page := await store.invocations(conversation_id="c1", after_id=after, limit=2):
        pages.append([i.node for i in page])
        after = page[-1].id or 0

    assert pages == [["n0", "n1"], ["n2", "n3"], ["n4", "n5"]]
    assert await store.invocations(after_id=after) == []
    assert await store.invocations(limit=0) == []


async def test_newest_invocations_come_oldest_first(store: Store) -> None:
    conv, other = conversation(), conversation("c2")
    await store.save_turn(turn(conv, invocations=[invocation(conv, f"n{i}") for i in range(5)]))
    await store.save_turn(turn(other, invocations=[invocation(other, "other")]))

    newest = await store.invocations(conversation_id="c1", limit=2, newest=True)
    assert [i.node for i in newest] == ["n3", "n4"]
    everything = await store.invocations(limit=3, newest=True)
    assert [i.node for i in everything] == ["n3", "n4", "other"]
    after = await store.invocations(after_id=newest[0].id or 0, newest=True)
    assert [i.node for i in after] == ["n4", "other"]


async def test_load_returns_the_conversation_and_its_user_at_once(store: Store) -> None:
    await store.save_turn(turn(conversation("c1"), user=User("u1", name="ada")))
    await store.save_turn(turn(conversation("c2", user_id="u2"), user=User("u2", name="bo")))

    conv, user = await store.load("bot", "c1")
    assert conv is not None and conv.id == "c1" and user == User("u1", name="ada")
    conv, user = await store.load("bot", "c1", "u2")
    assert conv is not None and user is not None and user.name == "bo"
    assert await store.load("bot", "nope") == (None, None)
    conv, user = await store.load("bot", "u2")
    assert conv is None and user is not None and user.id == "u2"


async def test_user_is_shared_across_bots(store: Store) -> None:
    await store.save_turn(turn(conversation(bot="a"), user=User("u1", data={"from": "a"})))
    await store.save_turn(turn(conversation(bot="b"), user=User("u1", data={"from": "b"})))

    assert await store.get_user("u1") == User("u1", data={"from": "b"})
    for bot in ("a", "b"):
        conv = await store.get_conversation(bot, "c1")
        assert conv is not None and conv.user_id == "u1"


async def test_concurrent_saves_on_different_conversations_all_land(store: Store) -> None:
    convs = [conversation(f"c{i}", user_id=f"u{i % 3}") for i in range(12)]

    for _ in range(3):
        await asyncio.gather(*(store.save_turn(turn(conv)) for conv in convs))

    for conv in convs:
        stored = await store.get_conversation("bot", conv.id)
        assert stored is not None and stored.version == 3
        assert len(await store.history("bot", conv.id)) == 3
    assert len(await store.invocations(limit=1000)) == 36


async def test_invocations_page_back_with_before_id(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv, invocations=[invocation(conv, f"n{i}") for i in range(5)]))

    pages, before = [], None
    while page := await store.invocations(before_id=before, limit=2, newest=True):
        pages.append([i.node for i in page])
        before = page[0].id
    assert pages == [["n3", "n4"], ["n1", "n2"], ["n0"]]
    ids = [i.id or 0 for i in await store.invocations()]
    between = await store.invocations(after_id=ids[0], before_id=ids[3])
    assert [i.node for i in between] == ["n1", "n2"]


async def test_history_and_invocations_of_an_unknown_conversation_are_refused(
    store: Store,
) -> None:
    conv, stranger = conversation(), conversation("c2", bot="elsewhere")
    await store.save_turn(turn(conv))
    before = await footprint(store, conv)

    with pytest.raises(StorageError):
        await store.save_turn(turn(conv, history=[entry(conv, "ok"), entry(stranger, "no")]))
    with pytest.raises(StorageError):
        await store.save_turn(turn(conv, invocations=[invocation(stranger)]))

    assert await footprint(store, conv) == before
    assert await store.history("elsewhere", "c2") == []


# Idempotent turns: an answer kept under the client's message id, in the turn's transaction.


def answer(message_id: str = "m1", text: str = "hi", **extra: object) -> StoredAnswer:
    return StoredAnswer(message_id, f"digest of {text}", "t", {"messages": [text], **extra})


async def test_answer_is_stored_with_the_turn_and_found_by_message_id(store: Store) -> None:
    conv = conversation()
    record = turn(conv)
    record.answer = answer(nested=NESTED)
    await store.save_turn(record)

    found = await store.get_answer("bot", "c1", "m1")
    assert found is not None
    assert found == replace(answer(nested=NESTED), created_at=record.answer.created_at)
    assert list(found.answer) == ["messages", "nested"]  # key order kept
    assert found.created_at > 0
    found.answer["messages"].append("read object mutated")
    again = await store.get_answer("bot", "c1", "m1")
    assert again is not None and again.answer["messages"] == ["hi"]


async def test_unknown_message_ids_read_as_none(store: Store) -> None:
    conv = conversation()
    record = turn(conv)
    record.answer = answer("m1")
    await store.save_turn(record)
    await store.save_turn(turn(conv))  # a turn without a message id stores no answer

    assert await store.get_answer("bot", "c1", "m2") is None
    assert await store.get_answer("bot", "c2", "m1") is None
    assert await store.get_answer("other", "c1", "m1") is None
    assert await store.get_answer("bot", "nope", "m1") is None


async def test_message_id_is_unique_per_conversation(store: Store) -> None:
    conv = conversation()
    first = turn(conv)
    first.answer = answer("m1", "first")
    await store.save_turn(first)
    before = await footprint(store, conv)
    duplicate = turn(replace(conv, node="changed"), user=User("u1", name="changed"))
    duplicate.answer = answer("m1", "second")

    with pytest.raises(Conflict):
        await store.save_turn(duplicate)

    assert await footprint(store, conv) == before
    assert duplicate.conversation.version == 1
    stored = await store.get_answer("bot", "c1", "m1")
    assert stored is not None and stored.digest == "digest of first"
    # the same message id is free in another conversation and under another bot
    for other in (conversation("c2"), conversation("c1", bot="other")):
        record = turn(other)
        record.answer = answer("m1", other.bot + other.id)
        await store.save_turn(record)
        stored = await store.get_answer(other.bot, other.id, "m1")
        assert stored is not None and stored.digest == f"digest of {other.bot}{other.id}"


async def test_answer_of_a_stale_turn_is_not_written(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv))
    await store.save_turn(turn(replace(conv)))
    loser = turn(replace(conv, version=1))
    loser.answer = answer("m1")

    with pytest.raises(Conflict):
        await store.save_turn(loser)

    assert await store.get_answer("bot", "c1", "m1") is None


async def test_answer_that_is_not_json_fails_the_turn_without_a_trace(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv))
    before = await footprint(store, conv)
    record = turn(replace(conv, node="changed"))
    record.answer = answer("m1", bad=object())

    with pytest.raises(TypeError):
        await store.save_turn(record)

    assert await footprint(store, conv) == before
    assert await store.get_answer("bot", "c1", "m1") is None


async def test_answer_is_rolled_back_with_a_turn_that_fails_midway(
    store: Store,
    fail_on_invocation_insert: Callable[[Store], contextlib.AbstractContextManager[None]],
) -> None:
    conv, new = conversation("c1"), conversation("c2", user_id="u2")
    await store.save_turn(turn(conv))
    records = [turn(replace(conv, node="changed")), turn(new)]
    for record in records:
        record.answer = answer("m1")

    with fail_on_invocation_insert(store):
        for record in records:
            with pytest.raises(INJECTED, match="injected failure"):
                await store.save_turn(record)

    assert await store.get_answer("bot", "c1", "m1") is None
    assert await store.get_answer("bot", "c2", "m1") is None
    retry = turn(conv)  # the message id is still free
    retry.answer = answer("m1")
    await store.save_turn(retry)
    assert await store.get_answer("bot", "c1", "m1") is not None


async def test_racing_turns_with_one_message_id_store_one_answer(store: Store) -> None:
    conv = conversation()
    await store.save_turn(turn(conv))
    racers = [turn(replace(conv, node=f"n{i}"), history=[entry(conv, f"{i}")]) for i in range(6)]
    for i, racer in enumerate(racers):
        racer.answer = answer("m1", f"{i}")

    results = await asyncio.gather(*(store.save_turn(r) for r in racers), return_exceptions=True)

    assert sum(result is None for result in results) == 1
    assert all(isinstance(result, Conflict) for result in results if result is not None)
    winner = next(r for r, result in zip(racers, results, strict=True) if result is None)
    stored = await store.get_answer("bot", "c1", "m1")
    assert stored is not None and stored.digest == f"digest of {winner.history[0].message.content}"
    assert len(await store.history("bot", "c1")) == 2
