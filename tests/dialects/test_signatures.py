from __future__ import annotations

import base64

import pytest

from parley.dialects.signatures import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE,
    sign_sha1,
    sign_standard,
    standard_headers,
    standard_key,
    verify_sha1,
    verify_standard,
)


def test_signature_matches_the_rfc_2202_hmac_sha1_vector() -> None:
    signature = sign_sha1("Jefe", b"what do ya want for nothing?")

    assert signature == "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"


def test_signature_verifies_for_its_body_and_secret() -> None:
    body = '{"node": "n", "name": "Zoë"}'.encode()

    assert verify_sha1("test", body, sign_sha1("test", body))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha1=",
        sign_sha1("wrong", b"body"),
        sign_sha1("test", b"body!"),
        "sha1=ünïcödé",
        "sha256=" + "0" * 64,
    ],
)
def test_anything_but_the_right_signature_is_refused(header: str | None) -> None:
    assert not verify_sha1("test", b"body", header)


# -- Standard Webhooks -------------------------------------------------------------------

# the published Standard Webhooks test vector: what any receiver library checks against
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIME = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()


def test_standard_signature_matches_the_published_vector() -> None:
    assert sign_standard([VECTOR_SECRET], VECTOR_ID, VECTOR_TIME, VECTOR_BODY) == VECTOR_SIGNATURE
    # the `whsec_` prefix is optional, as in the reference libraries
    assert sign_standard([VECTOR_SECRET[6:]], VECTOR_ID, VECTOR_TIME, VECTOR_BODY) == (
        VECTOR_SIGNATURE
    )


def test_two_secrets_sign_twice_and_either_verifies() -> None:
    headers = standard_headers([OLD, NEW], "msg_1", 1000, b"{}")
    entries = headers[SIGNATURE_HEADER].split(" ")

    assert [e[:3] for e in entries] == ["v1,", "v1,"]
    assert entries[0] == sign_standard([OLD], "msg_1", 1000, b"{}")
    assert entries[1] == sign_standard([NEW], "msg_1", 1000, b"{}")
    for holder in ([OLD], [NEW], [NEW, OLD]):
        assert verify_standard(holder, b"{}", headers, now=1000)
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    assert not verify_standard([other], b"{}", headers, now=1000)


def test_standard_verification_reads_header_names_in_any_case() -> None:
    headers = {k.title(): v for k, v in standard_headers([NEW], "msg_1", 1000, b"{}").items()}

    assert verify_standard([NEW], b"{}", headers, now=1000)


@pytest.mark.parametrize(
    ("change", "now"),
    [
        ({}, 1000 + TOLERANCE + 1),  # too old
        ({}, 1000 - TOLERANCE - 1),  # from the future
        ({ID_HEADER: "msg_2"}, 1000),  # the id is signed too
        ({TIMESTAMP_HEADER: "1001"}, 1001),  # so is the timestamp
        ({TIMESTAMP_HEADER: "1e3"}, 1000),
        ({TIMESTAMP_HEADER: ""}, 1000),
        ({ID_HEADER: ""}, 1000),
        ({SIGNATURE_HEADER: ""}, 1000),
        ({SIGNATURE_HEADER: "v2,abc"}, 1000),
        ({SIGNATURE_HEADER: "v1,ünïcödé"}, 1000),
    ],
)
def test_standard_verification_refuses_anything_off(change: dict[str, str], now: float) -> None:
    headers = {**standard_headers([NEW], "msg_1", 1000, b"{}"), **change}

    assert not verify_standard([NEW], b"{}", headers, now=now)


def test_a_tampered_body_fails_standard_verification() -> None:
    headers = standard_headers([NEW], "msg_1", 1000, b'{"a": 1}')

    assert not verify_standard([NEW], b'{"a": 2}', headers, now=1000)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "whsec_===="])
def test_a_secret_that_is_not_base64_is_an_error(secret: str) -> None:
    with pytest.raises(ValueError, match="Standard Webhooks secret"):
        standard_key(secret)
