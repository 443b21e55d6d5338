"""The node graph: intents and nodes named by reference exist, and every node can be reached."""

from __future__ import annotations

from collections.abc import Iterator

from parley.bot.hints import did_you_mean
from parley.bot.schema import BotSpec, NodeSpec
from parley.bot.source import KeyPath, SourceMap
from parley.errors import Problem


def check_graph(spec: BotSpec, source: SourceMap) -> list[Problem]:
    out: list[Problem] = []
    for name, node in spec.nodes.items():
        for index, intent in enumerate(node.intents):
            if intent not in spec.intents:
                hint = did_you_mean(intent, spec.intents)
                message = f"unknown intent `{intent}`{hint}"
                out.append(source.problem(("nodes", name, "intents", index), message))
        for path, target in _links(name, node):
            if target not in spec.nodes:
                hint = did_you_mean(target, spec.nodes)
                out.append(source.problem(path, f"unknown node `{target}`{hint}"))
        if node.event is not None and spec.webhook is None:
            message = "an `event` calls the bot-level `webhook:`, and this bot has none"
            out.append(source.problem(("nodes", name, "event"), message))
    if spec.start is not None and spec.start not in spec.nodes:
        hint = did_you_mean(spec.start, spec.nodes)
        out.append(source.problem(("start",), f"unknown node `{spec.start}`{hint}"))
    reached = reachable(spec)
    for name in spec.nodes:
        if name not in reached:
            message = "unreachable: no intent, `start`, `next` or HTTP branch leads to this node"
            out.append(source.problem(("nodes", name), message))
    return out


def reachable(spec: BotSpec) -> set[str]:
    """Nodes reached from an entry point (a node with intents, or `start`) through `next`."""
    todo = [name for name, node in spec.nodes.items() if node.intents]
    if spec.start in spec.nodes:
        todo.append(spec.start)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(target for _, target in _links(name, spec.nodes[name]) if target in spec.nodes)
    return seen


def _links(name: str, node: NodeSpec) -> Iterator[tuple[KeyPath, str]]:
    """The nodes this node can lead to: `next` and the HTTP block's branches."""
    for index, step in enumerate(node.next):
        yield ("nodes", name, "next", index, "node"), step.node
    if node.http is not None:
        for branch in ("on_success", "on_failure"):
            target = getattr(node.http, branch)
            if target is not None:
                yield ("nodes", name, "http", branch), target
