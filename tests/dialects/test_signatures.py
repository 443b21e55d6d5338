from __future__ import annotations

import pytest

from parley.dialects.signatures import sign_sha1, verify_sha1


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
