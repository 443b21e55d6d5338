"""The SAP Conversational AI (Recast.AI) dialect for webhook authors: the default body parley
sends (`conversation` + `nlp`), the answer it reads (`replies` in Bot Connector format and
`conversation.memory` / `language`), and `cai_app` / `cai_wsgi` (docs/dialects/cai.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any
from wsgiref.types import WSGIApplication

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp

from parley.sdk._asgi import asgi_app
from parley.sdk._wire import Endpoint, Signing
from parley.sdk._wsgi import wsgi_app

CaiReply = dict[str, Any]
"""One Bot Connector reply: `{"type": ..., "content": ...}` (see the `cai_*` builders)."""

_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class CaiIntent(_Model):
    """One intent in `nlp.intents`: its `slug` and `confidence`."""

    slug: str = ""
    confidence: float = 0.0


class CaiConversation(_Model):
    """`conversation` in a CAI request: `memory` is the conversation data with every
    collected entity over it as `{value, raw, confidence, ...}`; `skill` is the node."""

    id: str = ""
    language: str = ""
    memory: dict[str, Any] = Field(default_factory=dict)
    skill_stack: list[str] = Field(default_factory=list)
    skill: str = ""
    skill_occurences: int = 1


class CaiNlp(_Model):
    """`nlp` in a CAI request: the user's message (`source`), intents best first and the
    entities found in it (`{name: [{value, raw, confidence, ...}]}`)."""

    source: str = ""
    intents: list[CaiIntent] = Field(default_factory=list)
    sentiment: str = "neutral"
    entities: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    act: str = "assert"
    type: str | None = None
    version: str = ""
    processing_language: str = ""
    language: str = ""
    uuid: str = ""
    status: int = 200
    timestamp: str | None = None


class CaiRequest(_Model):
    """What parley sends to a CAI webhook (the default body). A webhook with a custom
    `body:` gets its own keys instead: read them from `model_extra`. A `GET` call carries
    no body; its request is empty."""

    conversation: CaiConversation = Field(default_factory=CaiConversation)
    nlp: CaiNlp = Field(default_factory=CaiNlp)

    def memory_value(self, name: str) -> Any:
        """The value of `memory[name]`: an entity's normalised `value`, any other key as
        stored, None when absent."""
        item = self.conversation.memory.get(name)
        if isinstance(item, dict) and "value" in item and "raw" in item:
            return item["value"]
        return item

    @property
    def intent(self) -> str | None:
        """The best intent's slug, or None."""
        return self.nlp.intents[0].slug if self.nlp.intents else None


class CaiConversationUpdate(BaseModel):
    """`conversation` in an answer: `memory`, when set (even `{}`), replaces the
    conversation data; `language` switches the conversation's language."""

    model_config = ConfigDict(extra="forbid")

    memory: dict[str, Any] | None = None
    language: str | None = None


class CaiResponse(BaseModel):
    """The answer to a CAI request: `replies` (Bot Connector messages) and an optional
    `conversation` update."""

    model_config = ConfigDict(extra="forbid")

    replies: list[CaiReply] = Field(default_factory=list)
    conversation: CaiConversationUpdate | None = None

    @classmethod
    def reply(
        cls,
        *replies: str | CaiReply,
        memory: Mapping[str, Any] | None = None,
        language: str | None = None,
    ) -> CaiResponse:
        """An answer saying `replies` (a string is a text reply); `memory` replaces the
        conversation data, `language` switches the language."""
        update = None
        if memory is not None or language is not None:
            update = CaiConversationUpdate(
                memory=None if memory is None else dict(memory), language=language
            )
        return cls(replies=[_as_reply(r) for r in replies], conversation=update)

    def to_json(self) -> dict[str, Any]:
        """The JSON object to answer with (an unset update is left out)."""
        return self.model_dump(exclude_none=True)


def cai_text(text: str) -> CaiReply:
    """A `text` reply."""
    return {"type": "text", "content": text}


def cai_picture(url: str) -> CaiReply:
    """A `picture` reply (an image by URL)."""
    return {"type": "picture", "content": url}


def cai_button(title: str, value: str | None = None, *, type: str = "postback") -> CaiReply:
    """A button: `postback` sends `value` (the title unless given), `web_url` opens it,
    `phonenumber` calls it."""
    return {"title": title, "value": title if value is None else value, "type": type}


def cai_quick_replies(title: str, *choices: str | CaiReply) -> CaiReply:
    """A `quickReplies` reply; a string choice sends itself back."""
    return {"type": "quickReplies", "content": {"title": title, "buttons": _buttons(choices)}}


def cai_buttons(title: str, *buttons: str | CaiReply) -> CaiReply:
    """A `buttons` reply (see `cai_button`; a string is a postback of itself)."""
    return {"type": "buttons", "content": {"title": title, "buttons": _buttons(buttons)}}


def cai_card(
    title: str,
    subtitle: str = "",
    *,
    image_url: str = "",
    buttons: Iterable[str | CaiReply] = (),
) -> CaiReply:
    """A `card` reply."""
    return {"type": "card", "content": _card(title, subtitle, image_url, buttons)}


def cai_carousel(*cards: CaiReply) -> CaiReply:
    """A `carousel` of `cai_card`s (their content is used)."""
    return {"type": "carousel", "content": [card.get("content", card) for card in cards]}


def _card(
    title: str, subtitle: str, image_url: str, buttons: Iterable[str | CaiReply]
) -> dict[str, Any]:
    card: dict[str, Any] = {"title": title, "subtitle": subtitle, "buttons": _buttons(buttons)}
    if image_url:
        card["imageUrl"] = image_url
    return card


def _buttons(buttons: Iterable[str | CaiReply]) -> list[CaiReply]:
    return [cai_button(b) if isinstance(b, str) else dict(b) for b in buttons]


def _as_reply(reply: str | CaiReply) -> CaiReply:
    return cai_text(reply) if isinstance(reply, str) else dict(reply)


CaiHandler = Callable[[CaiRequest], CaiResponse | None]
"""A CAI webhook: the request in, the answer out (None: an empty 200, no replies)."""

AsyncCaiHandler = Callable[[CaiRequest], CaiResponse | Awaitable[CaiResponse | None] | None]
"""A CAI webhook for `cai_app`: sync (run in a thread) or `async def`."""


def cai_app(
    handler: AsyncCaiHandler,
    *,
    auth: tuple[str, str] | None = None,
    secret: str | Sequence[str] | None = None,
    signing: Signing = "hub-sha1",
) -> ASGIApp:
    """An ASGI app serving `handler` as a CAI webhook on every path and for every method
    CAI calls with (GET, POST, PUT, DELETE, PATCH; an empty body is an empty request).
    With `auth=(user, password)` a request without that `Authorization: Basic` gets 401;
    with `secret` (or several, any of which will do), one without the right
    `X-Hub-Signature` (with `signing="standard"`: Standard Webhooks headers) gets 401; a
    body that is not JSON or not a CAI request gets 400."""
    return asgi_app(_endpoint(auth, secret, signing), handler)


def cai_wsgi(
    handler: CaiHandler,
    *,
    auth: tuple[str, str] | None = None,
    secret: str | Sequence[str] | None = None,
    signing: Signing = "hub-sha1",
) -> WSGIApplication:
    """`cai_app` as a WSGI app (standard library only)."""
    return wsgi_app(_endpoint(auth, secret, signing), handler)


def _endpoint(
    auth: tuple[str, str] | None, secret: str | Sequence[str] | None, signing: Signing
) -> Endpoint[CaiRequest, CaiResponse | None]:
    return Endpoint(
        CaiRequest.model_validate,
        _render,
        secret,
        signing=signing,
        basic_auth=auth,
        methods=_METHODS,
        allow_empty=True,
    )


def _render(answer: CaiResponse | None) -> dict[str, Any]:
    if answer is None:
        return {}
    if not isinstance(answer, CaiResponse):
        raise TypeError(f"a CAI handler must return a CaiResponse, not {type(answer)}")
    return answer.to_json()
