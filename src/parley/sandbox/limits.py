"""What one sandboxed call may use, and the isolation levels a machine offers."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 30.0


class Isolation(enum.StrEnum):
    """Strongest first. `namespaces`: each process (warm for one code's calls) in its own
    pid and mount namespace, in a network namespace with no interfaces (unless the bot
    allows hosts), a read-only view of the file system with only its tmpfs writable (emptied
    between calls), as `nobody` (root) or without any capability (in a user namespace).
    `processes` (the weakest): a forked process with the same limits, environment and temp
    directory, no namespaces."""

    NAMESPACES = "namespaces"
    PROCESSES = "processes"


@dataclass(frozen=True, slots=True)
class Limits:
    """Per call: wall-clock `timeout` (s), CPU seconds, address space (MB), processes,
    bytes of returned output, and the hosts the code may connect to (nothing by default).
    The temp directory holds 64 MB (`process.TMP_BYTES`)."""

    timeout: float = DEFAULT_TIMEOUT
    cpu_seconds: int = 10
    memory_mb: int = 512
    processes: int = 32
    max_output_bytes: int = 1_048_576
    allowed_hosts: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "allowed_hosts": list(self.allowed_hosts)}
