"""The Dialogflow ES v2 fulfillment dialect (see docs/dialects/dialogflow.md).

parley plays Dialogflow: it sends a `WebhookRequest` for the node being run and reads the
`WebhookResponse`. Contexts the webhook sets are kept in conversation data under
`CONTEXTS_KEY` and sent back, aged one per user turn, until their lifespan runs out.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from parley.dialects.base import Dialect, WireRequest, WireResponse
from parley.dialects.bodies import kind, not_json
from parley.dialects.dialogflow_messages import BadAnswer, messages
from parley.dialects.headers import request_headers
from parley.model import JSON, Call, Outcome

PROJECT = "parley"
DATA_CONTEXT = "parley-data"
"""The context that carries conversation data and entity values (with `<name>.original`)."""
DATA_LIFESPAN = 50
CONTEXTS_KEY = "_dialogflow"
"""Reserved conversation-data key: `{"version": n, "contexts": {id: {lifespanCount, parameters}}}`,
where `version` is the conversation version the lifespans were counted at."""

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://parley.invalid/dialects/dialogflow")
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")

_UNSUPPORTED = (
    "sessionEntityTypes",
    "endInteraction",
    "triggerEndOfConversation",
    "liveAgentHandoff",
)

Contexts = dict[str, dict[str, JSON]]


class DialogflowDialect(Dialect):
    name = "dialogflow"

    def encode(self, call: Call, url: str) -> WireRequest:
        body = json.dumps(_request_json(call), ensure_ascii=False).encode("utf-8")
        return WireRequest("POST", url, request_headers(call.spec), body)

    def decode(self, call: Call, response: WireResponse) -> Outcome:
        if response.status != 200:
            return Outcome.failed(f"webhook answered HTTP {response.status}")
        try:
            answer = json.loads(response.body)
        except (ValueError, RecursionError):
            return Outcome.failed(not_json(response))
        try:
            return _outcome(call, answer)
        except BadAnswer as exc:
            return Outcome.failed(str(exc))


# -- request -------------------------------------------------------------------------------


def _request_json(call: Call) -> dict[str, JSON]:
    conversation = call.conversation
    session = session_name(conversation.id)
    best = call.parse.intent if call.parse is not None else None
    key = f"{conversation.id}\n{conversation.conversation_no}\n{conversation.version}\n{call.node}"
    return {
        "responseId": str(uuid.uuid5(_NAMESPACE, key)),
        "session": session,
        "queryResult": {
            "queryText": call.text,
            "action": call.spec.action or call.node,
            "parameters": {name: value.value for name, value in call.entities.items()},
            "allRequiredParamsPresent": True,
            "fulfillmentText": "",
            "fulfillmentMessages": [],
            "outputContexts": _output_contexts(call, session),
            "intent": {
                "name": f"projects/{PROJECT}/agent/intents/{uuid.uuid5(_NAMESPACE, call.node)}",
                "displayName": call.node,
            },
            "intentDetectionConfidence": round(best.confidence, 4) if best else 1.0,
            "languageCode": conversation.language,
        },
        # no `source`: what Dialogflow sends API callers; the library then keeps payloads
        # for PLATFORM_UNSPECIFIED, which it drops for any unknown source such as "parley"
        "originalDetectIntentRequest": {"payload": {}},
    }


def session_name(conversation_id: str) -> str:
    """`projects/parley/agent/sessions/<id>`; ids Dialogflow would refuse are hashed."""
    if not _SESSION_ID.fullmatch(conversation_id):
        conversation_id = str(uuid.uuid5(_NAMESPACE, conversation_id))
    return f"projects/{PROJECT}/agent/sessions/{conversation_id}"


def _output_contexts(call: Call, session: str) -> list[JSON]:
    data = {k: v for k, v in call.conversation.data.items() if k != CONTEXTS_KEY}
    for name, value in call.entities.items():
        data[name] = value.value
        data[f"{name}.original"] = value.raw
    own = {"lifespanCount": DATA_LIFESPAN, "parameters": data}
    contexts = {DATA_CONTEXT: own, **_active_contexts(call)}
    return [{"name": f"{session}/contexts/{cid}", **context} for cid, context in contexts.items()]


def _active_contexts(call: Call) -> Contexts:
    """The stored contexts still alive at this turn, with the lifespan each has left."""
    stored = call.conversation.data.get(CONTEXTS_KEY)
    if not isinstance(stored, dict) or not isinstance(stored.get("contexts"), dict):
        return {}
    version = stored.get("version")
    turns = max(call.conversation.version - version, 0) if isinstance(version, int) else 0
    alive: Contexts = {}
    for cid, context in stored["contexts"].items():
        lifespan = context.get("lifespanCount") if isinstance(context, dict) else None
        if isinstance(lifespan, int) and lifespan - turns >= 0:
            parameters = context.get("parameters")
            parameters = parameters if isinstance(parameters, dict) else {}
            alive[cid] = {"lifespanCount": lifespan - turns, "parameters": parameters}
    return alive


# -- response ------------------------------------------------------------------------------


def _outcome(call: Call, answer: JSON) -> Outcome:
    if not isinstance(answer, dict):
        raise BadAnswer(f"webhook answer must be a JSON object, got {kind(answer)}")
    outcome = Outcome(messages=messages(answer), notes=_notes(answer))
    contexts = answer.get("outputContexts")
    if contexts is not None:
        if not isinstance(contexts, list):
            raise BadAnswer(f"`outputContexts` must be a list, got {kind(contexts)}")
        outcome.variables = _context_updates(call, contexts) or None
    return outcome


def _context_updates(call: Call, answered: list[JSON]) -> dict[str, JSON]:
    """Variables to merge: the contexts' parameters, `parley-data` first, and the kept contexts."""
    kept = {cid: c for cid, c in _active_contexts(call).items() if c["lifespanCount"]}
    own: dict[str, JSON] = {}
    others: dict[str, JSON] = {}
    for n, item in enumerate(answered):
        cid, lifespan, parameters = _context(item, n)
        if cid == DATA_CONTEXT:
            own.update(_changed(call, parameters))
            continue
        kept.pop(cid, None)
        if lifespan > 0:
            kept[cid] = {"lifespanCount": lifespan, "parameters": parameters}
            others.update(_plain(parameters))
    variables = {**own, **others}
    if kept or CONTEXTS_KEY in call.conversation.data:
        variables[CONTEXTS_KEY] = {"version": call.conversation.version, "contexts": kept}
    return variables


def _context(item: JSON, n: int) -> tuple[str, int, dict[str, JSON]]:
    where = f"outputContexts[{n}]"
    if not isinstance(item, dict):
        raise BadAnswer(f"`{where}` must be an object, got {kind(item)}")
    name = item.get("name")
    cid = name.rsplit("/contexts/", 1)[-1] if isinstance(name, str) else ""
    if not cid or "/" in cid:
        raise BadAnswer(f"`{where}.name` must be `<session>/contexts/<id>`")
    lifespan = item.get("lifespanCount", 0)  # proto3 JSON leaves 0 out: absent deletes
    if isinstance(lifespan, str) and lifespan.isdigit():
        lifespan = int(lifespan)
    if not isinstance(lifespan, int) or isinstance(lifespan, bool) or lifespan < 0:
        raise BadAnswer(f"`{where}.lifespanCount` must be a whole number, got {kind(lifespan)}")
    parameters = item.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise BadAnswer(f"`{where}.parameters` must be an object, got {kind(parameters)}")
    return cid, lifespan, parameters


def _plain(parameters: dict[str, JSON]) -> dict[str, JSON]:
    return {k: v for k, v in parameters.items() if not k.endswith(".original")}


def _changed(call: Call, parameters: dict[str, JSON]) -> dict[str, JSON]:
    """`parley-data` as answered, less what only echoes the request (data, entities, store)."""
    sent = {**call.conversation.data, **{k: v.value for k, v in call.entities.items()}}
    return {
        k: v
        for k, v in _plain(parameters).items()
        if k != CONTEXTS_KEY and not (k in sent and sent[k] == v)
    }


def _notes(answer: dict[str, Any]) -> list[str]:
    notes = []
    event = answer.get("followupEventInput")
    if event is not None:
        name = event.get("name") if isinstance(event, dict) else None
        notes.append(f"followupEventInput {name!r} is not supported yet; it was ignored")
    for key in _UNSUPPORTED:
        if answer.get(key):
            notes.append(f"`{key}` is not supported yet; it was ignored")
    return notes
