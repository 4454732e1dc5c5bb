"""The ``reflexarc`` command: one entry point, one subcommand module per concern.

Subcommand modules are listed explicitly (not discovered) so ``reflexarc --help`` shows exactly what
ships, and importing the CLI does not pull in PyBullet, ROS or gRPC until a subcommand needs them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from reflexarc.log import configure_logging

# Each module exposes ``register(subparsers)``; handlers return the process exit code.
_COMMAND_MODULES: tuple[str, ...] = (
    "sim.cli",
    "reflexarc.bench",
    "reflexarc.launch_cli",
    "edge_agent.training.cli",
    "reflexarc.demo.cli",
    "cloud_planner.cli",
    "edge_agent.speech_cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every shipped subcommand."""
    parser = argparse.ArgumentParser(
        prog="reflexarc",
        description="ReflexArc: a cloud brain and an on-robot reflex for home robots.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
