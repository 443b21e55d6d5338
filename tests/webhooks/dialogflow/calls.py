"""Calls as the engine makes them for a `dialect: dialogflow` node, and the turn after."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from parley.bot.schema import AuthSpec, WebhookSpec
from parley.model import (
    Call,
    Conversation,
    EntityValue,
    Environment,
    IntentMatch,
    Outcome,
    Parse,
    User,
)

from .flask_app import PASSWORD, USERNAME

BASIC = AuthSpec(type="basic", username=USERNAME, password=PASSWORD)


def df_call(node: str, text: str = "", auth: AuthSpec | None = BASIC, **entities: str) -> Call:
    return Call(
        kind="webhook",
        node=node,
        spec=WebhookSpec(path="/webhook", dialect="dialogflow", auth=auth, timeout=5),
        entities={name: EntityValue(value, value.title()) for name, value in entities.items()},
        conversation=Conversation(
            id="df-1", bot="shop", user_id="u-1", environment=Environment.TEST, version=0
        ),
        user=User(id="u-1"),
        text=text,
        parse=Parse(text, "en", [IntentMatch(node, 0.9)]),
    )


def next_turn(call: Call, outcome: Outcome, node: str, text: str = "") -> Call:
    """The call of the following user turn, after the engine merged `outcome` and saved."""
    data: dict[str, Any] = {**call.conversation.data, **(outcome.variables or {})}
    conversation = replace(call.conversation, data=data, version=call.conversation.version + 1)
    return replace(call, node=node, text=text, entities={}, conversation=conversation)
