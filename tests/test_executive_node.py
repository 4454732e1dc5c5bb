"""The executive: its scheduling rules (pure) and the node with a real planner, sim and reflex (slow).

The pure part pins down the rules the node relies on: which step may start for which robot, what a
revision drops, that nothing runs twice, and when the fleet counts as stalled on the cloud. The slow
part launches real processes over real DDS and gRPC: a command becomes steps the robot executes, and
the executive keeps executing prefetched steps while the planner process is stopped, then resumes the
plan when a planner comes back on the same address.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cloud_planner.plan import PlanStep
from edge_agent.executive_node import CAMERA_SKILLS, StepScheduler

REPO = Path(__file__).resolve().parent.parent


def _step(index: int, robot: str, skill: str, **args) -> PlanStep:
    return PlanStep(index=index, robot=robot, skill=skill, args=args)


def _scheduler(*steps: PlanStep, total: int | None = None) -> StepScheduler:
    sched = StepScheduler()
    sched.header("p1", 0, total if total is not None else len(steps))
    for step in steps:
        sched.add("p1", 0, step)
    return sched


# ------------------------------------------------------------------------------------ pure rules
def test_steps_of_different_robots_on_different_things_run_in_parallel():
    sched = _scheduler(
        _step(0, "dog1", "carry", object="luggage", to="entrance"),
        _step(1, "robot1", "set_device", device="light_entrance", state="on"),
    )
    sched.start(0, 0.0)
    assert sched.runnable("robot1").step.index == 1


def test_a_robot_runs_its_own_steps_in_order():
    sched = _scheduler(_step(0, "robot1", "navigate_to", target="kitchen"),
                       _step(1, "robot1", "look_for", object="cup_red"))
    assert sched.runnable("robot1").step.index == 0
    sched.start(0, 0.0)
    assert sched.runnable("robot1") is None
    sched.finish(0, "succeeded", 1.0)
    assert sched.runnable("robot1").step.index == 1


def test_a_step_waits_for_another_robots_step_on_the_same_object():
    sched = _scheduler(_step(0, "robot1", "pick", object="cup_red"),
                       _step(1, "dog1", "carry", object="cup_red", to="entrance"))
    sched.start(0, 0.0)
    assert sched.runnable("dog1") is None
    sched.finish(0, "succeeded", 1.0)
    assert sched.runnable("dog1").step.index == 1


def test_a_step_waits_until_every_earlier_step_has_arrived():
    sched = _scheduler(_step(1, "robot1", "say", text="hi"), total=2)
    assert sched.runnable("robot1") is None
    assert sched.waiting_for_cloud(["robot1"])
    sched.add("p1", 0, _step(0, "dog1", "say", text="hello"))
    assert sched.runnable("robot1").step.index == 1
    assert not sched.waiting_for_cloud(["robot1", "dog1"])


def test_revise_replaces_a_failed_step_and_drops_stale_queued_ones():
    sched = _scheduler(_step(0, "robot1", "look_for", object="cup_red"),
                       _step(1, "robot1", "pick", object="cup_red"))
    sched.start(0, 0.0)
    sched.finish(0, "failed", 1.0)
    assert sched.runnable("robot1") is None
    sched.revise("p1", 1, 0, 3)
    assert sched.records == {}
    assert not sched.add("p1", 0, _step(1, "robot1", "pick", object="cup_red"))  # late step of revision 0
    sched.add("p1", 1, _step(0, "robot1", "navigate_to", target="dining_table"))
    assert sched.runnable("robot1").step.skill == "navigate_to"


def test_revise_supersedes_another_robots_running_step_of_the_old_revision():
    sched = _scheduler(_step(0, "robot1", "pick", object="cup_red"),
                       _step(1, "dog1", "navigate_to", target="car"),
                       _step(2, "dog1", "say", text="done"))
    sched.start(0, 0.0)
    sched.start(1, 0.0)
    sched.finish(0, "failed", 1.0)
    assert sched.revise("p1", 1, 0, 3) == ["dog1"]  # its running step belongs to the withdrawn revision
    assert sched.records == {}
    assert sched.add("p1", 1, _step(1, "dog1", "carry", object="luggage", to="entrance"))
    assert sched.records[1].revision == 1


def test_revise_keeps_finished_and_earlier_steps():
    sched = _scheduler(_step(0, "robot1", "say", text="a"), _step(1, "dog1", "say", text="b"),
                       _step(2, "robot1", "say", text="c"))
    sched.start(0, 0.0)
    sched.finish(0, "succeeded", 1.0)
    sched.start(1, 1.0)
    assert sched.revise("p1", 1, 2, 3) == []
    assert sched.records[0].status == "succeeded" and sched.records[1].status == "running"
    assert 2 not in sched.records


def test_a_failed_step_resent_in_its_own_revision_is_not_queued_again():
    sched = _scheduler(_step(0, "robot1", "pick", object="cup_red"))
    sched.start(0, 0.0)
    sched.finish(0, "failed", 1.0)
    assert not sched.add("p1", 0, _step(0, "robot1", "pick", object="cup_red"))  # a Resume re-sends revision 0
    assert sched.records[0].status == "failed" and sched.runnable("robot1") is None
    assert sched.add("p1", 1, _step(0, "robot1", "navigate_to", target="dining_table"))


def test_a_finished_index_is_never_queued_again():
    sched = _scheduler(_step(0, "robot1", "say", text="a"), _step(1, "robot1", "say", text="b"))
    sched.start(0, 0.0)
    sched.finish(0, "succeeded", 1.0)
    assert not sched.add("p1", 0, _step(0, "robot1", "say", text="a"))  # resent after a resume
    assert sched.records[0].status == "succeeded"
    assert sched.cursor == 1


def test_cursor_counts_only_the_contiguous_finished_prefix():
    sched = _scheduler(_step(0, "dog1", "say", text="a"), _step(1, "robot1", "say", text="b"))
    sched.start(1, 0.0)
    sched.finish(1, "succeeded", 1.0)
    assert sched.cursor == 0
    sched.start(0, 0.0)
    sched.finish(0, "recovered", 2.0)
    assert sched.cursor == 2
    assert sched.complete


def test_cancel_drops_queued_steps_and_reports_running_ones():
    sched = _scheduler(_step(0, "robot1", "say", text="a"), _step(1, "dog1", "say", text="b"))
    sched.start(0, 0.0)
    assert sched.cancel() == [0]
    assert sched.runnable("dog1") is None
    assert not sched.add("p1", 0, _step(2, "dog1", "say", text="c"))


def test_a_new_plan_replaces_the_old_one():
    sched = _scheduler(_step(0, "robot1", "say", text="a"))
    assert sched.header("p2", 0, 1)
    assert sched.records == {}
    assert not sched.add("p1", 0, _step(0, "robot1", "say", text="late"))


def test_a_robot_needs_its_camera_from_the_plan_that_will_look_until_the_look_is_done():
    sched = _scheduler(_step(0, "robot1", "navigate_to", target="kitchen"),
                       _step(1, "robot1", "look_for", object="cup_red"),
                       _step(2, "robot1", "pick", object="cup_red"))
    assert sched.has_unfinished("robot1", CAMERA_SKILLS)
    assert not sched.has_unfinished("dog1", CAMERA_SKILLS)
    sched.finish(0, "succeeded", 1.0)
    sched.start(1, 1.0)
    assert sched.has_unfinished("robot1", CAMERA_SKILLS)
    sched.finish(1, "succeeded", 2.0)
    assert not sched.has_unfinished("robot1", CAMERA_SKILLS)


def test_a_cancelled_plan_needs_no_camera():
    sched = _scheduler(_step(0, "robot1", "look_for", object="cup_red"))
    sched.cancel()
    assert not sched.has_unfinished("robot1", CAMERA_SKILLS)


# ---------------------------------------------------------------------------- real processes
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_planner(port: int, env: dict[str, str], lookahead: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "reflexarc.cli", "serve", "--port", str(port)]
    if lookahead >= 0:
        cmd += ["--lookahead", str(lookahead)]
    proc = subprocess.Popen(
        cmd,
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"planner did not listen on {port}: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


class _Watcher:
    """Test-side node: sends /command, keeps the latest /executive/status and ground truth."""

    def __init__(self, domain_id: int) -> None:
        from reflexarc.demo.monitor import MonitorSession

        self.session = MonitorSession(("robot1",), domain_id)
        self.node = self.session.node

    def status(self) -> dict:
        with self.node.lock:
            return dict(self.node.status or {})

    def wait(self, predicate, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status and predicate(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; last status: {json.dumps(self.status())[:1500]}")

    def close(self) -> None:
        self.session.close()


def _launch_stack(tmp_path: Path, ros_env: dict[str, str], address: str):
    from reflexarc.launch_runner import launch_file

    args = {"planner": "false", "planner_addresses": address, "speed": "3.0", "artifacts_dir": str(tmp_path)}
    return launch_file(REPO / "launch" / "demo.launch.xml", args, log_dir=tmp_path / "logs", echo=False,
                       environ=ros_env)


@pytest.mark.slow
def test_a_command_becomes_steps_the_robot_executes(tmp_path, ros_env, ros_domain_id):
    port = _free_port()
    planner = _start_planner(port, ros_env, -1, tmp_path / "planner.log")
    launch = watcher = None
    try:
        launch = _launch_stack(tmp_path, ros_env, f"127.0.0.1:{port}")
        watcher = _Watcher(ros_domain_id)
        watcher.wait(lambda s: s.get("connected"), 90, "the executive to connect")
        while watcher.node.command_listeners() == 0:
            time.sleep(0.1)
        watcher.node.send_command("turn on the kitchen light")
        status = watcher.wait(lambda s: s.get("complete"), 120, "the plan to complete")
        skills = [step["skill"] for step in status["steps"]]
        assert "set_device" in skills
        assert all(step["status"] in ("succeeded", "recovered") for step in status["steps"])
        truth = watcher.node.truth
        deadline = time.monotonic() + 10
        while truth.device_state("light_kitchen") != "on" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert truth.device_state("light_kitchen") == "on"
    finally:
        if watcher is not None:
            watcher.close()
        if launch is not None:
            launch.shutdown(timeout=20)
        _stop(planner)


# Cloud link cut, planner killed, delay and loss mid-task: tests/test_edge_faults.py (issue #10).
