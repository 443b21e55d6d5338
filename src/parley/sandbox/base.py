"""What a sandbox is: run one `Job` (the owner's Python) and hand back its `Result`."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Literal

from parley.sandbox.limits import Isolation, Limits


@dataclass(frozen=True, slots=True)
class Job:
    """One call: `source` (named `filename` in tracebacks) run with `entry` `main` (a code
    node: `payload` is the request body, a JSON string) or `logic` (a logic script:
    `payload` is the Init.ai invocation `data`), the bot's declared `env` and `limits`.
    `owner` is whose code it is (a bot in one environment): a warm process serves only
    jobs of one owner with the same source, entry, env and limits."""

    source: str
    filename: str
    entry: Literal["main", "logic"]
    payload: Any
    name: str = ""
    request_id: str = ""
    env: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    owner: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "filename": self.filename,
            "entry": self.entry,
            "payload": self.payload,
            "name": self.name,
            "request_id": self.request_id,
            "env": dict(self.env),
            "limits": self.limits.to_json(),
            "owner": self.owner,
        }


@dataclass(slots=True)
class Result:
    """`ok` with the code's return `value`, or the `error` (one line) and `traceback`.
    `printed` is the start of what the code printed."""

    ok: bool
    value: Any = None
    error: str | None = None
    traceback: str | None = None
    printed: str = ""
    latency_ms: float = 0.0

    @classmethod
    def from_reply(cls, reply: dict[str, Any]) -> Result:
        return cls(
            ok=bool(reply.get("ok")),
            value=reply.get("value"),
            error=reply.get("error") or (None if reply.get("ok") else "the sandbox failed"),
            traceback=reply.get("traceback"),
            printed=str(reply.get("printed") or ""),
        )


class Sandbox(abc.ABC):
    """Runs jobs away from the server process. Done means: `run` never raises for anything
    the code does (a crash, a limit crossed, a dead worker are failed `Result`s), and one
    job's failure never affects another's."""

    isolation: Isolation = Isolation.PROCESSES

    async def start(self) -> Isolation:
        """Get ready to run jobs; the isolation level reached."""
        return self.isolation

    @abc.abstractmethod
    async def run(self, job: Job) -> Result:
        """Run `job` to its end, or to its deadline."""

    async def aclose(self) -> None:  # noqa: B027  # optional: nothing to stop by default
        """Stop the workers."""
