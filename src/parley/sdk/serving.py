"""`serve(app)`: run a webhook app on this machine until Ctrl-C, for development.

A WSGI app runs on the standard library's `wsgiref` (a thread per request); an ASGI app on
uvicorn. In production put either behind the server you already use.
"""

from __future__ import annotations

import contextlib
import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

from starlette.types import ASGIApp

from parley.sdk._transports import is_asgi


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(
    app: WSGIApplication | ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 9000,
    quiet: bool = False,
) -> None:
    """Serve `app` (WSGI or ASGI) on `http://host:port/` until interrupted; prints the URL
    first. `quiet` turns off the per-request log lines."""
    print(f"Webhook listening on http://{host}:{port}/ (Ctrl-C stops it)", flush=True)
    if is_asgi(app):
        import uvicorn  # only when needed: a WSGI webhook starts without it

        uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info")
        return
    handler = _QuietHandler if quiet else WSGIRequestHandler
    httpd = make_server(host, port, app, _ThreadingWSGIServer, handler)
    with httpd, contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()
