"""The dialogue engine: routes a message to a node, collects entities, asks for business
logic through `Call`s and merges the `Outcome`s. No I/O: see `turn.run_turn`."""

from parley.engine.flow import Flow
from parley.engine.templates import TemplateFailed, Templates, variables
from parley.engine.turn import Turn, run_turn

__all__ = ["Flow", "TemplateFailed", "Templates", "Turn", "run_turn", "variables"]
