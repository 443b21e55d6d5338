"""The Rasa action-server dialect (see shared/design/protocols/rasa.md and docs/dialects/rasa.md).

parley calls a rasa-sdk action server the way Rasa Open Source 3.6 does: `POST` to its
`/webhook` with `next_action`, a tracker and a domain; the answer's `responses` and `bot`
events become messages, `slot` and `reset_slots` events become conversation data.
"""

from __future__ import annotations

import json

from parley.dialects.base import Dialect, WireRequest, WireResponse
from parley.dialects.bodies import preview
from parley.dialects.headers import request_headers
from parley.dialects.rasa_replies import BadReply, to_messages
from parley.dialects.signatures import signature_headers
from parley.model import JSON, Call, Message, Outcome, State

RASA_VERSION = "3.6.20"
"""The Rasa release whose requests parley imitates; rasa-sdk only logs a mismatch."""
INPUT_CHANNEL = "rest"
EXTRACTOR = "parley"
_SNIPPET = 120
_SENT_ENTITIES = frozenset({"message", "structured"})
# Events that only record what happened; ignoring them loses nothing worth a note.
_BOOKKEEPING = frozenset({"action", "user_featurization", "entities", "export", "agent"})


class RasaDialect(Dialect):
    name = "rasa"

    def encode(self, call: Call, url: str) -> WireRequest:
        body = json.dumps(request_json(call), ensure_ascii=False).encode("utf-8")
        headers = request_headers(call.spec)
        headers.update(signature_headers(call, body))
        return WireRequest("POST", url, headers, body)

    def decode(self, call: Call, response: WireResponse) -> Outcome:
        try:
            answer = json.loads(response.body)
        except (ValueError, RecursionError):
            return Outcome.failed(_not_json(response))
        if response.status != 200:
            return Outcome.failed(_error(response.status, answer))
        try:
            return _outcome(call, answer)
        except BadReply as exc:
            return Outcome.failed(f"action server: {exc}")


def action_name(call: Call) -> str:
    """The action to run: the webhook's `action`, else the node's name."""
    action: str | None = getattr(call.spec, "action", None)
    return action or call.node


# -- request ----------------------------------------------------------------------------


def request_json(call: Call) -> dict[str, JSON]:
    sender = call.conversation.id
    return {
        "next_action": action_name(call),
        "sender_id": sender,
        "tracker": _tracker(call),
        "domain": _domain(call),
        "version": RASA_VERSION,
    }


def _tracker(call: Call) -> dict[str, JSON]:
    latest = _latest_message(call)
    return {
        "sender_id": call.conversation.id,
        "slots": slots(call),
        "latest_message": latest,
        "latest_event_time": call.now,
        "followup_action": None,
        "paused": call.conversation.state in (State.PENDING, State.AGENT),
        "events": _events(call, latest),
        "latest_input_channel": INPUT_CHANNEL,
        "active_loop": {},
        "latest_action": {"action_name": "action_listen"},
        "latest_action_name": "action_listen",
    }


def slots(call: Call) -> dict[str, JSON]:
    """Conversation data, then the node's collected entity values (fresher, so they win)."""
    values = {name: entity.value for name, entity in call.entities.items()}
    return {**call.conversation.data, **values}


def _latest_message(call: Call) -> dict[str, JSON]:
    parse = call.parse
    ranking = [] if parse is None else [_intent(i.name, i.confidence) for i in parse.intents]
    return {
        "text": call.text,
        "intent": ranking[0] if ranking else {},
        "intent_ranking": ranking,
        "entities": _entities(call),
        "metadata": {
            "user": {"id": call.user.id, "name": call.user.name, "full_name": call.user.full_name},
            "user_data": call.user.data,
            "language": call.conversation.language,
            "conversation_no": call.conversation.conversation_no,
        },
    }


def _intent(name: str, confidence: float) -> dict[str, JSON]:
    return {"name": name, "confidence": round(confidence, 4)}


def _entities(call: Call) -> list[JSON]:
    """What this message said: the parse's entities, else the call's values from a message."""
    if call.parse is not None:
        found = [(name, v) for name, vs in call.parse.entities.items() for v in vs]
    else:
        found = [(n, v) for n, v in call.entities.items() if v.detection.value in _SENT_ENTITIES]
    out: list[JSON] = []
    for name, value in found:
        entity: dict[str, JSON] = {"entity": name, "value": value.value}
        if value.start is not None and value.end is not None:
            entity |= {"start": value.start, "end": value.end}
        out.append({**entity, "extractor": EXTRACTOR})
    return out


def _events(call: Call, latest: dict[str, JSON]) -> list[JSON]:
    """A minimal valid history for this turn, ending as Rasa's does before a custom action:
    the user message, then a `slot` event per collected value (what a `validate_*` action
    reads as the candidates to check)."""
    now = call.now
    listen = {"event": "action", "timestamp": now, "name": "action_listen"}
    listen |= {"policy": None, "confidence": None, "action_text": None, "hide_rule_turn": False}
    user = {
        "event": "user",
        "timestamp": now,
        "text": call.text,
        "parse_data": latest,
        "input_channel": INPUT_CHANNEL,
    }
    filled = [
        {"event": "slot", "timestamp": now, "name": name, "value": entity.value}
        for name, entity in call.entities.items()
    ]
    return [listen, user, *filled]


def _domain(call: Call) -> dict[str, JSON]:
    """A minimal valid domain: the slots the tracker carries, this turn's intents, the action."""
    intents = [] if call.parse is None else [i.name for i in call.parse.intents]
    entity_names = {e["entity"] for e in _entities(call)} | set(call.entities)
    return {
        "version": "3.1",
        "config": {"store_entities_as_slots": True},
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
        "intents": intents,
        "entities": sorted(entity_names),
        "slots": {name: _slot(name, name in call.entities) for name in slots(call)},
        "responses": {},
        "actions": [action_name(call)],
        "forms": {},
        "e2e_actions": [],
    }


def _slot(name: str, from_entity: bool) -> dict[str, JSON]:
    mapping = {"type": "from_entity", "entity": name} if from_entity else {"type": "custom"}
    # `any`: a slot holding whatever JSON the data has; Rasa requires it not to influence.
    return {
        "type": "any",
        "initial_value": None,
        "influence_conversation": False,
        "mappings": [mapping],
    }


# -- response ---------------------------------------------------------------------------


def _outcome(call: Call, answer: JSON) -> Outcome:
    if not isinstance(answer, dict):
        raise BadReply(f"answer must be a JSON object with `events`, got {preview(answer, 60)}")
    responses = _list(answer, "responses")
    events = _list(answer, "events")
    messages = to_messages(responses, "responses")
    data = dict(call.conversation.data)
    changed: dict[str, JSON] = {}
    replaced = False
    notes: list[str] = []
    for n, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            raise BadReply(f"`events[{n}]` must be an object with an `event` name")
        kind = event["event"]
        if kind == "slot":
            name = event.get("name")
            if not isinstance(name, str):
                raise BadReply(f"`events[{n}]` (slot) needs a string `name`")
            value = event.get("value")
            if value is None:  # Rasa unsets a slot with null: the data key goes
                replaced = replaced or name in data
                data.pop(name, None)
                changed.pop(name, None)
            else:
                data[name] = changed[name] = value
        elif kind == "reset_slots":
            data, changed, replaced = {}, {}, True
        elif kind == "bot":
            messages += _bot_messages(event, n)
        elif kind not in _BOOKKEEPING:
            notes.append(_ignored(event))
    if replaced:
        return Outcome(messages=messages, data=data, notes=notes)
    return Outcome(messages=messages, variables=changed or None, notes=notes)


def _ignored(event: dict[str, JSON]) -> str:
    name = event.get("name")
    detail = f" {name!r}" if isinstance(name, str) else ""
    return f"Rasa event `{event['event']}`{detail} is not supported; it was ignored"


def _bot_messages(event: dict[str, JSON], n: int) -> list[Message]:
    extra = event.get("data")
    reply = {**(extra if isinstance(extra, dict) else {}), "text": event.get("text")}
    return to_messages([reply], f"events[{n}]")


def _list(answer: dict[str, JSON], key: str) -> list[JSON]:
    value = answer.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadReply(f"`{key}` must be a list, got {preview(value, 60)}")
    return value


def _error(status: int, answer: JSON) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, str) and error:
        return f"action server: {error} (HTTP {status})"
    return f"action server answered HTTP {status}: {preview(answer, 60)}"


def _not_json(response: WireResponse) -> str:
    text = " ".join(response.body.decode("utf-8", "replace").split())
    return f"action server answered HTTP {response.status} with non-JSON: {text[:_SNIPPET]}"
