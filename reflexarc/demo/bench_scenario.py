"""``reflexarc bench scenario``: whole demo runs faster than real time, with every process's CPU share.

Why: the scenario tests run the stack at several times real time on two cores. Whether it keeps up at a
given speed (the simulation reaching the speed asked for, the reflex deciding in time) is a question of
CPU, so each row is one ``reflexarc demo`` run at one speed: its wall time, the speed the simulation
really reached (from the demo's own log: wall offset and simulated time of every step start and end),
each process's mean CPU share over its life (``/proc/<pid>/stat``, sampled every second), the reflex's
p99 decision time and the scenario's outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ProcessCpu", "bench_scenario", "effective_speed", "role_of"]

DEFAULT_SPEEDS = (4.0, 6.0)
DEFAULT_SCENARIO = "clean-living-room"
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_STEP_LINE = re.compile(r"^\[\s*([0-9.]+)s\].* at t=([0-9.]+)s")


@dataclass
class ProcessCpu:
    """One process of the run: what it is, when it started (s since boot) and the CPU it has used (s)."""

    role: str
    started_s: float
    cpu_s: float = 0.0
    seen_s: float = 0.0

    @property
    def share(self) -> float:
        """Mean CPU share over the process's observed life (1.0 = one core)."""
        life = self.seen_s - self.started_s
        return self.cpu_s / life if life > 0 else 0.0


def role_of(cmdline: list[str]) -> str:
    """A readable role for one of the demo's processes, from its command line."""
    text = " ".join(cmdline)
    for node in ("sim_node", "executive_node", "voice_node"):
        if node in text:
            return node
    if "reflex_node" in text:
        namespace = re.search(r"__ns:=/(\w+)", text)
        return f"reflex_node/{namespace.group(1) if namespace else '?'}"
    if " serve" in text:
        return "planner"
    if " demo " in text:
        return "demo"
    return Path(cmdline[0]).name if cmdline else "?"


def effective_speed(log_text: str) -> float | None:
    """Simulated seconds per wall second between the first and the last step event of a demo log."""
    points = [(float(m.group(1)), float(m.group(2))) for m in map(_STEP_LINE.match, log_text.splitlines()) if m]
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])


def _uptime_s() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def _sample(root: int, table: dict[int, ProcessCpu]) -> None:
    """Update ``table`` with the CPU used so far by ``root`` and all its descendants."""
    now = _uptime_s()
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        cpu_s = (int(fields[11]) + int(fields[12])) / _TICKS_PER_S  # utime, stime
        entry = table.get(pid)
        if entry is None:
            entry = table[pid] = ProcessCpu(role_of([c for c in cmdline if c]), int(fields[19]) / _TICKS_PER_S)
        entry.cpu_s, entry.seen_s = cpu_s, now
        pending += _children(pid)


def _run_once(scenario: str, speed: float, out: Path, domain_id: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "reflexarc.cli", "demo", scenario, "--out", str(out), "--speed", f"{speed:g}",
           "--domain-id", str(domain_id)]
    table: dict[int, ProcessCpu] = {}
    start = time.monotonic()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        log: list[str] = []
        reader = _Reader(proc, log)
        while proc.poll() is None:
            _sample(proc.pid, table)
            time.sleep(1.0)
        reader.join()
    wall = time.monotonic() - start
    report = json.loads((out / "report.json").read_text(encoding="utf-8")) if (out / "report.json").exists() else {}
    shares: dict[str, float] = {}
    for entry in table.values():
        shares[entry.role] = shares.get(entry.role, 0.0) + entry.share
    checks = report.get("checks", {})
    row: dict[str, Any] = {
        "scenario": scenario,
        "speed": speed,
        "reached_speed": effective_speed("\n".join(log)),
        "wall_s": round(wall, 1),
        "task_time_s": report.get("task_time_s"),
        "success": bool(report.get("success")),
        "collisions": report.get("collisions"),
        "reflex_p99_ms": report.get("reflex_latency_ms", {}).get("p99"),
        "cpu_total": round(sum(shares.values()), 3),
    }
    for name in ("coverage", "cup_near_person"):
        if name in checks:
            row[name] = checks[name].get("value")
    row.update({f"cpu_{role}": round(share, 3) for role, share in sorted(shares.items())})
    if row["reached_speed"] is not None:
        row["reached_speed"] = round(row["reached_speed"], 2)
    return row


class _Reader:
    """Drains the demo's output in a thread (a full pipe would stall it) into ``lines``."""

    def __init__(self, proc: subprocess.Popen, lines: list[str]) -> None:
        self._thread = threading.Thread(target=self._drain, args=(proc, lines), daemon=True)
        self._thread.start()

    @staticmethod
    def _drain(proc: subprocess.Popen, lines: list[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))

    def join(self) -> None:
        self._thread.join(10.0)


def bench_scenario(args: argparse.Namespace) -> dict[str, Any]:
    """One demo run per speed (``--speeds``; ``--quick``: fetch-cup at 4x only)."""
    scenario = getattr(args, "scenario", None) or ("fetch-cup" if args.quick else DEFAULT_SCENARIO)
    speeds = tuple(getattr(args, "speeds", None) or ((4.0,) if args.quick else DEFAULT_SPEEDS))
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scenario-") as tmp:
        for k, speed in enumerate(speeds):
            domain_id = 150 + (os.getpid() + k) % 80
            rows.append(_run_once(scenario, float(speed), Path(tmp) / f"run{k}", domain_id))
    return {"scenario": scenario, "cpus": os.cpu_count(), "rows": rows}
