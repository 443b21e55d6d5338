"""Reading JSON answers, shared by the dialects whose answers are plain JSON objects."""

from __future__ import annotations

import json

from parley.dialects.base import WireResponse
from parley.model import JSON, Outcome

_SNIPPET = 80


def json_object(response: WireResponse, ok: range = range(200, 300)) -> dict[str, JSON] | Outcome:
    """The answer's JSON object, or a failed `Outcome` saying why there is none."""
    if response.status not in ok:
        return Outcome.failed(f"webhook answered HTTP {response.status}")
    try:
        answer = json.loads(response.body)
    except (ValueError, RecursionError):
        kind = next((v for k, v in response.headers.items() if k.lower() == "content-type"), "?")
        snippet = response.body[:_SNIPPET].decode("utf-8", "replace")
        return Outcome.failed(f"webhook answered non-JSON ({kind}): {snippet}")
    if not isinstance(answer, dict):
        return Outcome.failed(f"webhook answer must be a JSON object, got {type(answer).__name__}")
    return answer
