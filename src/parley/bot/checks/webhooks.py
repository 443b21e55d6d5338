"""Webhooks: absolute http(s) URLs, paths joined to a base URL that exists, no empty secret."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from parley.bot.schema import BotSpec
from parley.bot.source import KeyPath, SourceMap
from parley.errors import Problem

EnvName = Literal["test", "production"]
ENVIRONMENTS: tuple[EnvName, ...] = ("test", "production")


def check_webhooks(spec: BotSpec, source: SourceMap) -> list[Problem]:
    out: list[Problem] = []
    for env_name, environment in spec.environments.items():
        if environment.base_url is not None:
            out += _check_url(environment.base_url, ("environments", env_name, "base_url"), source)
    if spec.webhook is not None:
        out += _check_url(spec.webhook.url, ("webhook", "url"), source)
        if spec.webhook.test_url is not None:
            out += _check_url(spec.webhook.test_url, ("webhook", "test_url"), source)
    with_base = [e for e in ENVIRONMENTS if _base_url(spec, e) is not None]
    for name, node in spec.nodes.items():
        webhook = node.webhook
        if webhook is None:
            continue
        path: KeyPath = ("nodes", name, "webhook")
        if webhook.url is not None:
            out += _check_url(webhook.url, (*path, "url"), source)
        if webhook.path is not None:
            out += _check_path(spec, webhook.path, (*path, "path"), with_base, source)
        if webhook.secret is not None and not webhook.secret.strip():
            message = "the secret is empty: give it a value or remove `secret`"
            out.append(source.problem((*path, "secret"), message))
        if webhook.template is not None and webhook.template not in spec.templates:
            known = ", ".join(sorted(spec.templates)) or "none defined"
            message = f"unknown template `{webhook.template}` (templates: {known})"
            out.append(source.problem((*path, "template"), message))
    return out


def url_problem(url: str) -> str | None:
    """Why `url` is not an absolute http(s) URL with a host, or None if it is."""
    if any(char.isspace() for char in url):
        return "contains a space"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port is what validates it
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    return None


def _check_url(url: str, path: KeyPath, source: SourceMap) -> list[Problem]:
    why = url_problem(url)
    return [] if why is None else [source.problem(path, f"bad URL `{url}`: {why}")]


def _check_path(
    spec: BotSpec, url_path: str, path: KeyPath, with_base: list[EnvName], source: SourceMap
) -> list[Problem]:
    out: list[Problem] = []
    if not url_path.startswith("/") or any(char.isspace() for char in url_path):
        message = f"bad path `{url_path}`: must start with `/` and contain no spaces"
        out.append(source.problem(path, message))
    if not with_base:
        message = (
            "a webhook `path` needs a base URL: set environments.test.base_url"
            " or environments.production.base_url (or give the webhook an absolute `url`)"
        )
        return [*out, source.problem(path, message)]
    for env_name in spec.environments:
        if env_name not in with_base:
            message = f"environments.{env_name} has no base_url, so this webhook cannot run there"
            out.append(source.problem(path, message))
    return out


def _base_url(spec: BotSpec, environment: EnvName) -> str | None:
    env = spec.environments.get(environment)
    return env.base_url if env is not None else None
