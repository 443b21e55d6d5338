#!/usr/bin/env python3
"""The shop bot's webhook: Haptik's sample webhook server (seed 001), ported to Python 3.

Usage::

    python examples/shop/webhook.py [<port>]        # default 9000, binds 127.0.0.1

It accepts JSON only (else 400) with a non-empty body (else 400), checks `X-Hub-Signature`
against the secret (`SHOP_WEBHOOK_SECRET`, default 'test'; else 401), and prices the
`product_name` entity: speaker or powerbank (else 400). Standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRICES = {
    "speaker": "The Wireless Radio Alarm Clock Speaker can be yours only for Rs.1599",
    "powerbank": "The Ambrane Powerbank can be yours only for Rs.1799",
}


class WebhookServer(BaseHTTPRequestHandler):
    secret_key = os.environ.get("SHOP_WEBHOOK_SECRET", "test").encode()

    def _set_headers(self, status_code: int, content_type: str = "", length: int = 0) -> None:
        self.send_response(status_code)
        if content_type:
            self.send_header("Content-type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def do_GET(self) -> None:
        page = b"<html><body><h1>Test Server</h1></body></html>"
        self._set_headers(200, "text/html", len(page))
        self.wfile.write(page)

    def do_POST(self) -> None:
        if self.headers.get_content_type() != "application/json":
            self._set_headers(400)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            self._set_headers(400)
            return
        body = self.rfile.read(length)
        try:
            data = json.loads(body)
        except ValueError:
            self._set_headers(400)
            return
        hash_value = hmac.new(self.secret_key, body, hashlib.sha1).hexdigest()
        sha1_signature = "sha1=" + hash_value
        request_signature = self.headers.get("X-Hub-Signature") or ""
        if not hmac.compare_digest(sha1_signature, request_signature):
            self._set_headers(401)
            return
        entities = data.get("entities") or {}
        product_name = (
            entities["product_name"][0]["entity_value"] if entities.get("product_name") else None
        )
        message = PRICES.get(product_name or "")
        if message is None:
            self._set_headers(400)
            return
        answer = json.dumps({"status": True, "response": [message]}).encode()
        self._set_headers(200, "application/json", len(answer))
        self.wfile.write(answer)


def run(port: int = 9000) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", port), WebhookServer)
    print(f"Starting test server on http://127.0.0.1:{port} ...", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) == 2 else 9000)
