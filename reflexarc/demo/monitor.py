"""The demo's observer node: listens to the whole stack, records ground truth, sends the command.

It lives in the orchestrator process in its own rclpy Context (domain id of the run), so several demos
can run side by side. Callbacks only record; the orchestrator reads snapshots under a lock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import rclpy
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import OccupancyGrid as OccupancyGridMsg
from rclpy.context import Context
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import LaserScan
from std_msgs.msg import String

from reflexarc.demo.scenarios import GroundTruthLog
from reflexarc.occupancy_grid import OccupancyGrid
from reflexarc.ros_executor import events_executor, spin_until_shutdown
from reflexarc.scene_graph import SceneGraph, SceneGraphError

__all__ = ["DemoMonitor", "MonitorSession"]

_log = logging.getLogger(__name__)
_LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
_MAX_PENDING_SCANS = 200


class DemoMonitor(Node):
    """Subscribes to status, ground truth, speech, latency; publishes ``/command`` and ``/sim/event``."""

    def __init__(self, robots: Sequence[str], context: Context) -> None:
        super().__init__("demo_monitor", context=context)
        self.lock = threading.Lock()
        self.truth = GroundTruthLog()
        self.status: dict[str, Any] | None = None
        self.status_seq = 0
        self.scene: SceneGraph | None = None
        self.grid: OccupancyGrid | None = None
        self.sim_time = 0.0
        self.said: deque[str] = deque()
        self.detections: list[dict[str, Any]] = []
        self.transcripts: list[dict[str, Any]] = []
        self.ask_again: list[str] = []
        self.reported_latency: dict[str, dict[str, Any]] = {}
        self.latency_ms: list[float] = []
        self._scan_times: dict[str, dict[tuple[int, int], float]] = {r: {} for r in robots}
        self._command_pub = self.create_publisher(String, "/command", 10)
        self._event_pub = self.create_publisher(String, "/sim/event", 10)
        self.create_subscription(String, "/executive/status", self._on_status, _LATCHED)
        self.create_subscription(String, "/sim/ground_truth", self._on_truth, 10)
        self.create_subscription(String, "/scene_graph", self._on_scene, _LATCHED)
        self.create_subscription(OccupancyGridMsg, "/map", self._on_map, _LATCHED)
        self.create_subscription(String, "/executive/say", self._on_say, 10)
        self.create_subscription(String, "/executive/detection", self._on_detection, 10)
        self.create_subscription(String, "/voice/transcript", self._on_transcript, 10)
        self.create_subscription(String, "/voice/ask_again", self._on_ask_again, 10)
        self.create_subscription(Clock, "/clock", self._on_clock, qos_profile_sensor_data)
        for robot in robots:
            self.create_subscription(String, f"/{robot}/reflex/latency", self._latency_cb(robot), 10)
            self.create_subscription(LaserScan, f"/{robot}/scan", self._scan_cb(robot), qos_profile_sensor_data)
            self.create_subscription(TwistStamped, f"/{robot}/cmd_vel", self._cmd_cb(robot), qos_profile_sensor_data)

    # ------------------------------------------------------------------------------ callbacks
    def _on_status(self, msg: String) -> None:
        with self.lock:
            self.status = json.loads(msg.data)
            self.status_seq += 1

    def _on_truth(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
        except ValueError:
            return
        with self.lock:
            self.truth.add(data)

    def _on_scene(self, msg: String) -> None:
        try:
            scene = SceneGraph.from_json(msg.data)
        except SceneGraphError:
            return
        with self.lock:
            self.scene = scene

    def _on_map(self, msg: OccupancyGridMsg) -> None:
        data = np.asarray(msg.data, dtype=np.int16).reshape(msg.info.height, msg.info.width)
        grid = OccupancyGrid(msg.info.resolution, (msg.info.origin.position.x, msg.info.origin.position.y),
                             (data != 0).astype(np.uint8))
        with self.lock:
            self.grid = grid

    def _on_say(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
            text = f"{data.get('robot', '?')}: {data.get('text', '')}"
        except ValueError:
            text = msg.data
        with self.lock:
            self.said.append(text)

    def _on_detection(self, msg: String) -> None:
        with self.lock:
            self.detections.append(json.loads(msg.data))

    def _on_transcript(self, msg: String) -> None:
        with self.lock:
            self.transcripts.append(json.loads(msg.data))

    def _on_ask_again(self, msg: String) -> None:
        with self.lock:
            self.ask_again.append(msg.data)

    def _on_clock(self, msg: Clock) -> None:
        self.sim_time = msg.clock.sec + msg.clock.nanosec * 1e-9

    def _latency_cb(self, robot: str):
        def callback(msg: String) -> None:
            try:
                data = json.loads(msg.data)
            except ValueError:
                return
            with self.lock:
                self.reported_latency[robot] = data

        return callback

    def _scan_cb(self, robot: str):
        pending = self._scan_times[robot]

        def callback(msg: LaserScan) -> None:
            pending[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = time.perf_counter()
            if len(pending) > _MAX_PENDING_SCANS:
                pending.pop(next(iter(pending)))

        return callback

    def _cmd_cb(self, robot: str):
        pending = self._scan_times[robot]

        def callback(msg: TwistStamped) -> None:
            t_scan = pending.pop((msg.header.stamp.sec, msg.header.stamp.nanosec), None)
            if t_scan is not None:
                self.latency_ms.append((time.perf_counter() - t_scan) * 1000.0)

        return callback

    # ------------------------------------------------------------------------------ outputs
    def send_command(self, text: str, language: str = "", source: str = "text") -> None:
        """Publish one ``/command``."""
        payload = {"text": text, "language": language, "source": source, "asr_confidence": 1.0}
        self._command_pub.publish(String(data=json.dumps(payload, ensure_ascii=False)))

    def send_event(self, event: dict[str, Any]) -> None:
        """Publish one ``/sim/event``."""
        self._event_pub.publish(String(data=json.dumps(event)))

    def command_listeners(self) -> int:
        """How many nodes subscribe ``/command`` (the executive must be there before we speak)."""
        return self.count_subscribers("/command")


class MonitorSession:
    """Owns the monitor's Context, node and executor thread (``with MonitorSession(...) as mon:``)."""

    def __init__(self, robots: Sequence[str], domain_id: int) -> None:
        self._context = Context()
        rclpy.init(context=self._context, domain_id=domain_id)
        self.node = DemoMonitor(robots, self._context)
        self._executor = events_executor(self.node, self._context)
        self._thread = threading.Thread(target=self._spin, name="demo-monitor", daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        try:
            spin_until_shutdown(self._executor, self._context)
        except Exception:  # shutdown races end the spin; nothing to recover
            _log.debug("monitor executor stopped", exc_info=True)

    def close(self) -> None:
        """Stop spinning and shut the Context down."""
        rclpy.try_shutdown(context=self._context)  # ends the spin loop within one slice
        self._thread.join(3.0)
        self.node.destroy_node()

    def __enter__(self) -> MonitorSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
