"""Drives turns with real I/O: locks, storage, NLU, the engine and the callers."""

from parley.runtime.callers import Callers
from parley.runtime.runner import Inbound, LiveBot, Runtime, TurnOutput

__all__ = ["Callers", "Inbound", "LiveBot", "Runtime", "TurnOutput"]
