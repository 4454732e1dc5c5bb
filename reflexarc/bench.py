"""``reflexarc bench NAME``: run one benchmark and write its JSON result.

Each benchmark lives beside the code it measures; this module only dispatches, so a benchmark's
heavy imports (PyBullet, rclpy, torch-free ONNX runtime) load only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

# name -> "module:function"; the function takes the parsed args and returns a JSON-able dict.
_BENCHMARKS: dict[str, str] = {
    "sim": "sim.bench_sim:bench_sim",
    "reflex": "edge_agent.bench_reflex:bench_reflex",
    "planner": "cloud_planner.bench_planner:bench_planner",
    "fleet": "cloud_planner.bench_fleet:bench_fleet",
    "policy": "edge_agent.training.bench_policy:bench_policy",
    "speech": "edge_agent.bench_speech:bench_speech",
    "prefetch": "edge_agent.bench_prefetch:bench_prefetch",
    "scenario": "reflexarc.demo.bench_scenario:bench_scenario",
}


def run_benchmark(name: str, args: argparse.Namespace) -> dict:
    """Run the benchmark ``name`` and return its result dictionary."""
    module_name, _, func_name = _BENCHMARKS[name].partition(":")
    return getattr(importlib.import_module(module_name), func_name)(args)


def _handle(args: argparse.Namespace) -> int:
    result = run_benchmark(args.name, args)
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bench`` when at least one benchmark ships."""
    if not _BENCHMARKS:
        return
    parser = subparsers.add_parser("bench", help="run one benchmark, print and save its JSON result")
    parser.add_argument("name", choices=sorted(_BENCHMARKS), help="which benchmark")
    parser.add_argument("--json", metavar="FILE", help="also write the result to FILE")
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run, not for reporting)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    fleet = parser.add_argument_group("fleet")
    fleet.add_argument(
        "--sessions", type=_int_list, metavar="N[,N...]", help="concurrent robot sessions per row (default 10,100,1000)"
    )
    fleet.add_argument("--soak", type=float, metavar="S", help="seconds each row keeps its sessions busy")
    fleet.add_argument("--warmup", type=float, metavar="S", help="seconds of warm-up before measuring")
    prefetch = parser.add_argument_group("prefetch")
    prefetch.add_argument("--rtts", type=_int_list, metavar="MS[,MS...]", help="round-trip times to emulate")
    prefetch.add_argument("--lookaheads", type=_int_list, metavar="K[,K...]", help="lookahead windows (-1 = whole plan)")
    scenario = parser.add_argument_group("scenario")
    scenario.add_argument("--scenario", metavar="NAME", help="demo scenario to run (default clean-living-room)")
    scenario.add_argument("--speeds", type=_float_list, metavar="X[,X...]", help="sim speeds, one run each (default 4,6)")
    parser.set_defaults(func=_handle)


def _float_list(text: str) -> tuple[float, ...]:
    """``"4,6"`` -> ``(4.0, 6.0)``."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def _int_list(text: str) -> tuple[int, ...]:
    """``"10,100,1000"`` -> ``(10, 100, 1000)``."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc
