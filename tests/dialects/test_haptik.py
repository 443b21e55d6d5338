from __future__ import annotations

import json

import pytest

from parley.dialects import WireResponse
from parley.dialects.haptik import HaptikDialect
from parley.dialects.signatures import verify_sha1
from parley.model import Message

from .sample import SECRET, URL, sample_call

haptik = HaptikDialect()


def _answer(body: bytes, headers: dict[str, str] | None = None) -> WireResponse:
    return WireResponse(200, headers or {"Content-Type": "application/json"}, body)


def test_signature_covers_the_exact_body_bytes_sent() -> None:
    request = haptik.encode(sample_call(), URL)

    assert verify_sha1(SECRET, request.body, request.headers["X-Hub-Signature"])
    assert not verify_sha1(SECRET, request.body + b" ", request.headers["X-Hub-Signature"])


def test_call_without_secret_is_not_signed() -> None:
    request = haptik.encode(sample_call(secret=None), URL)

    assert request.headers == {"Content-Type": "application/json"}


def test_body_is_utf8_json_without_ascii_escapes() -> None:
    body = haptik.encode(sample_call(), URL).body

    assert "प्रिया शर्मा".encode() in body
    assert json.loads(body)["user"]["full_name"] == "प्रिया शर्मा"


def test_content_type_is_found_whatever_the_header_case() -> None:
    outcome = haptik.decode(sample_call(), _answer(b"<p>hi</p>", {"CONTENT-TYPE": "text/html"}))

    assert outcome.failure == "webhook answered non-JSON (text/html): <p>hi</p>"


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\x00garbage", b"[" * 100_000, b"1e999999", b'{"status": true, "response": [NaN]}'],
)
def test_hostile_bodies_fail_without_raising(body: bytes) -> None:
    outcome = haptik.decode(sample_call(), _answer(body))

    assert outcome.failure


def test_hsl_string_with_a_non_string_type_names_the_item() -> None:
    body = json.dumps({"status": True, "response": ["ok", '{"type": 5}']}).encode()

    outcome = haptik.decode(sample_call(), _answer(body))

    assert outcome.failure == "`response[1]`: `type` must be a string"


def test_html_snippet_is_cut_at_80_characters() -> None:
    outcome = haptik.decode(sample_call(), _answer(b"x" * 500, {"content-type": "text/plain"}))

    assert outcome.failure == "webhook answered non-JSON (text/plain): " + "x" * 80


def test_status_true_with_messages_keeps_their_order() -> None:
    body = json.dumps({"status": True, "response": ["one", {"response": "two"}, "three"]})

    outcome = haptik.decode(sample_call(), _answer(body.encode()))

    assert outcome.messages == [
        Message.text("one"),
        Message("response_ref", "two"),
        Message.text("three"),
    ]
