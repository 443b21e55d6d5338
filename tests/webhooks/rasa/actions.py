"""A rasa-sdk actions module, unchanged from what a Rasa user would write.

Served by `python -m rasa_sdk --actions actions` from this folder; `mini_server.py` runs the
same three actions on a stand-in server when rasa-sdk is not installed.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

PRICES = {"speaker": 1599, "powerbank": 1799}


class ActionPrice(Action):
    """Reads a slot and the latest message; answers text + buttons; sets a slot."""

    def name(self) -> str:
        return "action_price"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        product = tracker.get_slot("product_name")
        said = next(tracker.get_latest_entity_values("product_name"), None)
        intent = tracker.get_intent_of_latest_message()
        dispatcher.utter_message(
            text=f"The {product} costs Rs.{PRICES[product]}",
            buttons=[
                {"title": "Buy now", "payload": f'/buy{{"product_name":"{product}"}}'},
                {"title": "See other products", "payload": "/list_products"},
            ],
        )
        seen = {
            "sender_id": tracker.sender_id,
            "text": tracker.latest_message.get("text"),
            "intent": intent,
            "said": said,
            "channel": tracker.get_latest_input_channel(),
            "visits": tracker.get_slot("visits"),
            "domain_slots": sorted(domain.get("slots", {})),
        }
        dispatcher.utter_message(json_message=seen)
        visits = int(tracker.get_slot("visits") or 0) + 1
        return [SlotSet("last_product", product), SlotSet("visits", visits)]


class ActionRefuse(Action):
    def name(self) -> str:
        return "action_refuse"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raise ActionExecutionRejection(self.name(), "I cannot price that today")


class ActionForget(Action):
    def name(self) -> str:
        return "action_forget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(image="https://example.com/bye.png")
        return [AllSlotsReset(), SlotSet("forgotten", True)]
