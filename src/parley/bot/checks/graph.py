"""The node graph: intents and nodes named by reference exist, and every node can be reached."""

from __future__ import annotations

from parley.bot.hints import did_you_mean
from parley.bot.schema import BotSpec
from parley.bot.source import SourceMap
from parley.errors import Problem


def check_graph(spec: BotSpec, source: SourceMap) -> list[Problem]:
    out: list[Problem] = []
    for name, node in spec.nodes.items():
        for index, intent in enumerate(node.intents):
            if intent not in spec.intents:
                hint = did_you_mean(intent, spec.intents)
                message = f"unknown intent `{intent}`{hint}"
                out.append(source.problem(("nodes", name, "intents", index), message))
        for index, step in enumerate(node.next):
            if step.node not in spec.nodes:
                hint = did_you_mean(step.node, spec.nodes)
                message = f"unknown node `{step.node}`{hint}"
                out.append(source.problem(("nodes", name, "next", index, "node"), message))
    if spec.start is not None and spec.start not in spec.nodes:
        hint = did_you_mean(spec.start, spec.nodes)
        out.append(source.problem(("start",), f"unknown node `{spec.start}`{hint}"))
    reached = reachable(spec)
    for name in spec.nodes:
        if name not in reached:
            message = "unreachable: no intent, `start` or `next` leads to this node"
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
        todo.extend(step.node for step in spec.nodes[name].next if step.node in spec.nodes)
    return seen
