"""``reflexarc demo SCENARIO``: the command a user runs first (DESIGN.md command-line contract)."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

__all__ = ["register"]

_SCENARIOS = ("fetch-cup", "clean-living-room", "arrive-home")


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so the demo's clean-up stops the planner, the launch and the voice node."""
    raise SystemExit(128 + signum)


def _handle(args: argparse.Namespace) -> int:
    from reflexarc.demo.orchestrator import DemoOptions, run_demo

    signal.signal(signal.SIGTERM, _exit_on_sigterm)

    options = DemoOptions(
        scenario=args.scenario,
        voice=args.voice,
        command=args.command,
        language=args.language,
        rtt_ms=args.rtt_ms,
        lookahead=args.lookahead,
        seed=args.seed,
        gui=args.gui,
        out=Path(args.out),
        speed=args.speed,
        domain_id=args.domain_id,
        echo_logs=args.echo_logs,
        **({"launch_file": Path(args.launch_file)} if args.launch_file else {}),
        **({"policy_path": Path(args.policy)} if args.policy else {}),
    )
    return run_demo(options)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run a scenario end to end (planner, sim, edge nodes) and judge it from the world state",
        description="Run a seed scenario on the full stack; exit 0 iff the task succeeded.",
    )
    parser.add_argument("scenario", choices=_SCENARIOS, help="which scenario")
    parser.add_argument("--voice", action="store_true", help="speak the command (espeak-ng -> voice_node)")
    parser.add_argument("--command", metavar="TEXT", help="replace the scenario's utterance (Korean welcome)")
    parser.add_argument("--language", choices=("en", "ko", "event"), default="en",
                        help="which default utterance: English, Korean, or the home event (arrive-home)")
    parser.add_argument("--rtt-ms", type=float, default=0.0, metavar="MS",
                        help="round-trip delay between robot and planner (userspace netem proxy)")
    parser.add_argument("--lookahead", type=int, default=-1, metavar="K",
                        help="steps the planner streams ahead of the robot (-1 = whole plan)")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed")
    parser.add_argument("--gui", action="store_true", help="show the PyBullet window")
    parser.add_argument("--out", default="demo_out", metavar="DIR", help="output directory")
    parser.add_argument("--speed", type=float, default=2.0,
                        help="sim speed relative to real time (2 keeps the demo watchable and short)")
    parser.add_argument("--domain-id", type=int, default=0, help="ROS_DOMAIN_ID (0 = derived from the pid)")
    parser.add_argument("--echo-logs", action="store_true", help="also print every node's log lines")
    parser.add_argument("--launch-file", metavar="FILE",
                        help="launch file of the stack (default launch/demo.launch.xml; same arguments)")
    parser.add_argument("--policy", metavar="FILE",
                        help="ONNX reflex policy for every robot (default: the shipped model)")
    parser.set_defaults(func=_handle)
