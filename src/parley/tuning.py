"""Process settings for a long-running server: `parley run`'s and its workers'."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Fewer, cheaper garbage collections: everything loaded so far (modules, bots, the app)
    moves out of the collector's sight, and a young collection waits for 50,000 new objects
    instead of 700. With thousands of turns in flight, the default spent about a fifth of
    parley's CPU in collections (bench/many.py, py-spy)."""
    gc.freeze()  # no collection first: at start-up it finds nothing and costs 40 ms
    gc.set_threshold(50_000, 50, 100)
