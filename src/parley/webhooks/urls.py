"""Where a webhook call goes: a node's absolute `url`, or its `path` on an environment's base URL.

Production only ever uses the production base URL, so a production bot can never reach test
code; test uses the test base URL and falls back to production's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from parley.bot.schema import EnvironmentSpec, WebhookSpec
from parley.errors import ParleyError

Environments = (
    Mapping[Literal["test", "production"], EnvironmentSpec] | Mapping[str, EnvironmentSpec]
)


class WebhookUrlError(ParleyError):
    """A webhook's URL cannot be resolved: a missing base URL or an unknown environment."""

    code = "webhook_url"
    status_code = 422


def resolve_url(spec: WebhookSpec, environments: Environments, environment: str) -> str:
    """The URL `spec` posts to in `environment` (`test` or `production`)."""
    if spec.url:
        return spec.url
    return join_url(_base_url(environments, environment), spec.path or "")


def join_url(base: str, path: str) -> str:
    """`path` under `base`, keeping the base's own path, with exactly one slash between."""
    return f"{base.rstrip('/')}/{path.lstrip('/')}"


def _base_url(environments: Environments, environment: str) -> str:
    production = _base(environments, "production")
    if environment == "production":
        if production:
            return production
        raise WebhookUrlError(
            "no production base URL: in production a webhook `path` is joined only to "
            "`environments.production.base_url`"
        )
    if environment == "test":
        base = _base(environments, "test") or production
        if base:
            return base
        raise WebhookUrlError(
            "no base URL for test: set `environments.test.base_url` "
            "(or `environments.production.base_url`)"
        )
    raise WebhookUrlError(f"unknown environment {environment!r} (expected test or production)")


def _base(environments: Environments, name: Literal["test", "production"]) -> str | None:
    spec = environments.get(name)
    return spec.base_url if spec is not None else None
