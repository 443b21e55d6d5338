"""What every store promises about accounts and the hand-off queue, on each backend."""

from __future__ import annotations

import asyncio

import pytest

from parley.errors import Conflict, NotFound
from parley.model import Conversation, State, TurnRecord, User
from parley.storage import Store
from parley.storage.accounts import (
    Agent,
    Assignment,
    Business,
    Credential,
    Team,
    hash_token,
    new_token,
    token_matches,
)


async def save(store: Store, conv: Conversation) -> Conversation:
    record = TurnRecord("t", conv, User(conv.user_id), [], [], conv.version)
    await store.save_turn(record)
    return conv


async def test_businesses_get_the_id_asked_for_or_the_next_one(store: Store) -> None:
    chosen = await store.add_business(Business("web", "shop", id=41))
    picked = await store.add_business(Business("app", "shop", active=False))

    assert (chosen.id, picked.id) == (41, 42)
    assert await store.get_business(42) == Business("app", "shop", False, 42)
    assert await store.get_business(7) is None
    with pytest.raises(Conflict):
        await store.add_business(Business("again", "shop", id=41))


async def test_teams_belong_to_an_existing_business(store: Store) -> None:
    await store.add_business(Business("web", "shop", id=1))
    await store.add_team(Team(1, "support", active=False))

    assert await store.get_team(1, "support") == Team(1, "support", False)
    assert await store.get_team(1, "sales") is None
    with pytest.raises(Conflict):
        await store.add_team(Team(1, "support"))
    with pytest.raises(NotFound):
        await store.add_team(Team(2, "support"))


async def test_agents_are_found_by_their_token_hash_only(store: Store) -> None:
    await store.add_business(Business("web", "shop", id=1))
    await store.add_team(Team(1, "support"))
    token = new_token()
    added = await store.add_agent(Agent(1, "support", "Ada", hash_token(token)))

    found = await store.agent_by_token_hash(hash_token(token))
    assert found == added and found.id is not None and found.name == "Ada"
    assert await store.agent_by_token_hash(hash_token(token + "x")) is None
    with pytest.raises(NotFound):
        await store.add_agent(Agent(1, "sales", "Bob", hash_token(new_token())))


async def test_credentials_keep_a_hash_and_their_businesses(store: Store) -> None:
    token = new_token()
    await store.add_credential(Credential("partner", hash_token(token), [1, 2], 10.0))
    await store.add_credential(Credential("other", hash_token(new_token()), [], 20.0))

    found = await store.get_credential("partner")
    assert found is not None and found.businesses == [1, 2]
    assert token_matches(token, found.token_hash) and not token_matches("x", found.token_hash)
    assert [c.client_id for c in await store.list_credentials()] == ["partner", "other"]
    assert await store.get_credential("nobody") is None
    with pytest.raises(Conflict):
        await store.add_credential(Credential("partner", "h"))


async def test_waiting_lists_pending_and_agent_chats_of_the_team_or_of_none(store: Store) -> None:
    chats = {
        "pending": (State.PENDING, "support"),
        "claimed": (State.AGENT, "support"),
        "no-team": (State.PENDING, None),
        "other-team": (State.PENDING, "sales"),
        "bot": (State.BOT, None),
    }
    for cid, (state, team) in chats.items():
        await save(store, Conversation(cid, "shop", f"u-{cid}", state=state, team=team))
    await save(store, Conversation("elsewhere", "other", "u", state=State.PENDING))

    waiting = await store.waiting("shop", "support")

    assert [c.id for c in waiting] == ["pending", "claimed", "no-team"]


async def test_latest_conversation_is_the_users_most_recent(store: Store) -> None:
    await save(store, Conversation("old", "shop", "u1"))
    await asyncio.sleep(0.01)
    await save(store, Conversation("new", "shop", "u1"))
    await save(store, Conversation("theirs", "shop", "u2"))

    latest = await store.latest_conversation("shop", "u1")

    assert latest is not None and latest.id == "new"
    assert await store.latest_conversation("shop", "nobody") is None


async def test_only_one_agent_holds_a_chat_until_it_is_released(store: Store) -> None:
    await save(store, Conversation("c1", "shop", "u1", state=State.PENDING))
    ada = Assignment("shop", "c1", 1, "Ada", 5.0)

    results = await asyncio.gather(
        store.assign(ada), store.assign(Assignment("shop", "c1", 2, "Bob", 6.0))
    )

    assert sorted(results) == [False, True]
    held = await store.get_assignment("shop", "c1")
    assert held is not None and held.agent_name in ("Ada", "Bob")
    await store.unassign("shop", "c1")
    assert await store.get_assignment("shop", "c1") is None
    assert await store.assign(ada) is True
