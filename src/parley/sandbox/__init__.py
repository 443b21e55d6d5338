"""Sandboxed Python: code nodes and logic scripts run here, never in the server process
(docs/code.md). `SandboxPool` is the real one; `Job` goes in, `Result` comes out."""

from parley.sandbox.base import Job, Result, Sandbox
from parley.sandbox.limits import DEFAULT_TIMEOUT, MAX_TIMEOUT, Isolation, Limits
from parley.sandbox.pool import SandboxPool, SandboxUnavailable

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_TIMEOUT",
    "Isolation",
    "Job",
    "Limits",
    "Result",
    "Sandbox",
    "SandboxPool",
    "SandboxUnavailable",
]
