"""``reflexarc bench planner``: time to first action over loopback gRPC, and plans per second.

A real planner server runs in a subprocess (``reflexarc serve --port 0``, embedded backend), so the
clients' Python does not share its interpreter lock. Each client opens a Session, sends Hello with the
seed home, then sends commands one after another (the three seed utterances and a compound one); the
time to first action (TTFA) is from sending a Command to receiving its first Step, and a plan counts
as done when all its steps have arrived. Rows for 1, 8 and 64 concurrent clients; the top-level
``ttfa_ms_*`` come from the single-client row (the latency a person feels), ``plans_per_s`` and
``concurrency`` from the row with the highest throughput.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

from cloud_planner.client import PlannerClient
from reflexarc.scene_graph import SceneGraph

__all__ = ["BENCH_UTTERANCES", "bench_planner", "start_server_process"]

_log = logging.getLogger(__name__)

BENCH_UTTERANCES = (
    "bring me the red cup from the kitchen",
    "주방에 가서 빨간 컵 가져와",
    "거실을 청소해줘",
    "clean the living room and then bring me the red cup",
)
_CONCURRENCY = (1, 8, 64)


@dataclass
class _ClientResult:
    ttfa_ms: list[float]
    plans: int
    errors: int


def start_server_process(extra_args: tuple[str, ...] = (), timeout_s: float = 30.0) -> tuple[subprocess.Popen, str]:
    """Start ``reflexarc serve --port 0`` and return the process and the address it printed."""
    cmd = [sys.executable, "-m", "reflexarc.cli", "serve", "--port", "0", *extra_args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("listening on "):
            return proc, line.split("listening on ", 1)[1].strip()
    proc.kill()
    raise RuntimeError("planner server did not report its address")


def _run_client(address: str, scene: SceneGraph, n_plans: int, warmup: int, start: threading.Barrier,
                result: list[_ClientResult], index: int) -> None:
    ttfa: list[float] = []
    errors = 0
    plans = 0
    with PlannerClient(address) as client, client.session() as session:
        session.hello(f"bench{index}", scene)
        session.receive(timeout=30)
        for i in range(warmup + n_plans):
            if i == warmup:
                start.wait()
            text = BENCH_UTTERANCES[(i + index) % len(BENCH_UTTERANCES)]
            t0 = time.perf_counter()
            session.command(text, command_id=f"{index}-{i}")
            try:
                header = next(m for m in iter(lambda: session.receive(timeout=30), None)
                              if m.WhichOneof("message") in ("header", "reject"))
                if header.WhichOneof("message") == "reject":
                    errors += 1
                    continue
                got = 0
                while got < header.header.total_steps:
                    message = session.receive(timeout=30)
                    if message.WhichOneof("message") == "step":
                        if got == 0 and i >= warmup:
                            ttfa.append((time.perf_counter() - t0) * 1000.0)
                        got += 1
                if i >= warmup:
                    plans += 1
            except (TimeoutError, RuntimeError):
                errors += 1
    result[index] = _ClientResult(ttfa, plans, errors)


def _measure(address: str, scene: SceneGraph, concurrency: int, plans_per_client: int) -> dict:
    results: list[_ClientResult] = [_ClientResult([], 0, 0)] * concurrency
    start = threading.Barrier(concurrency + 1)
    threads = [
        threading.Thread(target=_run_client, args=(address, scene, plans_per_client, 3, start, results, i), daemon=True)
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    ttfa = np.array([t for r in results for t in r.ttfa_ms]) if any(r.ttfa_ms for r in results) else np.array([0.0])
    plans = sum(r.plans for r in results)
    return {
        "concurrency": concurrency,
        "n": int(plans),
        "ttfa_ms_p50": round(float(np.percentile(ttfa, 50)), 3),
        "ttfa_ms_p99": round(float(np.percentile(ttfa, 99)), 3),
        "plans_per_s": round(plans / wall, 1) if wall > 0 else 0.0,
        "errors": int(sum(r.errors for r in results)),
    }


def bench_planner(args: argparse.Namespace) -> dict:
    """Run the benchmark; returns the DESIGN.md ``bench planner`` JSON plus per-concurrency rows."""
    from sim.home_layout import load_home_layout

    quick = bool(getattr(args, "quick", False))
    scene = load_home_layout().scene_graph()
    budget = 60 if quick else 600  # plans per concurrency level
    proc, address = start_server_process()
    try:
        rows = [_measure(address, scene, c, max(3, budget // c)) for c in _CONCURRENCY]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    single = rows[0]
    best = max(rows, key=lambda r: r["plans_per_s"])
    return {
        "ttfa_ms_p50": single["ttfa_ms_p50"],
        "ttfa_ms_p99": single["ttfa_ms_p99"],
        "plans_per_s": best["plans_per_s"],
        "concurrency": best["concurrency"],
        "backend": "embedded",
        "transport": "gRPC over loopback, server in a separate process",
        "rows": rows,
    }
