from __future__ import annotations

import pytest

from parley.bot.schema import EnvironmentSpec, WebhookSpec
from parley.errors import ParleyError
from parley.webhooks import WebhookUrlError, resolve_url

PROD = "https://api.shop.example.com/bot"
TEST = "https://staging.shop.example.com/bot"
BOTH = {"production": EnvironmentSpec(base_url=PROD), "test": EnvironmentSpec(base_url=TEST)}
PROD_ONLY = {"production": EnvironmentSpec(base_url=PROD)}
TEST_ONLY = {"test": EnvironmentSpec(base_url=TEST)}


@pytest.mark.parametrize(
    ("spec", "environments", "environment", "url"),
    [
        (WebhookSpec(path="/price"), BOTH, "production", PROD + "/price"),
        (WebhookSpec(path="/price"), BOTH, "test", TEST + "/price"),
        (WebhookSpec(path="/price"), PROD_ONLY, "test", PROD + "/price"),
        (WebhookSpec(path="/price"), PROD_ONLY, "production", PROD + "/price"),
        (
            WebhookSpec(url="https://other.example.com/x"),
            BOTH,
            "production",
            "https://other.example.com/x",
        ),
        (WebhookSpec(url="https://other.example.com/x"), {}, "test", "https://other.example.com/x"),
    ],
)
def test_webhook_url_per_environment(
    spec: WebhookSpec, environments: dict[str, EnvironmentSpec], environment: str, url: str
) -> None:
    assert resolve_url(spec, environments, environment) == url


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("https://a.example.com", "price", "https://a.example.com/price"),
        ("https://a.example.com/", "/price", "https://a.example.com/price"),
        ("https://a.example.com/api", "price", "https://a.example.com/api/price"),
        ("https://a.example.com/api/", "/price", "https://a.example.com/api/price"),
        ("https://a.example.com/api//", "//v1/price", "https://a.example.com/api/v1/price"),
        ("http://127.0.0.1:9000", "/check?x=1", "http://127.0.0.1:9000/check?x=1"),
    ],
)
def test_path_joins_the_base_url_with_one_slash(base: str, path: str, url: str) -> None:
    environments = {"production": EnvironmentSpec(base_url=base)}

    assert resolve_url(WebhookSpec(path=path), environments, "production") == url


def test_production_never_uses_the_test_base_url() -> None:
    with pytest.raises(WebhookUrlError, match=r"environments\.production\.base_url"):
        resolve_url(WebhookSpec(path="/price"), TEST_ONLY, "production")


def test_test_without_any_base_url_is_an_error() -> None:
    with pytest.raises(WebhookUrlError, match="no base URL for test"):
        resolve_url(WebhookSpec(path="/price"), {}, "test")


def test_unknown_environment_is_an_error() -> None:
    with pytest.raises(WebhookUrlError, match="unknown environment 'staging'"):
        resolve_url(WebhookSpec(path="/price"), BOTH, "staging")


def test_url_errors_are_parley_errors() -> None:
    assert issubclass(WebhookUrlError, ParleyError)
