"""`parley.sdk` checks Standard Webhooks signatures: by hand and in the apps, with rotation."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.config import Settings
from parley.dialects.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, standard_headers
from parley.sdk import (
    CaiRequest,
    CaiResponse,
    HaptikRequest,
    HaptikResponse,
    cai_app,
    cai_wsgi,
    haptik_app,
    haptik_wsgi,
    verify_signature,
    verify_standard_signature,
)
from parley.sdk.testing import WebhookClient
from tests.harness import serve, write_bot
from tests.sdk.servers import asgi_server, wsgi_server
from tests.sdk.test_e2e import Server, ask

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()
WRONG = "whsec_" + base64.b64encode(b"w" * 32).decode()
BODY = b'{"node": "check_price"}'


def signed(*secrets: str, at: float | None = None, body: bytes = BODY) -> dict[str, str]:
    stamp = int(time.time() if at is None else at)
    return standard_headers(list(secrets), "msg_test", stamp, body)


def test_verify_standard_signature_accepts_either_active_secret() -> None:
    headers = signed(OLD, NEW)

    assert verify_standard_signature(OLD, BODY, headers)
    assert verify_standard_signature(NEW, BODY, headers)
    assert verify_standard_signature([WRONG, NEW], BODY, headers)  # the receiver rotates too
    assert verify_standard_signature(NEW[6:], BODY, signed(NEW))  # no `whsec_`: fine


def test_verify_standard_signature_refuses_a_wrong_secret() -> None:
    assert not verify_standard_signature(WRONG, BODY, signed(OLD, NEW))


def test_verify_standard_signature_refuses_an_old_timestamp() -> None:
    headers = signed(NEW, at=time.time() - 301)

    assert not verify_standard_signature(NEW, BODY, headers)
    assert verify_standard_signature(NEW, BODY, headers, tolerance=600)
    assert verify_standard_signature(NEW, BODY, headers, now=time.time() - 301)


def test_verify_standard_signature_refuses_a_tampered_body_or_header() -> None:
    headers = signed(NEW)

    assert not verify_standard_signature(NEW, BODY + b" ", headers)
    later = {**headers, TIMESTAMP_HEADER: str(int(headers[TIMESTAMP_HEADER]) + 1)}
    assert not verify_standard_signature(NEW, BODY, later)
    assert not verify_standard_signature(NEW, BODY, {})


def test_verify_standard_signature_says_when_a_secret_is_not_base64() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        verify_standard_signature("whsec_ not base64", BODY, signed(NEW))


def test_verify_signature_takes_several_secrets_for_a_hub_sha1_rotation() -> None:
    import hashlib
    import hmac

    header = "sha1=" + hmac.new(b"new", BODY, hashlib.sha1).hexdigest()

    assert verify_signature(["old", "new"], BODY, header)
    assert not verify_signature(["old", "older"], BODY, header)


def price(request: HaptikRequest) -> HaptikResponse:
    return HaptikResponse.reply(f"{request.entity('product')} is Rs. 120.")


def weather(request: CaiRequest) -> CaiResponse:
    return CaiResponse.reply("Sunny.")


@pytest.mark.parametrize("factory", [haptik_app, haptik_wsgi], ids=["asgi", "wsgi"])
def test_a_haptik_app_with_standard_signing_accepts_parleys_requests(
    factory: Callable[..., Any],
) -> None:
    app = factory(price, secret=[OLD, NEW], signing="standard")

    for secret in (OLD, NEW):
        client = WebhookClient(app, secret=secret, signing="standard")
        result = client.send(entities={"product": "tea"})
        assert result.status == 200, result.body
        assert result.outcome.messages[0].content == "tea is Rs. 120."


@pytest.mark.parametrize("factory", [haptik_app, haptik_wsgi], ids=["asgi", "wsgi"])
def test_a_haptik_app_with_standard_signing_refuses_anything_else(
    factory: Callable[..., Any],
) -> None:
    app = factory(price, secret=NEW, signing="standard")
    body = b'{"node": "n", "user": {}}'

    unsigned = WebhookClient(app, secret=NEW, signing="standard").post(body, signed=False)
    wrong = WebhookClient(app, secret=WRONG, signing="standard").post(body)
    sha1 = WebhookClient(app, secret=NEW).post(body)  # hub-sha1 is not enough
    stale = WebhookClient(app).post(body, headers=signed(NEW, at=time.time() - 600, body=body))
    tampered = WebhookClient(app).post(body + b" ", headers=signed(NEW, body=body))

    for response in (unsigned, wrong, sha1, stale, tampered):
        assert response.status == 401
        assert SIGNATURE_HEADER.encode() in response.body


@pytest.mark.parametrize("factory", [cai_app, cai_wsgi], ids=["asgi", "wsgi"])
def test_a_cai_app_with_standard_signing(factory: Callable[..., Any]) -> None:
    app = factory(weather, secret=NEW, signing="standard")

    good = WebhookClient(app, dialect="cai", secret=NEW, signing="standard").send("weather")
    bad = WebhookClient(app, dialect="cai", secret=WRONG, signing="standard").send("weather")

    assert good.status == 200 and good.outcome.messages[0].content == "Sunny."
    assert bad.status == 401


@pytest.mark.parametrize(
    "keys",
    [{"signing": "standard"}, {"secret": "not base64!", "signing": "standard"},
     {"secret": "x", "signing": "sha256"}, {"secret": []}],
)  # fmt: skip
def test_an_app_with_bad_signing_options_fails_at_once(keys: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        haptik_wsgi(price, **keys)


STANDARD_BOT = """\
name: signedshop
environments: {{test: {{base_url: "{base}"}}}}
settings: {{bot_break_message: "Sorry, something went wrong."}}
entities: {{product: {{values: {{tea: [], coffee: []}}}}}}
intents:
  ask_price: {{examples: ["price of {{product}}"]}}
nodes:
  check_price:
    intents: [ask_price]
    entities: {{product: {{required: true}}}}
    webhook: {{path: /price, signing: standard, secrets: {secrets}}}
"""


@pytest.mark.parametrize(
    ("factory", "server"), [(haptik_app, asgi_server), (haptik_wsgi, wsgi_server)],
    ids=["asgi", "wsgi"],
)  # fmt: skip
async def test_parley_signs_standard_webhooks_an_sdk_app_verifies(
    tmp_path: Path, factory: Callable[..., Any], server: Server
) -> None:
    seen: list[HaptikRequest] = []

    def record(request: HaptikRequest) -> HaptikResponse:
        seen.append(request)
        return price(request)

    # mid-rotation: parley signs with both; the app already holds only the new secret
    with server(factory(record, secret=NEW, signing="standard")) as hook:
        bot = write_bot(tmp_path / "bot", STANDARD_BOT.format(base=hook, secrets=[OLD, NEW]))
        wrong = write_bot(
            tmp_path / "wrong",
            STANDARD_BOT.format(base=hook, secrets=[WRONG]).replace("signedshop", "wrongshop"),
        )
        with serve([bot, wrong], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            tea = await ask(base, "signedshop", "price of tea")
            refused = await ask(base, "wrongshop", "price of tea")
            async with httpx.AsyncClient(base_url=base) as api:
                log = (await api.get("/api/v1/invocations")).json()["invocations"]

    assert [m["content"] for m in tea["messages"]] == ["tea is Rs. 120."]
    assert [m["content"] for m in refused["messages"]] == ["Sorry, something went wrong."]
    assert len(seen) == 1
    assert sorted(entry["status"] for entry in log) == [200, 401]
    headers = {k.lower(): v for k, v in log[0]["request_headers"].items()}
    assert headers["webhook-signature"] == "****"  # the log never keeps a signature
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-timestamp"].isdigit()
