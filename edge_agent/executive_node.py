"""``executive_node``: the robot side of the planner session; executes prefetched steps without the cloud.

Three parts, three threads of control:

* :class:`CloudSession` runs the gRPC ``Planner.Session`` bidi stream in a background thread: Hello
  (the scene from ``/scene_graph``), Commands, Progress, Heartbeats and, after a reconnect, Resume.
  Whatever the cloud sends lands in a thread-safe inbox; failures reconnect with exponential backoff
  (full jitter), moving to the next planner address each time (failover between replicas).
* :class:`StepScheduler` (pure, no ROS/gRPC) holds the plan's received steps and decides which may
  run. The rule, kept simple on purpose: a step may start once (a) every earlier index has been
  received, (b) every earlier step of the SAME robot finished successfully, and (c) every earlier step
  of ANOTHER robot that names the same object or device finished successfully (e.g. handover after
  pick, or a dog that must not carry luggage another robot is still moving). Everything else runs in
  parallel, one executor per robot.
* :class:`ExecutiveNode` is the thin ROS node: it subscribes ``/scene_graph``, ``/map``,
  ``/command`` and ``/voice/transcript``, runs one executor thread per robot that executes steps with
  the skill library through :class:`~edge_agent.skills.ros_robot.RosRobot`, reports Progress after
  each step, and publishes ``/executive/status``.

While the cloud is unreachable the executors keep working through the queue; when it runs dry the
robots hold (zero local goals) until the session is back and Resume brings the rest of the plan.
The node counts round trips (answers from the cloud that brought steps) and the time the fleet
stalled waiting for the cloud (nothing running, nothing runnable, a step of the plan not received),
in total and mid-plan only (without the wait for the first plan after a command, which no lookahead
can remove).
"""

from __future__ import annotations

import json
import logging
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import rclpy
from nav_msgs.msg import OccupancyGrid as OccupancyGridMsg
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from cloud_planner.channel_options import client_channel_options
from cloud_planner.plan import PlanStep
from cloud_planner.validator import ValidationError, check_step_static
from cloud_planner.wire import scene_to_proto, step_from_proto
from edge_agent.backoff import BackoffPolicy, ExponentialBackoff
from edge_agent.skills.base import Detection, SkillContext
from edge_agent.skills.ros_robot import RosRobot
from edge_agent.skills.runner import SkillRunner, StepOutcome, StepStatus
from edge_agent.stall_meter import StallMeter
from protos.reflexarc.v1 import plan_pb2, planner_pb2, planner_pb2_grpc
from reflexarc.occupancy_grid import OccupancyGrid
from reflexarc.ros_executor import events_executor, spin_until_shutdown
from reflexarc.scene_graph import ROBOT_RADIUS_BY_KIND, Device, SceneGraph, SceneGraphError, SceneObject
from reflexarc.skills import SKILLS, ParamKind

__all__ = ["CloudSession", "ExecutiveNode", "StepRecord", "StepScheduler", "main"]

_log = logging.getLogger(__name__)

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_FINISHED = ("succeeded", "recovered", "skipped")
CAMERA_SKILLS = frozenset({"look_for"})
"""Skills that need the robot's RGB-D camera."""


# ------------------------------------------------------------------------------------------ schedule
@dataclass
class StepRecord:
    """One received step and what happened to it (times are sim seconds)."""

    step: PlanStep
    revision: int
    status: str = "queued"  # queued | running | succeeded | recovered | failed | skipped | cancelled
    t_start: float | None = None
    t_end: float | None = None


def _touched_entities(step: PlanStep, scene: SceneGraph | None) -> frozenset[str]:
    """Objects and devices a step names: what two robots must not work on at the same time."""
    names = set()
    for name, value in step.args.items():
        spec = SKILLS.get(step.skill)
        param = spec.param(name) if spec else None
        if param is None or not isinstance(value, str):
            continue
        if param.kind in (ParamKind.OBJECT, ParamKind.DEVICE):
            names.add(value)
        elif param.kind is ParamKind.PLACE and scene is not None:
            entity = scene.get(value)
            if isinstance(entity, SceneObject | Device):
                names.add(value)
    return frozenset(names)


@dataclass
class StepScheduler:
    """The executive's view of the current plan: received steps, their status, what may run next.

    Revision rules: a step of a revision older than the newest seen is dropped; Revise drops the
    unfinished (queued, failed or running) older steps at or after its ``from_index``; no index ever runs twice (finished indices stay finished
    across revisions and reconnects); Cancel drops everything queued.
    """

    plan_id: str = ""
    revision: int = 0
    total_steps: int = 0
    records: dict[int, StepRecord] = field(default_factory=dict)
    scene: SceneGraph | None = None
    cancelled: bool = False

    # -- cloud messages
    def header(self, plan_id: str, revision: int, total_steps: int) -> bool:
        """A PlanHeader: a new plan resets the schedule (returns True), a resumed one updates it."""
        if plan_id != self.plan_id:
            self.plan_id, self.revision, self.total_steps = plan_id, revision, total_steps
            self.records = {}
            self.cancelled = False
            return True
        if revision >= self.revision:
            self.revision = revision
            self.total_steps = total_steps or self.total_steps
        return False

    def add(self, plan_id: str, revision: int, step: PlanStep) -> bool:
        """A Step: keep it unless stale, finished or already running; True when it was queued."""
        if plan_id != self.plan_id or revision < self.revision or self.cancelled:
            return False
        current = self.records.get(step.index)
        if current is not None and current.status in (*_FINISHED, "running"):
            return False
        if current is not None and current.revision > revision:
            return False
        if current is not None and current.status == "failed" and revision <= current.revision:
            return False  # a failed step waits for a newer revision; a resent copy of it must not run again
        self.revision = max(self.revision, revision)
        self.records[step.index] = StepRecord(step, revision)
        return True

    def revise(self, plan_id: str, revision: int, from_index: int, total_steps: int) -> list[str]:
        """A Revise: newer revision from ``from_index``; older steps there that did not finish are dropped.

        A step of an older revision still running at or after ``from_index`` (another robot's, in
        parallel with the one that failed) is superseded too: the new revision may put a different step
        at that index, and executing the old one to its end would act on a plan the cloud withdrew.
        Returns the robots whose running step was superseded (the caller stops them).
        """
        if plan_id != self.plan_id or revision < self.revision:
            return []
        self.revision = max(self.revision, revision)
        if total_steps:
            self.total_steps = total_steps
        superseded = []
        for index in list(self.records):
            record = self.records[index]
            if index < from_index or record.revision >= revision or record.status in _FINISHED:
                continue
            if record.status == "running":
                superseded.append(record.step.robot)
            del self.records[index]
        return superseded

    def cancel(self) -> list[int]:
        """A Cancel: drop queued steps; returns the indices still running (their robots must stop)."""
        self.cancelled = True
        running = []
        for index, record in list(self.records.items()):
            if record.status == "queued":
                record.status = "cancelled"
            elif record.status == "running":
                running.append(index)
        return running

    # -- execution
    def has_unfinished(self, robot: str, skills: frozenset[str]) -> bool:
        """Whether ``robot`` has a queued or running step of one of ``skills``."""
        return not self.cancelled and any(
            r.step.robot == robot and r.step.skill in skills and r.status in ("queued", "running")
            for r in self.records.values())

    def runnable(self, robot: str) -> StepRecord | None:
        """The lowest-index queued step of ``robot`` whose dependencies are met (see module docstring)."""
        if self.cancelled or not self.plan_id:
            return None
        for index in sorted(self.records):
            record = self.records[index]
            if record.step.robot != robot or record.status != "queued":
                continue
            if any(i not in self.records for i in range(index)):
                return None
            touched = _touched_entities(record.step, self.scene)
            for earlier in range(index):
                other = self.records[earlier]
                if other.status in _FINISHED:
                    continue
                if other.step.robot == robot:
                    return None
                if touched & _touched_entities(other.step, self.scene):
                    return None
            return record
        return None

    def start(self, index: int, now: float) -> None:
        """Mark a step running."""
        record = self.records[index]
        record.status, record.t_start, record.t_end = "running", now, None

    def finish(self, index: int, status: str, now: float) -> None:
        """Mark a step done (succeeded / recovered / failed / cancelled)."""
        record = self.records.get(index)
        if record is not None:
            record.status, record.t_end = status, now

    @property
    def cursor(self) -> int:
        """Index of the first step not finished (= number of finished steps from the start)."""
        i = 0
        while i in self.records and self.records[i].status in _FINISHED:
            i += 1
        return i

    @property
    def complete(self) -> bool:
        """Every step of the plan finished."""
        return bool(self.plan_id) and self.total_steps > 0 and self.cursor >= self.total_steps

    @property
    def running(self) -> bool:
        """Whether any step is executing."""
        return any(r.status == "running" for r in self.records.values())

    def waiting_for_cloud(self, robots: Sequence[str]) -> bool:
        """The fleet is idle only because a step of the plan has not arrived yet."""
        if not self.plan_id or self.cancelled or self.complete or self.running:
            return False
        if any(r.status == "failed" for r in self.records.values()):
            return True  # waiting for the re-plan
        if any(self.runnable(robot) is not None for robot in robots):
            return False
        total = self.total_steps or (max(self.records) + 2 if self.records else 1)
        return any(i not in self.records for i in range(total))

    def status_rows(self) -> list[dict[str, Any]]:
        """The ``steps`` list of ``/executive/status``."""
        return [
            {"index": i, "revision": r.revision, "skill": r.step.skill, "robot": r.step.robot, "status": r.status,
             "t_start": r.t_start, "t_end": r.t_end, "args": dict(r.step.args), "summary": r.step.summary}
            for i, r in sorted(self.records.items())
        ]


# ------------------------------------------------------------------------------------------- session
class CloudSession:
    """The gRPC Session stream in a background thread, reconnecting with backoff and failover.

    Args:
        addresses: planner replicas ``host:port``, tried in turn.
        on_open: called (in the session thread) right after a stream opens; returns the first
            messages to send (Hello, then Resume when a plan is in progress, then pending commands).
        inbox: where every CloudMessage is put, with ``("connected", bool)`` markers on changes.
    """

    def __init__(
        self,
        addresses: Sequence[str],
        on_open: Callable[[], list[planner_pb2.EdgeMessage]],
        inbox: queue.Queue,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 3.0,
        heartbeat_timeout_s: float = 6.0,
    ) -> None:
        if not addresses:
            raise ValueError("at least one planner address is needed")
        self.addresses = list(addresses)
        self._on_open = on_open
        self._inbox = inbox
        self._backoff = ExponentialBackoff(BackoffPolicy(base_s=backoff_initial_s, cap_s=backoff_max_s, min_s=min(0.05, backoff_max_s)))
        self._heartbeat_timeout_s = heartbeat_timeout_s
        self._outbox: queue.Queue | None = None
        self._call: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cloud-session", daemon=True)
        self._lock = threading.Lock()
        self.connected = False
        self.address = ""
        self.last_receive = time.monotonic()

    def start(self) -> None:
        """Start connecting."""
        self._thread.start()

    def stop(self) -> None:
        """Close the stream and stop reconnecting."""
        self._stop.set()
        with self._lock:
            if self._outbox is not None:
                self._outbox.put(None)
            if self._call is not None:
                self._call.cancel()
        self._thread.join(5.0)

    def send(self, message: planner_pb2.EdgeMessage) -> bool:
        """Queue a message on the open stream; False (dropped) when disconnected."""
        with self._lock:
            if not self.connected or self._outbox is None:
                return False
            self._outbox.put(message)
            return True

    def check_liveness(self) -> None:
        """Break a stream that has been silent too long (heartbeat acks stopped): reconnect."""
        with self._lock:
            if self.connected and time.monotonic() - self.last_receive > self._heartbeat_timeout_s:
                _log.warning("planner %s silent for %.1f s; reconnecting", self.address, self._heartbeat_timeout_s)
                if self._call is not None:
                    self._call.cancel()

    def _requests(self, outbox: queue.Queue) -> Iterator[planner_pb2.EdgeMessage]:
        while True:
            item = outbox.get()
            if item is None:
                return
            yield item

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            address = self.addresses[index % len(self.addresses)]
            channel = grpc.insecure_channel(address, options=client_channel_options(_MAX_MESSAGE_BYTES))
            try:
                grpc.channel_ready_future(channel).result(timeout=2.0)
                outbox: queue.Queue = queue.Queue()
                for message in self._on_open():
                    outbox.put(message)
                stub = planner_pb2_grpc.PlannerStub(channel)
                call = stub.Session(self._requests(outbox))
                with self._lock:
                    self._outbox, self._call = outbox, call
                    self.connected, self.address = True, address
                    self.last_receive = time.monotonic()
                self._inbox.put(("connected", True))
                _log.info("session open with planner %s", address)
                for message in call:
                    self.last_receive = time.monotonic()
                    self._backoff.reset()
                    self._inbox.put(message)
                _log.warning("planner %s closed the session", address)
            except grpc.FutureTimeoutError:
                _log.info("planner %s unreachable", address)
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                if not self._stop.is_set():
                    _log.warning("session with %s ended: %s", address, code)
            finally:
                with self._lock:
                    was_connected = self.connected
                    self.connected = False
                    if self._outbox is not None:
                        self._outbox.put(None)
                    self._outbox, self._call = None, None
                channel.close()
                if was_connected:
                    self._inbox.put(("connected", False))
            if self._stop.is_set():
                return
            index += 1
            self._stop.wait(self._backoff.next_delay())


# ---------------------------------------------------------------------------------------------- node
class _World:
    """The node's latest scene graph, map and device results, shared with every robot interface."""

    def __init__(self, node: ExecutiveNode) -> None:
        self._node = node
        self._scene: SceneGraph | None = None
        self._grid: OccupancyGrid | None = None
        self._ready = threading.Event()
        self._device_results: dict[str, dict[str, Any]] = {}
        self._device_cv = threading.Condition()

    def scene(self) -> SceneGraph:
        if self._scene is None and not self._ready.wait(10.0):
            raise RuntimeError("no /scene_graph received")
        assert self._scene is not None
        return self._scene

    def grid(self) -> OccupancyGrid:
        deadline = time.monotonic() + 10.0
        while self._grid is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._grid is None:
            raise RuntimeError("no /map received")
        return self._grid

    def robot_positions(self, exclude: str = "") -> dict[str, tuple[float, float]]:
        """Current odometry positions of the executive's robots (except ``exclude``)."""
        out = {}
        for robot_id, robot in list(self._node._robots.items()):
            pose = robot.latest_pose()
            if robot_id != exclude and pose is not None:
                out[robot_id] = (pose.x, pose.y)
        return out

    def set_device(self, device: str, state: str, request_id: str, timeout_s: float) -> tuple[bool, str]:
        self._node.publish_device_request(device, state, request_id)
        deadline = time.monotonic() + timeout_s
        with self._device_cv:
            while request_id not in self._device_results:
                if time.monotonic() > deadline:
                    return False, "no /devices/result in time"
                self._device_cv.wait(0.2)
            result = self._device_results.pop(request_id)
        return bool(result.get("success")), str(result.get("error", ""))

    def on_device_result(self, data: dict[str, Any]) -> None:
        with self._device_cv:
            self._device_results[str(data.get("request", ""))] = data
            self._device_cv.notify_all()


def _status_proto(status: StepStatus) -> int:
    return {
        StepStatus.SUCCEEDED: planner_pb2.STEP_STATUS_SUCCEEDED,
        StepStatus.RECOVERED: planner_pb2.STEP_STATUS_RECOVERED,
        StepStatus.FAILED: planner_pb2.STEP_STATUS_FAILED,
    }[status]


class ExecutiveNode(Node):
    """The executive: planner session client, step scheduler and one skill executor per robot."""

    def __init__(self) -> None:
        super().__init__("executive_node")
        self.declare_parameter("planner_addresses", ["127.0.0.1:50051"])
        self.declare_parameter("robots", [""])
        self.declare_parameter("lookahead", -2)  # < -1: the planner's default; -1: whole plan; K >= 0
        self.declare_parameter("heartbeat_period_s", 2.0)
        self.declare_parameter("heartbeat_timeout_s", 6.0)
        self.declare_parameter("reconnect_backoff_initial_s", 0.2)
        self.declare_parameter("reconnect_backoff_max_s", 3.0)
        self.declare_parameter("edge_id", "home_edge")
        self.declare_parameter("artifacts_dir", "")
        self.declare_parameter("reflex_goal_tolerance", 0.15)
        self._addresses = [a for a in self.get_parameter("planner_addresses").value if a]
        self._robot_filter = [r for r in self.get_parameter("robots").value if r]
        self._lookahead = int(self.get_parameter("lookahead").value)
        self._edge_id = str(self.get_parameter("edge_id").value)
        artifacts = str(self.get_parameter("artifacts_dir").value)
        self._artifacts_dir = Path(artifacts) if artifacts else None

        self._lock = threading.RLock()
        self._work = threading.Condition(self._lock)
        self._world = _World(self)
        self._scheduler = StepScheduler()
        self._robots: dict[str, RosRobot] = {}
        self._runners: dict[str, SkillRunner] = {}
        self._threads: list[threading.Thread] = []
        self._shutdown = threading.Event()
        self._pending_commands: list[plan_pb2.Command] = []
        self._last_command: plan_pb2.Command | None = None
        self._plan_command: plan_pb2.Command | None = None
        self._plan_scene: Any = None
        self._plan_facts: list[plan_pb2.Fact] = []
        self._plan_from_index = 0
        self._plan_digest = ""
        self._awaiting_answer = False
        self._awaiting_plan = False
        self._round_trips = 0
        self._stall = StallMeter()  # any wait for the cloud, the first plan after a command included
        self._stall_mid_plan = StallMeter()  # only waits for a step of a plan already received
        self._last_reject: dict[str, Any] | None = None
        self._heartbeat_seq = 0
        self._status_dirty = True
        self._report_buffer: dict[int, planner_pb2.Progress] = {}
        self._next_report = 0

        group = ReentrantCallbackGroup()
        self._status_pub = self.create_publisher(String, "/executive/status", LATCHED)
        self._say_pub = self.create_publisher(String, "/executive/say", 10)
        self._detection_pub = self.create_publisher(String, "/executive/detection", 10)
        self._device_pub = self.create_publisher(String, "/devices/set", 10)
        self.create_subscription(String, "/scene_graph", self._on_scene, LATCHED, callback_group=group)
        self.create_subscription(OccupancyGridMsg, "/map", self._on_map, LATCHED, callback_group=group)
        self.create_subscription(String, "/command", self._on_command, 10, callback_group=group)
        self.create_subscription(String, "/voice/transcript", self._on_transcript, 10, callback_group=group)
        self.create_subscription(String, "/devices/result", self._on_device_result, 10, callback_group=group)

        self._inbox: queue.Queue = queue.Queue()
        self._session = CloudSession(
            self._addresses,
            self._on_session_open,
            self._inbox,
            backoff_initial_s=float(self.get_parameter("reconnect_backoff_initial_s").value),
            backoff_max_s=float(self.get_parameter("reconnect_backoff_max_s").value),
            heartbeat_timeout_s=float(self.get_parameter("heartbeat_timeout_s").value),
        )
        self.create_timer(0.05, self._tick, callback_group=group)
        self.create_timer(float(self.get_parameter("heartbeat_period_s").value), self._heartbeat, callback_group=group)
        self._session_started = False
        self._plan_header: dict[str, Any] | None = None
        self.get_logger().info(f"executive: planners {self._addresses}, lookahead {self._lookahead}")

    # ------------------------------------------------------------------------------ ROS inputs
    def _on_scene(self, msg: String) -> None:
        try:
            scene = SceneGraph.from_json(msg.data)
        except SceneGraphError as exc:
            self.get_logger().error(f"bad /scene_graph: {exc}")
            return
        with self._lock:
            self._world._scene = scene
            self._scheduler.scene = scene
            self._world._ready.set()
            self._ensure_robots(scene)
        if not self._session_started:
            self._session_started = True
            self._session.start()

    def _on_map(self, msg: OccupancyGridMsg) -> None:
        data = np.asarray(msg.data, dtype=np.int16).reshape(msg.info.height, msg.info.width)
        grid = OccupancyGrid(
            msg.info.resolution,
            (msg.info.origin.position.x, msg.info.origin.position.y),
            (data != 0).astype(np.uint8),
        )
        self._world._grid = grid

    def _on_device_result(self, msg: String) -> None:
        try:
            self._world.on_device_result(json.loads(msg.data))
        except (ValueError, TypeError):
            self.get_logger().warning(f"bad /devices/result {msg.data[:80]!r}")

    def _on_command(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
        except ValueError:
            data = {"text": msg.data}
        if not isinstance(data, dict) or not str(data.get("text", "")).strip():
            self.get_logger().warning(f"ignoring /command without text: {msg.data[:80]!r}")
            return
        source = str(data.get("source", "text")).lower()
        self._submit_command(
            str(data["text"]).strip(),
            str(data.get("language", "")),
            source,
            float(data.get("asr_confidence", data.get("confidence", 1.0)) or 1.0),
        )

    def _on_transcript(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("text"):
            self._submit_command(str(data["text"]), str(data.get("language", "en")), "voice",
                                 float(data.get("confidence", 0.0)))

    def _submit_command(self, text: str, language: str, source: str, confidence: float) -> None:
        sources = {"voice": plan_pb2.COMMAND_SOURCE_VOICE, "event": plan_pb2.COMMAND_SOURCE_EVENT}
        command = plan_pb2.Command(
            text=text, language=language, source=sources.get(source, plan_pb2.COMMAND_SOURCE_TEXT),
            asr_confidence=confidence, command_id=uuid.uuid4().hex[:12],
        )
        self.get_logger().info(f"command ({source}): {text!r}")
        with self._lock:
            if self._world._scene is not None:
                command.scene.CopyFrom(scene_to_proto(self._world._scene))
            self._last_command = command
            self._awaiting_plan = True
            self._awaiting_answer = True
            self._last_reject = None
            self._status_dirty = True
            if not self._session.send(planner_pb2.EdgeMessage(command=command)):
                self._pending_commands.append(command)

    # ----------------------------------------------------------------------------- robots
    def _ensure_robots(self, scene: SceneGraph) -> None:
        wanted = self._robot_filter or [r.id for r in scene.robots]
        for robot in scene.robots:
            if robot.id not in wanted or robot.id in self._robots:
                continue
            ros_robot = RosRobot(
                self, robot.id, ROBOT_RADIUS_BY_KIND.get(robot.kind, 0.25), self._world,
                self._publish_say, self._on_detection,
                reflex_goal_tolerance=float(self.get_parameter("reflex_goal_tolerance").value),
            )
            self._robots[robot.id] = ros_robot
            self._runners[robot.id] = SkillRunner(SkillContext(ros_robot), capabilities=tuple(robot.capabilities))
            thread = threading.Thread(target=self._executor_loop, args=(robot.id,), name=f"exec-{robot.id}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    def _executor_loop(self, robot_id: str) -> None:
        """One robot's executor: take the next runnable step, run it, report; hold when idle."""
        robot = self._robots[robot_id]
        idle_held = False
        while not self._shutdown.is_set():
            with self._work:
                record = self._scheduler.runnable(robot_id)
                # the camera is subscribed from this robot's first step of a plan that will look, so
                # frames are waiting when it gets there, and dropped when nothing left needs it
                if self._scheduler.has_unfinished(robot_id, CAMERA_SKILLS):
                    robot.subscribe_camera()
                else:
                    robot.release_camera()
                if record is None:
                    if not idle_held and robot.has_pose():
                        robot.hold()
                        idle_held = True
                    self._work.wait(0.2)
                    continue
                index, plan_id, revision = record.step.index, self._scheduler.plan_id, record.revision
                robot.clear_cancel()
                self._scheduler.start(index, robot.now_s())
                self._status_dirty = True
                # logged under the lock so the log's order is the order of events (revisions included)
                self.get_logger().info(f"[{robot_id}] step {index} r{revision} {record.step.skill} "
                                       f"{dict(record.step.args)} started")
            idle_held = False
            self._send_progress(plan_id, revision, index, robot_id, planner_pb2.STEP_STATUS_STARTED, "")
            outcome = self._runners[robot_id].run_step(record.step)
            with self._work:
                if self._scheduler.plan_id != plan_id or self._scheduler.records.get(index) is not record:
                    continue  # the plan changed under us (cancel / new plan)
                status = outcome.status.value if not robot.cancelled() else "cancelled"
                self._scheduler.finish(index, status, robot.now_s())
                self._status_dirty = True
                self._work.notify_all()
            self.get_logger().info(f"[{robot_id}] step {index} {record.step.skill} {status}: {outcome.message}")
            if status != "cancelled":
                self._report(plan_id, revision, record.step, robot_id, outcome)

    def _report(self, plan_id: str, revision: int, step: PlanStep, robot_id: str, outcome: StepOutcome) -> None:
        """Queue the step's Progress and send what is due.

        The cloud's cursor only moves forward, one index at a time, so Progress goes out in index order:
        a step that finished before an earlier one (another robot's) waits in the buffer until the
        earlier one is reported. A FAILED report holds the buffer at its index until the revised step
        there finishes.
        """
        observed = {k: v for k, v in outcome.observed.items() if k in step.expect}
        with self._lock:
            scene = self._world._scene
        progress = planner_pb2.Progress(
            plan_id=plan_id, revision=revision, index=step.index, status=_status_proto(outcome.status),
            robot=robot_id, observation=outcome.message[:500],
            facts=[plan_pb2.Fact(subject=s, predicate=p, object=o) for s, p, o in outcome.facts],
            observed=observed,
        )
        if outcome.status is StepStatus.FAILED and scene is not None:
            progress.scene.CopyFrom(scene_to_proto(scene))
        with self._lock:
            self._report_buffer[step.index] = progress
            self._flush_reports()

    def _flush_reports(self) -> None:
        """Send buffered Progress in index order while the session is up (call with the lock held)."""
        while self._next_report in self._report_buffer:
            progress = self._report_buffer[self._next_report]
            if progress.plan_id != self._scheduler.plan_id:
                del self._report_buffer[self._next_report]
                continue
            progress.revision = max(progress.revision, self._scheduler.revision)
            if not self._session.send(planner_pb2.EdgeMessage(progress=progress)):
                return  # disconnected: Resume will carry the cursor, the rest goes out after it
            del self._report_buffer[self._next_report]
            self._awaiting_answer = True
            if progress.status == planner_pb2.STEP_STATUS_FAILED:
                return
            self._next_report += 1

    def _send_progress(self, plan_id: str, revision: int, index: int, robot: str, status: int, text: str) -> None:
        self._session.send(planner_pb2.EdgeMessage(progress=planner_pb2.Progress(
            plan_id=plan_id, revision=revision, index=index, status=status, robot=robot, observation=text)))

    def _publish_say(self, robot_id: str, text: str) -> None:
        self.get_logger().info(f"[{robot_id}] says: {text}")
        self._say_pub.publish(String(data=json.dumps({"robot": robot_id, "text": text}, ensure_ascii=False)))

    def _on_detection(self, robot_id: str, detection: Detection) -> None:
        info = {"robot": robot_id, "object": detection.object_id, "position": list(detection.position),
                "bbox": list(detection.bbox), "pixel_count": detection.pixel_count,
                "confidence": detection.confidence}
        self._detection_pub.publish(String(data=json.dumps(info)))
        if self._artifacts_dir is not None and detection.view is not None:
            self._artifacts_dir.mkdir(parents=True, exist_ok=True)
            path = self._artifacts_dir / f"detection_{robot_id}_{detection.object_id}.npz"
            np.savez_compressed(path, rgb=detection.view.rgb, depth=detection.view.depth,
                                info=np.frombuffer(json.dumps(info).encode(), dtype=np.uint8))

    def publish_device_request(self, device: str, state: str, request_id: str) -> None:
        """Send one ``/devices/set`` request."""
        self._device_pub.publish(String(data=json.dumps({"device": device, "state": state, "request": request_id})))

    # ------------------------------------------------------------------------------ session
    def _on_session_open(self) -> list[planner_pb2.EdgeMessage]:
        """First messages of every (re)opened stream: Hello, Resume if a plan is unfinished, commands."""
        with self._lock:
            scene = self._world._scene
            hello = planner_pb2.Hello(robot_id=self._edge_id, kind="home", edge_version="0.1.0")
            if scene is not None:
                hello.scene.CopyFrom(scene_to_proto(scene))
                hello.capabilities.extend(sorted({c for r in scene.robots for c in r.capabilities}))
            if self._lookahead >= -1:
                hello.lookahead = self._lookahead
            messages = [planner_pb2.EdgeMessage(hello=hello)]
            sched = self._scheduler
            self._next_report = sched.cursor
            for index in [i for i in self._report_buffer if i < sched.cursor]:
                del self._report_buffer[index]
            if sched.plan_id and not sched.complete and not sched.cancelled and self._plan_command is not None:
                resume = planner_pb2.Resume(
                    plan_id=sched.plan_id, revision=sched.revision, cursor=sched.cursor,
                    command=self._plan_command, from_index=self._plan_from_index, plan_digest=self._plan_digest,
                )
                if self._plan_scene is not None:
                    resume.scene.CopyFrom(self._plan_scene)
                resume.facts.extend(self._plan_facts)
                messages.append(planner_pb2.EdgeMessage(resume=resume))
                self._awaiting_answer = True
                self.get_logger().info(f"resuming plan {sched.plan_id} r{sched.revision} at cursor {sched.cursor}")
            if (self._awaiting_plan and self._last_command is not None
                    and self._last_command not in self._pending_commands):
                # it went out on a stream that broke before the planner answered: without this the
                # robot would wait for a plan forever
                messages.append(planner_pb2.EdgeMessage(command=self._last_command))
            for command in self._pending_commands:
                messages.append(planner_pb2.EdgeMessage(command=command))
            self._pending_commands.clear()
        return messages

    def _heartbeat(self) -> None:
        self._heartbeat_seq += 1
        self._session.send(planner_pb2.EdgeMessage(heartbeat=planner_pb2.Heartbeat(
            seq=self._heartbeat_seq, unix_ms=int(time.time() * 1000))))
        self._session.check_liveness()

    def _tick(self) -> None:
        """Drain the cloud inbox, account stall time, publish status on change."""
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            try:
                self._handle_cloud(item)
            except Exception:  # a malformed message must not kill the node
                self.get_logger().error(f"failed to handle cloud message: {item!r:.200}")
                _log.exception("cloud message handling failed")
        now = time.monotonic()
        with self._lock:
            mid_plan = self._scheduler.waiting_for_cloud(list(self._robots))
            stalled = self._awaiting_plan or mid_plan
            self._stall.update(now, stalled)
            self._stall_mid_plan.update(now, mid_plan and not self._awaiting_plan)
            if stalled:
                self._status_dirty = True
            if self._status_dirty:
                self._status_dirty = False
                self._publish_status()

    def _handle_cloud(self, item: Any) -> None:
        if isinstance(item, tuple) and item[0] == "connected":
            with self._lock:
                self._status_dirty = True
                if item[1]:
                    self._flush_reports()
            return
        kind = item.WhichOneof("message")
        with self._work:
            brought_steps = kind in ("header", "step", "revise")
            if brought_steps and self._awaiting_answer:
                self._round_trips += 1
                self._awaiting_answer = False
            if kind == "header":
                h = item.header
                if h.cancel:
                    self._cancel_all("the command was stop")
                    self._awaiting_plan = False
                    return
                new_plan = self._scheduler.header(h.plan_id, h.revision, h.total_steps)
                if new_plan:
                    self._cancel_running()
                    self._report_buffer.clear()
                    self._next_report = 0
                    self._plan_command = self._last_command
                    self._plan_scene = self._last_command.scene if self._last_command is not None else None
                    self._plan_facts, self._plan_from_index = [], 0
                    self.get_logger().info(f"plan {h.plan_id} r{h.revision}: {h.summary} ({h.total_steps} steps)")
                self._plan_digest = h.plan_digest or self._plan_digest
                self._awaiting_plan = False
                self._plan_header = {"plan_id": h.plan_id, "command": h.command, "language": h.language,
                                     "summary": h.summary, "total_steps": h.total_steps, "backend": h.backend}
            elif kind == "step":
                s = item.step
                step = step_from_proto(s)
                refusal = self._refusal(step)
                if refusal:
                    self.get_logger().warning(f"step {s.index} r{s.revision} refused: {refusal}")
                    if s.plan_id and s.plan_id == self._scheduler.plan_id:
                        self._send_progress(s.plan_id, s.revision, s.index, s.robot,
                                            planner_pb2.STEP_STATUS_FAILED, f"refused by the edge: {refusal}")
                elif self._scheduler.add(s.plan_id, s.revision, step):
                    self.get_logger().info(f"step {s.index} r{s.revision} {s.robot}.{s.skill} queued")
            elif kind == "revise":
                r = item.revise
                self.get_logger().info(f"revise {r.plan_id} r{r.revision} from {r.from_index}: {r.reason}")
                for robot_id in self._scheduler.revise(r.plan_id, r.revision, r.from_index, r.total_steps):
                    self.get_logger().info(f"[{robot_id}] running step superseded by revision {r.revision}")
                    if robot_id in self._robots:
                        self._robots[robot_id].cancel()
                if r.plan_id == self._scheduler.plan_id:
                    self._plan_scene = r.scene if r.HasField("scene") else self._plan_scene
                    self._plan_facts = list(r.facts)
                    self._plan_from_index = r.from_index
                    self._plan_digest = r.plan_digest or self._plan_digest
            elif kind == "cancel":
                if not item.cancel.plan_id or item.cancel.plan_id == self._scheduler.plan_id:
                    self._cancel_all(item.cancel.reason)
            elif kind == "reject":
                rj = item.reject
                self._awaiting_plan = False
                self._last_reject = {"code": plan_pb2.RejectCode.Name(rj.code), "message": rj.message,
                                     "candidates": list(rj.candidates)}
                self.get_logger().warning(f"planner rejected: {rj.message}")
            elif kind == "say":
                self._publish_say(item.say.robot or self._edge_id, item.say.text)
            self._status_dirty = True
            self._work.notify_all()

    def _refusal(self, step: PlanStep) -> str:
        """Why the edge will not queue ``step`` ("" when it may): the validator's static checks against
        the robot's own scene, so not even a compromised cloud can queue an action outside the library."""
        scene = self._world._scene
        if scene is None:
            return "no scene graph yet"
        try:
            check_step_static(step, scene)
        except ValidationError as exc:
            return exc.message
        return ""

    def _cancel_running(self) -> None:
        for robot in self._robots.values():
            robot.cancel()

    def _cancel_all(self, reason: str) -> None:
        self.get_logger().warning(f"plan cancelled: {reason}")
        self._scheduler.cancel()
        self._cancel_running()
        for robot in self._robots.values():
            robot.hold()

    def _publish_status(self) -> None:
        sched = self._scheduler
        status = {
            "plan_id": sched.plan_id,
            "revision": sched.revision,
            "cursor": sched.cursor,
            "total_steps": sched.total_steps,
            "complete": sched.complete,
            "cancelled": sched.cancelled,
            "steps": sched.status_rows(),
            "connected": self._session.connected,
            "planner": self._session.address,
            "stall_ms_total": round(self._stall.total_ms, 1),
            "stall_ms_mid_plan": round(self._stall_mid_plan.total_ms, 1),
            "round_trips": self._round_trips,
            "header": self._plan_header,
            "reject": self._last_reject,
        }
        self._status_pub.publish(String(data=json.dumps(status, ensure_ascii=False, default=_json_default)))

    def destroy_node(self) -> None:
        """Stop executors and the session before the node goes away."""
        self._shutdown.set()
        self._cancel_running()
        for robot in self._robots.values():
            robot.hold()
        self._session.stop()
        super().destroy_node()


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def main(args: list[str] | None = None) -> None:
    """Run the executive until Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    rclpy.init(args=args)
    node = None
    try:
        node = ExecutiveNode()
        spin_until_shutdown(events_executor(node), node.context)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
