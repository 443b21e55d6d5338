"""Where a server's time goes, from a py-spy raw profile (`py-spy record -f raw`).

    python -m bench.hotspots bench/results/<stamp>/pyspy-parley-c16.txt [--top 15]

Prints the share of samples per layer (the first matching rule wins, top to bottom), then
the functions with the most samples of their own and the parley functions with the most
samples under them.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("storage: parley/storage, SQLAlchemy, aiosqlite",
     ("parley/storage/", "sqlalchemy/", "aiosqlite/")),
    ("webhook call: parley/webhooks, httpx, httpcore",
     ("parley/webhooks/", "httpx/", "httpcore/")),
    ("NLU: parley/nlu", ("parley/nlu/",)),
    ("engine: parley/engine", ("parley/engine/",)),
    ("logging", ("logging/",)),
    ("rest of the turn: parley/runtime", ("parley/runtime/",)),
    ("dialog endpoint: parley/server/dialog.py", ("parley/server/dialog.py",)),
    ("FastAPI / Starlette, middleware", ("fastapi/", "starlette/", "parley/server/")),
    ("uvicorn + h11", ("uvicorn/protocols/", "h11/")),
)  # fmt: skip
OTHER = "event loop, other"
_FRAME = re.compile(r"(?P<function>.*) \((?P<file>.*):\d+\)$")
_PREFIXES = (re.compile(r".*/site-packages/"), re.compile(r".*/src/(?=parley/)"))


def stacks(lines: Iterable[str]) -> Iterator[tuple[list[str], int]]:
    """(frames outermost first as `file:function`, samples) per line of a raw profile."""
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            yield [_short(frame) for frame in stack.split(";")], int(count)


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for prefix in _PREFIXES:
        path = prefix.sub("", path)
    return f"{path}:{match['function']}"


def layer(frames: list[str]) -> str:
    joined = ";".join(frames)
    return next(
        (name for name, keys in LAYERS if any(k in joined for k in keys)), "event loop, other"
    )


def summary(path: Path, top: int) -> str:
    layers: Counter[str] = Counter()
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for frames, count in stacks(path.read_text().splitlines()):
        total += count
        layers[layer(frames)] += count
        own[frames[-1]] += count
        for frame in set(frames):
            if frame.startswith("parley/") and not frame.startswith("parley/cli/"):
                under[frame] += count
    if not total:
        return f"{path}: no samples"
    out = [f"{path}: {total} samples", "", "by layer:"]
    out += [f"{100 * n / total:6.1f}%  {name}" for name, n in layers.most_common()]
    out += ["", "own samples:"]
    out += [f"{100 * n / total:6.1f}%  {name}" for name, n in own.most_common(top)]
    out += ["", "parley functions, samples under them:"]
    out += [f"{100 * n / total:6.1f}%  {name}" for name, n in under.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(summary(args.profile, args.top))


if __name__ == "__main__":
    main()
