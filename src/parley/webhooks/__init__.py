"""Webhook delivery: one pooled HTTP client, any dialect, bounded in time and size."""

from __future__ import annotations

from parley.webhooks.caller import WebhookCaller, make_client
from parley.webhooks.urls import WebhookUrlError, join_url, resolve_url

__all__ = ["WebhookCaller", "WebhookUrlError", "join_url", "make_client", "resolve_url"]
