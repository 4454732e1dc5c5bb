"""Torch is for training only: the runtime modules and ``eval-policy`` never import it."""

from __future__ import annotations

import json
import subprocess
import sys

_RUNTIME_MODULES = (
    "edge_agent.observation",
    "edge_agent.policy",
    "edge_agent.shield",
    "edge_agent.baseline",
    "edge_agent.training.world2d",
    "edge_agent.training.teachers",
    "edge_agent.training.evaluate",
    "edge_agent.training.bench_policy",
    "edge_agent.training.cli",
)


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)


def test_importing_the_runtime_modules_does_not_import_torch():
    code = (
        "import importlib, sys\n"
        f"for name in {_RUNTIME_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print('torch' in sys.modules)\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_eval_policy_runs_without_importing_torch():
    code = (
        "import sys\n"
        "from reflexarc.cli import main\n"
        "rc = main(['eval-policy', '--episodes', '1', '--policy', 'student', '--seed', '3'])\n"
        "print('TORCH', 'torch' in sys.modules, rc)\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "TORCH False 0"
    report = json.loads("\n".join(lines[:-1]))
    assert report["policy"] == "student" and report["episodes"] == 1
    assert set(report) >= {"policy", "sim", "episodes", "seed", "success_rate", "collision_rate", "spl",
                           "teacher_spl", "mean_time_s"}
