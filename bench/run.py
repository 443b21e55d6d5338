"""One benchmark run: the webhook and every target up at once, then each concurrency level
measured on each target back to back, so drift on a shared machine hits both alike.

Env knobs:
  DURATION       seconds per level (15)
  CONCURRENCIES  levels, concurrent conversations ("1 16 128")
  MAX_MESSAGES   message budget per level (100000)
  TURNS          messages per conversation before a fresh conversation_id (10)
  WARMUP         unmeasured seconds before each level (2)
  TARGETS        what to measure ("parley bare")
  DATABASE       parley's store: "sqlite" (a fresh file), "postgresql" (a fresh database on
                 BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432, dropped after)
                 or "memory" (a diagnostic)
  WORKERS        parley's `--workers` (1); more than one also needs REDIS
  REDIS          parley's `--redis` URL (none)
  PYSPY=1        py-spy profiles of each target's GIL-holding thread per level, beside the
                 results; py-spy takes CPU from the run, so quote no numbers from it
Progress goes to stderr, the tables to stdout, everything to
bench/results/<stamp>/result.json with the services' logs beside it.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType

from bench import report
from bench.load import Level, Plan, answer_sniffio_locally, measure, open_clients, smoke
from bench.procfs import tree_rss_kb
from bench.services import Service, ServiceError, Services, free_port, wait_healthy
from bench.workload import DIALOG_PATH, HEALTH_PATH, WEBHOOK_PATH

ROOT = Path(__file__).resolve().parent.parent
BOT_DIR = ROOT / "bench" / "bot"
RESULTS = ROOT / "bench" / "results"
TARGETS = ("parley", "bare")
DATABASES = ("sqlite", "postgresql", "memory")
_STARTUP_TIMEOUT_S = 60.0
_PROFILER_GRACE_S = 15.0


@dataclass(frozen=True)
class Knobs:
    duration_s: float = 15.0
    concurrencies: tuple[int, ...] = (1, 16, 128)
    max_messages: int = 100_000
    turns: int = 10
    warmup_s: float = 2.0
    targets: tuple[str, ...] = TARGETS
    database: str = "sqlite"
    workers: int = 1
    redis: str = ""
    pyspy: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Knobs:
        default = cls()
        targets = tuple(env.get("TARGETS", " ".join(default.targets)).split())
        if not targets:
            raise SystemExit("TARGETS is empty")
        for target in targets:
            _one_of(target, TARGETS, "TARGETS")
        concurrencies = env.get("CONCURRENCIES", " ".join(map(str, default.concurrencies)))
        return cls(
            duration_s=float(env.get("DURATION", default.duration_s)),
            concurrencies=tuple(int(c) for c in concurrencies.split()),
            max_messages=int(env.get("MAX_MESSAGES", default.max_messages)),
            turns=int(env.get("TURNS", default.turns)),
            warmup_s=float(env.get("WARMUP", default.warmup_s)),
            targets=targets,
            database=_one_of(env.get("DATABASE", default.database), DATABASES, "DATABASE"),
            workers=int(env.get("WORKERS", default.workers)),
            redis=env.get("REDIS", default.redis),
            pyspy=env.get("PYSPY", "0") == "1",
        )

    def plans(self) -> list[Plan]:
        return [
            Plan(c, self.duration_s, self.max_messages, self.turns, self.warmup_s)
            for c in self.concurrencies
        ]


def _one_of(value: str, allowed: Sequence[str], knob: str) -> str:
    if value not in allowed:
        raise SystemExit(f"{knob}: {value!r} is not one of {' '.join(allowed)}")
    return value


@dataclass
class Target:
    name: str
    service: Service
    startup_s: float
    idle_rss_mb: float

    @property
    def dialog_url(self) -> str:
        return self.service.base_url + DIALOG_PATH


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class Bench:
    def __init__(self, knobs: Knobs, services: Services, workdir: Path, outdir: Path) -> None:
        self.knobs, self.services, self.workdir, self.outdir = knobs, services, workdir, outdir
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}

    def database_url(self) -> str:
        if self.knobs.database == "sqlite":
            return f"sqlite:///{self.workdir / 'bench.db'}"
        if self.knobs.database == "postgresql":
            return self.services.scratch_postgres(
                os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
            )
        return "memory://"

    def _start(self, name: str, argv: list[str], port: int) -> tuple[Service, float]:
        service = self.services.start(name, argv, port, self.outdir / f"{name}.log", self.env)
        return service, wait_healthy(service, HEALTH_PATH, _STARTUP_TIMEOUT_S)

    def webhook(self) -> Service:
        port = free_port()
        argv = [sys.executable, "-m", "bench.webhook", "--port", str(port)]
        service, _ = self._start("webhook", argv, port)
        self.env["BENCH_WEBHOOK_URL"] = service.base_url + WEBHOOK_PATH
        return service

    def target(self, name: str) -> Target:
        port = free_port()
        if name == "parley":
            parley = Path(sys.executable).parent / "parley"  # the venv's console script
            database = self.database_url()
            argv = [str(parley), "run", str(BOT_DIR), "--port", str(port), "--database", database]
            if self.knobs.workers != 1:
                argv += ["--workers", str(self.knobs.workers)]
            if self.knobs.redis:
                argv += ["--redis", self.knobs.redis]
        else:
            webhook_url = self.env["BENCH_WEBHOOK_URL"]
            argv = [sys.executable, "-m", "bench.bare", "--port", str(port)]
            argv += ["--webhook-url", webhook_url]
        service, startup_s = self._start(name, argv, port)
        asyncio.run(smoke(service.base_url + DIALOG_PATH))
        idle_mb = round(tree_rss_kb(service.pid) / 1024, 1)
        _log(f"{name} ready in {startup_s:.2f} s, idle RSS {idle_mb} MB, pid {service.pid}")
        return Target(name, service, startup_s, idle_mb)

    async def drive(self, targets: Sequence[Target], webhook: Service) -> dict[str, list[Level]]:
        plans = self.knobs.plans()
        count = max(p.concurrency for p in plans)
        levels: dict[str, list[Level]] = {t.name: [] for t in targets}
        async with AsyncExitStack() as stack:
            clients = {
                t.name: await open_clients(stack, t.dialog_url, count, plans[0].request_timeout_s)
                for t in targets
            }
            for n, plan in enumerate(plans):
                for target in targets if n % 2 == 0 else reversed(targets):
                    pids = {report.SERVER: target.service.pid, report.WEBHOOK: webhook.pid}
                    profiler = self._profile(target, plan) if self.knobs.pyspy else None
                    level = await measure(clients[target.name], target.dialog_url, plan, pids)
                    if profiler is not None:
                        self.services.finish(profiler, _PROFILER_GRACE_S)
                    levels[target.name].append(level)
                    _progress(target.name, level)
        return levels

    def _profile(self, target: Target, plan: Plan) -> Service:
        pyspy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        if pyspy is None:
            raise SystemExit("PYSPY=1 needs py-spy: .venv/bin/pip install py-spy")
        name = f"pyspy-{target.name}-c{plan.concurrency}"
        seconds = math.ceil(plan.warmup_s + plan.duration_s)
        argv = [pyspy, "record", "-p", str(target.service.pid), "-d", str(seconds), "-r", "100"]
        argv += ["--gil", "--nonblocking", "-f", "raw", "-o", str(self.outdir / f"{name}.txt")]
        return self.services.start(name, argv, 0, self.outdir / f"{name}.log", self.env)


def _progress(name: str, level: Level) -> None:
    first_error = f"; first: {level.error_samples[0]}" if level.error_samples else ""
    _log(f"{name} c={level.concurrency}: {level.turns_per_s} turns/s, "
         f"p50 {level.latency_ms['p50']} ms, {level.errors} errors{first_error}")  # fmt: skip


def _run(knobs: Knobs, outdir: Path) -> list[report.TargetRun]:
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp, Services() as services:
        bench = Bench(knobs, services, Path(tmp), outdir)
        webhook = bench.webhook()
        targets = [bench.target(name) for name in knobs.targets]
        levels = asyncio.run(bench.drive(targets, webhook))
    return [report.TargetRun(t.name, t.startup_s, t.idle_rss_mb, levels[t.name]) for t in targets]


def main() -> int:
    # Ctrl-C and TERM take one way out, even when started with SIGINT ignored (`cmd &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    knobs = Knobs.from_env(os.environ)
    answer_sniffio_locally()
    outdir = RESULTS / time.strftime("%Y%m%d-%H%M%S")
    outdir.mkdir(parents=True, exist_ok=True)
    _log(f"{knobs}; logs in {outdir}")
    machine = report.machine()
    try:
        runs = _run(knobs, outdir)
    except (ServiceError, RuntimeError) as exc:
        _log(f"failed: {exc}")
        return 1
    except KeyboardInterrupt:
        _log("interrupted; every process the bench started is stopped")
        return 130
    ratios = report.ratios({run.name: run for run in runs})
    document = {
        "machine": {**machine, "loadavg_end": os.getloadavg()},
        "knobs": asdict(knobs),
        "targets": {run.name: run.to_json() for run in runs},
        "ratio_parley_bare": ratios,
    }
    result = outdir / "result.json"
    result.write_text(json.dumps(document, indent=2) + "\n")
    print(report.table(runs))
    print()
    print(report.ratio_lines(ratios))
    print(f"\nresults: {result.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
