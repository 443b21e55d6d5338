"""The seed's integration API on a real server: every row of both error tables, and success."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration_api.accounts import Accounts

SEND = "/integration/external/v1.0/send_chat_to_agent/"
HISTORY = "/integration/external/v1.0/get_chat_history/"
GOOD_BODY = {"user_name": "u1", "business_id": 1, "team_name": "support"}
GOOD_QUERY = {"user_name": "u1", "business_id": "1", "conversation_no": "1"}


def auth(accounts: Accounts) -> dict[str, str]:
    return {"client-id": accounts.client_id, "Authorization": f"Bearer {accounts.token}"}


async def talk(http: httpx.AsyncClient, text: str, cid: str = "c1", user: str = "u1") -> Any:
    body = {"conversation_id": cid, "message": {"content": text}, "user": {"id": user}}
    response = await http.post("/api/v1/bots/shop/dialog", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# (header changes, body changes, status, the seed's error message)
SEND_ERRORS = [
    ({"client-id": None}, {}, 401, "client_id missing in headers"),
    ({"client-id": "not a client id!"}, {}, 401, "invalid client_id in headers"),
    ({"Authorization": "Token abc"}, {}, 401, "invalid authorization in headers"),
    ({"Authorization": None}, {}, 401, "token missing in headers"),
    ({"Authorization": "Bearer wrong"}, {}, 401, "invalid token provided"),
    ({"client-id": "nobody"}, {}, 401, "invalid token provided"),
    ({}, {"user_name": None}, 400, "user_name missing in the request"),
    ({}, {"business_id": None}, 400, "business_id missing in the request"),
    ({}, {"team_name": None}, 400, "team_name missing in the request"),
    ({}, {"user_name": "ghost"}, 404, "invalid user_name"),
    ({}, {"business_id": 99}, 404, "invalid business_id provided"),
    ({}, {"business_id": 2}, 403, 'business "2" is inactive'),
    ({}, {"team_name": "nope"}, 404, "invalid team_name provided"),
    ({}, {"team_name": "closed"}, 403, 'team "closed" is inactive'),
    ({}, {"user_name": "lurker"}, 404, "user has not sent a message"),
]


def changed(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = {**base, **changes}
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize(("headers", "body", "status", "message"), SEND_ERRORS)
async def test_send_chat_to_agent_answers_each_seed_error(
    http: httpx.AsyncClient,
    accounts: Accounts,
    headers: dict[str, Any],
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    await talk(http, "hi")
    response = await http.post(
        SEND, json=changed(GOOD_BODY, body), headers=changed(auth(accounts), headers)
    )

    assert (response.status_code, response.json()) == (status, {"error_message": message})


async def test_a_wrong_token_and_an_unknown_client_id_answer_alike(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    wrong_token = {**auth(accounts), "Authorization": "Bearer " + accounts.ada}
    unknown_client = {**auth(accounts), "client-id": "acme2"}
    answers = [
        (r.status_code, r.content)
        for r in [
            await http.post(SEND, json=GOOD_BODY, headers=h) for h in (wrong_token, unknown_client)
        ]
    ]
    assert answers[0] == answers[1] == (401, b'{"error_message":"invalid token provided"}')


async def test_a_partner_limited_to_other_businesses_sees_an_invalid_business(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    await talk(http, "hi")
    narrow = {"client-id": "narrow", "Authorization": f"Bearer {accounts.narrow}"}

    response = await http.post(SEND, json=GOOD_BODY, headers=narrow)

    assert response.json() == {"error_message": "invalid business_id provided"}


async def test_send_chat_to_agent_moves_the_chat_to_pending_for_the_team(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    await talk(http, "hi")

    response = await http.post(
        SEND, json={**GOOD_BODY, "team_name": "sales"}, headers=auth(accounts)
    )

    assert (response.status_code, response.json()) == (200, {"success": True})
    state = (await http.get("/api/v1/bots/shop/conversations/c1")).json()["conversation"]
    assert (state["state"], state["team"]) == ("pending", "sales")
    answer = await talk(http, "hello?")
    assert answer["messages"] == []  # the bot is silent while the chat waits for an agent


HISTORY_ERRORS = [
    ({"client-id": None}, {}, 401, "invalid client_id"),
    ({"client-id": "bad id!"}, {}, 401, "invalid client_id"),
    ({"Authorization": "Bearer wrong"}, {}, 401, "invalid token"),
    ({"client-id": "nobody"}, {}, 401, "invalid token"),
    ({"Authorization": None}, {}, 401, "invalid token"),
    ({}, {"user_name": None}, 400, "user_name missing"),
    ({}, {"business_id": None}, 400, "business_id missing"),
    ({}, {"conversation_no": None}, 400, "conversation_no missing"),
    ({}, {"user_name": "ghost"}, 404, "invalid user_name"),
    ({}, {"user_name": "lurker"}, 404, "user has not sent a message"),
    ({}, {"business_id": "99"}, 404, "invalid business_id provided"),
    ({}, {"business_id": "2"}, 403, 'business "2" is inactive'),
]


@pytest.mark.parametrize(("headers", "query", "status", "message"), HISTORY_ERRORS)
async def test_get_chat_history_answers_each_seed_error(
    http: httpx.AsyncClient,
    accounts: Accounts,
    headers: dict[str, Any],
    query: dict[str, Any],
    status: int,
    message: str,
) -> None:
    await talk(http, "hi")
    response = await http.get(
        HISTORY, params=changed(GOOD_QUERY, query), headers=changed(auth(accounts), headers)
    )

    assert (response.status_code, response.json()) == (status, {"error_message": message})


async def test_get_chat_history_as_json_and_as_text(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    await talk(http, "hi")
    await talk(http, "hello")

    as_json = (await http.get(HISTORY, params=GOOD_QUERY, headers=auth(accounts))).json()
    misspelt = {**GOOD_QUERY, "respose_type": "text", "limit": "2"}
    as_text = (await http.get(HISTORY, params=misspelt, headers=auth(accounts))).json()

    chat = as_json["chat_json"]
    assert [(m["sender"], m["text"]) for m in chat] == [
        ("user", "hi"),
        ("bot", "Hello! Ask me a price."),
        ("user", "hello"),
        ("bot", "Hello! Ask me a price."),
    ]
    assert all(isinstance(m["message_id"], int) for m in chat)
    assert as_text == {"chat_text": "user: hello\nbot: Hello! Ask me a price.\n"}


async def test_get_chat_history_also_takes_the_seeds_post(
    http: httpx.AsyncClient, accounts: Accounts
) -> None:
    await talk(http, "hi")
    query = {**GOOD_QUERY, "response_type": "text"}
    response = await http.post(HISTORY, params=query, headers=auth(accounts))
    assert response.json() == {"chat_text": "user: hi\nbot: Hello! Ask me a price.\n"}
