"""``reflexarc launch FILE.launch.xml [name:=value ...]``: run a ROS 2 XML launch file here.

The same file runs under ``ros2 launch`` on a full ROS 2 install; this command exists because the
``launch`` package is not available from PyPI. Ctrl-C (or SIGTERM) stops every process: SIGINT,
then SIGTERM, then SIGKILL after each process's timeouts; a second Ctrl-C kills at once. The exit
status is that of the first required process (``on_exit="shutdown"``) to exit.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from reflexarc.launch_runner import LaunchHandle, ProcessGroup
from reflexarc.launch_xml import (
    LaunchError,
    declared_arguments,
    find_package_share,
    parse_launch_arguments,
    parse_launch_file,
)

_USAGE_ERROR = 2
_WAIT_SLICE_S = 0.5


def _resolve_file(file: str, arguments: list[str]) -> tuple[Path, list[str]]:
    """Accept ``FILE`` or the ``ros2 launch`` form ``PACKAGE FILE`` (looked up in PACKAGE's launch/)."""
    path = Path(file)
    if not path.is_file() and arguments and ":=" not in arguments[0]:
        path = find_package_share(file) / "launch" / arguments[0]
        arguments = arguments[1:]
    if not path.is_file():
        raise LaunchError(f"launch file {path} does not exist")
    return path, arguments


def _show_args(path: Path) -> int:
    declared = declared_arguments(path)
    if not declared:
        sys.stdout.write("No arguments.\n")
    for argument in declared:
        sys.stdout.write(f"    '{argument.name}':\n        {argument.description or 'no description given'}\n")
        if argument.choices:
            sys.stdout.write(f"        Valid choices are: {', '.join(argument.choices)}\n")
        default = "(required)" if argument.default is None else f"'{argument.default}'"
        sys.stdout.write(f"        (default: {default})\n\n")
    return 0


def _print_processes(path: Path, launch_args: dict[str, str]) -> int:
    description = parse_launch_file(path, launch_args)
    for spec in description.processes:
        flags = [spec.output] + (["required"] if spec.required else [])
        sys.stdout.write(f"[{spec.name}] ({', '.join(flags)})\n    {shlex.join(spec.cmd)}\n")
        for name, value in sorted(spec.env.items()):
            sys.stdout.write(f"    env {name}={value}\n")
    return 0


def _run(path: Path, launch_args: dict[str, str], log_dir: str | None) -> int:
    description = parse_launch_file(path, launch_args)
    for message in description.messages:
        sys.stdout.write(f"[launch] {message}\n")
    group = ProcessGroup(description.processes, screen=sys.stdout, log_dir=log_dir)
    handle = LaunchHandle(description, group)
    signals_seen: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        signals_seen.append(signum)
        if len(signals_seen) == 1:
            handle.request_shutdown(exit_code=128 + signum)
        else:
            handle.kill()

    installed = {}
    if threading.current_thread() is threading.main_thread():
        installed = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        group.start()
        while (status := handle.wait(_WAIT_SLICE_S)) is None:
            pass
        return status
    finally:
        if handle.running:
            handle.kill()
            handle.wait()
        for sig, previous in installed.items():
            signal.signal(sig, previous)


def _handle(args: argparse.Namespace) -> int:
    try:
        path, rest = _resolve_file(args.file, list(args.launch_arguments))
        if args.show_args:
            return _show_args(path)
        launch_args = parse_launch_arguments(rest)
        if args.print_only:
            return _print_processes(path, launch_args)
        return _run(path, launch_args, args.log_dir)
    except LaunchError as exc:
        sys.stderr.write(f"reflexarc launch: error: {exc}\n")
        return _USAGE_ERROR


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``launch``."""
    parser = subparsers.add_parser(
        "launch",
        help="run a ROS 2 XML launch file (the subset in docs/launch.md)",
        description="Run a ROS 2 XML launch file; exit status is the first required process's.",
    )
    parser.add_argument("file", help="FILE.launch.xml, or a package name followed by a file in its launch/")
    parser.add_argument("launch_arguments", nargs="*", metavar="name:=value", help="launch arguments")
    parser.add_argument("--log-dir", metavar="DIR", help="write <name>.log per process and launch.log here")
    parser.add_argument("-s", "--show-args", action="store_true", help="list the file's arguments and exit")
    parser.add_argument("-p", "--print", dest="print_only", action="store_true",
                        help="print the processes (final command lines) without starting them")
    parser.set_defaults(func=_handle)
