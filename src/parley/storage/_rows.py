"""Model objects to flat rows and back: one codec shared by every backend.

A row is a dict of column name to str, int, float or None; JSON values are stored as text
(`dumps`), so every backend keeps exactly what `json.loads` gives back and fails the same way
on a value that is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from parley.model import (
    JSON,
    Conversation,
    Detection,
    EntityValue,
    Environment,
    HistoryEntry,
    Invocation,
    Message,
    State,
    StoredAnswer,
    User,
)
from parley.storage._schema import COLUMNS

Row = dict[str, Any]
_CONVERSATION, _USER = COLUMNS["conversations"], COLUMNS["users"]


def dumps(value: JSON) -> str:
    # ensure_ascii keeps every Python str (even a lone surrogate from a JSON payload) storable
    # in any text column; JSON functions in SQLite and PostgreSQL decode the escapes.
    return json.dumps(value, separators=(",", ":"))


def loads(text: str) -> JSON:
    return json.loads(text)


def _entity_json(value: EntityValue) -> dict[str, JSON]:
    out: dict[str, JSON] = {
        "value": value.value,
        "raw": value.raw,
        "detection": value.detection.value,
    }
    if value.start is not None:
        out["start"] = value.start
    if value.end is not None:
        out["end"] = value.end
    return out


def _entity(data: dict[str, JSON]) -> EntityValue:
    detection = Detection(data["detection"])
    return EntityValue(data["value"], data["raw"], detection, data.get("start"), data.get("end"))


def conversation_row(conv: Conversation) -> Row:
    """The conversation's columns, without `version` and the timestamps the store sets."""
    return {
        "bot": conv.bot,
        "id": conv.id,
        "user_id": conv.user_id,
        "environment": conv.environment.value,
        "state": conv.state.value,
        "conversation_no": conv.conversation_no,
        "node": conv.node,
        "asking": conv.asking,
        "language": conv.language,
        "data": dumps(conv.data),
        "entities": dumps({k: _entity_json(v) for k, v in conv.entities.items()}),
        "team": conv.team,
    }


def conversation(row: Mapping[Any, Any]) -> Conversation:
    entities = loads(row["entities"])
    return Conversation(
        id=row["id"],
        bot=row["bot"],
        user_id=row["user_id"],
        environment=Environment(row["environment"]),
        state=State(row["state"]),
        conversation_no=row["conversation_no"],
        node=row["node"],
        asking=row["asking"],
        language=row["language"],
        data=loads(row["data"]),
        entities={k: _entity(v) for k, v in entities.items()},
        team=row["team"],
        version=row["version"],
        updated_at=row["updated_at"],
    )


def loaded(values: Sequence[Any]) -> tuple[Conversation | None, User | None]:
    """The one row of a store's load query: the conversation's columns, then its user's, in
    `COLUMNS` order, NULL where either is missing."""
    conv, person = values[: len(_CONVERSATION)], values[len(_CONVERSATION) :]
    return (
        conversation(dict(zip(_CONVERSATION, conv, strict=True))) if conv[1] is not None else None,
        user(dict(zip(_USER, person, strict=True))) if person[0] is not None else None,
    )


def user_row(user: User) -> Row:
    """The user's columns, without `updated_at`."""
    return {
        "id": user.id,
        "name": user.name,
        "full_name": user.full_name,
        "device_platform": user.device_platform,
        "language": user.language,
        "auth_id": user.auth_id,
        "auth_code": user.auth_code,
        "profile": dumps(user.profile),
        "data": dumps(user.data),
    }


def user(row: Mapping[Any, Any]) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        full_name=row["full_name"],
        device_platform=row["device_platform"],
        language=row["language"],
        auth_id=row["auth_id"],
        auth_code=row["auth_code"],
        profile=loads(row["profile"]),
        data=loads(row["data"]),
    )


def history_row(entry: HistoryEntry) -> Row:
    """The entry's columns, without `id` (the store assigns it)."""
    message = entry.message
    return {
        "conversation_id": entry.conversation_id,
        "bot": entry.bot,
        "conversation_no": entry.conversation_no,
        "sender": entry.sender,
        "message": dumps({"type": message.type, "content": message.content, "meta": message.meta}),
        "turn_id": entry.turn_id,
        "created_at": entry.created_at,
    }


def history_entry(row: Mapping[Any, Any]) -> HistoryEntry:
    message = loads(row["message"])
    return HistoryEntry(
        conversation_id=row["conversation_id"],
        bot=row["bot"],
        conversation_no=row["conversation_no"],
        sender=row["sender"],
        message=Message(message["type"], message["content"], message["meta"]),
        created_at=row["created_at"],
        turn_id=row["turn_id"],
        id=row["id"],
    )


def invocation_row(inv: Invocation) -> Row:
    """The invocation's columns, without `id` (the store assigns it)."""
    return {
        "turn_id": inv.turn_id,
        "bot": inv.bot,
        "conversation_id": inv.conversation_id,
        "node": inv.node,
        "kind": inv.kind,
        "dialect": inv.dialect,
        "environment": inv.environment,
        "method": inv.method,
        "url": inv.url,
        "request_headers": dumps(inv.request_headers),
        "request_body": inv.request_body,
        "status": inv.status,
        "response_body": inv.response_body,
        "latency_ms": inv.latency_ms,
        "error": inv.error,
        "created_at": inv.created_at,
    }


def invocation(row: Mapping[Any, Any]) -> Invocation:
    return Invocation(
        id=row["id"],
        turn_id=row["turn_id"],
        bot=row["bot"],
        conversation_id=row["conversation_id"],
        node=row["node"],
        kind=row["kind"],
        dialect=row["dialect"],
        environment=row["environment"],
        method=row["method"],
        url=row["url"],
        request_headers=loads(row["request_headers"]),
        request_body=row["request_body"],
        status=row["status"],
        response_body=row["response_body"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        created_at=row["created_at"],
    )


def answer_row(record: StoredAnswer, bot: str, conversation_id: str) -> Row:
    return {
        "bot": bot,
        "conversation_id": conversation_id,
        "message_id": record.message_id,
        "digest": record.digest,
        "turn_id": record.turn_id,
        "answer": dumps(record.answer),
        "created_at": record.created_at,
    }


def stored_answer(row: Mapping[Any, Any]) -> StoredAnswer:
    return StoredAnswer(
        message_id=row["message_id"],
        digest=row["digest"],
        turn_id=row["turn_id"],
        answer=loads(row["answer"]),
        created_at=row["created_at"],
    )
