"""What runs inside the sandbox: compile the owner's code, call `main(event, context)` (a code
node) or `handle(client)` (a logic script), and answer with a JSON-ready reply.

`execute` never raises: a syntax error, an exception or a bad return value is a reply with
`ok: false`, the reason, and the traceback for the invocation log.
"""

from __future__ import annotations

import builtins
import json
import linecache
import time
import traceback
from typing import Any

REPLY_OVERHEAD = 64 * 1024


class Context:
    """The `context` a code node's `main` gets (the AWS Lambda names Haptik's code used)."""

    def __init__(self, function_name: str, request_id: str, deadline: float) -> None:
        self.function_name, self.aws_request_id, self._deadline = (
            function_name,
            request_id,
            deadline,
        )
        self.memory_limit_in_mb = 0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def execute(job: dict[str, Any]) -> dict[str, Any]:
    filename, source = str(job["filename"]), str(job["source"])
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{filename}:{line}" if line else filename
        return _failed(f"{where}: {type(exc).__name__}: {getattr(exc, 'msg', exc)}", exc)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {
        "__name__": "__parley_code__",
        "__file__": filename,
        "__builtins__": builtins,
    }
    try:
        exec(code, namespace)
        if job["entry"] == "logic":
            from parley.sandbox.initai_client import run_logic_script

            value = run_logic_script(namespace, job["payload"])
        else:
            value = _call_main(namespace, job)
    except BaseException as exc:  # the owner's code may raise anything, SystemExit included
        return _failed(f"{type(exc).__name__}: {exc}"[:1000], exc)
    return {"ok": True, "value": value}


def dump(reply: dict[str, Any], limit: int) -> bytes:
    """The reply as JSON bytes; a failed reply instead when the value is not JSON or the
    whole is over `limit` bytes."""
    try:
        body = json.dumps(reply, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        return json.dumps(
            _failed(f"the code returned something that is not JSON: {exc}", exc)
        ).encode()
    if len(body) > limit:
        failure = {"ok": False, "error": f"the code's output is over the {limit} byte limit"}
        return json.dumps(failure).encode()
    return body


def _call_main(namespace: dict[str, Any], job: dict[str, Any]) -> Any:
    main = namespace.get("main")
    if not callable(main):
        raise LookupError("the code defines no `main(event, context)` function")
    event = {
        "body": job["payload"],
        "headers": {"Content-Type": "application/json"},
        "httpMethod": "POST",
        "path": f"/{job.get('name', '')}",
        "isBase64Encoded": False,
    }
    deadline = time.monotonic() + float(job["limits"]["timeout"])
    context = Context(str(job.get("name", "")), str(job.get("request_id", "")), deadline)
    return main(event, context)


def _failed(reason: str, exc: BaseException) -> dict[str, Any]:
    trace = "".join(traceback.format_exception(exc))
    return {"ok": False, "error": reason, "traceback": trace[-20_000:]}
