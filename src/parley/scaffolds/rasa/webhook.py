"""The bot's Rasa action server: parley POSTs `/webhook` with `next_action: action_price`
and a tracker when `check_price` has its `product`; this answers like a rasa-sdk action.

    python webhook.py [PORT]        # default 9000

`rasa_wsgi` answers as rasa-sdk does (`/webhook`, `/health`, `/actions`, 404 for an unknown
action); `action_price` is all the business logic. Test it without parley running:

    from parley.sdk.testing import WebhookClient
    client = WebhookClient(app, dialect="rasa", path="/webhook")
    result = client.send("check_price", entities={"product": "tea"}, action="action_price")
    assert result.outcome.messages[0].content == "A tea costs Rs. 120."
"""

from __future__ import annotations

import sys

from parley.sdk import RasaActionCall, RasaActionResult, rasa_wsgi, serve

PRICES = {"tea": 120, "coffee": 150}


def action_price(call: RasaActionCall) -> RasaActionResult:
    product = call.slot("product")  # tracker.get_slot: collected entities and data
    if product not in PRICES:
        return RasaActionResult().text(f"Sorry, I don't know the price of {product}.")
    asked = int(call.slot("asked") or 0) + 1
    return (
        RasaActionResult()
        .text(f"A {product} costs Rs. {PRICES[product]}.")  # dispatcher.utter_message
        .buttons("Want another price?", "price of tea", "price of coffee")
        .response("utter_anything_else")  # from bot.yaml's responses:
        .slot_set("asked", asked)  # SlotSet: conversation data
        .slot_set("last_product", product)
    )


app = rasa_wsgi({"action_price": action_price})

if __name__ == "__main__":
    serve(app, port=int(sys.argv[1]) if len(sys.argv) > 1 else 9000)
