"""`signing: standard` in the dialects that sign: Standard Webhooks headers from the call."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from pydantic import ValidationError

from parley.bot.schema import WebhookSpec
from parley.dialects import get_dialect
from parley.dialects.signatures import (
    ID_HEADER,
    SHA1_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    message_id,
    sign_sha1,
    verify_standard,
)
from parley.model import Call
from tests.dialects.sample import URL, sample_call

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()
NOW = 1_700_000_123.75
SIGNING = ["haptik", "cai", "rasa"]


def standard_call(*secrets: str, **spec: object) -> Call:
    call = sample_call()
    webhook = WebhookSpec(path="/check_price", secrets=list(secrets), signing="standard", **spec)
    return dataclasses.replace(call, spec=webhook, now=NOW)


@pytest.mark.parametrize("dialect", SIGNING)
def test_standard_signing_sends_the_three_headers_and_no_hub_signature(dialect: str) -> None:
    call = standard_call(NEW, action="action_price")
    request = get_dialect(dialect).encode(call, URL)

    assert SHA1_HEADER not in request.headers
    assert request.headers[ID_HEADER] == message_id(call)
    assert request.headers[TIMESTAMP_HEADER] == "1700000123"  # the turn's start, not a clock
    assert verify_standard([NEW], request.body, request.headers, now=NOW)


@pytest.mark.parametrize("dialect", SIGNING)
def test_during_a_rotation_both_secrets_sign_and_either_receiver_accepts(dialect: str) -> None:
    request = get_dialect(dialect).encode(standard_call(OLD, NEW, action="a"), URL)

    assert len(request.headers[SIGNATURE_HEADER].split(" ")) == 2
    assert verify_standard([OLD], request.body, request.headers, now=NOW)
    assert verify_standard([NEW], request.body, request.headers, now=NOW)


def test_the_default_is_still_haptiks_sha1_signature() -> None:
    call = sample_call()
    request = get_dialect("haptik").encode(call, URL)

    assert call.spec.signing == "hub-sha1"
    assert request.headers[SHA1_HEADER] == sign_sha1("test", request.body)
    assert ID_HEADER not in request.headers


def test_one_secret_in_secrets_signs_hub_sha1_too() -> None:
    call = dataclasses.replace(sample_call(), spec=WebhookSpec(path="/p", secrets=["k"]))
    request = get_dialect("haptik").encode(call, URL)

    assert request.headers[SHA1_HEADER] == sign_sha1("k", request.body)


def test_the_message_id_is_stable_per_call_and_differs_between_calls() -> None:
    call = standard_call(NEW)
    conv = call.conversation
    next_turn = dataclasses.replace(call, conversation=dataclasses.replace(conv, version=1))
    other_node = dataclasses.replace(call, node="checkout")
    later = dataclasses.replace(call, now=NOW + 1)

    assert message_id(call) == message_id(standard_call(NEW))
    assert message_id(call).startswith("msg_")
    ids = {message_id(c) for c in (call, next_turn, other_node, later)}
    assert len(ids) == 4
    # and encoding is pure: the same call gives byte-identical requests
    haptik = get_dialect("haptik")
    assert haptik.encode(call, URL) == haptik.encode(standard_call(NEW), URL)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"signing": "standard"}, "needs `secret` or `secrets`"),
        ({"signing": "standard", "secret": "test"}, "`whsec_` \\+ base64"),
        ({"signing": "standard", "secret": "whsec_!!"}, "`whsec_` \\+ base64"),
        ({"signing": "standard", "secret": "whsec_" + base64.b64encode(b"short").decode()},
         "at least 16"),
        ({"secret": "a", "secrets": ["b"]}, "not both"),
        ({"secrets": []}, "must not be empty"),
        ({"secrets": ["a", "b"]}, "one signature"),
        ({"signing": "sha256", "secret": "a"}, "signing"),
    ],
)  # fmt: skip
def test_bad_signing_keys_are_refused_with_a_reason(keys: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WebhookSpec(path="/p", **keys)
