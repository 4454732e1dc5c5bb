"""``reflexarc bench fleet``: many robot sessions on ONE planner process — latency, memory, errors.

A real planner runs in a subprocess (``reflexarc serve --port 0 --lookahead 0``: one step at a time,
so every step is a round trip and every Progress is a directive the server must answer). This process
plays the fleet with ``grpc.aio`` (one event loop, a few connections of up to 100 streams each, cheap
on two cores): each simulated edge sends Hello, then loops Command -> first Step, Progress -> next
Step (after a simulated execution time per step), Ack(PLAN_COMPLETE), Heartbeat -> Ack, until the
row's time is up. Measured per row (10, 100, 1000 sessions):

- directive latency: Command sent -> first Step received, and Progress sent -> next Step received;
- server RSS (``/proc/<pid>/status`` VmRSS) before the sessions, with all of them open, sampled every
  second during the soak, and its slope in MB/min after the first 10 % (flat memory ~ 0);
- errors: any RPC error, unexpected message or reply later than 10 s (must be zero).

The top-level figures come from the largest row. ``--soak S`` is how long that row runs (default 60 s,
the issue's "1000 sessions for 60 s"); smaller rows run ``min(S, 15)`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cloud_planner.bench_planner import start_server_process
from cloud_planner.channel_options import client_channel_options
from cloud_planner.wire import scene_to_proto
from protos.reflexarc.v1 import plan_pb2, planner_pb2, planner_pb2_grpc

__all__ = ["FleetRow", "bench_fleet", "main", "run_fleet"]

_log = logging.getLogger(__name__)

DEFAULT_SESSIONS = (10, 100, 1000)
DEFAULT_SOAK_S = 60.0
DEFAULT_WARMUP_S = 30.0
STREAMS_PER_CONNECTION = 100
REPLY_TIMEOUT_S = 10.0
_COMMANDS = ("bring me the red cup from the kitchen", "clean the living room", "주방에 가서 빨간 컵 가져와")


@dataclass
class FleetRow:
    """Figures of one fleet size."""

    sessions: int
    duration_s: float
    warmup_s: float = 0.0
    command_ms: list[float] = field(default_factory=list)
    progress_ms: list[float] = field(default_factory=list)
    plans: int = 0
    heartbeats: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    rss_idle_mb: float = 0.0
    rss_open_mb: float = 0.0
    rss_mb: float = 0.0
    rss_samples: list[tuple[float, float]] = field(default_factory=list)
    warmup_samples: list[tuple[float, float]] = field(default_factory=list)

    def error(self, kind: str) -> None:
        """Count one error of ``kind``."""
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def to_json(self) -> dict:
        """The row as the benchmark reports it."""
        both = self.command_ms + self.progress_ms
        return {
            "sessions": self.sessions,
            "duration_s": round(self.duration_s, 1),
            "warmup_s": round(self.warmup_s, 1),
            "plans": self.plans,
            "directives": len(both),
            "heartbeats": self.heartbeats,
            "directive_latency_ms_p50": _pct(both, 50),
            "directive_latency_ms_p99": _pct(both, 99),
            "command_to_first_step_ms_p99": _pct(self.command_ms, 99),
            "progress_to_next_step_ms_p99": _pct(self.progress_ms, 99),
            "rss_idle_mb": round(self.rss_idle_mb, 1),
            "rss_open_mb": round(self.rss_open_mb, 1),
            "rss_mb": round(self.rss_mb, 1),
            "rss_kb_per_session": round((self.rss_mb - self.rss_idle_mb) * 1024 / max(1, self.sessions), 1),
            "rss_slope_mb_per_min": _slope_mb_per_min(self.rss_samples),
            "rss_mb_every_5s": [round(mb, 1) for _, mb in (self.warmup_samples + self.rss_samples)[4::5]],
            "errors": self.errors,
            "error_kinds": dict(self.error_kinds),
        }


def _pct(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values else 0.0


def _slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS over the soak (after the warm-up), in MB per minute."""
    if len(samples) < 3:
        return 0.0
    t = np.array([s[0] for s in samples])
    mb = np.array([s[1] for s in samples])
    if float(np.ptp(t)) == 0.0:
        return 0.0
    return round(float(np.polyfit(t, mb, 1)[0]) * 60.0, 3)


def rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` in MB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


class _Edge:
    """One simulated edge: a Session stream doing plan cycles until the end time."""

    def __init__(self, index: int, stub, hello: planner_pb2.EdgeMessage, row: FleetRow, step_s: float,
                 rng: random.Random) -> None:
        self.index = index
        self.stub = stub
        self.hello = hello
        self.row = row
        self.step_s = step_s
        self.rng = rng

    async def _read(self, call, kinds: tuple[str, ...], what: str) -> planner_pb2.CloudMessage | None:
        """The next message, which must be one of ``kinds``; None (counted) otherwise."""
        message = await asyncio.wait_for(call.read(), REPLY_TIMEOUT_S)
        if message is None or message.WhichOneof("message") not in kinds:
            got = "end of stream" if message is None else message.WhichOneof("message")
            self.row.error(f"{what}: got {got}")
            return None
        return message

    async def run(self, opened: asyncio.Event, start_all: asyncio.Event, end_at: list[float]) -> None:
        """Open the session, wait for the whole fleet, then cycle plans until ``end_at[0]``."""
        call = self.stub.Session()
        try:
            await call.write(self.hello)
            if await self._read(call, ("ack",), "hello") is None:
                return
            opened.set()
            await start_all.wait()
            await asyncio.sleep(self.rng.uniform(0, self.step_s))  # spread the fleet's phases
            seq = 0
            while time.monotonic() < end_at[0]:
                if not await self._cycle(call, seq, end_at):
                    return
                seq += 1
        except (asyncio.TimeoutError, TimeoutError):
            self.row.error("reply later than 10 s")
        except Exception as exc:  # an RPC error of any kind is a fleet error, not a crash of the benchmark
            self.row.error(type(exc).__name__ + (f" {exc.code().name}" if hasattr(exc, "code") else ""))
        finally:
            opened.set()
            try:
                await call.done_writing()
            except Exception:  # the stream may already be closed
                pass
            call.cancel()

    async def _cycle(self, call, seq: int, end_at: list[float]) -> bool:
        """One plan: Command, every step's Progress, Heartbeat; False to stop (time up or an error)."""
        text = _COMMANDS[(self.index + seq) % len(_COMMANDS)]
        t0 = time.perf_counter()
        await call.write(planner_pb2.EdgeMessage(command=plan_pb2.Command(text=text, command_id=f"{self.index}-{seq}")))
        header = await self._read(call, ("header",), "command")
        if header is None or await self._read(call, ("step",), "first step") is None:
            return False
        self.row.command_ms.append((time.perf_counter() - t0) * 1000.0)
        plan_id, total = header.header.plan_id, header.header.total_steps
        for index in range(total):
            await asyncio.sleep(self.step_s * self.rng.uniform(0.5, 1.5))  # the robot executes the step
            if time.monotonic() >= end_at[0]:
                return False  # time is up mid-plan: stop without counting an error
            t0 = time.perf_counter()
            await call.write(planner_pb2.EdgeMessage(progress=planner_pb2.Progress(
                plan_id=plan_id, revision=0, index=index, status=planner_pb2.STEP_STATUS_SUCCEEDED)))
            last = index == total - 1
            if await self._read(call, ("ack",) if last else ("step",), "progress") is None:
                return False
            if not last:
                self.row.progress_ms.append((time.perf_counter() - t0) * 1000.0)
        self.row.plans += 1
        await call.write(planner_pb2.EdgeMessage(heartbeat=planner_pb2.Heartbeat(seq=seq, unix_ms=int(time.time() * 1000))))
        if await self._read(call, ("ack",), "heartbeat") is None:
            return False
        self.row.heartbeats += 1
        return True


async def _run_row(address: str, pid: int, sessions: int, duration_s: float, step_s: float, seed: int,
                   warmup_s: float = 0.0) -> FleetRow:
    import grpc

    from sim.home_layout import load_home_layout

    row = FleetRow(sessions=sessions, duration_s=duration_s, warmup_s=warmup_s)
    row.rss_idle_mb = rss_mb(pid)
    scene = scene_to_proto(load_home_layout().scene_graph())
    n_channels = max(1, -(-sessions // STREAMS_PER_CONNECTION))
    options = [*client_channel_options(), ("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(address, options=options) for _ in range(n_channels)]
    rng = random.Random(seed)
    start_all = asyncio.Event()
    end_at = [float("inf")]
    edges, opened = [], []
    for i in range(sessions):
        stub = planner_pb2_grpc.PlannerStub(channels[i % n_channels])
        hello = planner_pb2.EdgeMessage(hello=planner_pb2.Hello(robot_id=f"fleet-{i}", kind="home", scene=scene,
                                                                lookahead=0))
        edges.append(_Edge(i, stub, hello, row, step_s, random.Random(rng.random())))
        opened.append(asyncio.Event())
    tasks = [asyncio.create_task(edge.run(event, start_all, end_at)) for edge, event in zip(edges, opened, strict=True)]
    for event in opened:
        await event.wait()
    row.rss_open_mb = rss_mb(pid)
    t0 = time.monotonic()
    end_at[0] = t0 + warmup_s + duration_s
    start_all.set()
    while time.monotonic() < end_at[0]:
        await asyncio.sleep(1.0)
        sample = (time.monotonic() - t0, rss_mb(pid))
        (row.warmup_samples if sample[0] < warmup_s else row.rss_samples).append(sample)
    row.rss_mb = row.rss_samples[-1][1] if row.rss_samples else row.rss_open_mb
    await asyncio.wait(tasks, timeout=REPLY_TIMEOUT_S + 2 * step_s)
    for channel in channels:
        await channel.close()
    return row


def run_fleet(sessions: Sequence[int] = DEFAULT_SESSIONS, soak_s: float = DEFAULT_SOAK_S, step_s: float = 1.0,
              seed: int = 0, warmup_s: float = 0.0) -> dict:
    """Run one row per fleet size, each against a fresh planner process; the benchmark's JSON.

    ``warmup_s`` runs the largest fleet that long before the soak whose RSS slope is reported (the
    server's thread stacks and allocator pools fill during the first minute; see docs/scaling.md).
    """
    rows = []
    for n in sessions:
        largest = n == max(sessions)
        duration = soak_s if largest else min(soak_s, 15.0)
        proc, address = start_server_process(("--lookahead", "0", "--max-workers", str(n + 32)))
        try:
            row = asyncio.run(_run_row(address, proc.pid, n, duration, step_s, seed, warmup_s if largest else 0.0))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        rows.append(row.to_json())
        _log.info("fleet %d sessions: %s", n, rows[-1])
    top = rows[-1] if rows else {}
    return {
        "sessions": top.get("sessions", 0),
        "directive_latency_ms_p99": top.get("directive_latency_ms_p99", 0.0),
        "rss_mb": top.get("rss_mb", 0.0),
        "rss_slope_mb_per_min": top.get("rss_slope_mb_per_min", 0.0),
        "soak_s": soak_s,
        "warmup_s": warmup_s,
        "step_s": step_s,
        "errors": int(sum(r["errors"] for r in rows)),
        "transport": "gRPC over loopback; planner in a separate process (embedded backend, lookahead 0)",
        "rows": rows,
    }


def bench_fleet(args: argparse.Namespace) -> dict:
    """``reflexarc bench fleet``: 10/100/1000 sessions (``--quick``: 10 and 50 sessions for 5 s)."""
    quick = bool(getattr(args, "quick", False))
    sessions = getattr(args, "sessions", None) or ((10, 50) if quick else DEFAULT_SESSIONS)
    soak = getattr(args, "soak", None) or (5.0 if quick else DEFAULT_SOAK_S)
    warmup = getattr(args, "warmup", None)
    warmup = (0.0 if quick else DEFAULT_WARMUP_S) if warmup is None else warmup
    return run_fleet(tuple(sessions), float(soak), float(getattr(args, "step_s", 1.0) or 1.0),
                     int(getattr(args, "seed", 0) or 0), float(warmup))


def main(argv: list[str] | None = None) -> int:
    """``python -m cloud_planner.bench_fleet [--sessions 10,100,1000] [--soak S] [--json F]``."""
    parser = argparse.ArgumentParser(prog="bench_fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=lambda s: tuple(int(x) for x in s.split(",")), default=None,
                        help="comma-separated fleet sizes (default 10,100,1000)")
    parser.add_argument("--soak", type=float, default=None, metavar="S",
                        help="seconds the largest fleet runs (default 60)")
    parser.add_argument("--warmup", type=float, default=None, metavar="S",
                        help="seconds the largest fleet runs before the soak (default 30)")
    parser.add_argument("--step-s", type=float, default=1.0, help="simulated execution time of one step")
    parser.add_argument("--quick", action="store_true", help="10 and 50 sessions for 5 s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="also write the result to FILE")
    args = parser.parse_args(argv)
    result = bench_fleet(args)
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
