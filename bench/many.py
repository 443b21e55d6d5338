"""Many conversations against a slow webhook: does parley keep them all in flight?

    ./bench/many                                   # 5,000 conversations, a 1 s webhook, 20 s
    CONVERSATIONS=1000 DELAY=0.5 DURATION=10 ./bench/many

Every conversation is a closed loop (send, wait for the reply, send again) on its own
keep-alive connection, started over RAMP seconds. With a webhook that takes DELAY seconds
and nothing else costing time, N conversations make N / DELAY turns a second: the ideal.
The run reports what parley achieves against it, the latency (ideal: DELAY), errors, and
the peak RSS and CPU of parley, the webhook and the load generator (all on one machine).

Env knobs: CONVERSATIONS (5000), DELAY (1.0), DURATION (20, measured), RAMP (2),
DATABASE (sqlite|memory), WORKERS (parley's `--workers`, when it has it; default 1),
TARGET (parley|bare: the bench's bare pass-through, the floor, in parley's place).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import LOAD, percentile, process_cpu_s, process_rss_kb
from bench.services import Services, free_port, wait_healthy
from bench.workload import DIALOG_PATH, HEALTH_PATH, MESSAGES, WEBHOOK_PATH

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def _log(message: str) -> None:
    print(f"[bench-many] {message}", file=sys.stderr, flush=True)


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.samples: list[str] = []
        self.measuring = False

    def fail(self, why: str) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(why[:200])


async def conversation(
    session: aiohttp.ClientSession, url: str, n: int, start_at: float, stop_at: float, t: Tally
) -> None:
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    turn = 0
    while time.perf_counter() < stop_at:
        text, expected = MESSAGES[(n + turn) % len(MESSAGES)]
        body = {"conversation_id": f"many-{os.getpid()}-{n}-{turn // 10}",
                "message": {"type": "text", "content": text}}  # fmt: skip
        turn += 1
        started = time.perf_counter()
        try:
            async with session.post(url, json=body) as response:
                answer = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            if t.measuring:
                t.fail(repr(exc))
            continue
        if not t.measuring:
            continue
        texts = [m.get("content") for m in answer.get("messages", [])] if status == 200 else []
        if expected in texts:
            t.latencies.append(time.perf_counter() - started)
        else:
            t.fail(f"HTTP {status}: {str(answer)[:150]}")


async def drive(url: str, n: int, ramp: float, duration: float, pids: dict[str, int]) -> Any:
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=n + 16, limit_per_host=n + 16)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        begin = time.perf_counter()
        warm_until = begin + ramp + 3.0  # every conversation has started and made a turn
        stop_at = warm_until + duration
        tasks = [
            asyncio.create_task(conversation(session, url, i, begin + ramp * i / n, stop_at, tally))
            for i in range(n)
        ]
        await asyncio.sleep(max(0.0, warm_until - time.perf_counter()))
        tally.measuring = True
        cpu0 = {name: process_cpu_s(name, pid) for name, pid in pids.items()}
        peak = {name: process_rss_kb(name, pid) for name, pid in pids.items()}
        started = time.perf_counter()
        while time.perf_counter() < stop_at:
            await asyncio.sleep(0.2)
            for name, pid in pids.items():
                peak[name] = max(peak[name], process_rss_kb(name, pid))
        elapsed = time.perf_counter() - started
        cpu = {name: round(process_cpu_s(name, pid) - cpu0[name], 2) for name, pid in pids.items()}
        tally.measuring = False
        await asyncio.wait(tasks, timeout=90)
    return tally, elapsed, peak, cpu


def main() -> int:
    n = int(os.environ.get("CONVERSATIONS", "5000"))
    delay = float(os.environ.get("DELAY", "1.0"))
    duration = float(os.environ.get("DURATION", "20"))
    ramp = float(os.environ.get("RAMP", "2"))
    database = os.environ.get("DATABASE", "sqlite")
    workers = os.environ.get("WORKERS", "1")
    target = os.environ.get("TARGET", "parley")
    if target not in ("parley", "bare"):
        raise SystemExit(f"TARGET must be parley or bare, not {target!r}")
    outdir = RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-many"
    outdir.mkdir(parents=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT),
           "BENCH_MAX_IN_FLIGHT": str(n + 100), "PARLEY_HTTP_POOL_SIZE": str(n + 100)}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="parley-many-") as tmp, Services() as services:
        hook_port, port = free_port(), free_port()
        hook_argv = [sys.executable, "-m", "bench.webhook", "--port", str(hook_port)]
        hook = services.start(
            "webhook", [*hook_argv, "--delay", str(delay)], hook_port, outdir / "webhook.log", env
        )
        wait_healthy(hook, HEALTH_PATH, 30)
        env["BENCH_WEBHOOK_URL"] = hook.base_url + WEBHOOK_PATH
        db = "memory://" if database == "memory" else f"sqlite:///{tmp}/many.db"
        argv = [str(Path(sys.executable).parent / "parley"), "run", str(ROOT / "bench" / "bot")]
        argv += ["--port", str(port), "--database", db]
        if workers != "1":
            argv += ["--workers", workers]
        if target == "bare":
            argv = [sys.executable, "-m", "bench.bare", "--port", str(port), "--pool", str(n + 100),
                    "--webhook-url", env["BENCH_WEBHOOK_URL"]]  # fmt: skip
        server = services.start(target, argv, port, outdir / f"{target}.log", env)
        wait_healthy(server, HEALTH_PATH, 60)
        pids = {target: server.pid, "webhook": hook.pid, LOAD: os.getpid()}
        _log(f"{n} conversations, webhook {delay} s, ramp {ramp} s, {duration} s measured")
        tally, elapsed, peak, cpu = asyncio.run(
            drive(server.base_url + DIALOG_PATH, n, ramp, duration, pids)
        )
    ok = len(tally.latencies)
    ordered = sorted(tally.latencies)
    ideal = n / delay
    achieved = ok / elapsed
    result = {
        "target": target, "conversations": n, "webhook_delay_s": delay,
        "duration_s": round(elapsed, 2),
        "database": database, "workers": workers,
        "ideal_turns_s": round(ideal, 1), "turns_s": round(achieved, 1),
        "of_ideal": round(achieved / ideal, 3), "ok": ok, "errors": tally.errors,
        "error_samples": tally.samples,
        "latency_ms": {f"p{p}": round(1000 * (percentile(ordered, p) or 0), 1)
                       for p in (50, 95, 99)},
        "peak_rss_mb": {k: round(v / 1024, 1) for k, v in peak.items()},
        "cpu_ms_per_turn": {k: round(v * 1000 / ok, 3) if ok else None for k, v in cpu.items()},
    }  # fmt: skip
    (outdir / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    latency, rss = result["latency_ms"], result["peak_rss_mb"][target]
    _log(f"{achieved:.0f} of an ideal {ideal:.0f} turns/s ({achieved / ideal:.0%}), "
         f"p50 {latency['p50']} ms, p99 {latency['p99']} ms, {target} peak RSS {rss} MB, "
         f"{tally.errors} errors")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
