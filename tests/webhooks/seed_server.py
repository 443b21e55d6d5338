#!/usr/bin/env python3
"""Haptik's sample webhook server (seed 001), ported to Python 3, plus routes for tests.

Usage::

    python tests/webhooks/seed_server.py [<port>]

Any POST path not listed below behaves exactly like the seed: JSON only (else 400), a
non-empty body (else 400), `X-Hub-Signature` checked against the secret 'test' (else 401),
then a price for `product_name` speaker or powerbank (else 400). Standard library only.

Test routes (no signature check): /slow?s=3, /500, /html, /big, /bad-shape,
/trickle?s=5, /echo, /cookie (/echo that also sets a cookie), /data, /hsl, /redirect,
/gzip-bomb (20 kB on the wire, 20 MB inflated).
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECRET_KEY = b"test"
PRICES = {
    "speaker": "The Wireless Radio Alarm Clock Speaker can be yours only for Rs.1599",
    "powerbank": "The Ambrane Powerbank can be yours only for Rs.1799",
}
BUTTON_HSL = {
    "text": "COMPLETE BLOOD COUNT; CBC",
    "type": "BUTTON",
    "data": {
        "items": [
            {
                "actionable_text": "View Price",
                "location_required": False,
                "is_default": 0,
                "uri": "LAUNCH_CHANNEL",
                "type": "TEXT_ONLY",
                "payload": {
                    "gogo_message": "",
                    "message": "I want to check the price of this test",
                },
            },
            {
                "actionable_text": "View Details",
                "location_required": False,
                "is_default": 0,
                "uri": "LINK",
                "type": "APP_ACTION",
                "payload": {"url": "XYZ.COM", "gogo_message": ""},
            },
        ]
    },
    "isNew": False,
}
TEST_PAGE = b"<html><body><h1>Test Server</h1></body></html>"


class SeedServer(ThreadingHTTPServer):
    """Joins its handler threads on close; `stopping` wakes handlers that are sleeping."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, WebhookServer)
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that stops reading (timeouts, size caps) is what the tests provoke.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class WebhookServer(BaseHTTPRequestHandler):
    """HTTP/1.0 like the seed: one request per connection, so closing never waits on a client."""

    server: SeedServer
    timeout = 30  # seconds a stuck client may hold a handler thread

    def log_message(self, format: str, *args: Any) -> None:
        if __name__ == "__main__":
            super().log_message(format, *args)

    def _set_headers(self, status_code: int, content_type: str, length: int) -> None:
        self.send_response(status_code)
        self.send_header("Content-type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, status_code: int, body: bytes = b"", content_type: str = "") -> None:
        if content_type:
            self._set_headers(status_code, content_type, len(body))
        else:
            self.send_response(status_code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
        self.wfile.write(body)

    def _send_json(self, answer: Any, status_code: int = 200) -> None:
        self._send(status_code, json.dumps(answer).encode("utf-8"), "application/json")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._send(200, TEST_PAGE, "text/html")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        route = ROUTES.get(url.path)
        if route is None:
            self.seed()
        else:
            route(self, query)

    def seed(self) -> None:
        """The seed's do_POST, line for line where Python 3 allows."""
        if self.headers.get_content_type() != "application/json":
            self._send(400)
            return
        body = self._read_body()
        if not body:
            self._send(400)
            return
        try:
            data = json.loads(body)
        except ValueError:  # the seed crashes here; answer 400 instead
            self._send(400)
            return
        sha1_signature = "sha1=" + hmac.new(SECRET_KEY, body, hashlib.sha1).hexdigest()
        request_signature = self.headers.get("X-Hub-Signature") or ""
        if not hmac.compare_digest(sha1_signature.encode(), request_signature.encode()):
            self._send(401)
            return
        entities = data.get("entities") or {}
        product = entities.get("product_name")
        message = PRICES.get(product[0]["entity_value"]) if product else None
        if message is None:
            self._send(400)
            return
        self._send_json({"status": True, "response": [message]})

    def slow(self, query: dict[str, str]) -> None:
        self._read_body()
        self.server.stopping.wait(float(query.get("s", "3")))
        self._send_json({"status": True, "response": ["finally"]})

    def trickle(self, query: dict[str, str]) -> None:
        """A valid answer sent a byte at a time, so no single read ever waits long."""
        self._read_body()
        body = json.dumps({"status": True, "response": ["trickled"]}).encode()
        pause = float(query.get("s", "5")) / len(body)
        self._set_headers(200, "application/json", len(body))
        for byte in body:
            if self.server.stopping.wait(pause):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def echo(self, query: dict[str, str]) -> None:
        body = self._read_body()
        received = {
            "received_body": body.decode("utf-8"),
            "received_headers": {k.lower(): v for k, v in self.headers.items()},
        }
        self._send_json({"status": True, "response": ["echo"], "conversation_data": received})

    def cookie(self, query: dict[str, str]) -> None:
        body = self._read_body()
        received = {"received_headers": {k.lower(): v for k, v in self.headers.items()}}
        answer = json.dumps({"status": True, "response": ["cookie"], "conversation_data": received})
        self.send_response(200)
        self.send_header("Set-Cookie", f"session=from-{len(body)}; Path=/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def data(self, query: dict[str, str]) -> None:
        self._read_body()
        self._send_json(
            {
                "status": True,
                "response": ["saved"],
                "conversation_data": {"order_id": "A-17", "payment_mode": "COD"},
                "permanent_user_data": {"phone_number": 8826755986},
            }
        )

    def hsl(self, query: dict[str, str]) -> None:
        self._read_body()
        self._send_json({"status": True, "response": [json.dumps(BUTTON_HSL)]})

    def error_500(self, query: dict[str, str]) -> None:
        self._read_body()
        self._send_json({"error": "something broke"}, status_code=500)

    def html(self, query: dict[str, str]) -> None:
        self._read_body()
        self._send(200, TEST_PAGE, "text/html")

    def big(self, query: dict[str, str]) -> None:
        self._read_body()
        self._send_json({"status": True, "response": ["x" * 2_000_000]})

    def gzip_bomb(self, query: dict[str, str]) -> None:
        self._read_body()
        body = gzip.compress(b'{"status": true, "response": ["' + b"x" * 20_000_000 + b'"]}')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def bad_shape(self, query: dict[str, str]) -> None:
        self._read_body()
        self._send_json({"status": "maybe", "response": "not a list"})

    def counter(self, query: dict[str, str]) -> None:
        """Adds one to conversation_data.count: concurrent turns must never lose an update."""
        data = json.loads(self._read_body() or b"{}")
        count = int((data.get("conversation_data") or {}).get("count", 0)) + 1
        self._send_json(
            {"status": True, "response": [f"count {count}"], "conversation_data": {"count": count}}
        )

    def redirect(self, query: dict[str, str]) -> None:
        self._read_body()
        self.send_response(302)
        self.send_header("Location", "/echo")
        self.send_header("Content-Length", "0")
        self.end_headers()


ROUTES: dict[str, Callable[[WebhookServer, dict[str, str]], None]] = {
    "/slow": WebhookServer.slow,
    "/trickle": WebhookServer.trickle,
    "/echo": WebhookServer.echo,
    "/cookie": WebhookServer.cookie,
    "/data": WebhookServer.data,
    "/hsl": WebhookServer.hsl,
    "/500": WebhookServer.error_500,
    "/html": WebhookServer.html,
    "/big": WebhookServer.big,
    "/gzip-bomb": WebhookServer.gzip_bomb,
    "/bad-shape": WebhookServer.bad_shape,
    "/redirect": WebhookServer.redirect,
    "/counter": WebhookServer.counter,
}


@contextmanager
def running(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve in a background thread; yields the base URL, stops and joins on exit."""
    server = SeedServer((host, port))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        thread.join()
        server.server_close()


def run(port: int = 80) -> None:
    server = SeedServer(("", port))
    print(f"Starting test server on port {port}...")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()


if __name__ == "__main__":
    if len(sys.argv) == 2:
        run(port=int(sys.argv[1]))
    else:
        run()
