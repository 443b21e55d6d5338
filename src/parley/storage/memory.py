"""A store in process memory: for tests, `parley chat` and `--database memory://`.

It keeps the same rows the SQL store writes (JSON as text), so it fails and copies exactly like
a database would: a value that is not JSON is refused, and every read builds fresh objects.
"""

from __future__ import annotations

import bisect
import time
from typing import TypeVar

from parley.errors import Conflict, StorageError
from parley.model import (
    Conversation,
    HistoryEntry,
    Invocation,
    StoredAnswer,
    TurnRecord,
    User,
)
from parley.storage import _rows
from parley.storage._accounts_memory import MemoryAccounts
from parley.storage._releases_memory import MemoryReleases
from parley.storage._rows import Row
from parley.storage.base import Store

_Key = tuple[str, str]
_K = TypeVar("_K")
_V = TypeVar("_V")


class MemoryStore(MemoryReleases, MemoryAccounts, Store):
    """Dict-backed `Store`. Not shared between processes; gone when the process exits."""

    def __init__(self) -> None:
        super().__init__()
        self._conversations: dict[_Key, Row] = {}
        self._users: dict[str, Row] = {}
        self._history: dict[_Key, list[Row]] = {}
        self._invocations: list[Row] = []
        self._last_history_id = 0
        self._answers: dict[tuple[str, str, str], Row] = {}

    async def get_conversation(self, bot: str, conversation_id: str) -> Conversation | None:
        row = self._conversations.get((bot, conversation_id))
        return _rows.conversation(row) if row is not None else None

    async def get_user(self, user_id: str) -> User | None:
        row = self._users.get(user_id)
        return _rows.user(row) if row is not None else None

    async def save_turn(self, record: TurnRecord) -> None:
        # Encode everything first: a value that is not JSON fails here, before any write.
        conv = _rows.conversation_row(record.conversation)
        user = _rows.user_row(record.user)
        history = [_rows.history_row(entry) for entry in record.history]
        invocations = [_rows.invocation_row(inv) for inv in record.invocations]
        answer = None
        if record.answer is not None:
            answer = _rows.answer_row(record.answer, conv["bot"], conv["id"])

        key = (conv["bot"], conv["id"])
        stored = self._conversations.get(key)
        if (stored["version"] if stored else 0) != record.expected_version:
            raise Conflict(f"conversation {key[0]}/{key[1]} changed since the turn began")
        answer_key = (*key, answer["message_id"]) if answer is not None else None
        if answer_key is not None and answer_key in self._answers:
            raise Conflict(f"conversation {key[0]}/{key[1]} has message {answer_key[2]!r}")

        # No await from here on, so no other task sees a half-applied turn; the undo makes a
        # failure in the middle (a bug, MemoryError) leave no trace either.
        now = time.time()
        undo = _Undo(self, key, user["id"], [(e["bot"], e["conversation_id"]) for e in history])
        try:
            self._put_conversation(key, conv, record.expected_version + 1, stored, now)
            self._users[user["id"]] = {**user, "updated_at": now}
            history_ids = self._append_history(history)
            invocation_ids = self._append_invocations(invocations)
            if answer_key is not None and answer is not None:
                self._answers[answer_key] = {**answer, "created_at": now}
        except BaseException:
            undo.apply(self)
            raise
        record.conversation.version = record.expected_version + 1
        record.conversation.updated_at = now
        if record.answer is not None:
            record.answer.created_at = now
        for entry, history_id in zip(record.history, history_ids, strict=True):
            entry.id = history_id
        for inv, invocation_id in zip(record.invocations, invocation_ids, strict=True):
            inv.id = invocation_id

    async def get_answer(
        self, bot: str, conversation_id: str, message_id: str
    ) -> StoredAnswer | None:
        row = self._answers.get((bot, conversation_id, message_id))
        return _rows.stored_answer(row) if row is not None else None

    async def history(
        self,
        bot: str,
        conversation_id: str,
        conversation_no: int | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        rows = self._history.get((bot, conversation_id), [])
        if conversation_no is not None:
            rows = [row for row in rows if row["conversation_no"] == conversation_no]
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        return [_rows.history_entry(row) for row in rows]

    async def invocations(
        self,
        *,
        bot: str | None = None,
        conversation_id: str | None = None,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int = 100,
        newest: bool = False,
    ) -> list[Invocation]:
        if limit <= 0:
            return []
        start = bisect.bisect_right(self._invocations, after_id, key=lambda row: row["id"])
        end = len(self._invocations)
        if before_id is not None:
            end = bisect.bisect_left(self._invocations, before_id, key=lambda row: row["id"])
        rows = self._invocations[start:end]
        found: list[Invocation] = []
        for row in reversed(rows) if newest else rows:
            if len(found) >= limit:
                break
            if bot is not None and row["bot"] != bot:
                continue
            if conversation_id is not None and row["conversation_id"] != conversation_id:
                continue
            found.append(_rows.invocation(row))
        return found[::-1] if newest else found

    def _put_conversation(
        self, key: _Key, conv: Row, version: int, stored: Row | None, now: float
    ) -> None:
        created_at = stored["created_at"] if stored else now
        self._conversations[key] = {
            **conv,
            "version": version,
            "created_at": created_at,
            "updated_at": now,
        }

    def _append_history(self, rows: list[Row]) -> list[int]:
        ids = []
        for row in rows:
            key = self._conversation_key(row)
            self._last_history_id += 1
            ids.append(self._last_history_id)
            self._history.setdefault(key, []).append({**row, "id": self._last_history_id})
        return ids

    def _append_invocations(self, rows: list[Row]) -> list[int]:
        for row in rows:
            self._conversation_key(row)
        last = self._invocations[-1]["id"] if self._invocations else 0
        ids = list(range(last + 1, last + 1 + len(rows)))
        self._invocations.extend({**row, "id": id_} for row, id_ in zip(rows, ids, strict=True))
        return ids

    def _conversation_key(self, row: Row) -> _Key:
        """The key of the row's conversation; like a foreign key, it must exist."""
        key = (row["bot"], row["conversation_id"])
        if key not in self._conversations:
            raise StorageError(f"no conversation {key[0]}/{key[1]} for history or invocations")
        return key


class _Undo:
    """What a turn may overwrite, captured before it writes anything."""

    def __init__(self, store: MemoryStore, key: _Key, user_id: str, keys: list[_Key]) -> None:
        self.key, self.user_id = key, user_id
        self.conversation = store._conversations.get(key)
        self.user = store._users.get(user_id)
        self.history_lengths = {k: len(store._history.get(k, [])) for k in keys}
        self.last_history_id = store._last_history_id
        self.invocations = len(store._invocations)

    def apply(self, store: MemoryStore) -> None:
        _restore(store._conversations, self.key, self.conversation)
        _restore(store._users, self.user_id, self.user)
        for key, length in self.history_lengths.items():
            rows = store._history.get(key, [])
            del rows[length:]
            if not rows:
                store._history.pop(key, None)
        store._last_history_id = self.last_history_id
        del store._invocations[self.invocations :]


def _restore(mapping: dict[_K, _V], key: _K, value: _V | None) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value
