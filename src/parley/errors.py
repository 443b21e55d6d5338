"""One exception tree. Each class carries its API `code`, HTTP `status_code` and CLI `exit_code`.

The server turns any `ParleyError` into `{"error": {"code", "message"}}`; the CLI prints the
message and exits with `exit_code`.
"""

from __future__ import annotations

from dataclasses import dataclass


class ParleyError(Exception):
    code = "error"
    status_code = 400
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ParleyError):
    code = "bad_request"


class PayloadTooLarge(ParleyError):
    code = "payload_too_large"
    status_code = 413


class NotFound(ParleyError):
    code = "not_found"
    status_code = 404


class Conflict(ParleyError):
    code = "conflict"
    status_code = 409


class Unauthorized(ParleyError):
    code = "unauthorized"
    status_code = 401


class Unavailable(ParleyError):
    code = "unavailable"
    status_code = 503


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of `parley check`: where it is and what is wrong."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class BotInvalid(ParleyError):
    """A bot folder failed validation; `problems` lists every finding."""

    code = "bot_invalid"
    status_code = 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class StorageError(ParleyError):
    code = "storage_error"
    status_code = 503
