#!/usr/bin/env python3
"""A stand-in for `python -m rasa_sdk --actions actions`, standard library only.

Usage::

    python tests/webhooks/rasa/mini_server.py <port>

Used when rasa-sdk is not installed (it pins pydantic and multidict below parley's; see
docs/dialects/rasa.md). It answers as rasa-sdk 3.21.1 does, byte shapes checked against it:
`GET /health`, `GET /actions`, `POST /webhook` with every response key present, `timestamp`
null on events, `400`/`404`/`500` error bodies, and a `500` for a tracker without
`sender_id` or with an event lacking `event` (rasa-sdk's KeyErrors). It runs the same three
actions as actions.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PRICES = {"speaker": 1599, "powerbank": 1799}
EMPTY_RESPONSE = {
    "text": None,
    "buttons": [],
    "elements": [],
    "custom": {},
    "template": None,
    "response": None,
    "image": None,
    "attachment": None,
}

Json = dict[str, Any]


class Rejected(Exception):
    pass


def utter(**parts: Any) -> Json:
    return {**EMPTY_RESPONSE, **parts}


def slot(name: str, value: Any) -> Json:
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def action_price(tracker: Json, domain: Json) -> tuple[list[Json], list[Json]]:
    slots, latest = tracker.get("slots", {}), tracker.get("latest_message") or {}
    product = slots.get("product_name")
    said = next(
        (e["value"] for e in latest.get("entities", []) if e["entity"] == "product_name"), None
    )
    ranking = latest.get("intent_ranking") or []
    users = [e for e in tracker.get("events", []) if e["event"] == "user"]
    seen = {
        "sender_id": tracker["sender_id"],
        "text": latest.get("text"),
        "intent": ranking[0]["name"] if ranking else None,
        "said": said,
        "channel": users[-1].get("input_channel") if users else None,
        "visits": slots.get("visits"),
        "domain_slots": sorted(domain.get("slots", {})),
    }
    buttons = [
        {"title": "Buy now", "payload": f'/buy{{"product_name":"{product}"}}'},
        {"title": "See other products", "payload": "/list_products"},
    ]
    responses = [
        utter(text=f"The {product} costs Rs.{PRICES[product]}", buttons=buttons),
        utter(custom=seen),
    ]
    visits = int(slots.get("visits") or 0) + 1
    return [slot("last_product", product), slot("visits", visits)], responses


def action_refuse(tracker: Json, domain: Json) -> tuple[list[Json], list[Json]]:
    raise Rejected("I cannot price that today")


def action_forget(tracker: Json, domain: Json) -> tuple[list[Json], list[Json]]:
    reset = {"event": "reset_slots", "timestamp": None}
    return [reset, slot("forgotten", True)], [utter(image="https://example.com/bye.png")]


ACTIONS: dict[str, Callable[[Json, Json], tuple[list[Json], list[Json]]]] = {
    "action_price": action_price,
    "action_refuse": action_refuse,
    "action_forget": action_forget,
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/health":
            self._json(200, {"status": "ok"})
        elif self.path == "/actions":
            self._json(200, [{"name": name} for name in ACTIONS])
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            call = json.loads(body)
        except ValueError:
            call = None
        if not isinstance(call, dict):
            return self._json(400, {"error": "Invalid body request"})
        name = call.get("next_action")
        if not name:
            return self._json(200, None)
        if name not in ACTIONS:
            error = f"No registered action found for name '{name}'."
            return self._json(404, {"error": error, "action_name": name})
        try:
            events, responses = ACTIONS[name](call["tracker"], call.get("domain") or {})
        except Rejected as exc:
            return self._json(400, {"error": str(exc), "action_name": name})
        except (KeyError, TypeError) as exc:
            return self._json(500, {"error": str(exc), "request_body": call})
        self._json(200, {"events": events, "responses": responses})

    def _json(self, status: int, answer: Any) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
