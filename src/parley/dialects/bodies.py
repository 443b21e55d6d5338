"""Reading JSON answers: the helpers every dialect's `decode` shares for its failure reasons."""

from __future__ import annotations

import json
from typing import Any

from parley.dialects.base import WireResponse
from parley.model import JSON, Outcome

SNIPPET = 80


def json_object(response: WireResponse, ok: range = range(200, 300)) -> dict[str, JSON] | Outcome:
    """The answer's JSON object, or a failed `Outcome` saying why there is none."""
    if response.status not in ok:
        return Outcome.failed(f"webhook answered HTTP {response.status}")
    try:
        answer = json.loads(response.body)
    except (ValueError, RecursionError):
        return Outcome.failed(not_json(response))
    if not isinstance(answer, dict):
        return Outcome.failed(f"webhook answer must be a JSON object, got {kind(answer)}")
    return answer


def not_json(response: WireResponse, snippet: int = SNIPPET) -> str:
    """Why a body that should be JSON is not: its media type and its first characters."""
    content_type = next((v for k, v in response.headers.items() if k.lower() == "content-type"), "")
    media = content_type.split(";", 1)[0].strip() or "no content type"
    text = " ".join(response.body.decode("utf-8", "replace").split())
    return f"webhook answered non-JSON ({media}): {text[:snippet]}"


def kind(value: Any) -> str:
    """`a string`, `a list`, `null`, ...: what a JSON value is, for a failure reason."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def preview(value: JSON, width: int = 40) -> str:
    """A JSON value cut to `width` characters, for a failure reason."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"
