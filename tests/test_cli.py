"""The ``reflexarc`` command lists only what ships, and each listed command answers --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reflexarc.cli import build_parser


def _subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_help_runs_and_exits_zero():
    result = subprocess.run([sys.executable, "-m", "reflexarc.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "usage: reflexarc" in result.stdout


@pytest.mark.parametrize("command", _subcommands())
def test_every_listed_command_has_working_help(command):
    result = subprocess.run(
        [sys.executable, "-m", "reflexarc.cli", command, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert command in result.stdout


def test_unknown_command_fails_loudly():
    result = subprocess.run([sys.executable, "-m", "reflexarc.cli", "teleport"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
