"""Every dialect against its golden files: the sample Call encodes to `request.json` byte for
byte, and each `responses/*.json` decodes to the Outcome written beside it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from parley.dialects import WireResponse, get_dialect
from parley.model import Outcome

from .sample import URL, sample_call

GOLDEN = Path(__file__).parent / "golden"
DIALECTS = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
RESPONSES = sorted(GOLDEN.glob("*/responses/*.json"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _wire_response(spec: dict[str, Any]) -> WireResponse:
    body = spec.get("body_text")
    raw = body.encode("utf-8") if body is not None else json.dumps(spec["body"]).encode("utf-8")
    return WireResponse(spec["status"], spec["headers"], raw)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return asdict(outcome)


def _expected_outcome(spec: dict[str, Any]) -> dict[str, Any]:
    messages = [{"meta": {}, **message} for message in spec.get("messages", [])]
    if "failure" in spec:
        return _outcome_json(Outcome.failed(spec["failure"]))
    return {**_outcome_json(Outcome()), **spec, "messages": messages}


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_sample_call_encodes_to_the_golden_request(dialect_name: str) -> None:
    golden = _load(GOLDEN / dialect_name / "request.json")

    request = get_dialect(dialect_name).encode(sample_call(), URL)

    assert (request.method, request.url) == (golden["method"], golden["url"])
    assert request.headers == golden["headers"]
    body = golden["body"]  # null: no body at all
    assert request.body == (b"" if body is None else json.dumps(body, ensure_ascii=False).encode())


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_golden_response_decodes_to_its_outcome(path: Path) -> None:
    case = _load(path)
    dialect = get_dialect(path.parts[-3])

    outcome = dialect.decode(sample_call(), _wire_response(case["response"]))

    assert _outcome_json(outcome) == _expected_outcome(case["outcome"])
