"""The Python twin of initai-node 0.0.14's client, for logic scripts run in the sandbox
(protocols/initai.md section 5): `handle(client)` reads the turn, keeps the conversation
state, routes through steps and streams with expectations, adds responses and calls
`client.done()`. The names are initai-node's, so a script ports line by line; the result
is the LogicResult initai-node would post, applied by parley the same way.
"""

from __future__ import annotations

import copy
import inspect
import os
import uuid
from typing import Any

PROCEED = "init.proceed"
_PREFIX = "app:response:name:"
_USER_FIELDS = ("first_name", "last_name", "remote_id", "metadata")
_RESETS = ("/reset", "!RESET")


class Obj(dict[str, Any]):
    """A JSON object readable as `part["content"]` or `part.content`, as in JavaScript."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            return None


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Obj({k: _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def run_logic_script(namespace: dict[str, Any], data: dict[str, Any]) -> Any:
    """Run the script's `handle(client)` (or `handle(client)` under `exports`) on one
    invocation; the result of its last `done()`, or None when it never called it."""
    handle = namespace.get("handle")
    if not callable(handle):
        raise LookupError("the logic script defines no `handle(client)` function")
    client = InitClient.create(data)
    handle(client)
    return client.result


class Step:
    """`client.createStep({...})`: satisfied → True, prompt/extractInfo → nothing, next →
    None and expects → [] unless given."""

    def __init__(self, client: InitClient, spec: dict[str, Any]) -> None:
        self.client = client
        self.spec = spec
        self.expects: list[str] = list(spec.get("expects") or [])

    def call(self, name: str, default: Any = None) -> Any:
        function = self.spec.get(name)
        if function is None:
            return default
        wanted = len(inspect.signature(function).parameters)
        return function(self.client) if wanted else function()


class InitClient:
    """One turn's client: `InitClient.create(data)` as initai-node's `create(data, ctx)`."""

    constants = Obj({"PROCEED": PROCEED, "CONTINUE": PROCEED})

    def __init__(self, data: dict[str, Any]) -> None:
        self._payload = data["payload"]
        conversation = self._payload["current_conversation"]
        self._state: dict[str, Any] = copy.deepcopy(conversation.get("state") or {})
        self._original_users = copy.deepcopy(self._payload.get("users") or {})
        self._users = copy.deepcopy(self._original_users)
        self._user_id = conversation.get("__private_temp_user_id") or next(iter(self._users), "")
        self._parts: list[dict[str, Any]] = []
        self._suggestions: list[dict[str, Any]] = []
        self._reset: list[str] = []
        self._metadata: dict[str, Any] = {}
        self._stream = ""
        self._stack: list[str] = []
        self.result: Any = None

    @classmethod
    def create(cls, data: dict[str, Any], context: Any = None) -> InitClient:
        return cls(data)

    # -- the turn ------------------------------------------------------------------------

    def getMessage(self) -> Obj:
        conversation = self._payload["current_conversation"]
        index = int(conversation.get("conversation_message_index_to_process") or 0)
        message: Obj = _wrap(conversation["messages"][index])
        return message

    def getMessagePart(self) -> Obj:
        part: Obj = self.getMessage()["parts"][0]
        part["sender"] = _wrap(self._users.get(self._user_id) or {"id": self._user_id})
        return part

    def getMessageText(self) -> str | None:
        part = self.getMessagePart()
        if part.content_type == "postback":
            return str(part.content.text or "")
        return part.content if isinstance(part.content, str) else None

    def getPostbackData(self) -> Any:
        part = self.getMessagePart()
        return part.content.data if part.content_type == "postback" else None

    def getEntities(self, part: dict[str, Any], entity: str) -> Any:
        slot = (part.get("slots") or {}).get(entity)
        return slot.get("values_by_role") if slot else None

    def getFirstEntityWithRole(
        self, part: dict[str, Any], entity: str, role: str = "generic"
    ) -> Obj | None:
        values = (self.getEntities(part, entity) or {}).get(role) or []
        return _wrap(values[0]) if values else None

    # -- state ---------------------------------------------------------------------------

    def getConversation(self) -> Obj:
        conversation: Obj = _wrap(self._payload["current_conversation"])
        return conversation

    def getConversationState(self) -> Obj:
        state: Obj = _wrap(copy.deepcopy(self._state))
        return state

    def updateConversationState(self, key: Any, value: Any = None) -> None:
        """Deep-merge an object, or set one key or key path (a list) to `value`."""
        if isinstance(key, dict):
            _merge(self._state, copy.deepcopy(key))
            return
        path = list(key) if isinstance(key, list | tuple) else [key]
        target = self._state
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = copy.deepcopy(value)

    def resetConversationState(self) -> None:
        self._state = {}

    def expect(self, stream: str, intents: list[str]) -> None:
        """Send the next turn's `intents` to `stream`."""
        self._state.setdefault("currentExpectations", {})[stream] = list(intents)

    # -- users and application -----------------------------------------------------------

    def getUsers(self) -> Obj:
        users: Obj = _wrap(copy.deepcopy(self._users))
        return users

    def updateUser(self, user_id: str, field: str, value: Any) -> None:
        if field not in _USER_FIELDS:
            raise ValueError(f"updateUser cannot set {field!r}")
        if field == "metadata":
            self._metadata[user_id] = value
        self._users.setdefault(user_id, {"id": user_id})[field] = value

    def resetUser(self, user_ids: Any = None) -> None:
        ids = [user_ids] if isinstance(user_ids, str) else list(user_ids or self._users)
        self._reset.extend(ids)

    def getCurrentApplication(self) -> Obj:
        application: Obj = _wrap(self._payload.get("current_application") or {})
        return application

    def getEnvironment(self) -> Obj:
        """The application's environment: the bot's `sandbox.env`."""
        declared = (self._payload.get("current_application") or {}).get("environment") or {}
        merged = {**os.environ, **declared}
        merged.pop("HOME", None)
        merged.pop("TMPDIR", None)
        environment: Obj = Obj({k: v for k, v in merged.items() if v not in (None, "")})
        return environment

    getCurrentApplicationEnvironment = getEnvironment

    # -- responses -----------------------------------------------------------------------

    def addResponse(self, name: str, data: dict[str, Any] | None = None) -> None:
        self._add("prepared-outbound-message", _prepared(name, data))

    def addResponseWithReplies(
        self, name: str, data: dict[str, Any] | None, replies: list[Any]
    ) -> None:
        content = {**_prepared(name, data), "replies_content": list(replies)}
        self._add("prepared-outbound-message-with-replies", content)

    def makeReplyButton(
        self, text: str, iconUrl: str | None = None, stream: str | None = None, data: Any = None
    ) -> dict[str, Any]:
        payload = {"data": data, "version": "1", "stream": stream}
        return {"type": "reply", "text": text, "icon_url": iconUrl, "payload": payload}

    def addTextResponse(self, text: str) -> None:
        self._add("text", text)

    def addImageResponse(self, url: str, alt: str = "") -> None:
        self._add("image", {"image_url": url, "alternative_text": alt})

    def addTextTemplateResponse(self, template: str, data: dict[str, Any]) -> None:
        content = {"template_type": "go", "template_string": template, "template_data": data}
        self._add("text_template", content)

    def addCarouselListResponse(self, payload: dict[str, Any]) -> None:
        self._add("carousel_list", {"version": "1", "payload": payload})

    def addSuggestion(self, text: str) -> None:
        self._suggestions.append(
            {
                "content_type": "text",
                "suggestion_type": "message",
                "correlation_id": str(uuid.uuid4()),
                "text": text,
            }
        )

    def _add(self, content_type: str, content: Any) -> None:
        self._parts.append(
            {
                "content_type": content_type,
                "content": content,
                "to": self._user_id,
                "to_type": "app_user_id",
            }
        )

    # -- ending the turn -----------------------------------------------------------------

    def getLogicResult(self) -> dict[str, Any]:
        execution = self._payload.get("execution_data") or {}
        patch = [
            {"op": "add", "path": f"/{_escape(user_id)}/{key}", "value": record.get(key)}
            for user_id, record in self._users.items()
            for key in _USER_FIELDS
            if key != "metadata"
            and record.get(key) != (self._original_users.get(user_id) or {}).get(key)
        ]
        payload = {
            "conversation_state": copy.deepcopy(self._state),
            "execution_id": execution.get("execution_id", ""),
            "messages": [{"parts": copy.deepcopy(self._parts)}],
            "reset_users": list(self._reset),
            "suggestions": list(self._suggestions),
            "user_metadata_updates": dict(self._metadata),
            "users_patch": patch,
        }
        return {"version": "parley-python", "payload": payload}

    def done(self) -> None:
        self.result = self.getLogicResult()

    def sendResult(self) -> None:
        self.done()

    # -- logging -------------------------------------------------------------------------

    def log(self, *values: Any) -> None:
        print(*values)

    def logWarning(self, *values: Any) -> None:
        print("WARNING", *values)

    def logError(self, *values: Any) -> None:
        print("ERROR", *values)

    # -- flows ---------------------------------------------------------------------------

    def createStep(self, spec: dict[str, Any] | None = None, **functions: Any) -> Step:
        return Step(self, {**(spec or {}), **functions})

    def getStreamName(self) -> str:
        return self._stream

    def getStreamStack(self) -> list[str]:
        return list(self._stack)

    def runFlow(self, flow: dict[str, Any]) -> None:
        """Route the message to a stream and run its first unsatisfied step's prompt:
        a matching expectation, a postback's stream, `classifications`, else `main`."""
        streams: dict[str, Any] = flow.get("streams") or {}
        part = self.getMessagePart()
        roles = flow.get("senderRolesToProcess") or ["end-user"]
        role = self.getMessage().sender_role
        if role and role not in roles:
            self.done()
            return
        if part.content_type == "event":
            handlers = flow.get("eventHandlers") or {}
            content = part.content or Obj()
            handler = handlers.get(content.event_type) or handlers.get("*")
            if handler is not None:
                handler(content.event_type, content.payload)
            return
        if part.content_type == "text" and part.content in _RESETS:
            self.resetUser()
            self.done()
            return
        for name, stream in streams.items():
            if name != "main" or not isinstance(stream, str):
                for step in self._steps(streams, stream, set()):
                    step.call("extractInfo")
        self._run_stream(streams, self._route(streams, flow, part), 0)

    def _route(self, streams: dict[str, Any], flow: dict[str, Any], part: Obj) -> str:
        intent = _intent(part)
        expectations = self._state.pop("currentExpectations", None) or {}
        self._state["lastExpectations"] = expectations
        for stream, intents in expectations.items():
            if intent is not None and intent in intents and stream in streams:
                return str(stream)
        content = part.content
        if part.content_type == "postback" and content and content.stream in streams:
            return str(content.stream)
        classifications = flow.get("classifications") or {}
        if intent is not None:
            target = classifications.get(intent) or classifications.get(intent.split("/")[0])
            if target in streams:
                return str(target)
        main = streams.get("main")
        return main if isinstance(main, str) else "end"

    def _run_stream(self, streams: dict[str, Any], name: str, depth: int) -> None:
        if depth > 20 or name not in streams:
            return
        self._stream = name
        self._stack.append(name)
        for step in self._steps(streams, streams[name], set()):
            if step.call("satisfied", True):
                continue
            answer = step.call("prompt")
            if step.expects:
                self.expect(name, step.expects)
            if answer == PROCEED:
                continue
            if isinstance(answer, str) and answer in streams:
                self._run_stream(streams, answer, depth + 1)
            return
        if name != "end" and "end" in streams:
            self._run_stream(streams, "end", depth + 1)

    def _steps(self, streams: dict[str, Any], stream: Any, seen: set[str]) -> list[Step]:
        if isinstance(stream, Step):
            return [stream]
        if isinstance(stream, str):
            if stream in seen or stream not in streams:
                return []
            return self._steps(streams, streams[stream], {*seen, stream})
        steps: list[Step] = []
        for item in stream or []:
            steps += self._steps(streams, item, seen)
        return steps


def _intent(part: Obj) -> str | None:
    classification = part.classification
    if not classification or not classification.base_type:
        return None
    base = classification.base_type.value
    sub = classification.sub_type.value if classification.sub_type else None
    return f"{base}/{sub}" if sub else str(base)


def _prepared(name: str, data: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "response_name": name if name.startswith(_PREFIX) else _PREFIX + name,
        "response_data": data,
    }


def _merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
