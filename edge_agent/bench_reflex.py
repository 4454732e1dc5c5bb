"""``reflexarc bench reflex``: scan-to-cmd_vel latency of the reflex across processes over Fast DDS.

What is measured is what a robot cares about: a lidar driver publishes a scan, the reflex (a separate
process, ``launch/robot.launch.xml`` with the shipped policy) turns it into a ``cmd_vel`` stamped with
the scan's stamp, and the motor driver receives it. Here the benchmark process is both the lidar driver
and the motor driver: it publishes synthetic but realistic 360-beam scans at 100 Hz (a furnished room
seen from a robot moving through it, with sensor noise, thin chair legs and dropped beams), each with a
fresh wall-clock stamp, plus odometry and a goal so the full policy + shield path runs; it receives the
commands and matches them to scans by stamp. Latency = the command's DDS reception time at the
subscriber - the scan's stamp (same host clock); ``callback_p50_ms``/``callback_p99_ms`` add the
subscriber's own Python dispatch (what a Python driver would see).

Rows: ``loaded=False`` on an otherwise idle stack, and ``loaded=True`` with a 3-robot ``sim_node``
(``launch/sim.launch.xml``, camera rendered) and a planner process (``launch/planner.launch.xml``) kept
busy by a client process planning back to back, both with default scheduling; then the loaded case
again with the reflex under ``chrt -f 50`` (``launch_prefix`` of ``launch/robot.launch.xml``), the way a
robot runs its control loop (SCHED_FIFO needs root or CAP_SYS_NICE; without it that row reports the
error). The top-level fields are the idle row's. Required p99 <= 10 ms, target 2 ms.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import json
import logging
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent import observation as spec

__all__ = ["LatencyRow", "bench_reflex", "latency_row", "planner_load", "synthetic_scans"]

_LOG = logging.getLogger(__name__)

RATE_HZ = 100.0
SAMPLES = 3000
QUICK_SAMPLES = 300
WARMUP_S = 2.0
TRANSPORT = "fastdds-localhost"
BENCH_ROBOT = "bench_robot"
REALTIME_PREFIX = "chrt -f 50"
"""Launch prefix of the third row: the reflex under SCHED_FIFO priority 50 (needs CAP_SYS_NICE or root)."""
_LAUNCH_DIR = Path(__file__).resolve().parent.parent / "launch"


@dataclass(frozen=True)
class LatencyRow:
    """One benchmark row (DESIGN.md ``bench reflex`` fields plus the send/drop counts)."""

    n: int
    rate_hz: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    transport: str
    loaded: bool
    sent: int
    dropped: int
    mean_ms: float
    scheduling: str = "default"
    callback_p50_ms: float | None = None
    callback_p99_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dict(self.__dict__)


def latency_row(latencies_ms: np.ndarray, *, sent: int, rate_hz: float, loaded: bool,
                scheduling: str = "default", callback_latencies_ms: np.ndarray | None = None) -> LatencyRow:
    """Summarise matched latencies (ms) of ``sent`` scans into a row.

    ``latencies_ms`` are scan stamp -> cmd_vel delivered to the subscriber (DDS reception time);
    ``callback_latencies_ms``, when given, scan stamp -> the subscriber's Python callback running.
    """
    lat = np.asarray(latencies_ms, dtype=np.float64)
    if lat.size == 0:
        raise RuntimeError("no cmd_vel matched any scan: is the reflex running?")
    p50, p99, p999 = np.percentile(lat, (50.0, 99.0, 99.9))
    cb = None if callback_latencies_ms is None or len(callback_latencies_ms) == 0 else np.asarray(
        callback_latencies_ms, dtype=np.float64)
    return LatencyRow(
        n=int(lat.size), rate_hz=rate_hz, p50_ms=round(float(p50), 4), p99_ms=round(float(p99), 4),
        p999_ms=round(float(p999), 4), max_ms=round(float(lat.max()), 4), transport=TRANSPORT, loaded=loaded,
        sent=int(sent), dropped=int(sent - lat.size), mean_ms=round(float(lat.mean()), 4), scheduling=scheduling,
        callback_p50_ms=None if cb is None else round(float(np.percentile(cb, 50.0)), 4),
        callback_p99_ms=None if cb is None else round(float(np.percentile(cb, 99.0)), 4),
    )


# ------------------------------------------------------------------------------- the scans
def synthetic_scans(count: int = 200, seed: int = 0) -> list[np.ndarray]:
    """Scans of a furnished 5 x 4 m room along a robot's path: walls, boxes, chair legs, noise, dropouts.

    Exact ray casting against segments and circles (numpy), so what the reflex sees has the structure
    of a real home scan: near furniture, single-beam legs, a doorway gap, invalid beams.
    """
    rng = np.random.default_rng(seed)
    angles = spec.LIDAR_ANGLE_MIN + spec.LIDAR_ANGLE_INCREMENT * np.arange(spec.LIDAR_BEAMS)
    walls = [((-2.0, -2.0), (3.0, -2.0)), ((3.0, -2.0), (3.0, 2.0)), ((3.0, 2.0), (0.9, 2.0)),
             ((0.0, 2.0), (-2.0, 2.0)), ((-2.0, 2.0), (-2.0, -2.0))]  # gap 0.0-0.9 m: a doorway
    boxes = [(1.6, -1.3, 0.8, 0.5), (-1.4, 1.2, 0.5, 0.6)]  # cx, cy, sx, sy
    for cx, cy, sx, sy in boxes:
        corners = [(cx - sx / 2, cy - sy / 2), (cx + sx / 2, cy - sy / 2), (cx + sx / 2, cy + sy / 2),
                   (cx - sx / 2, cy + sy / 2)]
        walls += [(corners[i], corners[(i + 1) % 4]) for i in range(4)]
    legs = [(0.9, 0.7, 0.02), (1.3, 0.7, 0.02), (0.9, 1.1, 0.02), (1.3, 1.1, 0.02), (-0.8, -1.2, 0.025)]
    segments = np.array([[*a, *b] for a, b in walls], dtype=np.float64)
    scans = []
    for k in range(count):
        s = k / max(count - 1, 1)
        x, y, yaw = -1.2 + 3.0 * s, -0.4 + 0.6 * math.sin(2 * math.pi * s), 0.3 * math.sin(4 * math.pi * s)
        d = np.stack([np.cos(angles + yaw), np.sin(angles + yaw)], axis=1)
        ranges = np.full(angles.size, np.inf)
        # ray-segment: p + t d = a + u (b - a)
        a, b = segments[:, :2], segments[:, 2:]
        e = b - a
        denom = d[:, None, 0] * e[None, :, 1] - d[:, None, 1] * e[None, :, 0]
        w = a[None, :, :] - np.array([x, y])[None, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (w[..., 0] * e[None, :, 1] - w[..., 1] * e[None, :, 0]) / denom
            u = (w[..., 0] * d[:, None, 1] - w[..., 1] * d[:, None, 0]) / denom
        hit = (np.abs(denom) > 1e-12) & (t > 0) & (u >= 0) & (u <= 1)
        ranges = np.minimum(ranges, np.where(hit, t, np.inf).min(axis=1))
        for lx, ly, r in legs:
            px, py = lx - x, ly - y
            along = d[:, 0] * px + d[:, 1] * py
            perp2 = px * px + py * py - along ** 2
            inside = (along > 0) & (perp2 <= r * r)
            t_leg = along - np.sqrt(np.maximum(r * r - perp2, 0.0))
            ranges = np.where(inside, np.minimum(ranges, t_leg), ranges)
        ranges = ranges + rng.normal(0.0, 0.005, ranges.size)
        ranges[ranges > spec.LIDAR_RANGE_MAX] = np.inf
        ranges[rng.random(ranges.size) < 0.01] = np.nan  # dark or specular spots
        scans.append(ranges.astype(np.float32))
    return scans


# ------------------------------------------------------------------------------ processes
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def planner_load(address: str, duration_s: float) -> int:
    """Plan back to back against ``address`` for ``duration_s`` (a busy cloud); returns the plans made."""
    from cloud_planner.client import PlannerClient
    from sim.home_layout import load_home_layout

    scene = load_home_layout().scene_graph()
    utterances = ("bring me the red cup from the kitchen", "clean the living room",
                  "turn on the kitchen light", "거실을 청소해줘")
    plans = 0
    deadline = time.monotonic() + duration_s
    with PlannerClient(address, timeout_s=10.0) as client:
        while time.monotonic() < deadline:
            try:
                client.plan(utterances[plans % len(utterances)], scene)
            except Exception as exc:  # noqa: BLE001 - a load generator keeps loading
                _LOG.debug("plan failed: %s", exc)
                time.sleep(0.05)
            plans += 1
    return plans


@contextlib.contextmanager
def _background_load(env: dict[str, str], duration_s: float) -> Iterator[None]:
    """sim_node (3 robots, 1x) and a planner kept busy by a separate client process, for ``duration_s``."""
    from reflexarc.launch_runner import launch_file

    port = _free_port()
    sim = launch_file(_LAUNCH_DIR / "sim.launch.xml", {"robots": "robot1,dog1,vacuum1", "speed": "1.0"},
                      echo=False, environ=env)
    planner = launch_file(_LAUNCH_DIR / "planner.launch.xml", {"port": str(port)}, echo=False, environ=env)
    client = None
    try:
        _wait_for_port(port, 60.0)
        code = f"from edge_agent.bench_reflex import planner_load; planner_load('127.0.0.1:{port}', {duration_s})"
        client = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        yield
    finally:
        if client is not None:
            client.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                client.wait(timeout=10)
            if client.poll() is None:
                client.kill()
        planner.shutdown(timeout=30.0)
        sim.shutdown(timeout=30.0)


def _wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"planner did not listen on port {port} within {timeout_s:g} s")


# ----------------------------------------------------------------------------- measuring
class _Rig:
    """The benchmark's ROS side: lidar + odometry + goal publisher and cmd_vel receiver in one context."""

    def __init__(self, domain_id: int, watch_camera: bool) -> None:
        import rclpy
        from geometry_msgs.msg import PoseStamped, TwistStamped
        from nav_msgs.msg import Odometry
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image, LaserScan
        from std_msgs.msg import String

        self._rclpy = rclpy
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node("bench_reflex", context=self.context)
        ns = f"/{BENCH_ROBOT}"
        self.scan_pub = self.node.create_publisher(LaserScan, f"{ns}/scan", QoSProfile(
            depth=5, reliability=ReliabilityPolicy.RELIABLE))
        self.odom_pub = self.node.create_publisher(Odometry, f"{ns}/odom", 10)
        self.goal_pub = self.node.create_publisher(PoseStamped, f"{ns}/local_goal", 10)
        self.received: dict[int, int] = {}
        self.latency_report: dict[str, Any] = {}
        self.node.create_subscription(TwistStamped, f"{ns}/cmd_vel", self._on_cmd, 100)
        self.node.create_subscription(String, f"{ns}/reflex/latency", self._on_latency, 10)
        if watch_camera:  # like the executive: makes the sim render robot1's camera
            self.node.create_subscription(Image, "/robot1/camera/image", lambda _m: None, 2)
        self._LaserScan, self._Odometry, self._PoseStamped = LaserScan, Odometry, PoseStamped
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        with contextlib.suppress(Exception):
            while self.context.ok():
                self.executor.spin_once(timeout_sec=0.05)

    def _on_cmd(self, msg: Any, info: Any) -> None:
        now = time.time_ns()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        # DDS reception time (when the "motor driver" has the command), and when Python got to it
        self.received.setdefault(stamp, (int(info["received_timestamp"]) or now, now))

    def _on_latency(self, msg: Any) -> None:
        self.latency_report = json.loads(msg.data)

    def wait_for_reflex(self, timeout_s: float, launch: Any) -> None:
        deadline = time.monotonic() + timeout_s
        while self.scan_pub.get_subscription_count() < 1 or self.goal_pub.get_subscription_count() < 1:
            if launch.returncode is not None:
                raise RuntimeError(f"the reflex_node under test exited with status {launch.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the reflex_node under test never subscribed to its scan")
            time.sleep(0.05)

    def publish_odom_and_goal(self) -> None:
        odom = self._Odometry()
        odom.header.frame_id = "map"
        odom.header.stamp = self.node.get_clock().now().to_msg()
        odom.pose.pose.orientation.w = 1.0
        self.odom_pub.publish(odom)
        goal = self._PoseStamped()
        goal.header.frame_id = "map"
        goal.pose.position.x, goal.pose.position.y = 3.0, 0.5
        goal.pose.orientation.w = 1.0
        self.goal_pub.publish(goal)

    def run(self, scans: list[Any], count: int, rate_hz: float) -> list[int]:
        """Publish ``count`` scans at ``rate_hz`` on an absolute schedule; returns their stamps (ns)."""
        msg = self._LaserScan()
        msg.header.frame_id = f"{BENCH_ROBOT}/base_link"
        msg.angle_min = spec.LIDAR_ANGLE_MIN
        msg.angle_increment = spec.LIDAR_ANGLE_INCREMENT
        msg.angle_max = spec.LIDAR_ANGLE_MIN + spec.LIDAR_ANGLE_INCREMENT * (spec.LIDAR_BEAMS - 1)
        msg.range_min, msg.range_max = spec.LIDAR_RANGE_MIN, spec.LIDAR_RANGE_MAX
        msg.scan_time = 1.0 / rate_hz
        period = 1.0 / rate_hz
        stamps: list[int] = []
        next_time = time.monotonic()
        for i in range(count):
            next_time += period
            delay = next_time - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if i % 2 == 0:
                self.publish_odom_and_goal()  # 50 Hz odometry, as the driver publishes it
            msg.ranges = scans[i % len(scans)]
            stamp = time.time_ns()
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
            self.scan_pub.publish(msg)
            stamps.append(stamp)
        return stamps

    def close(self) -> None:
        self._rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=5.0)


def _measure(env: dict[str, str], domain_id: int, *, loaded: bool, samples: int, scans: list[Any],
             policy_path: str, reflex_prefix: str = "") -> tuple[LatencyRow, np.ndarray, dict[str, Any]]:
    from reflexarc.launch_runner import launch_file

    duration = samples / RATE_HZ + WARMUP_S + 30.0
    load = _background_load(env, duration) if loaded else contextlib.nullcontext()
    with load, launch_file(_LAUNCH_DIR / "robot.launch.xml",
                           {"robot": BENCH_ROBOT, "use_sim_time": "false", "policy_path": policy_path,
                            "launch_prefix": reflex_prefix},
                           echo=False, environ=env) as reflex:
        rig = _Rig(domain_id, watch_camera=loaded)
        try:
            rig.wait_for_reflex(60.0, reflex)
            if loaded:
                time.sleep(3.0)  # let the load settle into its steady state
            rig.run(scans, int(WARMUP_S * RATE_HZ), RATE_HZ)
            time.sleep(0.2)
            rig.received.clear()
            stamps = rig.run(scans, samples, RATE_HZ)
            for _ in range(3):  # the reflex keeps only the freshest scan: top up what it skipped
                time.sleep(0.2)
                missing = samples - sum(1 for s in stamps if s in rig.received)
                if missing <= 0:
                    break
                stamps += rig.run(scans, int(missing * 1.2) + 10, RATE_HZ)
            time.sleep(1.5)  # stragglers, and one more reflex/latency report
            if reflex.returncode is not None:
                raise RuntimeError(f"reflex_node exited with status {reflex.returncode} during the benchmark")
            received = dict(rig.received)
            report = dict(rig.latency_report)
        finally:
            rig.close()
    matched = [s for s in stamps if s in received]
    latencies = np.array([(received[s][0] - s) / 1e6 for s in matched], dtype=np.float64)
    callbacks = np.array([(received[s][1] - s) / 1e6 for s in matched], dtype=np.float64)
    scheduling = reflex_prefix.strip() or "default"
    row = latency_row(latencies, sent=len(stamps), rate_hz=RATE_HZ, loaded=loaded, scheduling=scheduling,
                      callback_latencies_ms=callbacks)
    return row, latencies, report


def _plot(series: dict[str, np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, lat in series.items():
        data = np.sort(lat)
        ax.plot(data, np.arange(1, data.size + 1) / data.size, label=f"{label} (n={data.size})")
    ax.axvline(2.0, color="tab:green", linestyle=":", label="target 2 ms")
    ax.axvline(10.0, color="tab:red", linestyle="--", label="required p99 10 ms")
    ax.set_xscale("log")
    ax.set_xlabel("scan stamp -> cmd_vel delivered (ms), across processes, Fast DDS")
    ax.set_ylabel("fraction of scans")
    ax.set_title(f"reflex latency at {RATE_HZ:g} Hz")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def bench_reflex(args: argparse.Namespace) -> dict[str, Any]:
    """Idle and loaded rows of scan-to-cmd_vel latency; the idle row's fields also at the top level."""
    quick = bool(getattr(args, "quick", False))
    seed = int(getattr(args, "seed", 0) or 0)
    samples = QUICK_SAMPLES if quick else SAMPLES
    domain_id = 1 + (os.getpid() * 13 + seed) % 100
    env = dict(os.environ)
    env.update(ROS_DOMAIN_ID=str(domain_id), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
               RMW_IMPLEMENTATION="rmw_fastrtps_cpp", PYTHONUNBUFFERED="1")
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    scans = [array.array("f", s.tobytes()) for s in synthetic_scans(200, seed)]  # ready to publish
    policy_path = str(getattr(args, "policy_path", "") or "")  # empty: the shipped model
    rows: list[dict[str, Any]] = []
    series: dict[str, np.ndarray] = {}
    reports: dict[str, Any] = {}
    # idle and loaded with default scheduling (the required pair), then loaded with the reflex at
    # real-time priority, as a robot would run its control loop
    for loaded, prefix in ((False, ""), (True, ""), (True, REALTIME_PREFIX)):
        label = ("loaded" if loaded else "idle") + (f", {prefix}" if prefix else "")
        try:
            row, latencies, report = _measure(env, domain_id, loaded=loaded, samples=samples, scans=scans,
                                              policy_path=policy_path, reflex_prefix=prefix)
        except RuntimeError as exc:
            if not prefix:
                raise
            _LOG.warning("reflex latency (%s) not measured: %s", label, exc)
            rows.append({"loaded": loaded, "scheduling": prefix, "error": str(exc)})
            continue
        _LOG.info("reflex latency (%s): p50 %.3f ms, p99 %.3f ms, max %.3f ms over %d scans",
                  label, row.p50_ms, row.p99_ms, row.max_ms, row.n)
        rows.append(row.to_dict())
        series[label] = latencies
        reports[label] = report
    result: dict[str, Any] = {"rows": rows, **rows[0], "reflex_node_report": reports,
                              "required_p99_ms": 10.0, "target_p99_ms": 2.0}
    json_path = getattr(args, "json", None)
    if json_path and not quick:
        plot_path = Path(json_path).parent / "reflex_latency_cdf.png"
        _plot(series, plot_path)
        result["plot"] = str(plot_path)
    return result
