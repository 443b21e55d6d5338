"""The HTTP request block: a plain JSON call whose answer's parts are saved into variables.

The engine has already rendered the block's URL, headers and body; `save` maps a variable
to a path in the JSON answer: `data.available`, `items[0].name`.
"""

from __future__ import annotations

import json
import re

from parley.dialects.base import Dialect, WireRequest, WireResponse
from parley.dialects.bodies import json_object
from parley.dialects.headers import request_headers
from parley.model import JSON, Call, Outcome

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class HttpBlockDialect(Dialect):
    name = "http"

    def encode(self, call: Call, url: str) -> WireRequest:
        spec = call.spec
        sends_body = spec.body is not None and spec.method != "GET"
        body = json.dumps(spec.body, ensure_ascii=False).encode("utf-8") if sends_body else b""
        return WireRequest(spec.method, url, request_headers(spec, json_body=sends_body), body)

    def decode(self, call: Call, response: WireResponse) -> Outcome:
        if not call.spec.save:
            if 200 <= response.status < 300:
                return Outcome()
            return Outcome.failed(f"HTTP request answered HTTP {response.status}")
        answer = json_object(response)
        if isinstance(answer, Outcome):
            return answer
        return Outcome(
            variables={name: pick(answer, path) for name, path in call.spec.save.items()}
        )


def pick(value: JSON, path: str) -> JSON:
    """The value at `path` (`a.b[0].c`) in `value`, or None where the path leads nowhere."""
    for key, index in _STEP.findall(path):
        if index:
            ok = isinstance(value, list) and int(index) < len(value)
            value = value[int(index)] if ok else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return None
    return value
