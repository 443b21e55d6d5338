"""Calls for delivery tests: the seed server prices `product_name`."""

from __future__ import annotations

from typing import Any

from parley.bot.schema import WebhookSpec
from parley.model import Call, Conversation, EntityValue, Environment, User


def make_call(product: str = "speaker", **spec: Any) -> Call:
    spec.setdefault("path", "/check_price")
    return Call(
        kind="webhook",
        node="check_price",
        spec=WebhookSpec(**spec),
        entities={"product_name": EntityValue(product, product)},
        conversation=Conversation(
            id="c-1", bot="shop", user_id="u-1", environment=Environment.PRODUCTION
        ),
        user=User(id="u-1", name="haptik_user_1"),
    )
