"""The one storage interface. The runtime and the server see only `Store`."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from parley.model import (
    Conversation,
    HistoryEntry,
    Invocation,
    StoredAnswer,
    TurnRecord,
    User,
)
from parley.storage.accounts import AccountStore
from parley.storage.releases import ReleaseStore


class Store(AccountStore, ReleaseStore):
    """Conversations, users, history and the invocation log (and, from `AccountStore`,
    accounts and the hand-off queue; from `ReleaseStore`, the bots' releases).

    Done means: `save_turn` is atomic (all of a turn or none of it) and rejects a stale
    conversation version with `parley.errors.Conflict`; reads return copies the caller may
    mutate freely; `open` creates or migrates the schema; `close` releases every connection.
    A database that fails raises `parley.errors.StorageError`.

    `async with store:` opens it and closes it again.
    """

    async def open(self) -> None:
        """Create or migrate the schema and connect."""

    async def close(self) -> None:
        """Release connections."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def get_conversation(self, bot: str, conversation_id: str) -> Conversation | None: ...

    @abc.abstractmethod
    async def get_user(self, user_id: str) -> User | None: ...

    async def load(
        self, bot: str, conversation_id: str, user_id: str | None = None
    ) -> tuple[Conversation | None, User | None]:
        """A conversation and its user at once: `user_id`, else the conversation's user, else
        the user named like the conversation. Stores with a cost per call do it in one."""
        conversation = await self.get_conversation(bot, conversation_id)
        user_id = user_id or (conversation.user_id if conversation else conversation_id)
        return conversation, await self.get_user(user_id)

    @abc.abstractmethod
    async def save_turn(self, record: TurnRecord) -> None:
        """Write the conversation (version + 1), the user, history and invocations at once.

        The stored conversation must be at `record.expected_version` (absent for 0), else
        `Conflict` and nothing is written. On success `record.conversation.version` and the
        `id` of every history entry and invocation are set. The user row is replaced as a
        whole (last writer wins: users carry no version). A value that is not JSON raises
        json's `TypeError`/`ValueError`, also before anything is written.

        With `record.answer`, the answer is written too, in the same transaction; a
        `message_id` the conversation already has is `Conflict` and nothing is written.
        """

    @abc.abstractmethod
    async def get_answer(
        self, bot: str, conversation_id: str, message_id: str
    ) -> StoredAnswer | None:
        """The answer a turn stored under the client's `message_id`, if there is one."""

    @abc.abstractmethod
    async def history(
        self,
        bot: str,
        conversation_id: str,
        conversation_no: int | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        """Messages oldest first; with `limit`, the newest `limit` of them."""

    @abc.abstractmethod
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
        """Invocation-log entries with `after_id` < id < `before_id`, oldest first, at most
        `limit`: the oldest such entries, or with `newest` the newest ones."""
