"""What a process costs, read from /proc (Linux): resident memory and CPU time."""

from __future__ import annotations

import os

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    """Resident set size of `pid` in KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid: int) -> float:
    """User + system CPU time of `pid` (all its threads) in seconds; 0.0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def tree(pid: int) -> list[int]:
    """`pid` and every process descended from it (a server's workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def tree_rss_kb(pid: int) -> int:
    """`rss_kb` of `pid` and its descendants together."""
    return sum(rss_kb(p) for p in tree(pid))


def tree_cpu_s(pid: int) -> float:
    """`cpu_s` of `pid` and its living descendants together (an exited worker's time is
    counted in its parent's only once the parent reaps it)."""
    return sum(cpu_s(p) for p in tree(pid))
