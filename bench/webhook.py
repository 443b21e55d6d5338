"""The business webhook both targets call: seed 001's sample server, as a fast async app.

POST /price checks `X-Hub-Signature` (sha1 HMAC of the body, secret "test"), reads
`entities.product_name[0].entity_value` and answers
`{"status": true, "response": ["The speaker costs Rs.1599"]}`; 400 for a body that is not
JSON or names no known product, 401 for a bad signature.

    python -m bench.webhook --port 9100          # binds 127.0.0.1
    python -m bench.webhook --port 9100 --delay 1   # every answer takes a second
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.server import serve
from bench.workload import HEALTH_PATH, PRICES, SECRET, WEBHOOK_PATH, price_text

_KEY = SECRET.encode()
_DELAY_S = 0.0


def signature(body: bytes) -> str:
    """The `X-Hub-Signature` value of `body`."""
    return "sha1=" + hmac.new(_KEY, body, hashlib.sha1).hexdigest()


async def price(request: Request) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return Response(status_code=400)
    body = await request.body()
    if not body:
        return Response(status_code=400)
    if not hmac.compare_digest(signature(body), request.headers.get("x-hub-signature", "")):
        return Response(status_code=401)
    product = _product(body)
    if product not in PRICES:
        return Response(status_code=400)
    if _DELAY_S:
        await asyncio.sleep(_DELAY_S)
    return JSONResponse({"status": True, "response": [price_text(product)]})


def _product(body: bytes) -> str | None:
    try:
        data: Any = json.loads(body)
        value = data["entities"]["product_name"][0]["entity_value"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, str) else None


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route(WEBHOOK_PATH, price, methods=["POST"]),
        Route(HEALTH_PATH, health, methods=["GET"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description="The bench's business webhook.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    global _DELAY_S
    _DELAY_S = args.delay
    serve(app, args.port)


if __name__ == "__main__":
    main()
