from __future__ import annotations

import pytest

from .._helpers import where
from ..conftest import Check


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("127.0.0.1:9000", "must start with http:// or https://"),
        ("hooks.example.com/shop", "must start with http:// or https://"),
        ("ftp://hooks.example.com", "must start with http:// or https://"),
        ("http://hooks example.com", "contains a space"),
        ("https:///shop", "has no host"),
        ("http://127.0.0.1:port", "Port could not be cast to integer value as 'port'"),
    ],
)
def test_base_url_must_be_an_absolute_http_url(check: Check, url: str, reason: str) -> None:
    problems = check(
        f"""
        name: shop
        environments:
          test: {{base_url: "http://127.0.0.1:9000"}}
          production: {{base_url: "{url}"}}
        nodes: {{}}
        """
    )
    assert where(problems) == [(4, "environments.production.base_url")]
    assert problems[0].message == f"bad URL `{url}`: {reason}"


def test_webhook_url_must_be_an_absolute_http_url(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: price
        nodes:
          price:
            webhook: {url: "/price"}
        """
    )
    assert where(problems) == [(5, "nodes.price.webhook.url")]


def test_webhook_path_must_start_with_a_slash(check: Check) -> None:
    problems = check(
        """
        name: shop
        environments:
          test: {base_url: "http://127.0.0.1:9000"}
        start: price
        nodes:
          price:
            webhook:
              path: price
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (
            8,
            "nodes.price.webhook.path",
            "bad path `price`: must start with `/` and contain no spaces",
        )
    ]


def test_webhook_path_without_any_base_url_is_reported(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: price
        nodes:
          price:
            webhook: {path: /price}
        """
    )
    assert where(problems) == [(5, "nodes.price.webhook.path")]
    assert problems[0].message.startswith("a webhook `path` needs a base URL")


def test_webhook_path_names_the_environment_missing_its_base_url(check: Check) -> None:
    problems = check(
        """
        name: shop
        environments:
          test: {base_url: "http://127.0.0.1:9000"}
          production: {}
        start: price
        nodes:
          price:
            webhook: {path: /price}
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (
            8,
            "nodes.price.webhook.path",
            "environments.production has no base_url, so this webhook cannot run there",
        )
    ]


def test_webhook_path_with_only_a_test_base_url_is_valid(check: Check) -> None:
    problems = check(
        """
        name: shop
        environments:
          test: {base_url: "http://127.0.0.1:9000"}
        start: price
        nodes:
          price:
            webhook: {path: /price}
        """
    )
    assert problems == []


@pytest.mark.parametrize("secret", ['""', '"  "'])
def test_empty_secret_is_reported(check: Check, secret: str) -> None:
    problems = check(
        f"""
        name: shop
        start: price
        nodes:
          price:
            webhook:
              url: https://hooks.example.com/price
              secret: {secret}
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (7, "nodes.price.webhook.secret", "the secret is empty: give it a value or remove `secret`")
    ]


def test_unknown_webhook_template_is_named(check: Check) -> None:
    problems = check(
        """
        name: b
        templates: {partner: {headers: {X-Client: parley}}}
        intents: {hi: {examples: [hi]}}
        nodes:
          a:
            intents: [hi]
            webhook: {url: "http://127.0.0.1:9/x", template: partnr}
        """
    )
    assert where(problems) == [(7, "nodes.a.webhook.template")]
    assert "unknown template `partnr`" in problems[0].message
    assert "partner" in problems[0].message
