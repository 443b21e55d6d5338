"""What runs inside the sandbox: load the owner's code once (`load`), then call its
`main(event, context)` (a code node) or `handle(client)` (a logic script) once per job
(`call`), and answer with a JSON-ready reply.

Neither raises for anything the code does: a syntax error, an exception or a bad return
value is a reply with `ok: false`, the reason, and the traceback for the invocation log
(`load` raises it inside `CodeFailed`).
"""

from __future__ import annotations

import builtins
import json
import linecache
import time
import traceback
from typing import Any


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


class CodeFailed(Exception):
    """The code could not be loaded: `reply` says why."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(reply.get("error"))
        self.reply = reply


def load(job: dict[str, Any]) -> dict[str, Any]:
    """The code's module namespace, its top level run (once per process, as AWS Lambda
    runs a module once per execution environment)."""
    filename, source = str(job["filename"]), str(job["source"])
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{filename}:{line}" if line else filename
        raise CodeFailed(
            _failed(f"{where}: {type(exc).__name__}: {getattr(exc, 'msg', exc)}", exc)
        ) from None
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {
        "__name__": "__parley_code__",
        "__file__": filename,
        "__builtins__": builtins,
    }
    try:
        exec(code, namespace)
    except BaseException as exc:  # the owner's code may raise anything, SystemExit included
        raise CodeFailed(_failed(f"{type(exc).__name__}: {exc}"[:1000], exc)) from None
    return namespace


def call(namespace: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """One call of the loaded code on `job`'s payload."""
    try:
        if job["entry"] == "logic":
            from parley.sandbox.initai_client import run_logic_script

            value = run_logic_script(namespace, job["payload"])
        else:
            value = _call_main(namespace, job)
    except BaseException as exc:  # the owner's code may raise anything, SystemExit included
        return _failed(f"{type(exc).__name__}: {exc}"[:1000], exc)
    return {"ok": True, "value": value}


def dump(reply: dict[str, Any], limit: int) -> tuple[bytes, bool]:
    """The reply as JSON bytes, and True; or a failed reply and False when the value is not
    JSON or the whole is over `limit` bytes."""
    try:
        body = json.dumps(reply, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        failure = _failed(f"the code returned something that is not JSON: {exc}", exc)
        return json.dumps(failure).encode(), False
    if len(body) > limit:
        failure = {"ok": False, "error": f"the code's output is over the {limit} byte limit"}
        return json.dumps(failure).encode(), False
    return body, True


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
