"""Settings read from `PARLEY_*` environment variables in one place, passed down explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from parley.errors import ParleyError

DEFAULT_DATABASE = "sqlite:///.parley/parley.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Server-wide settings. Per-bot behaviour lives in bot.yaml's `settings:`."""

    database_url: str = DEFAULT_DATABASE
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 64 * 1024
    max_text_length: int = 4096
    log_level: str = "info"
    log_format: str = "text"
    """`text` (one line per record) or `json` (one JSON object per line, docs/operations.md)."""
    http_pool_size: int = 100
    secret_key: str = ""
    """Signs the tokens logic servers post results with; empty: a random key per process."""
    public_url: str = ""
    """How logic servers reach this server (callbacks); empty: `http://{host}:{port}`."""
    redis_url: str = ""
    """Redis shared by several workers (locks, live events); empty: one process, in memory."""
    lock_lease: float = 10.0
    """Seconds after its last heartbeat that a dead worker's conversation locks expire."""
    allowed_hosts: str = ""
    """Host names (`*.corp.example` for subdomains) and CIDRs that production calls may reach
    although they are internal (the SSRF guard), separated by commas or spaces."""
    admin_token: str = ""
    """Guards the web console and `/api/v1/admin`; empty: served on a loopback host only."""
    cors_origins: str = ""
    """Origins (comma or space separated, or `*`) whose pages may call the dialog API: where
    the chat widget is embedded (docs/console.md)."""

    sandbox_isolation: str = "auto"
    """Code nodes' and logic scripts' sandbox: `auto` (the strongest the machine offers),
    `namespaces` (refuse to run code without them) or `processes` (docs/code.md)."""
    sandbox_allow_weak: int = 0
    """1: run production conversations' code even at the weakest isolation (`processes`)."""

    @property
    def callback_base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """`PARLEY_DATABASE_URL`, `PARLEY_PORT`, ... then explicit overrides (CLI flags)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"PARLEY_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("int", int, "float", float):
                kind = int if f.type in ("int", int) else float
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    noun = "an integer" if kind is int else "a number"
                    raise ParleyError(
                        f"PARLEY_{f.name.upper()} must be {noun}, not {raw!r}"
                    ) from None
            else:
                values[f.name] = raw
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})
