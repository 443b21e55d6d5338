"""The bot's self-hosted logic server (Init.ai style): parley POSTs a `LogicInvocation` for
every user message; `initai_wsgi` answers 200 at once, runs `logic` and POSTs its
`LogicResult` to parley's callback (`api.base_url` in the invocation) with the invocation's
bearer token.

    python webhook.py [PORT]        # default 9000

`logic` is the whole conversation: it reads the message (`text`, `intent`, `slot()`,
`postback`), the conversation `state` and the `user`, and answers with messages, prepared
responses from bot.yaml's `responses:`, quick replies and the new state.
"""

from __future__ import annotations

import sys

from parley.sdk import LogicInvocation, LogicResult, initai_reply, initai_wsgi, serve

PRICES = {"tea": 120, "coffee": 150}


def logic(invocation: LogicInvocation) -> LogicResult:
    state = invocation.state  # the conversation data; the result's `state` replaces it
    clicked = invocation.postback  # a quick reply below: {text, data, stream, version}
    product = (clicked["data"] or {}).get("product") if clicked else invocation.slot("product")
    if product in PRICES:
        asked = int(state.get("asked", 0)) + 1
        quote = {"string/product": product, "number/price": PRICES[product]}
        return (
            LogicResult()
            .response("price/quote", quote)
            .state({**state, "asked": asked, "last_product": product})
        )
    if invocation.intent == "greeting":
        visits = int(state.get("visits", 0)) + 1
        replies = [initai_reply(name.title(), "price", {"product": name}) for name in PRICES]
        return (
            LogicResult()
            .response("greeting/menu", {"number/visits": visits}, replies=replies)
            .state({**state, "visits": visits})
        )
    if invocation.intent == "ask/price":
        return LogicResult().text("Which product: tea or coffee?")
    return LogicResult().text("I can tell you the price of tea or coffee. Say hi for the menu.")


app = initai_wsgi(logic)

if __name__ == "__main__":
    serve(app, port=int(sys.argv[1]) if len(sys.argv) > 1 else 9000)
