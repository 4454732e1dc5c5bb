"""Stopping a demo from outside (SIGTERM, as a service manager or CI timeout does) leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.timeout(180)
def test_sigterm_stops_the_planner_the_launch_and_every_node(tmp_path, ros_domain_id):
    cmd = [sys.executable, "-m", "reflexarc.cli", "demo", "fetch-cup", "--out", str(tmp_path / "out"),
           "--speed", "2", "--domain-id", str(ros_domain_id)]
    demo = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if "stack ready" in line:
                break
        assert any("stack ready" in line for line in lines), "".join(lines)
        children = _descendants(demo.pid)
        assert len(children) >= 4, "".join(lines)  # planner, launch children: sim, reflex nodes, executive
        demo.send_signal(signal.SIGTERM)
        demo.communicate(timeout=60)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.2)
        left = sorted(pid for pid in children if _alive(pid))
        assert left == [], f"still running after SIGTERM: {left}"
        assert demo.returncode != 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
