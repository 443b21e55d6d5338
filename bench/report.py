"""The run's outputs: a Markdown table for people, a JSON document for tools."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.load import LOAD, Level

SERVER = "server"
WEBHOOK = "webhook"
TARGET_RATIO = 0.5
RATIO_LEVELS = (16, 128)  # where parley must reach TARGET_RATIO of the bare throughput

_HEADER = (
    "| target | concurrency | turns/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MB "
    "| CPU ms/turn | webhook + load gen CPU ms/turn |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


@dataclass
class TargetRun:
    name: str
    startup_s: float
    idle_rss_mb: float
    levels: list[Level]

    def to_json(self) -> dict[str, Any]:
        return {
            "startup_s": round(self.startup_s, 2),
            "idle_rss_mb": self.idle_rss_mb,
            "levels": [level.to_json() for level in self.levels],
        }


def machine() -> dict[str, Any]:
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg": os.getloadavg(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ratios(runs: Mapping[str, TargetRun]) -> dict[int, float | None]:
    """parley's throughput over the bare pass-through's, per concurrency both ran."""
    if "parley" not in runs or "bare" not in runs:
        return {}
    bare = {level.concurrency: level.turns_per_s for level in runs["bare"].levels}
    out: dict[int, float | None] = {}
    for level in runs["parley"].levels:
        floor = bare.get(level.concurrency)
        if floor is not None:
            out[level.concurrency] = round(level.turns_per_s / floor, 3) if floor else None
    return out


def table(runs: Sequence[TargetRun]) -> str:
    rows = [_HEADER]
    for run in runs:
        for level in run.levels:
            rows.append(_row(run.name, level))
    return "\n".join(rows)


def _row(name: str, level: Level) -> str:
    cpu = level.cpu_ms_per_turn
    others = [cpu.get(WEBHOOK), cpu.get(LOAD)]
    cells = [
        name,
        str(level.concurrency),
        f"{level.turns_per_s:.1f}",
        *(_num(level.latency_ms[p]) for p in ("p50", "p95", "p99")),
        str(level.errors),
        _num(level.peak_rss_mb.get(SERVER)),
        _num(cpu.get(SERVER), 2),
        " + ".join(_num(v, 2) for v in others),
    ]
    return "| " + " | ".join(cells) + " |"


def ratio_lines(found: Mapping[int, float | None]) -> str:
    if not found:
        return "ratio parley/bare: needs both targets"
    lines = ["| concurrency | parley/bare turns/s | target |", "|---:|---:|---|"]
    for concurrency, ratio in found.items():
        target = ""
        if concurrency in RATIO_LEVELS:
            met = ratio is not None and ratio >= TARGET_RATIO
            target = f"≥ {TARGET_RATIO}: {'met' if met else 'MISSED'}"
        lines.append(f"| {concurrency} | {_num(ratio, 2)} | {target} |")
    return "\n".join(lines)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
