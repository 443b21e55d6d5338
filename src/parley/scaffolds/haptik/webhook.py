"""The bot's webhook: parley POSTs a Haptik request to /price when `check_price` has its
`product`; this answers with the price.

    python webhook.py [PORT]        # default 9000; the secret is $WEBHOOK_SECRET or dev-secret

`haptik_wsgi` refuses what is not a signed JSON request (400/401) and turns the answer
into JSON; `price` is all the business logic. Test it without parley running:

    from parley.sdk.testing import WebhookClient
    client = WebhookClient(app, secret="dev-secret")
    result = client.send("check_price", entities={"product": "tea"})
    assert result.outcome.messages[0].content == "A tea costs Rs. 120."
"""

from __future__ import annotations

import os
import sys

from parley.sdk import HaptikRequest, HaptikResponse, haptik_wsgi, hsl_quick_replies, serve

PRICES = {"tea": 120, "coffee": 150}


def price(request: HaptikRequest) -> HaptikResponse:
    product = request.entity("product") or ""
    if product not in PRICES:
        return HaptikResponse.fail()  # the node's `failure:` says answer
    return HaptikResponse.reply(
        f"A {product} costs Rs. {PRICES[product]}.",
        hsl_quick_replies("Anything else?", "price of tea", "price of coffee"),
        conversation_data={**request.conversation_data, "last_product": product},
    )


app = haptik_wsgi(price, secret=os.environ.get("WEBHOOK_SECRET", "dev-secret"))

if __name__ == "__main__":
    serve(app, port=int(sys.argv[1]) if len(sys.argv) > 1 else 9000)
