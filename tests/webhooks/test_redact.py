from __future__ import annotations

import pytest

from parley.webhooks.redact import log_text, mask_headers, mask_url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://hooks.example.com/price", "https://hooks.example.com/price"),
        ("https://bot:hunter2@hooks.example.com/p", "https://bot:****@hooks.example.com/p"),
        ("https://ghp_TOKEN@hooks.example.com/p", "https://****@hooks.example.com/p"),
        (
            "https://h.example.com/p?api_key=k&lang=en",
            "https://h.example.com/p?api_key=****&lang=en",
        ),
        (
            "https://h.example.com/p?access_token=t&sig=s",
            "https://h.example.com/p?access_token=****&sig=****",
        ),
        ("https://h.example.com/p?q=a%20b&flag", "https://h.example.com/p?q=a%20b&flag"),
        ("http://[::1/broken", "http://[::1/broken"),
    ],
)
def test_url_credentials_are_masked(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_secret_headers_keep_only_their_scheme() -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature": "sha1=0123abcd",
        "authorization": "Bearer eyJhbGciOi",
        "X-Api-Key": "k-123",
    }

    assert mask_headers(headers) == {
        "Content-Type": "application/json",
        "X-Hub-Signature": "sha1=****",
        "authorization": "Bearer ****",
        "X-Api-Key": "****",
    }


def test_long_bodies_are_cut_for_the_log() -> None:
    assert log_text(b"abc", limit=5) == "abc"
    assert log_text(b"abcdefgh", limit=5) == "abcde… [cut at 5 bytes]"
    assert log_text("é".encode() * 3, limit=3) == "é\ufffd… [cut at 3 bytes]"
