"""The bot's Dialogflow ES fulfillment webhook: parley POSTs a v2 `WebhookRequest` when the
`check_price` node (intent) has its `product`; this answers a `WebhookResponse`.

    python webhook.py [PORT]        # default 9000; the password is $WEBHOOK_PASSWORD

`dialogflow_wsgi` checks parley's basic auth and refuses what is not a JSON request; the
handlers in `INTENTS` are all the business logic. Test it without parley running:

    from parley.sdk.testing import WebhookClient
    client = WebhookClient(app, dialect="dialogflow", auth=("parley", "dev-password"))
    result = client.send("check_price", entities={"product": "tea"})
    assert result.outcome.messages[0].content == "A tea costs Rs. 120."
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from parley.sdk import (
    DialogflowRequest,
    DialogflowResponse,
    df_quick_replies,
    dialogflow_wsgi,
    serve,
)

PRICES = {"tea": 120, "coffee": 150}


def check_price(request: DialogflowRequest) -> DialogflowResponse:
    product = request.parameter("product")  # queryResult.parameters
    if product not in PRICES:
        return DialogflowResponse.reply(f"Sorry, I don't know the price of {product}.")
    data = request.context("parley-data")  # the conversation data, as a context
    asked = int((data.parameters.get("asked") if data else None) or 0) + 1
    return DialogflowResponse.reply(
        f"A {product} costs Rs. {PRICES[product]}.",
        df_quick_replies("Anything else?", "price of tea", "price of coffee"),
        # a context's parameters become conversation data
        contexts=[request.output_context("shop", 5, {"asked": asked, "last_product": product})],
    )


INTENTS: dict[str, Callable[[DialogflowRequest], DialogflowResponse]] = {
    "check_price": check_price,  # like dialogflow-fulfillment's intentMap
}


def fulfill(request: DialogflowRequest) -> DialogflowResponse:
    handler = INTENTS.get(request.intent)
    if handler is None:
        return DialogflowResponse.reply(f"No handler for intent {request.intent}.")
    return handler(request)


app = dialogflow_wsgi(fulfill, auth=("parley", os.environ.get("WEBHOOK_PASSWORD", "dev-password")))

if __name__ == "__main__":
    serve(app, port=int(sys.argv[1]) if len(sys.argv) > 1 else 9000)
