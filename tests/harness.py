"""Real servers for end-to-end tests: parley on uvicorn in a thread, bot folders on disk."""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from parley.bot import load_bot
from parley.config import Settings
from parley.server.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_bot(folder: Path, yaml_text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bot.yaml").write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    return folder


@contextmanager
def serve(bot_dirs: list[Path], settings: Settings, port: int | None = None) -> Iterator[str]:
    """Run `parley run`'s app on `port` (default: a free one); yields its base URL."""
    port = port or free_port()
    app = create_app([load_bot(p) for p in bot_dirs], settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("parley server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
