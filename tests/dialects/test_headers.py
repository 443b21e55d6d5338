from __future__ import annotations

from parley.bot.schema import WebhookSpec
from parley.dialects.headers import request_headers


def spec(**kw: object) -> WebhookSpec:
    return WebhookSpec.model_validate({"url": "http://127.0.0.1:9/x", **kw})


def test_json_content_type_then_webhook_headers_then_auth() -> None:
    headers = request_headers(
        spec(headers={"X-Client": "parley"}, auth={"type": "bearer", "token": "t"})
    )
    assert headers == {"Content-Type": "application/json", "X-Client": "parley",
                       "Authorization": "Bearer t"}  # fmt: skip


def test_a_header_named_again_in_another_case_replaces_the_earlier_one() -> None:
    headers = request_headers(
        spec(headers={"content-type": "text/plain", "authorization": "x"},
             auth={"type": "basic", "username": "bot", "password": "pw"}),
    )  # fmt: skip
    assert headers == {"content-type": "text/plain", "Authorization": "Basic Ym90OnB3"}


def test_no_content_type_without_a_body() -> None:
    assert request_headers(spec(), json_body=False) == {}
