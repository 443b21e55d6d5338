"""parley side by side with the Rasa 3.6 peer (../shared/bench/peers/rasa), one command:

    ./bench/rasa                          # Rasa (DIET), then parley; c = 1 8 64, 25 s each
    RASA=skip ./bench/rasa                # parley only
    CONCURRENCIES="8" DURATION=10 ./bench/rasa

Both run the peer's scenario with the peer's own parts: its load generator
(`bench_load.py`: closed loop, replies checked word for word), its rasa-sdk action server
with `action_price`, and its business webhook. Rasa runs through the peer's `run.sh`
(which installs Rasa in a Python 3.10 venv on first use). parley serves, on SQLite through
Rasa's REST channel, two ports of the assistant in turn: `bench/rasa_bot` calls the same
action server (a Rasa project moved as it is), `bench/rasa_native` has the custom logic in
bot.yaml (an HTTP block to the business webhook: no action server).

Env knobs: CONCURRENCIES ("1 8 64"), DURATION (25), MAX_MESSAGES (200000), TURNS (10),
PIPELINE (diet|keyword, Rasa's), RASA (run|skip), VARIANTS ("parley parley-native"), WORKERS
(parley's `--workers`, 1; more than one also needs REDIS, parley's `--redis` URL), PEER_DIR,
RASA_VENV.
Progress goes to stderr; a table and bench/results/<stamp>-rasa/result.json at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.procfs import rss_kb
from bench.services import Service, Services, free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
PEER = Path(os.environ.get("PEER_DIR", ROOT.parent / "shared" / "bench" / "peers" / "rasa"))
VENV = Path(
    os.environ.get("RASA_VENV")
    or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "parley-peers/rasa-venv"
)
RESULTS = ROOT / "bench" / "results"
VARIANTS = {  # name: (bot folder, bot name, calls the action server)
    "parley": (ROOT / "bench" / "rasa_bot", "rasa_peer", True),
    "parley-native": (ROOT / "bench" / "rasa_native", "rasa_native", False),
}


def _log(message: str) -> None:
    print(f"[bench-rasa] {message}", file=sys.stderr, flush=True)


def _knobs() -> dict[str, str]:
    env = os.environ
    return {
        "CONCURRENCIES": env.get("CONCURRENCIES", "1 8 64"),
        "DURATION": env.get("DURATION", "25"),
        "MAX_MESSAGES": env.get("MAX_MESSAGES", "200000"),
        "TURNS": env.get("TURNS", "10"),
        "PIPELINE": env.get("PIPELINE", "diet"),
    }


def run_rasa(knobs: dict[str, str]) -> dict[str, Any]:
    """The peer's own run.sh; its last stdout line is its summary."""
    _log("Rasa: the peer's run.sh (first use installs Rasa: ~3.5 min)")
    env = {**os.environ, **knobs, "RASA_VENV": str(VENV)}
    done = subprocess.run(
        ["bash", str(PEER / "run.sh")], env=env, stdout=subprocess.PIPE, check=True, text=True
    )
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


class Parley:
    """The peer's webhook and action server, and parley in front of them, on loopback."""

    def __init__(self, services: Services, workdir: Path, outdir: Path) -> None:
        self.services, self.workdir, self.outdir = services, workdir, outdir
        self.peer = workdir / "peer"
        shutil.copytree(PEER, self.peer, ignore=shutil.ignore_patterns("results", "models"))
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "RASA_TELEMETRY_ENABLED": "false"}

    def start(self, variant: str) -> tuple[dict[str, int], str, float]:
        """(pids by name, the channel URL, start-up seconds until parley answers a price)."""
        bot_dir, bot, with_actions = VARIANTS[variant]
        py = str(VENV / "bin" / "python")
        hook_port, action_port, port = free_port(), free_port(), free_port()
        self.env["BENCH_WEBHOOK_PORT"] = str(hook_port)
        self.env["BENCH_BUSINESS_URL"] = f"http://127.0.0.1:{hook_port}/price"
        hook = self._start(
            f"{variant}-webhook", [py, "webhook_server.py", str(hook_port)], hook_port
        )
        wait_healthy(hook, "/health", 30)
        pids = {"parley": 0, "webhook": hook.pid}
        if with_actions:
            action_argv = [py, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)]
            actions = self._start(f"{variant}-action_server", action_argv, action_port)
            wait_healthy(actions, "/health", 120)
            self.env["BENCH_ACTION_URL"] = f"http://127.0.0.1:{action_port}/webhook"
            pids["action_server"] = actions.pid
        parley = str(Path(sys.executable).parent / "parley")
        database = f"sqlite:///{self.workdir / f'{variant}.db'}"
        argv = [parley, "run", str(bot_dir), "--port", str(port), "--database", database]
        if (workers := os.environ.get("WORKERS", "1")) != "1":
            argv += ["--workers", workers, "--redis", os.environ.get("REDIS", "")]
        t0 = time.time()
        server = self._start(variant, argv, port)
        pids["parley"] = server.pid
        url = f"{server.base_url}/api/v1/bots/{bot}/webhooks/rest/webhook"
        ready = self._load_tool(["wait-ready", "--url", url, "--t0", str(t0), "--timeout", "60"])
        return pids, url, float(ready["ready_s"])

    def load(self, url: str, pids: dict[str, int], knobs: dict[str, str], c: int) -> Any:
        argv = ["load", "--url", url, "--concurrency", str(c), "--duration", knobs["DURATION"]]
        argv += ["--max-messages", knobs["MAX_MESSAGES"], "--turns-per-sender", knobs["TURNS"]]
        argv += ["--mix", "price", "--tag", "parley"]
        argv += [f"--pid={name}={pid}" for name, pid in pids.items()]
        return self._load_tool(argv)

    def _start(self, name: str, argv: list[str], port: int) -> Service:
        log = self.outdir / f"{name}.log"
        with contextlib.chdir(self.peer):
            return self.services.start(name, argv, port, log, self.env)

    def _load_tool(self, argv: list[str]) -> Any:
        tool = [sys.executable, str(self.peer / "bench_load.py"), *argv]
        done = subprocess.run(tool, stdout=subprocess.PIPE, check=True, text=True, env=self.env)
        return json.loads(done.stdout.strip().splitlines()[-1])


def run_parley(knobs: dict[str, str], outdir: Path, variant: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="parley-rasa-") as tmp, Services() as services:
        side = Parley(services, Path(tmp), outdir)
        pids, url, ready_s = side.start(variant)
        time.sleep(1)
        idle = {name: round(rss_kb(pid) / 1024, 1) for name, pid in pids.items()}
        _log(f"{variant} ready in {ready_s:.2f} s, idle RSS {idle}")
        runs = []
        for c in knobs["CONCURRENCIES"].split():
            run = side.load(url, pids, knobs, int(c))
            _log(f"{variant} c={c}: {run['throughput_msg_s']} msg/s, p50 "
                 f"{run['latency_ms']['p50']} ms, p99 {run['latency_ms']['p99']} ms, "
                 f"{run['errors']} errors")  # fmt: skip
            runs.append(_row(run))
    return {"startup_s": ready_s, "idle_rss_mb": idle, "runs": runs}


def _row(r: dict[str, Any]) -> dict[str, Any]:
    """One level as the peer's run.sh summarises it."""
    lat = r["latency_ms"]
    return {"c": r["concurrency"], "msg_s": r["throughput_msg_s"], "ok": r["ok"],
            "err": r["errors"], "p50_ms": lat["p50"], "p95_ms": lat["p95"], "p99_ms": lat["p99"],
            "peak_rss_mb": r["peak_rss_mb"], "cpu_ms_per_msg": r["cpu_ms_per_msg"]}  # fmt: skip


def table(name: str, parley: dict[str, Any], rasa: dict[str, Any] | None) -> str:
    lines = [
        f"| c | {name} msg/s | Rasa msg/s | ratio | {name} p50 / p95 / p99 ms | Rasa p50 / p95 /"
        f" p99 ms | p99 ratio | {name} RSS MB | Rasa RSS MB | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    theirs = {r["c"]: r for r in (rasa or {}).get("runs", [])}
    for ours in parley["runs"]:
        peer = theirs.get(ours["c"])
        lat = f"{ours['p50_ms']} / {ours['p95_ms']} / {ours['p99_ms']}"
        rss = ours["peak_rss_mb"]["parley"]
        if peer is None:
            lines.append(f"| {ours['c']} | {ours['msg_s']} | - | - | {lat} | - | - | {rss} | - |"
                         f" {ours['err']} |")  # fmt: skip
            continue
        ratio = round(ours["msg_s"] / peer["msg_s"], 1) if peer["msg_s"] else "-"
        p99 = f"1/{round(peer['p99_ms'] / ours['p99_ms'])}" if ours["p99_ms"] else "-"
        peer_lat = f"{peer['p50_ms']} / {peer['p95_ms']} / {peer['p99_ms']}"
        lines.append(
            f"| {ours['c']} | {ours['msg_s']} | {peer['msg_s']} | {ratio}x | {lat} | {peer_lat} |"
            f" {p99} | {rss} | {peer['peak_rss_mb']['rasa']} | {ours['err']} / {peer['err']} |"
        )
    start = f"start-up until the first answer: {name} {parley['startup_s']} s"
    if rasa is not None:
        start += f", Rasa {rasa['startup_s']} s"
    return "\n".join([*lines, "", start])


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    knobs = _knobs()
    outdir = RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-rasa"
    outdir.mkdir(parents=True)
    rasa = None if os.environ.get("RASA", "run") == "skip" else run_rasa(knobs)
    if not (VENV / "bin" / "python").exists():
        raise SystemExit(f"no Rasa venv at {VENV}: run once without RASA=skip to create it")
    result: dict[str, Any] = {"knobs": knobs, "rasa": rasa}
    variants = os.environ.get("VARIANTS", " ".join(VARIANTS)).split()
    if unknown := set(variants) - set(VARIANTS):
        raise SystemExit(f"VARIANTS: no such variant {sorted(unknown)}; there are {list(VARIANTS)}")
    result["workers"] = os.environ.get("WORKERS", "1")
    for variant in variants:
        result[variant] = run_parley(knobs, outdir, variant)
    (outdir / "result.json").write_text(json.dumps(result, indent=2))
    for variant in variants:
        print(table(variant, result[variant], rasa), end="\n\n")
    _log(f"results in {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
