"""`parley.sdk.testing` sends what parley sends, to apps in-process and to real URLs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from parley.dialects import dialect_names, get_dialect
from parley.dialects.signatures import verify_sha1
from parley.model import Detection, EntityValue
from parley.sdk import HaptikRequest, HaptikResponse, haptik_app, haptik_wsgi
from parley.sdk.testing import WebhookClient, sample_call
from tests.sdk.servers import asgi_server, wsgi_server

Server = Callable[[Any], AbstractContextManager[str]]


class Recorder:
    def __init__(self) -> None:
        self.requests: list[HaptikRequest] = []

    def __call__(self, request: HaptikRequest) -> HaptikResponse:
        self.requests.append(request)
        return HaptikResponse.reply(f"{request.node}: {request.entity('product_name')}")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    yield Recorder()


@pytest.mark.parametrize(
    ("factory", "server"), [(haptik_app, asgi_server), (haptik_wsgi, wsgi_server)],
    ids=["asgi-uvicorn", "wsgi-wsgiref"],
)  # fmt: skip
def test_a_url_gets_the_signed_request_parley_would_send(
    factory: Callable[..., Any], server: Server, recorder: Recorder
) -> None:
    with server(factory(recorder, secret="s3cret")) as base:
        client = WebhookClient(f"{base}/price", secret="s3cret")
        result = client.send(
            "check_price",
            entities={"product_name": "speaker"},
            user="ada",
            data={"order": "A-1"},
            user_data={"phone": 1},
            conversation_no=3,
        )
        unsigned = client.post(b'{"node": "n"}', signed=False)

    assert result.status == 200, result.body
    assert result.outcome.messages[0].content == "check_price: speaker"
    assert result.request.url == f"{base}/price"
    assert verify_sha1("s3cret", result.request.body, result.request.headers["X-Hub-Signature"])
    seen = recorder.requests[0]
    assert (seen.user.user_id, seen.conversation_no) == ("ada", 3)
    assert (seen.conversation_data, seen.permanent_user_data) == ({"order": "A-1"}, {"phone": 1})
    assert unsigned.status == 401


def test_the_body_is_parleys_own_encoding_of_the_call(recorder: Recorder) -> None:
    client = WebhookClient(haptik_wsgi(recorder), secret="k")

    result = client.send("n", entities={"product_name": "speaker", "quantity": 2})

    call = sample_call("haptik", client.url, "n", entities={"product_name": "speaker",
                       "quantity": 2}, secret="k")  # fmt: skip
    assert result.request == get_dialect("haptik").encode(call, client.url)
    assert json.loads(result.request.body)["entities"]["quantity"] == [
        {"detection": "message", "original_text": "2", "entity_value": 2}
    ]


def test_entity_values_keep_their_detection() -> None:
    value = EntityValue("a@b.c", "a@b.c", Detection.USER_PROFILE)

    call = sample_call("haptik", "http://x/", entities={"email": value})

    assert call.entities["email"] is value


@pytest.mark.parametrize("dialect", dialect_names())
def test_every_dialect_parley_speaks_can_be_sampled_and_encoded(dialect: str) -> None:
    call = sample_call(dialect, "http://127.0.0.1:9/hook", "check_price",
                       entities={"product_name": "speaker"}, text="price of the speaker",
                       intent="ask_price", action="action_price")  # fmt: skip

    request = get_dialect(dialect).encode(call, "http://127.0.0.1:9/hook")

    assert request.url.startswith("http://127.0.0.1:9/")


def test_what_parley_makes_of_a_bad_answer_is_the_failure() -> None:
    def html(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<html>oops</html>"]

    result = WebhookClient(html).send()

    assert result.outcome.failure == "webhook answered non-JSON (text/html): <html>oops</html>"


async def test_send_works_inside_a_running_event_loop(recorder: Recorder) -> None:
    result = WebhookClient(haptik_app(recorder)).send("n", entities={"product_name": "x"})

    assert result.outcome.messages[0].content == "n: x"
