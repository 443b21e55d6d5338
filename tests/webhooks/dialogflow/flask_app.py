#!/usr/bin/env python3
"""A Dialogflow ES fulfillment webhook written the way Google's docs show, in Flask.

Usage::

    python tests/webhooks/dialogflow/flask_app.py <port>

It knows nothing of parley: it checks HTTP basic auth (the console's "username/password"),
reads `queryResult.intent.displayName` and `queryResult.parameters`, and answers
`fulfillmentText` plus `outputContexts`. `/echo` answers with what arrived, as a payload.
"""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask, Response, jsonify, request

USERNAME = "dialogflow"
PASSWORD = "fulfil-me"
PRICES = {"speaker": 1599, "powerbank": 1799}

app = Flask(__name__)


def _context(session: str, name: str, lifespan: int, **parameters: Any) -> dict[str, Any]:
    return {
        "name": f"{session}/contexts/{name}",
        "lifespanCount": lifespan,
        "parameters": parameters,
    }


def _find_context(req: dict[str, Any], name: str) -> dict[str, Any] | None:
    for context in req["queryResult"].get("outputContexts", []):
        if context["name"].endswith(f"/contexts/{name}"):
            return dict(context)
    return None


def check_price(req: dict[str, Any]) -> dict[str, Any]:
    product = req["queryResult"]["parameters"].get("product_name", "")
    if product not in PRICES:
        return {"fulfillmentText": f"Sorry, I have no price for {product!r}."}
    return {
        "fulfillmentText": f"The {product} costs Rs.{PRICES[product]}.",
        "outputContexts": [_context(req["session"], "shop", 5, last_product=product)],
    }


def buy(req: dict[str, Any]) -> dict[str, Any]:
    shop = _find_context(req, "shop")
    if shop is None:
        return {"fulfillmentText": "What would you like to buy?"}
    product = shop["parameters"]["last_product"]
    return {
        "fulfillmentText": f"Added the {product} to your cart.",
        "outputContexts": [
            _context(req["session"], "shop", 0),
            _context(req["session"], "cart", 10, items=[product]),
        ],
    }


HANDLERS = {"check_price": check_price, "buy": buy}


@app.post("/webhook")
def webhook() -> Any:
    auth = request.authorization
    if auth is None or (auth.username, auth.password) != (USERNAME, PASSWORD):
        return Response("unauthorized", 401, {"WWW-Authenticate": 'Basic realm="fulfillment"'})
    req = request.get_json(force=True)
    intent = req["queryResult"]["intent"]["displayName"]
    handler = HANDLERS.get(intent)
    if handler is None:
        return jsonify({"fulfillmentText": f"No handler for intent {intent}."})
    return jsonify(handler(req))


@app.post("/echo")
def echo() -> Any:
    return jsonify(
        {
            "fulfillmentText": "echo",
            "payload": {"headers": dict(request.headers), "body": request.get_json(force=True)},
        }
    )


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
