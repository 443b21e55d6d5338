"""Calls for the CAI sample servers: a conversation with memory, an NLU parse and a clock."""

from __future__ import annotations

from typing import Any

from parley.bot.schema import WebhookSpec
from parley.model import Call, Conversation, EntityValue, IntentMatch, Parse, User

NOW = 1_508_967_362.071243  # 2017-10-25T21:36:02.071243+00:00, the seed's timestamp


def cai_call(conversation_id: str = "c-1", **spec: Any) -> Call:
    spec.setdefault("path", "/")
    city = EntityValue("paris", "Paris")
    return Call(
        kind="webhook",
        node="get_weather",
        spec=WebhookSpec(dialect="cai", **spec),
        entities={"city": city, "person": EntityValue("Francois", "Francois")},
        conversation=Conversation(
            id=conversation_id, bot="weather", user_id="u-1", data={"visits": 2, "unit": "C"}
        ),
        user=User(id="u-1", name="francois"),
        text="weather in Paris",
        parse=Parse(
            "weather in Paris",
            "en",
            [IntentMatch("get_weather", 0.987)],
            {"city": [city]},
        ),
        now=NOW,
    )
