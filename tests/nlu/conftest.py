from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from parley.bot.schema import BotSpec
from parley.nlu import ExampleRecognizer

SHOP: dict[str, Any] = {
    "name": "shop",
    "entities": {
        "product_name": {
            "values": {
                "speaker": ["speaker", "alarm clock speaker"],
                "powerbank": ["powerbank", "power bank"],
            }
        }
    },
    "intents": {
        "ask_price": {
            "examples": [
                "how much is the speaker",
                "price of powerbank",
                "what does a {product_name} cost",
            ]
        },
        "greet": {"examples": ["hi", "hello", "hey there", "good morning"]},
    },
    "nodes": {"check_price": {"intents": ["ask_price"]}},
}


def bot(**parts: Any) -> BotSpec:
    """A bot spec from its parts; `nodes` defaults to one empty node."""
    return BotSpec.model_validate({"name": "test", "nodes": {"start": {}}, **parts})


@pytest.fixture(scope="session")
def make() -> Callable[..., ExampleRecognizer]:
    """Builds a recognizer for a bot given by its parts (`entities=`, `intents=`, `nodes=`)."""
    return lambda **parts: ExampleRecognizer(bot(**parts))


@pytest.fixture(scope="session")
def shop() -> ExampleRecognizer:
    return ExampleRecognizer(BotSpec.model_validate(SHOP))


@pytest.fixture(scope="session")
def shop_plus() -> ExampleRecognizer:
    """The shop bot with a few more intents, a quantity and a free-text name."""
    spec = BotSpec.model_validate(
        {
            **SHOP,
            "entities": {
                **SHOP["entities"],
                "quantity": {"type": "number"},
                "name": {"type": "text"},
            },
            "intents": {
                **SHOP["intents"],
                "thanks": {"examples": ["thanks", "thank you", "thanks a lot"]},
                "order": {
                    "examples": [
                        "i want to order {quantity} {product_name}",
                        "buy a {product_name}",
                        "place an order",
                    ]
                },
                "introduce": {"examples": ["my name is {name}", "call me {name} please"]},
            },
        }
    )
    return ExampleRecognizer(spec)
