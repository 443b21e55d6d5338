"""The same handler runs here or behind a webhook: `parley.sdk.haptik_main_app(main)`."""

import json
import os

PRICES = {"speaker": 1999, "powerbank": 899}


def main(event, context):
    body = json.loads(event["body"])
    product = body["entities"]["product"][0]["entity_value"]
    price = PRICES[product]
    quotes = body["conversation_data"].get("quotes", 0) + 1
    button = {
        "text": f"The {product} costs {price} {os.environ['CURRENCY']}.",
        "type": "BUTTON",
        "data": {
            "items": [
                {
                    "actionable_text": "Buy it",
                    "type": "TEXT_ONLY",
                    "payload": {"message": f"buy {product}"},
                }
            ]
        },
    }
    answer = {
        "status": True,
        "response": [json.dumps(button)],
        "conversation_data": {"quotes": quotes},
    }
    return {
        "statusCode": 200,
        "body": json.dumps(answer),
        "headers": {"Content-Type": "application/json"},
    }
