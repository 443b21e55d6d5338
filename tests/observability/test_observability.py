"""Metrics, trace context and JSON logs through a real server and a real webhook."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from parley.config import Settings
from parley.observability import JsonFormatter, parse_traceparent
from parley.observability.logs import TEXT_FORMAT, TextFormatter
from tests.harness import free_port, serve, write_bot
from tests.webhooks.seed_server import running

ROOT = Path(__file__).resolve().parents[2]
BOT = """\
name: obs
environments:
  test: {{base_url: "{base}"}}
settings: {{data_limit: 20000, resilience: {{failure_threshold: 1}}, bot_break_message: "Sorry."}}
intents:
  echo: {{examples: ["show what you got"]}}
  broken: {{examples: ["break it"]}}
  greet: {{examples: [hello]}}
nodes:
  echo: {{intents: [echo], webhook: {{path: /echo}}}}
  broken: {{intents: [broken], webhook: {{path: /500}}}}
  greet: {{intents: [greet], says: "Hi!"}}
"""
TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = f"00-{TRACE}-b7ad6b7169203331-01"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(parley's base URL, the webhook's base URL)."""
    with running() as webhook:
        bot = write_bot(tmp_path / "obs", BOT.format(base=webhook))
        with serve([bot], Settings(database_url=f"sqlite:///{tmp_path}/p.db")) as base:
            yield base, webhook


def say(base: str, text: str, conversation: str = "c1", **headers: str) -> httpx.Response:
    body = {"conversation_id": conversation, "message": {"type": "text", "content": text}}
    response = httpx.post(f"{base}/api/v1/bots/obs/dialog", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(base: str) -> Samples:
    response = httpx.get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_metrics_move_after_turns_and_a_failed_call(server: tuple[str, str]) -> None:
    base, webhook = server
    before = samples(base)
    assert value(before, "parley_turns_total", bot="obs", state="bot") == 0
    assert value(before, "parley_turns_in_flight") == 0
    say(base, "show what you got")
    say(base, "break it")
    say(base, "hello")
    after = samples(base)
    assert value(after, "parley_turns_total", bot="obs", state="bot") == 3
    assert value(after, "parley_turn_seconds_count", bot="obs") == 3
    assert value(after, "parley_turns_in_flight") == 0
    ok = {"bot": "obs", "kind": "webhook", "dialect": "haptik"}
    assert value(after, "parley_calls_total", node="echo", status="200", **ok) == 1
    assert value(after, "parley_calls_total", node="broken", status="500", **ok) == 1
    assert value(after, "parley_call_seconds_count", **ok) == 2
    endpoint = f"{webhook}/500"  # scheme://host:port/path
    assert value(after, "parley_breaker_open", bot="obs", endpoint=endpoint) == 1

    say(base, "break it")  # the breaker is open: no status, a fast `error`
    again = samples(base)
    assert value(again, "parley_calls_total", node="broken", status="error", **ok) == 1
    assert not any("c1" in str(labels) for _, labels in again)  # no conversation ids


def test_webhook_gets_a_traceparent_continuing_the_callers_trace(
    server: tuple[str, str],
) -> None:
    base, _ = server
    answer = say(base, "show what you got", traceparent=PARENT).json()
    sent = answer["conversation"]["data"]["received_headers"]["traceparent"]
    version, trace, span, flags = sent.split("-")
    assert (version, trace, flags) == ("00", TRACE, "01")
    assert len(span) == 16 and span != "b7ad6b7169203331" and parse_traceparent(sent)

    first = say(base, "show what you got", "c2").json()
    second = say(base, "show what you got", "c2", traceparent="00-zz-bad-01").json()
    traces = [
        parse_traceparent(a["conversation"]["data"]["received_headers"]["traceparent"])
        for a in (first, second)
    ]
    assert traces[0] and traces[1] and traces[0].trace_id != traces[1].trace_id != TRACE


def test_request_id_is_echoed_or_made(server: tuple[str, str]) -> None:
    base, _ = server
    assert say(base, "hello", **{"X-Request-ID": "req-42"}).headers["x-request-id"] == "req-42"
    made = say(base, "hello").headers["x-request-id"]
    assert len(made) == 32 and made != "req-42"
    hostile = say(base, "hello", **{"X-Request-ID": "a b\tc"}).headers["x-request-id"]
    assert hostile != "a b\tc" and len(hostile) == 32
    health = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "h1"})
    assert health.headers["x-request-id"] == "h1"


def test_json_log_lines_carry_the_turn(server: tuple[str, str]) -> None:
    base, _ = server
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("parley")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        answer = say(base, "show what you got", "c9", **{"X-Request-ID": "r-9"}).json()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    turn = [line for line in lines if line["logger"] == "parley.turn"]
    assert len(turn) == 1
    entry: dict[str, Any] = turn[0]
    assert entry["turn_id"] == answer["turn_id"]
    assert entry["request_id"] == "r-9"
    assert (entry["bot"], entry["conversation_id"], entry["level"]) == ("obs", "c9", "info")
    assert entry["message"].startswith("turn bot=obs conversation=c9")
    assert entry["time"].endswith("Z") and len(entry["trace_id"]) == 32


def test_parley_run_log_format_json(tmp_path: Path) -> None:
    bot = write_bot(tmp_path / "hi", "name: hi\nintents: {greet: {examples: [hello]}}\n"
                    "nodes: {greet: {intents: [greet], says: Hi}}\n")  # fmt: skip
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PARLEY_LOG_FORMAT": "json"}
    args = [sys.executable, "-c", "from parley.cli import main; main()", "run", str(bot)]
    args += ["--port", str(port), "--database", f"sqlite:///{tmp_path}/p.db"]
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        for _ in range(300):
            assert process.poll() is None, "parley run exited early"
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/bots/hi/dialog",
            json={"conversation_id": "x", "message": {"content": "hello"}},
            headers={"X-Request-ID": "cli-1"},
        ).json()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert lines, err
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    turn = [line for line in lines if line["logger"] == "parley.turn"]
    assert turn and turn[0]["turn_id"] == answer["turn_id"] and turn[0]["request_id"] == "cli-1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
        f"00-{'0' * 32}-b7ad6b7169203331-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"ff-{TRACE}-b7ad6b7169203331-01",
        f"00-{TRACE.upper()}-b7ad6b7169203331-01",
        f"{PARENT}-extra",
    ],
)
def test_invalid_traceparents_start_a_new_trace(header: str | None) -> None:
    assert parse_traceparent(header) is None


def test_future_versions_may_carry_more_fields() -> None:
    parsed = parse_traceparent(f"01-{TRACE}-b7ad6b7169203331-00-more")
    assert parsed is not None and parsed.trace_id == TRACE and parsed.flags == "00"


def test_text_log_lines_match_the_stock_formatter_across_seconds() -> None:
    """TextFormatter caches the formatted second; its lines must equal logging's own."""
    ours, stock = TextFormatter(), logging.Formatter(TEXT_FORMAT)
    for created in (1_700_000_000.001, 1_700_000_000.999, 1_700_000_001.5, 1_600_000_000.25):
        record = logging.LogRecord("parley.turn", logging.INFO, "f.py", 1, "turn %s", ("x",), None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == stock.format(record)
