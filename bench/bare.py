"""The bare pass-through: the floor parley is measured against.

The same dialog API shape on the same server stack, doing only what no bot platform can
skip: take the message, make the same signed Haptik webhook call over one shared pooled
client, return its texts. No NLU (a substring lookup finds the product), no state, no storage.

    python -m bench.bare --port 9200 --webhook-url http://127.0.0.1:9100/price
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.server import serve
from bench.webhook import signature
from bench.workload import BOT, HEALTH_PATH, PRICES

# The same client and pool as parley's (parley.webhooks.make_client, Settings.http_pool_size).
_POOL = 100
_DIALOG_ROUTE = "/api/v1/bots/{bot}/dialog"
_TIMEOUT = 10.0  # bench/bot/bot.yaml's webhook timeout


def haptik_body(conversation_id: str, product: str) -> dict[str, Any]:
    """The body parley's Haptik dialect sends for the shop's `check_price` node."""
    return {
        "node": "check_price",
        "event": "API_INTEGRATION",
        "user": {
            "user_id": conversation_id,
            "user_name": "",
            "full_name": "",
            "device_platform": 5,
            "language_code": "en",
            "auth_id": "",
            "auth_code": "",
        },
        "conversation_no": 1,
        "conversation_data": {},
        "permanent_user_data": {},
        "entities": {
            "product_name": [
                {"detection": "message", "original_text": product, "entity_value": product}
            ]
        },
    }


def create_app(webhook_url: str, pool: int = _POOL) -> Starlette:
    client: aiohttp.ClientSession | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal client
        connector = aiohttp.TCPConnector(limit=pool, keepalive_timeout=30.0)
        timeout = aiohttp.ClientTimeout(total=_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as c:
            client = c
            yield

    async def dialog(request: Request) -> Response:
        assert client is not None  # set by the lifespan before any request
        try:
            payload = await request.json()
            conversation_id, text = payload["conversation_id"], payload["message"]["content"]
        except (ValueError, KeyError, TypeError):
            return _error(422, "invalid_request", "needs conversation_id and message.content")
        if request.path_params["bot"] != BOT:
            return _error(404, "not_found", f"no bot named {request.path_params['bot']!r}")
        product = next((p for p in PRICES if p in text.lower()), None)
        if product is None:
            return _error(400, "bad_request", "no product in the message")
        body = json.dumps(haptik_body(conversation_id, product)).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature": signature(body)}
        try:
            async with client.post(webhook_url, data=body, headers=headers) as answer:
                status = answer.status
                texts = json.loads(await answer.read())["response"] if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            return _error(502, "bad_gateway", f"webhook failed: {exc!r}")
        if not isinstance(texts, list):
            return _error(502, "bad_gateway", f"webhook answered HTTP {status}")
        return JSONResponse({"messages": [{"type": "text", "content": t} for t in texts]})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [Route(_DIALOG_ROUTE, dialog, methods=["POST"]), Route(HEALTH_PATH, health)]
    return Starlette(routes=routes, lifespan=lifespan)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def main() -> None:
    parser = argparse.ArgumentParser(description="The bench's bare pass-through.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--pool", type=int, default=_POOL, help="webhook connections at most")
    args = parser.parse_args()
    serve(create_app(args.webhook_url, args.pool), args.port)


if __name__ == "__main__":
    main()
