"""A bot's graph, prepared once for every turn: which node answers which intent."""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.bot.schema import BotSpec, NodeSpec
from parley.engine.templates import Templates


@dataclass
class Flow:
    """The immutable, per-bot part of the engine. Build it once when a bot is loaded."""

    spec: BotSpec
    templates: Templates = field(default_factory=Templates)
    by_intent: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_intent = {}
        for name, node in self.spec.nodes.items():
            for intent in node.intents:
                self.by_intent.setdefault(intent, name)

    @property
    def name(self) -> str:
        return self.spec.name

    def node(self, name: str) -> NodeSpec:
        return self.spec.nodes[name]
