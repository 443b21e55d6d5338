"""Drives turns with real I/O: locks, storage, NLU, the engine and the callers."""

from parley.runtime.callers import Callers
from parley.runtime.runner import Inbound, LiveBot, Reply, Runtime, TurnOutput, dialog_answer

__all__ = ["Callers", "Inbound", "LiveBot", "Reply", "Runtime", "TurnOutput", "dialog_answer"]
