"""Aimylogic's bot-level webhook (seed 003, protocols/aimylogic.md).

Request: every current variable (conversation data, then collected entity values) plus
`action` (the node's event), `queryText`, `userId`, `channelId`, `channelType`, `rawRequest`.
Answer: a JSON object whose every top-level key becomes a variable.
"""

from __future__ import annotations

import json

from parley.dialects.base import Dialect, WireRequest, WireResponse
from parley.dialects.bodies import json_object
from parley.dialects.headers import request_headers
from parley.model import JSON, Call, Outcome


class AimylogicDialect(Dialect):
    name = "aimylogic"

    def encode(self, call: Call, url: str) -> WireRequest:
        body = json.dumps(_request_json(call), ensure_ascii=False).encode("utf-8")
        headers = request_headers(call.spec)
        return WireRequest("POST", url, headers, body)

    def decode(self, call: Call, response: WireResponse) -> Outcome:
        answer = json_object(response)
        if isinstance(answer, Outcome):
            return answer
        return Outcome(variables=answer)


def _request_json(call: Call) -> dict[str, JSON]:
    conversation = call.conversation
    variables: dict[str, JSON] = dict(conversation.data)
    variables.update({name: value.value for name, value in conversation.entities.items()})
    return {
        **variables,
        "action": call.event,
        "queryText": call.text,
        "userId": call.user.id,
        "channelId": conversation.id,
        "channelType": "rest",
        "rawRequest": {"message": {"type": "text", "content": call.text}, "bot": conversation.bot},
    }
