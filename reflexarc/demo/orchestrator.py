"""``reflexarc demo``: run a whole scenario (planner process, sim, edge nodes), judge it, write the outputs.

The run, in order: a planner process on a free port (behind the netem proxy when ``--rtt-ms`` is
given); ``launch/demo.launch.xml`` through the launch runner (sim_node, a reflex per robot, the
executive) on an isolated ROS_DOMAIN_ID; an observer node in this process; then the command, as text
on ``/command`` or, with ``--voice``, as a WAV synthesised by espeak-ng and transcribed by a voice_node.
While the plan runs, every step's start and end is printed live; scenario events (the car arriving,
the toy dropped in the vacuum's path) are fired on ``/sim/event``. When the plan is complete (or fails,
or the time limit passes) the ground truth decides success, the outputs are written, and everything
is shut down. Exit 0 iff every check passed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from reflexarc.demo.monitor import MonitorSession
from reflexarc.demo.report import (
    build_report,
    decision_summary,
    draw_camera,
    draw_latency,
    draw_trajectory,
    latency_summary,
    summary_table,
    write_report,
)
from reflexarc.demo.scenarios import TOY_DROPPED_ID, Scenario, densify, get_scenario, min_clearance
from reflexarc.netem_proxy import NetemConfig, NetemProxy

__all__ = ["DemoOptions", "run_demo"]

_log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_LAUNCH = REPO_ROOT / "launch" / "demo.launch.xml"
ALL_ROBOTS = ("robot1", "dog1", "vacuum1")
ROBOT_RADIUS = {"robot1": 0.25, "dog1": 0.30, "vacuum1": 0.17}
STARTUP_TIMEOUT_S = 90.0
SETTLE_SIM_S = 2.0
TOY_DROP_AFTER_S = 25.0
TOY_AHEAD_M = 0.9
TOY_CLEARANCE_M = 0.4
NO_PLAN_TIMEOUT_S = 45.0
_MARKED_OBJECTS = ("cup_red", "toy_duck", TOY_DROPPED_ID, "luggage")


@dataclass(frozen=True)
class DemoOptions:
    """Everything ``reflexarc demo`` accepts.

    Attributes:
        scenario: fetch-cup, clean-living-room or arrive-home.
        voice: speak the command (espeak-ng WAV -> voice_node) instead of typing it.
        command: replaces the scenario's default utterance (any language).
        language: which default utterance to use ("en" or "ko") when ``command`` is not given.
        rtt_ms: round-trip delay added between the executive and the planner (0 = direct).
        lookahead: steps the planner streams ahead (-1 = the whole plan).
        seed: simulation seed.
        gui: show the PyBullet window.
        out: output directory.
        speed: sim speed relative to real time.
        domain_id: ROS_DOMAIN_ID for the run (0 = pick one from the process id).
        echo_logs: print the nodes' prefixed log lines too (they always go to ``out/logs``).
        launch_file: the launch file of the stack (same arguments as launch/demo.launch.xml).
        policy_path: ONNX reflex policy for every robot (None = the shipped model), to try a retrained one.
    """

    scenario: str
    voice: bool = False
    command: str | None = None
    language: str = "en"
    rtt_ms: float = 0.0
    lookahead: int = -1
    seed: int = 0
    gui: bool = False
    out: Path = Path("demo_out")
    speed: float = 2.0
    domain_id: int = 0
    echo_logs: bool = False
    launch_file: Path = DEMO_LAUNCH
    policy_path: Path | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _domain_id(requested: int) -> int:
    return requested if requested > 0 else 1 + (os.getpid() * 13) % 100


class _Live:
    """Live terminal output: plan, step start/end, speech; prints only what changed."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._seen_plan: tuple[str, int] | None = None
        self._step_state: dict[int, str] = {}
        self._t0 = time.monotonic()

    def line(self, text: str) -> None:
        self.stream.write(f"[{time.monotonic() - self._t0:6.1f}s] {text}\n")
        self.stream.flush()

    def status(self, status: dict[str, Any]) -> None:
        header = status.get("header") or {}
        key = (status.get("plan_id", ""), int(status.get("revision", 0)))
        if key[0] and key != self._seen_plan:
            self._seen_plan = key
            self.line(f"plan {key[0]} rev {key[1]}: {header.get('summary', '')} ({status.get('total_steps')} steps)")
        for step in status.get("steps", []):
            index, state = int(step["index"]), step["status"]
            if self._step_state.get(index) == state:
                continue
            self._step_state[index] = state
            args = ", ".join(f"{k}={v}" for k, v in (step.get("args") or {}).items())
            when = step.get("t_end") if state not in ("queued", "running") else step.get("t_start")
            at = f" at t={when:.1f}s" if isinstance(when, int | float) else ""
            verb = {"queued": "received", "running": "started"}.get(state, state)
            self.line(f"  step {index} {step['robot']}.{step['skill']}({args}) {verb}{at}")


def _start_planner(port: int, lookahead: int, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log = (log_dir / "planner.log").open("wb")
    cmd = [sys.executable, "-m", "reflexarc.cli", "serve", "--port", str(port)]
    if lookahead >= 0:
        cmd += ["--lookahead", str(lookahead)]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_port(port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    import signal

    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(5.0)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5.0)


def _toy_spot(monitor: Any) -> tuple[float, float] | None:
    """A free spot ~1 m ahead of the vacuum, inside the living room: "a toy dropped in its path"."""
    truth, scene, grid = monitor.truth, monitor.scene, monitor.grid
    if not truth.samples or scene is None or grid is None:
        return None
    xy = truth.robot_xy(truth.last, "vacuum1")
    if xy is None:
        return None
    yaw = truth.robot_yaw("vacuum1")
    room = scene.get("living_room")
    ring = [(TOY_CLEARANCE_M * math.cos(a), TOY_CLEARANCE_M * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 12)]
    for ahead in (TOY_AHEAD_M, 1.2, 0.7, 1.5):
        x, y = xy[0] + ahead * math.cos(yaw), xy[1] + ahead * math.sin(yaw)
        xs = np.array([x] + [x + dx for dx, _ in ring])
        ys = np.array([y] + [y + dy for _, dy in ring])
        if room.contains(x, y) and not grid.occupied_at(xs, ys).any():
            return x, y  # open floor right ahead of the vacuum: in its path, not tucked against a wall
    return None


def _command_for(scenario: Scenario, opts: DemoOptions) -> tuple[str, str, str]:
    """(text, language, source) to send."""
    if opts.command:
        language = "ko" if any("\uac00" <= ch <= "\ud7a3" for ch in opts.command) else "en"
        return opts.command, language, "text"
    if scenario.event and opts.language == "event":
        return scenario.event, "", "event"
    return scenario.command(opts.language), opts.language, "text"


def _launch_args(opts: DemoOptions, planner_address: str, out: Path) -> dict[str, str]:
    """Arguments of launch/demo.launch.xml: our own planner process (behind the proxy) replaces its planner."""
    args = {
        "seed": str(opts.seed),
        "speed": str(opts.speed),
        "gui": "true" if opts.gui else "false",
        "planner": "false",
        "planner_addresses": planner_address,
        "artifacts_dir": str(out.resolve()),
    }
    if opts.policy_path is not None:
        args["policy_path"] = str(Path(opts.policy_path).resolve())
    return args


def run_demo(opts: DemoOptions, stream: TextIO | None = None) -> int:
    """Run one scenario end to end; returns 0 iff it succeeded (see the module docstring)."""
    from reflexarc.launch_runner import launch_file

    stream = stream or sys.stdout
    scenario = get_scenario(opts.scenario)
    out = Path(opts.out)
    log_dir = out / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("detection_*.npz"):
        stale.unlink()
    live = _Live(stream)
    domain = _domain_id(opts.domain_id)
    env = dict(os.environ)
    env.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
               RMW_IMPLEMENTATION="rmw_fastrtps_cpp", PYTHONUNBUFFERED="1")
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    text, language, source = _command_for(scenario, opts)
    live.line(f"scenario {scenario.name}: {scenario.description}")
    live.line(f"ROS_DOMAIN_ID={domain}, sim speed x{opts.speed}, lookahead {opts.lookahead}, rtt {opts.rtt_ms} ms")

    planner = proxy = voice = launch = None
    monitor_session = None
    wall_start = time.monotonic()
    try:
        port = _free_port()
        planner = _start_planner(port, opts.lookahead, env, log_dir)
        if not _wait_port(port, 30.0):
            live.line(f"planner did not start (see {log_dir / 'planner.log'})")
            return 1
        address = f"127.0.0.1:{port}"
        if opts.rtt_ms > 0:
            proxy = NetemProxy(("127.0.0.1", port), NetemConfig.from_rtt(opts.rtt_ms))
            proxy.start()
            address = proxy.address
        live.line(f"planner on 127.0.0.1:{port}" + (f", via netem proxy {address}" if proxy else ""))
        monitor_session = MonitorSession(scenario.robots, domain)
        mon = monitor_session.node
        launch = launch_file(opts.launch_file, _launch_args(opts, address, out), log_dir=log_dir,
                             echo=opts.echo_logs, screen=stream, environ=env)
        # Wait for the stack: scene graph, map, an executive connected to the planner.
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            with mon.lock:
                ready = (mon.scene is not None and mon.grid is not None and mon.status is not None
                         and mon.status.get("connected") and mon.truth.samples)
            if ready and mon.command_listeners() > 0:
                break
            if not launch.running:
                live.line("the launch ended early (see logs)")
                return 1
            time.sleep(0.2)
        else:
            live.line(f"stack not ready after {STARTUP_TIMEOUT_S:.0f} s (see {log_dir})")
            return 1
        live.line(f"stack ready in {time.monotonic() - wall_start:.1f} s")

        if scenario.event:
            mon.send_event({"event": scenario.event})
            live.line(f"event: {scenario.event}")
        transcript = None
        t_command = mon.sim_time
        if opts.voice:
            from reflexarc.utterance_audio import synthesize

            wav = synthesize(text, out / "utterance.wav")
            live.line(f"voice: synthesised {text!r} -> {wav}")
            voice_log = (log_dir / "voice_node.log").open("wb")
            voice = subprocess.Popen(
                [sys.executable, "-m", "edge_agent.voice_node", "--ros-args", "-p", f"wav_path:={wav}",
                 "-p", "use_sim_time:=true", "-p", "min_listeners:=2"],  # the executive and this monitor
                env=env, stdout=voice_log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            heard_deadline = time.monotonic() + 60.0
            while time.monotonic() < heard_deadline:
                with mon.lock:
                    if mon.transcripts or mon.ask_again:
                        break
                time.sleep(0.1)
            with mon.lock:
                if mon.transcripts:
                    transcript = mon.transcripts[-1]["text"]
                    live.line(f"voice: heard {transcript!r} (confidence {mon.transcripts[-1]['confidence']})")
                else:
                    live.line("voice: not understood" if mon.ask_again else "voice: no transcript")
            if transcript is None:
                return _finish(opts, scenario, text, None, mon, live, out, success_override=False,
                               t_command=t_command)
        else:
            mon.send_command(text, language, source)
            live.line(f"command ({source}): {text}")

        status_seq = -1
        toy_dropped = scenario.name != "clean-living-room"
        clean_started_at: float | None = None
        # The sim-time limit decides; the wall-clock cap only catches a stalled sim (real-time factor < ~0.8).
        wall_limit = time.monotonic() + scenario.time_limit_s * 1.25 + 60.0
        plan_deadline = time.monotonic() + NO_PLAN_TIMEOUT_S
        outcome = "timeout"
        while time.monotonic() < wall_limit:
            with mon.lock:
                status = dict(mon.status or {})
                seq = mon.status_seq
                said = list(mon.said)
                mon.said.clear()
            for line in said:
                live.line(f"say  {line}")
            if seq != status_seq:
                status_seq = seq
                live.status(status)
            if status.get("reject"):
                live.line(f"planner rejected the command: {status['reject'].get('message')}")
                outcome = "rejected"
                break
            if status.get("cancelled"):
                outcome = "cancelled"
                break
            if status.get("complete"):
                outcome = "complete"
                break
            if not status.get("plan_id") and time.monotonic() > plan_deadline:
                live.line(f"no plan {NO_PLAN_TIMEOUT_S:.0f} s after the command (see logs)")
                outcome = "no plan"
                break
            if mon.sim_time - t_command > scenario.time_limit_s:
                break
            if not toy_dropped:
                running_clean = any(s["skill"] == "clean_area" and s["status"] == "running"
                                    for s in status.get("steps", []))
                if running_clean and clean_started_at is None:
                    clean_started_at = mon.sim_time
                if clean_started_at is not None and mon.sim_time - clean_started_at > TOY_DROP_AFTER_S:
                    with mon.lock:
                        spot = _toy_spot(mon)
                    if spot is not None:
                        mon.send_event({"event": "drop_toy", "object": TOY_DROPPED_ID, "xy": list(spot)})
                        live.line(f"event: a toy drops in the vacuum's path at ({spot[0]:.2f}, {spot[1]:.2f})")
                        toy_dropped = True
            if not launch.running:
                live.line("a required process exited (see logs)")
                outcome = "crashed"
                break
            time.sleep(0.1)
        live.line(f"plan {outcome} after {time.monotonic() - wall_start:.1f} s wall")
        settle_until = mon.sim_time + SETTLE_SIM_S
        settle_wall = time.monotonic() + 10.0
        while mon.sim_time < settle_until and time.monotonic() < settle_wall:
            time.sleep(0.1)
        return _finish(opts, scenario, text, transcript, mon, live, out,
                       success_override=None if outcome == "complete" else False, t_command=t_command)
    finally:
        if monitor_session is not None:
            monitor_session.close()
        _stop(voice)
        if launch is not None:
            launch.shutdown(timeout=20.0)
        if proxy is not None:
            proxy.stop()
        _stop(planner)
        stream.write(f"demo wall time {time.monotonic() - wall_start:.1f} s\n")
        stream.flush()


def _finish(
    opts: DemoOptions,
    scenario: Scenario,
    command: str,
    transcript: str | None,
    mon: Any,
    live: _Live,
    out: Path,
    *,
    success_override: bool | None,
    t_command: float,
) -> int:
    """Evaluate from ground truth, write report.json and the pictures, print the summary."""
    with mon.lock:
        status = dict(mon.status or {})
        truth = mon.truth
        scene, grid = mon.scene, mon.grid
        reported = dict(mon.reported_latency)
        samples = list(mon.latency_ms)
    checks = scenario.evaluate(truth, scene, grid) if scene is not None and truth.samples else {}
    steps = status.get("steps", [])
    ends = [s["t_end"] for s in steps if isinstance(s.get("t_end"), int | float)]
    task_time = (max(ends) - t_command) if ends else None
    trajectories = {r: truth.trajectory(r) for r in ALL_ROBOTS}
    clearances = [min_clearance(grid, densify(trajectories[r], 0.05), ROBOT_RADIUS[r])
                  for r in scenario.robots if grid is not None and trajectories.get(r)]
    clearances = [c for c in clearances if math.isfinite(c)]
    success = bool(checks) and all(c.passed for c in checks.values())
    if success_override is False:
        success = False
    latency = latency_summary(samples, reported)
    report = build_report(
        scenario=scenario.name,
        command=command,
        transcript=transcript,
        success=success,
        task_time_s=task_time,
        steps=steps,
        collisions=len(truth.collisions()),
        min_clearance_m=min(clearances) if clearances else None,
        reflex_latency_ms=latency,
        cloud_stall_ms_total=float(status.get("stall_ms_total", 0.0)),
        cloud_stall_ms_mid_plan=float(status.get("stall_ms_mid_plan", 0.0)),
        round_trips=int(status.get("round_trips", 0)),
        checks={name: c.to_dict() for name, c in checks.items()},
        reflex_decisions=decision_summary(reported),
    )
    write_report(out / "report.json", report)
    # The last world state, for whoever wants to see more than the checks (collision details, poses).
    (out / "ground_truth.json").write_text(json.dumps(truth.last, indent=1) + "\n", encoding="utf-8")
    timed = {r: truth.timed_trajectory(r) for r in scenario.robots}
    (out / "trajectories.json").write_text(json.dumps(timed) + "\n", encoding="utf-8")
    if scene is not None:
        markers = []
        for object_id in _MARKED_OBJECTS:
            position = truth.object_position(object_id)
            if position is not None:
                markers.append((position[0], position[1], object_id.replace("_", " ")))
        extras: dict[str, Any] = {"title": f"{scenario.name}: {'success' if success else 'FAILED'}",
                                  "markers": markers}
        try:
            draw_trajectory(scene, grid, trajectories, extras, out / "trajectory.png")
        except Exception:  # pictures must not hide the verdict
            _log.exception("trajectory.png failed")
    detections = sorted(out.glob("detection_*.npz"))
    if detections:
        draw_camera(detections[-1], out / "camera.png")
    draw_latency(samples, latency, out / "latency.png")
    live.stream.write(summary_table(report) + "\n")
    live.line(f"outputs in {out.resolve()}")
    return 0 if success else 1
