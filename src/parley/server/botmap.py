"""A bot's nodes as a graph for the console's map, with `parley check` problems on their node."""

from __future__ import annotations

from typing import Any

from parley.bot.schema import BotSpec, NodeSpec, Say
from parley.errors import Problem
from parley.webhooks.redact import mask_url


def bot_map(spec: BotSpec, problems: list[Problem]) -> dict[str, Any]:
    """`nodes` in bot.yaml order with their triggers, slots, integration, transitions and
    problems; `problems` keeps those that concern no node."""
    by_node: dict[str, list[dict[str, Any]]] = {name: [] for name in spec.nodes}
    general: list[dict[str, Any]] = []
    for problem in problems:
        node = node_of(problem.key)
        by_node.get(node or "", general).append(problem_json(problem))
    start = spec.start or next(iter(spec.nodes), None)
    return {
        "bot": spec.name,
        "start": start,
        "nodes": [
            _node(name, node, name == start, by_node[name]) for name, node in spec.nodes.items()
        ],
        "problems": general,
    }


def node_of(key: str) -> str | None:
    """`nodes.ask.webhook.url` -> `ask`; None for a key outside `nodes`."""
    parts = key.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "nodes" else None


def problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "key": problem.key,
        "message": problem.message,
    }


def _node(name: str, node: NodeSpec, start: bool, problems: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "start": start,
        "intents": node.intents,
        "entities": [
            {"name": entity, "required": slot.required, "sources": slot.sources}
            for entity, slot in node.entities.items()
        ],
        "says": [_say(say) for say in node.says],
        "integration": _integration(node),
        "next": [{"node": step.node, "if": step.if_} for step in node.next],
        "end": node.end,
        "problems": problems,
    }


def _integration(node: NodeSpec) -> dict[str, Any] | None:
    if node.webhook is not None:
        hook = node.webhook
        target = hook.path if hook.url is None else mask_url(hook.url)
        return {
            "kind": "webhook",
            "dialect": hook.dialect,
            "method": hook.method,
            "target": target,
            "signed": bool(hook.signing_secrets),
            "template": hook.template,
        }
    if node.http is not None:
        return {
            "kind": "http",
            "dialect": "http",
            "method": node.http.method,
            "target": mask_url(node.http.url),
            "on_success": node.http.on_success,
            "on_failure": node.http.on_failure,
        }
    if node.event is not None:
        return {"kind": "event", "dialect": "aimylogic", "target": node.event}
    if node.code is not None:
        target = node.code.file or "inline main()"
        return {"kind": "code", "dialect": "haptik", "target": target}
    return None


def _say(say: Say) -> str:
    if isinstance(say, str):
        return say
    if hasattr(say, "response"):
        return f"@{say.response}"
    return f"[{say.type}]"
