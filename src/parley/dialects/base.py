"""What every dialect is: a pure translation between a `Call`/`Outcome` and bytes on the wire.

No I/O here, and no clock: delivery (`parley.webhooks`) sends the `WireRequest` a dialect
encodes and hands back the `WireResponse` it got, whatever its status.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from parley.errors import ParleyError
from parley.model import Call, Outcome


@dataclass(frozen=True, slots=True)
class WireRequest:
    """The exact request to send: `body` is what gets signed and what goes out."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class WireResponse:
    """What came back, any status. Header names may come in any case."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Dialect(abc.ABC):
    """One wire protocol for business logic (Haptik, Rasa, Dialogflow, ...).

    Done means: `encode` turns any `Call` into the request that protocol's servers expect,
    and `decode` turns any response at all (any status, any bytes) into an `Outcome`, with
    `Outcome.failed(reason)` for whatever is not a valid answer. Neither raises for bad
    input from the wire, does I/O, or reads the clock; both are safe to share between tasks.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def encode(self, call: Call, url: str) -> WireRequest:
        """The request for `call` to `url`, signed if the call's spec asks for it."""

    @abc.abstractmethod
    def decode(self, call: Call, response: WireResponse) -> Outcome:
        """The outcome `response` means for `call`; a failure names what was wrong."""

    def error_report(self, call: Call, url: str, reason: str) -> WireRequest | None:
        """What to send to the protocol's error endpoint `url` after `call` failed for
        `reason`, or None when the protocol has none (the default)."""
        return None


class UnknownDialect(ParleyError):
    code = "unknown_dialect"
    status_code = 422
    exit_code = 2
