"""What a demo run leaves behind: report.json, trajectory.png, camera.png, latency.png and a summary table.

``report.json`` has exactly the DESIGN.md fields plus the scenario's ``checks``; the pictures are what
a person looks at to understand the run: the top-down home with every robot's path (sim.snapshot),
what the robot's camera saw when it found the object (with the detection box), and the reflex's
scan-to-command latency histogram.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reflexarc.occupancy_grid import OccupancyGrid
from reflexarc.scene_graph import SceneGraph

__all__ = [
    "REPORT_FIELDS",
    "build_report",
    "decision_summary",
    "draw_camera",
    "draw_latency",
    "draw_trajectory",
    "latency_summary",
    "summary_table",
    "write_report",
]

REPORT_FIELDS = (
    "scenario", "command", "transcript", "success", "task_time_s", "steps", "collisions", "min_clearance_m",
    "reflex_latency_ms", "cloud_stall_ms_total", "cloud_stall_ms_mid_plan", "round_trips", "checks",
    "reflex_decisions",
)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3) if math.isfinite(value) else None
    return value


def latency_summary(samples_ms: Sequence[float], reported: Mapping[str, Mapping[str, Any]] | None = None) -> dict:
    """``{"p50","p99","max","n"}``: the reflex's own statistics when it published them, else our samples.

    ``reported`` maps robot -> the last ``reflex/latency`` JSON ({"n","p50_ms","p99_ms","max_ms"});
    across robots n adds up, p50 is the n-weighted mean of medians, p99 and max are the worst.
    """
    rows = [r for r in (reported or {}).values() if r and r.get("n")]
    if rows:
        n = sum(int(r["n"]) for r in rows)
        return {
            "p50": round(sum(float(r["p50_ms"]) * int(r["n"]) for r in rows) / n, 3),
            "p99": round(max(float(r["p99_ms"]) for r in rows), 3),
            "max": round(max(float(r["max_ms"]) for r in rows), 3),
            "n": n,
        }
    if not samples_ms:
        return {"p50": None, "p99": None, "max": None, "n": 0}
    arr = np.asarray(samples_ms, dtype=float)
    return {"p50": round(float(np.percentile(arr, 50)), 3), "p99": round(float(np.percentile(arr, 99)), 3),
            "max": round(float(arr.max()), 3), "n": int(arr.size)}


def decision_summary(reported: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, dict[str, int]]]:
    """Per robot, the reflex's decision counts: who chose the command, and what the shield did to it."""
    out = {}
    for robot, stats in sorted((reported or {}).items()):
        if stats and isinstance(stats.get("decisions"), Mapping):
            out[robot] = {"decisions": {k: int(v) for k, v in stats["decisions"].items()},
                          "shield": {k: int(v) for k, v in (stats.get("shield") or {}).items()}}
    return out


def build_report(
    *,
    scenario: str,
    command: str,
    transcript: str | None,
    success: bool,
    task_time_s: float | None,
    steps: Sequence[Mapping[str, Any]],
    collisions: int,
    min_clearance_m: float | None,
    reflex_latency_ms: Mapping[str, Any],
    cloud_stall_ms_total: float,
    round_trips: int,
    checks: Mapping[str, Mapping[str, Any]],
    cloud_stall_ms_mid_plan: float = 0.0,
    reflex_decisions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report.json dictionary (DESIGN.md's fields in its order).

    ``cloud_stall_ms_mid_plan`` is the stall without the wait for the first plan after the command: the
    part that streaming steps ahead can remove (the first round trip is paid whatever the lookahead).
    ``reflex_decisions`` is :func:`decision_summary` of the reflexes' reports.
    """
    report = {
        "scenario": scenario,
        "command": command,
        "transcript": transcript,
        "success": bool(success),
        "task_time_s": None if task_time_s is None else round(float(task_time_s), 2),
        "steps": [
            {"index": int(s["index"]), "skill": s["skill"], "status": s["status"],
             "t_start": _finite(s.get("t_start")), "t_end": _finite(s.get("t_end"))}
            for s in steps
        ],
        "collisions": int(collisions),
        "min_clearance_m": _finite(min_clearance_m),
        "reflex_latency_ms": dict(reflex_latency_ms),
        "cloud_stall_ms_total": round(float(cloud_stall_ms_total), 1),
        "cloud_stall_ms_mid_plan": round(float(cloud_stall_ms_mid_plan), 1),
        "round_trips": int(round_trips),
        "checks": {k: dict(v) for k, v in checks.items()},
        "reflex_decisions": dict(reflex_decisions or {}),
    }
    assert tuple(report) == REPORT_FIELDS
    return report


def write_report(path: str | Path, report: Mapping[str, Any]) -> Path:
    """Write report.json (UTF-8, Korean commands kept readable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def draw_trajectory(
    scene: SceneGraph,
    grid: OccupancyGrid | None,
    trajectories: Mapping[str, Sequence[tuple[float, float]]],
    extras: Mapping[str, Any],
    path: str | Path,
) -> Path:
    """trajectory.png: the top-down home (sim.snapshot) with every robot's path and the extras."""
    from sim.snapshot import draw_top_down

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_top_down(scene, grid, {k: list(v) for k, v in trajectories.items()}, dict(extras), path)
    return path


def draw_camera(view_file: str | Path, path: str | Path, title: str = "") -> Path | None:
    """camera.png: the frame in which the object was found, with its detection box and position."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    view_file = Path(view_file)
    if not view_file.exists():
        return None
    with np.load(view_file) as data:
        rgb = data["rgb"]
        info = json.loads(bytes(data["info"]).decode())
    path = Path(path)
    fig, ax = plt.subplots(figsize=(6.4, 5.0), dpi=120)
    ax.imshow(rgb)
    x0, y0, x1, y1 = info["bbox"]
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, edgecolor="lime",
                           linewidth=2))
    px, py, pz = info["position"]
    ax.text(x0, max(y0 - 3, 0), f"{info['object']}  ({px:.2f}, {py:.2f}, {pz:.2f}) m", color="lime",
            fontsize=9, va="bottom", bbox={"facecolor": "black", "alpha": 0.6, "pad": 1})
    ax.set_title(title or f"{info['robot']} camera: found {info['object']}")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def draw_latency(samples_ms: Sequence[float], summary: Mapping[str, Any], path: str | Path) -> Path:
    """latency.png: histogram of scan -> cmd_vel latency with p50/p99 marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    if samples_ms:
        arr = np.asarray(samples_ms, dtype=float)
        ax.hist(arr, bins=min(60, max(10, arr.size // 20)), color="#3070c0", alpha=0.85)
        for q, style in ((50, "--"), (99, ":")):
            v = float(np.percentile(arr, q))
            ax.axvline(v, color="black", linestyle=style, label=f"p{q} {v:.2f} ms")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no latency samples", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("scan received -> cmd_vel received (ms)")
    ax.set_ylabel("count")
    reported = ", ".join(f"{k} {v}" for k, v in summary.items())
    ax.set_title(f"reflex latency ({reported})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def summary_table(report: Mapping[str, Any]) -> str:
    """A plain-text table of the steps and checks, for the end of the live output."""
    lines = [f"scenario {report['scenario']}: {'SUCCESS' if report['success'] else 'FAILED'}",
             f"command: {report['command']}"]
    if report.get("transcript"):
        lines.append(f"heard:   {report['transcript']}")
    lines.append(f"{'#':>3}  {'skill':<12} {'status':<10} {'start s':>8} {'end s':>8}")
    for step in report["steps"]:
        t0 = "" if step["t_start"] is None else f"{step['t_start']:.1f}"
        t1 = "" if step["t_end"] is None else f"{step['t_end']:.1f}"
        lines.append(f"{step['index']:>3}  {step['skill']:<12} {step['status']:<10} {t0:>8} {t1:>8}")
    lines.append(f"{'check':<22} {'ok':<4} value")
    for name, check in report["checks"].items():
        lines.append(f"{name:<22} {'yes' if check['passed'] else 'NO':<4} {check['value']}")
    lat = report["reflex_latency_ms"]
    lines.append(
        f"task {report['task_time_s']} s | collisions {report['collisions']} | min clearance "
        f"{report['min_clearance_m']} m | reflex p50/p99/max {lat.get('p50')}/{lat.get('p99')}/{lat.get('max')} ms "
        f"(n={lat.get('n')}) | cloud stall {report['cloud_stall_ms_total']} ms | round trips {report['round_trips']}"
    )
    return "\n".join(lines)
