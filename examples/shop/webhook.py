#!/usr/bin/env python3
"""The shop bot's webhook: Haptik's sample webhook server (seed 001), ported to Python 3
on parley's SDK.

Usage::

    python examples/shop/webhook.py [<port>]        # default 9000, binds 127.0.0.1

As in the seed, it accepts JSON only (else 400) with a non-empty body (else 400), checks
`X-Hub-Signature` against the secret (`SHOP_WEBHOOK_SECRET`, default 'test'; else 401),
and prices the `product_name` entity: speaker or powerbank (else 400). `haptik_wsgi` does
the checks; the function below is the business logic. Needs only parley installed.
"""

from __future__ import annotations

import os
import sys

from parley.sdk import HaptikRequest, HaptikResponse, WebhookError, haptik_wsgi, serve

PRICES = {
    "speaker": "The Wireless Radio Alarm Clock Speaker can be yours only for Rs.1599",
    "powerbank": "The Ambrane Powerbank can be yours only for Rs.1799",
}


def price(request: HaptikRequest) -> HaptikResponse:
    message = PRICES.get(request.entity("product_name") or "")
    if message is None:
        raise WebhookError(400, "unknown product")
    return HaptikResponse.reply(message)


app = haptik_wsgi(price, secret=os.environ.get("SHOP_WEBHOOK_SECRET", "test"))

if __name__ == "__main__":
    serve(app, port=int(sys.argv[1]) if len(sys.argv) == 2 else 9000)
