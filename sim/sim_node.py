"""``sim_node``: the PyBullet home as a ROS 2 robot driver (one process, every robot, the world clock).

It is the hardware stand-in the edge stack talks to, exactly as it would talk to a real robot's
drivers: per robot (under ``/<robot_id>/``) it publishes ``scan``, ``odom``, the camera (``camera/image``,
``camera/depth``, ``camera/info``, ``camera/pose``) and ``dock_state``, and obeys ``cmd_vel``; the
manipulator's arm and gripper and the dog's cargo bay are topics and services; devices, the scene graph
(the robot's prior map), the static map, events and the evaluation-only ground truth are global.
``docs/ros_interfaces.md`` lists every name, type and JSON field.

Time: the node owns the clock. A steady-clock timer advances the simulation by ``speed`` x the
elapsed wall time, one physics sub-step at a time, publishing each sensor when its period in
simulated time comes due and ``/clock`` after every sub-step, so every other node (``use_sim_time``)
sees consistent stamps, timers and watchdogs whatever the speed. If the machine cannot keep up, the
simulation runs slower than asked instead of jumping.

Arm, gripper and cargo requests are long physical motions (``HomeSim.arm_move_to`` steps the world for
seconds). They run as :class:`SteppedCall`: the blocking call executes in a worker thread whose every
``step`` is granted by the stepping timer, so the motion advances inside the normal stepping, sensors
keep flowing and other robots keep driving; the result is published (or the service answered) when the
call returns. Exactly one thread touches PyBullet at any moment.

Like a real motor driver, the node stops a base whose last ``cmd_vel`` is older than
``cmd_vel_timeout_s`` of simulated time.
"""

from __future__ import annotations

import array
import collections
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rclpy
from builtin_interfaces.msg import Time as TimeMsg
from geometry_msgs.msg import PointStamped, PoseStamped, TwistStamped
from nav_msgs.msg import OccupancyGrid as OccupancyGridMsg
from nav_msgs.msg import Odometry as OdometryMsg
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image, LaserScan
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from reflexarc.ros_executor import events_executor, spin_until_shutdown
from reflexarc.scene_graph import Pose2D

__all__ = [
    "CAMERA_KINDS",
    "DEFAULT_ROBOTS",
    "SimNode",
    "SteppedCall",
    "main",
    "quaternion_from_matrix",
    "request_id",
    "stamp_to_seconds",
    "time_msg",
]


DEFAULT_ROBOTS = ("robot1", "dog1", "vacuum1")
CAMERA_KINDS = ("manipulator", "dog")
"""Robot kinds that carry an RGB-D camera (the vacuum has none)."""

SENSOR_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
"""Reliable publishers match both reliable and best-effort subscribers."""
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
CLOCK_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
_EPS = 1e-9

_PARAMETERS: dict[str, Any] = {
    "robots": list(DEFAULT_ROBOTS),  # string array, or comma/space separated string(s)
    "seed": 0,
    "speed": 1.0,
    "scan_rate_hz": 20.0,
    "odom_rate_hz": 50.0,
    "camera_rate_hz": 2.0,
    "ground_truth_rate_hz": 2.0,
    "dock_rate_hz": 1.0,
    "gui": False,
    "scene_file": "",
    "car_present": True,
    "cmd_vel_timeout_s": 0.25,
    "max_catch_up_s": 0.1,
}
"""Parameters of sim_node and their defaults (docs/ros_interfaces.md explains each)."""


# ------------------------------------------------------------------------------------ helpers
def time_msg(seconds: float) -> TimeMsg:
    """A ``builtin_interfaces/Time`` for a time in seconds (rounded to the nanosecond)."""
    nanos = int(round(seconds * 1e9))
    return TimeMsg(sec=nanos // 1_000_000_000, nanosec=nanos % 1_000_000_000)


def stamp_to_seconds(stamp: TimeMsg) -> float:
    """Seconds of a ``builtin_interfaces/Time``."""
    return stamp.sec + stamp.nanosec * 1e-9


def request_id(stamp: TimeMsg) -> str:
    """The ``"<sec>.<nanosec>"`` id of a request stamped with ``stamp`` (nanoseconds zero-padded to 9)."""
    return f"{stamp.sec}.{stamp.nanosec:09d}"


def quaternion_from_matrix(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a 3x3 rotation matrix (Shepperd's method, numerically safe for every rotation)."""
    m = np.asarray(rotation, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0.0:
        s = 2.0 * math.sqrt(trace + 1.0)
        w, x, y, z = 0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        w, x, y, z = (m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        w, x, y, z = (m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        w, x, y, z = (m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s
    norm = math.sqrt(w * w + x * x + y * y + z * z)
    return x / norm, y / norm, z / norm, w / norm


# ------------------------------------------------------------------------- stepped calls
class SteppedCall:
    """A blocking simulator call run in a worker thread that advances only when the stepping loop grants time.

    ``HomeSim`` methods such as ``arm_move_to`` call ``sim.step(dt)`` themselves. While a call runs,
    :meth:`install` has replaced ``sim.step`` by a hand-off: the worker records how much simulated time it
    wants and sleeps; the stepping loop keeps stepping the whole world with the real ``step`` and
    calls :meth:`advanced` after each sub-step; when the request is covered, the worker resumes and runs
    (solving IK, setting motors) until its next ``step`` or its return, while the loop waits. So exactly
    one thread uses PyBullet at a time and the motion takes its true simulated duration.
    """

    def __init__(self, label: str, func: Callable[[], Any]) -> None:
        """Wrap ``func`` (a closure over the simulator); nothing runs before :meth:`start`."""
        self.label = label
        self.future: Future = Future()
        self._func = func
        self._to_worker = threading.Semaphore(0)
        self._to_loop = threading.Semaphore(0)
        self._wanted = 0.0
        self._done = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"sim-call-{label}", daemon=True)

    @property
    def done(self) -> bool:
        """True once the call returned or raised."""
        return self._done

    @property
    def thread(self) -> threading.Thread:
        """The worker thread (its ``sim.step`` calls are the ones handed off)."""
        return self._thread

    def start(self) -> None:
        """Start the worker and wait until it asks for simulated time or finishes."""
        self._thread.start()
        self._to_loop.acquire()

    def request_step(self, dt: float) -> None:
        """Worker side of ``sim.step(dt)``: ask the loop for ``dt`` seconds and sleep until granted."""
        self._wanted += max(float(dt), 0.0)
        self._to_loop.release()
        self._to_worker.acquire()

    def advanced(self, dt: float) -> None:
        """Loop side: the world advanced by ``dt``; resume the worker once its request is covered."""
        if self._done:
            return
        self._wanted -= dt
        if self._wanted <= _EPS:
            self._wanted = 0.0
            self._to_worker.release()
            self._to_loop.acquire()

    def resolve(self) -> None:
        """Complete :attr:`future` with the outcome (call from the executor thread after :attr:`done`)."""
        if self.future.done():
            return
        if self._error is not None:
            self.future.set_exception(self._error)
        else:
            self.future.set_result(self._result)

    def _run(self) -> None:
        try:
            self._result = self._func()
        except BaseException as exc:  # noqa: BLE001 - handed to the requester, never lost
            self._error = exc
        finally:
            self._done = True
            self._to_loop.release()


@dataclass
class _RobotIO:
    """Publishers, subscriptions and driver state of one robot."""

    robot_id: str
    kind: str
    radius: float
    scan_pub: Any
    odom_pub: Any
    dock_pub: Any
    camera_pubs: tuple[Any, Any, Any, Any] | None
    arm_result_pub: Any | None
    scan_msg: LaserScan = field(default_factory=LaserScan)
    odom_msg: OdometryMsg = field(default_factory=OdometryMsg)
    last_cmd_time: float = -math.inf
    moving_cmd: bool = False
    min_range: float = math.inf
    min_clearance: float = math.inf


# ------------------------------------------------------------------------------- the node
class SimNode(Node):
    """Runs a ``HomeSim`` and exposes it as the robots' drivers and the world's clock (see module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, build the simulation, create every interface and start stepping."""
        super().__init__("sim_node", **kwargs)
        for name, default in _PARAMETERS.items():
            # dynamic typing: a launch file's "3" (int) is as good as "3.0" for a float parameter
            self.declare_parameter(name, default, ParameterDescriptor(dynamic_typing=True))
        # The simulation IS the clock: its own timers always run on the steady clock.
        if self.get_parameter("use_sim_time").value:
            self.get_logger().warning("sim_node publishes /clock itself; ignoring use_sim_time:=true")
            self.set_parameters([Parameter("use_sim_time", value=False)])

        robots = self._robot_list(self.get_parameter("robots").value)
        self._speed = self._number("speed")
        if not self._speed > 0.0:
            raise ValueError(f"speed must be positive, got {self._speed}")
        self._scan_period = 1.0 / self._number("scan_rate_hz")
        self._odom_period = 1.0 / self._number("odom_rate_hz")
        camera_rate = self._number("camera_rate_hz")
        self._camera_period = 1.0 / camera_rate if camera_rate > 0 else math.inf
        self._gt_period = 1.0 / self._number("ground_truth_rate_hz")
        self._dock_period = 1.0 / self._number("dock_rate_hz")
        self._cmd_timeout = self._number("cmd_vel_timeout_s")
        self._max_catch_up = self._number("max_catch_up_s")

        from sim.home_layout import load_home_layout
        from sim.home_sim import HomeSim

        scene_file = str(self.get_parameter("scene_file").value) or None
        self._sim = HomeSim(
            layout=load_home_layout(scene_file),
            seed=int(self._number("seed")),
            gui=self._flag("gui"),
            robots=robots,
            car_present=self._flag("car_present"),
        )
        self._real_step = self._sim.step
        self._sim.step = self._hooked_step  # SteppedCall workers hand their steps to the loop
        self._substep = self._sim.time_step

        self._clock_pub = self.create_publisher(ClockMsg, "/clock", CLOCK_QOS)
        self._scene_pub = self.create_publisher(String, "/scene_graph", LATCHED_QOS)
        self._map_pub = self.create_publisher(OccupancyGridMsg, "/map", LATCHED_QOS)
        self._device_states_pub = self.create_publisher(String, "/devices/states", LATCHED_QOS)
        self._device_result_pub = self.create_publisher(String, "/devices/result", 10)
        self._truth_pub = self.create_publisher(String, "/sim/ground_truth", 10)

        self._service_group = ReentrantCallbackGroup()  # async services await stepped calls
        self._robots: dict[str, _RobotIO] = {}
        for robot_id in self._sim.robot_ids:
            self._robots[robot_id] = self._make_robot_io(robot_id)
        self.create_subscription(String, "/devices/set", self._on_device_set, 10)
        self.create_subscription(String, "/sim/event", self._on_event, 10)

        self._calls: collections.deque[SteppedCall] = collections.deque()
        self._active: SteppedCall | None = None
        self._device_states = self._current_device_states()
        self._scene_dirty = False
        self._cleaned: dict[str, float] = {}
        now = self._sim.time
        self._next_scan = now
        self._next_odom = now
        self._next_camera = now
        self._next_truth = now
        self._next_dock = now
        self._publish_static_world()
        self._publish_due()
        self._publish_clock()
        self._wall_clock = Clock(clock_type=ClockType.STEADY_TIME)
        self._last_wall = time.monotonic()
        self._target = self._sim.time
        period = max(self._substep / self._speed, 0.002)
        self._stepper = self.create_timer(period, self._on_tick, callback_group=MutuallyExclusiveCallbackGroup(),
                                          clock=self._wall_clock)
        self.get_logger().info(
            f"simulating {', '.join(self._sim.robot_ids)} at {self._speed:g}x real time "
            f"(physics step {self._substep * 1000:.1f} ms, scans {1 / self._scan_period:g} Hz)")

    # ------------------------------------------------------------------------------ set-up
    def _number(self, name: str) -> float:
        value = self.get_parameter(name).value
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"parameter {name!r} must be a number, got {value!r}") from None

    def _flag(self, name: str) -> bool:
        value = self.get_parameter(name).value
        if isinstance(value, str):
            if value.strip().lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"parameter {name!r} must be true or false, got {value!r}")
            return value.strip().lower() in ("true", "1")
        return bool(value)

    @staticmethod
    def _robot_list(value: Any) -> tuple[str, ...]:
        """Robot ids from a string array or comma/space separated strings (whatever a launch file passes)."""
        items = [value] if isinstance(value, str) else [str(v) for v in value]
        robots: list[str] = []
        for item in items:
            robots += item.replace("[", " ").replace("]", " ").replace(",", " ").replace("'", " ").split()
        if not robots:
            raise ValueError("parameter 'robots' names no robot")
        return tuple(robots)

    def _make_robot_io(self, robot_id: str) -> _RobotIO:
        sim = self._sim
        kind = sim.robot_kind(robot_id)
        ns = f"/{robot_id}"
        cameras = None
        if kind in CAMERA_KINDS:
            cameras = (
                self.create_publisher(Image, f"{ns}/camera/image", 2),
                self.create_publisher(Image, f"{ns}/camera/depth", 2),
                self.create_publisher(CameraInfo, f"{ns}/camera/info", 2),
                self.create_publisher(PoseStamped, f"{ns}/camera/pose", 2),
            )
        io = _RobotIO(
            robot_id=robot_id,
            kind=kind,
            radius=sim.robot_radius(robot_id),
            scan_pub=self.create_publisher(LaserScan, f"{ns}/scan", SENSOR_QOS),
            odom_pub=self.create_publisher(OdometryMsg, f"{ns}/odom", SENSOR_QOS),
            dock_pub=self.create_publisher(String, f"{ns}/dock_state", 10),
            camera_pubs=cameras,
            arm_result_pub=None,
        )
        # one message object per stream, refilled for each publication (publishing copies it)
        io.scan_msg.header.frame_id = f"{robot_id}/base_link"
        io.scan_msg.scan_time = float(self._scan_period)
        io.odom_msg.header.frame_id = "map"
        io.odom_msg.child_frame_id = f"{robot_id}/base_link"
        self.create_subscription(TwistStamped, f"{ns}/cmd_vel", self._cmd_vel_handler(io), 10)
        if kind == "manipulator":
            io.arm_result_pub = self.create_publisher(String, f"{ns}/arm/result", 10)
            self.create_subscription(PointStamped, f"{ns}/arm/goal", self._arm_goal_handler(io), 10)
            self.create_service(Trigger, f"{ns}/arm/home", self._arm_home_handler(io), callback_group=self._service_group)
            self.create_service(SetBool, f"{ns}/gripper/close", self._gripper_handler(io),
                                callback_group=self._service_group)
        if kind == "dog":
            self.create_service(Trigger, f"{ns}/cargo/load", self._cargo_handler(io, load=True),
                                callback_group=self._service_group)
            self.create_service(Trigger, f"{ns}/cargo/unload", self._cargo_handler(io, load=False),
                                callback_group=self._service_group)
        return io

    def _publish_static_world(self) -> None:
        grid = self._sim.occupancy_grid()
        msg = OccupancyGridMsg()
        msg.header.frame_id = "map"
        msg.header.stamp = time_msg(self._sim.time)
        msg.info.map_load_time = msg.header.stamp
        msg.info.resolution = float(grid.resolution)
        msg.info.width = grid.width
        msg.info.height = grid.height
        msg.info.origin.position.x = float(grid.origin_xy[0])
        msg.info.origin.position.y = float(grid.origin_xy[1])
        msg.info.origin.orientation.w = 1.0
        msg.data = array.array("b", (grid.data.astype(np.int8) * np.int8(100)).tobytes())
        self._map_pub.publish(msg)
        self._publish_scene_graph()
        self._publish_device_states()

    # ----------------------------------------------------------------------------- stepping
    def _hooked_step(self, dt: float) -> None:
        """``sim.step`` as seen by the simulator's own methods: handed off when called from a stepped call."""
        active = self._active
        if active is not None and threading.current_thread() is active.thread:
            active.request_step(dt)
        else:
            self._real_step(dt)

    def _on_tick(self) -> None:
        """Advance the world by ``speed`` x the wall time since the last tick, publishing what comes due."""
        now = time.monotonic()
        # simulated time owed so far; capped so a stalled process slows the world instead of jumping it
        self._target = min(self._target + (now - self._last_wall) * self._speed,
                           self._sim.time + self._max_catch_up)
        self._last_wall = now
        while self._sim.time + self._substep <= self._target + 1e-9:
            self._real_step(self._substep)
            if self._active is not None:
                self._active.advanced(self._substep)
                self._finish_call_if_done()
            self._stop_stale_bases()
            self._publish_due()
            self._publish_clock()

    def _stop_stale_bases(self) -> None:
        t = self._sim.time
        for io in self._robots.values():
            if io.moving_cmd and t - io.last_cmd_time > self._cmd_timeout:
                self._sim.set_cmd_vel(io.robot_id, 0.0, 0.0)
                io.moving_cmd = False
                self.get_logger().warning(
                    f"{io.robot_id}: no cmd_vel for {self._cmd_timeout:g} s, stopping the base")

    def _publish_clock(self) -> None:
        self._clock_pub.publish(ClockMsg(clock=time_msg(self._sim.time)))

    def _publish_due(self) -> None:
        t = self._sim.time + _EPS
        if t >= self._next_scan:
            self._next_scan = _next_due(self._next_scan, self._scan_period, t)
            for io in self._robots.values():
                self._publish_scan(io)
        if t >= self._next_odom:
            self._next_odom = _next_due(self._next_odom, self._odom_period, t)
            for io in self._robots.values():
                self._publish_odom(io)
        if t >= self._next_camera:
            self._next_camera = _next_due(self._next_camera, self._camera_period, t)
            for io in self._robots.values():
                self._publish_camera(io)
        if t >= self._next_dock:
            self._next_dock = _next_due(self._next_dock, self._dock_period, t)
            for io in self._robots.values():
                self._publish_dock(io)
        states = self._current_device_states()
        if states != self._device_states:
            self._device_states = states
            self._publish_device_states()
            self._scene_dirty = True
        if t >= self._next_truth:
            self._next_truth = _next_due(self._next_truth, self._gt_period, t)
            self._publish_ground_truth()
        if self._scene_dirty:
            self._publish_scene_graph()

    # ------------------------------------------------------------------------------ sensors
    def _publish_scan(self, io: _RobotIO) -> None:
        data = self._sim.scan(io.robot_id)
        finite = data.ranges[np.isfinite(data.ranges)]
        if finite.size:
            io.min_range = float(finite.min())
            io.min_clearance = min(io.min_clearance, io.min_range - io.radius)
        msg = io.scan_msg
        msg.header.stamp = time_msg(data.stamp)
        msg.angle_min = float(data.angle_min)
        msg.angle_increment = float(data.angle_increment)
        msg.angle_max = float(data.angle_min + data.angle_increment * (data.ranges.size - 1))
        msg.range_min = float(data.range_min)
        msg.range_max = float(data.range_max)
        msg.ranges = array.array("f", np.ascontiguousarray(data.ranges, dtype=np.float32).tobytes())
        io.scan_pub.publish(msg)

    def _publish_odom(self, io: _RobotIO) -> None:
        odom = self._sim.odometry(io.robot_id)
        msg = io.odom_msg
        msg.header.stamp = time_msg(odom.stamp)
        pose = msg.pose.pose
        pose.position.x = float(odom.x)
        pose.position.y = float(odom.y)
        pose.orientation.z = math.sin(odom.yaw / 2.0)
        pose.orientation.w = math.cos(odom.yaw / 2.0)
        msg.twist.twist.linear.x = float(odom.v)
        msg.twist.twist.angular.z = float(odom.w)
        io.odom_pub.publish(msg)

    def _publish_camera(self, io: _RobotIO) -> None:
        if io.camera_pubs is None or not any(p.get_subscription_count() for p in io.camera_pubs):
            return  # rendering costs ~30 ms: only for someone who looks
        frame = self._sim.camera(io.robot_id)
        stamp = time_msg(frame.stamp)
        optical = f"{io.robot_id}/camera_optical"
        height, width = frame.depth.shape
        image = Image(height=height, width=width, encoding="rgb8", is_bigendian=0, step=width * 3)
        image.header.stamp, image.header.frame_id = stamp, optical
        image.data = np.ascontiguousarray(frame.rgb, dtype=np.uint8).tobytes()
        depth = Image(height=height, width=width, encoding="32FC1", is_bigendian=0, step=width * 4)
        depth.header.stamp, depth.header.frame_id = stamp, optical
        depth.data = np.ascontiguousarray(frame.depth, dtype="<f4").tobytes()
        info = CameraInfo(height=height, width=width, distortion_model="plumb_bob")
        info.header.stamp, info.header.frame_id = stamp, optical
        info.d = [0.0] * 5
        info.k = [frame.fx, 0.0, frame.cx, 0.0, frame.fy, frame.cy, 0.0, 0.0, 1.0]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = [frame.fx, 0.0, frame.cx, 0.0, 0.0, frame.fy, frame.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
        pose = PoseStamped()
        pose.header.stamp, pose.header.frame_id = stamp, "map"
        tf = np.asarray(frame.world_from_camera, dtype=np.float64)
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = (float(v) for v in tf[:3, 3])
        qx, qy, qz, qw = quaternion_from_matrix(tf[:3, :3])
        pose.pose.orientation.x, pose.pose.orientation.y = qx, qy
        pose.pose.orientation.z, pose.pose.orientation.w = qz, qw
        image_pub, depth_pub, info_pub, pose_pub = io.camera_pubs
        # pose and intrinsics first: a consumer that waits for the image then has all four parts
        pose_pub.publish(pose)
        info_pub.publish(info)
        depth_pub.publish(depth)
        image_pub.publish(image)

    def _publish_dock(self, io: _RobotIO) -> None:
        state = self._sim.dock_state(io.robot_id)
        io.dock_pub.publish(String(data=json.dumps({
            "docked": bool(state.docked),
            "dock": state.dock_id,
            "battery": round(float(state.battery) / 100.0, 4),
            "charging": bool(state.charging),
        })))

    # ------------------------------------------------------------------------ world state
    def _current_device_states(self) -> dict[str, str]:
        return {d.id: self._sim.device_state(d.id) for d in self._sim.layout.devices}

    def _publish_device_states(self) -> None:
        self._device_states_pub.publish(String(data=json.dumps(self._device_states, sort_keys=True)))

    def _publish_scene_graph(self) -> None:
        self._scene_dirty = False
        self._scene_pub.publish(String(data=self._sim.scene_graph().to_json()))

    def _publish_ground_truth(self) -> None:
        sim = self._sim
        robots = {}
        for robot_id, io in self._robots.items():
            pose = sim.robot_pose(robot_id)
            odom = sim.odometry(robot_id)
            dock = sim.dock_state(robot_id)
            robots[robot_id] = {
                "pose": [round(pose.x, 4), round(pose.y, 4), round(pose.yaw, 4)],
                "v": round(odom.v, 4),
                "w": round(odom.w, 4),
                "contacts": sim.contacts(robot_id, base_only=True),
                "held": sim.held_object(robot_id),
                "docked": bool(dock.docked),
                "battery": round(float(dock.battery) / 100.0, 4),
                "min_range_m": _finite_or_none(io.min_range),
                "min_clearance_m": _finite_or_none(io.min_clearance),
            }
        graph = sim.scene_graph()
        truth = {
            "time": round(sim.time, 4),
            "robots": robots,
            "objects": {o.id: list(o.position) for o in graph.objects},
            "held": {rid: r["held"] for rid, r in robots.items() if r["held"]},
            "people": {p.id: [p.pose.x, p.pose.y, p.pose.yaw] for p in graph.people},
            "devices": dict(self._device_states),
            "collisions": [
                {"time": round(e.time, 4), "robot": e.robot_id, "other": e.other,
                 "position": [round(float(c), 4) for c in e.position], "distance_m": round(e.distance_m, 4)}
                for e in sim.collision_log
            ],
            "events": [{"time": round(e.time, 4), "kind": e.kind, "data": e.data} for e in sim.events],
            "cleaned": self._cleaned_fractions(),
        }
        self._truth_pub.publish(String(data=json.dumps(truth)))

    def _cleaned_fractions(self) -> dict[str, float]:
        """Cleaned fraction of every room a vacuum has been in; only the rooms vacuums are in now change."""
        for robot_id, io in self._robots.items():
            if io.kind == "vacuum":
                pose = self._sim.robot_pose(robot_id)
                room = self._sim.layout.room_at(pose.x, pose.y)
                if room:  # ~6 ms each: recomputed only where coverage can have grown
                    self._cleaned[room] = round(self._sim.cleaned_fraction(room), 4)
        return dict(sorted(self._cleaned.items()))

    # ------------------------------------------------------------------------- base commands
    def _cmd_vel_handler(self, io: _RobotIO) -> Callable[[TwistStamped], None]:
        def on_cmd_vel(msg: TwistStamped) -> None:
            v, w = float(msg.twist.linear.x), float(msg.twist.angular.z)
            self._sim.set_cmd_vel(io.robot_id, v, w)
            io.last_cmd_time = self._sim.time
            io.moving_cmd = v != 0.0 or w != 0.0
        return on_cmd_vel

    # --------------------------------------------------------------------------- stepped calls
    def _submit(self, label: str, func: Callable[[], Any]) -> Future:
        call = SteppedCall(label, func)
        self._calls.append(call)
        if self._active is None:
            self._start_next_call()
        return call.future

    def _start_next_call(self) -> None:
        while self._active is None and self._calls:
            call = self._calls.popleft()
            self._active = call
            call.start()
            self._finish_call_if_done()

    def _finish_call_if_done(self) -> None:
        call = self._active
        if call is None or not call.done:
            return
        self._active = None
        call.thread.join(timeout=1.0)
        call.resolve()
        self._scene_dirty = True  # arm, gripper and cargo calls move objects
        self._start_next_call()

    def _arm_goal_handler(self, io: _RobotIO) -> Callable[[PointStamped], None]:
        def on_arm_goal(msg: PointStamped) -> None:
            request = request_id(msg.header.stamp)
            target = (float(msg.point.x), float(msg.point.y), float(msg.point.z))
            if msg.header.frame_id not in ("", "map") or not all(math.isfinite(c) for c in target):
                self._publish_arm_result(io, request, False, f"goal must be a finite point in 'map', got "
                                         f"frame {msg.header.frame_id!r} {target}")
                return
            future = self._submit(f"arm-{io.robot_id}", lambda: self._sim.arm_move_to(io.robot_id, target))

            def done(fut: Future) -> None:
                error = fut.exception()
                success = bool(fut.result()) if error is None else False
                reason = "" if success else (str(error) if error is not None else "target not reached")
                self._publish_arm_result(io, request, success, reason)
            future.add_done_callback(done)
        return on_arm_goal

    def _publish_arm_result(self, io: _RobotIO, request: str, success: bool, error: str) -> None:
        ee = [round(c, 4) for c in self._sim.tcp_position(io.robot_id)]
        io.arm_result_pub.publish(String(data=json.dumps(
            {"request": request, "success": success, "error": error, "ee": ee})))

    def _arm_home_handler(self, io: _RobotIO) -> Callable[..., Any]:
        async def on_arm_home(request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
            try:
                response.success = bool(await self._submit(f"home-{io.robot_id}",
                                                           lambda: self._sim.arm_home(io.robot_id)))
                response.message = "" if response.success else "arm did not settle at home"
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                response.success, response.message = False, str(exc)
            return response
        return on_arm_home

    def _gripper_handler(self, io: _RobotIO) -> Callable[..., Any]:
        async def on_gripper(request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
            close = bool(request.data)
            try:
                held = await self._submit(f"gripper-{io.robot_id}",
                                          lambda: self._sim.gripper(io.robot_id, close))
                holding = self._sim.held_object(io.robot_id)
                if close:
                    response.success, response.message = bool(held), holding or ""
                else:
                    response.success, response.message = holding is None, ""
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                response.success, response.message = False, str(exc)
            return response
        return on_gripper

    def _cargo_handler(self, io: _RobotIO, load: bool) -> Callable[..., Any]:
        async def on_cargo(request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
            try:
                if load:
                    object_id = self._cargo_candidate(io.robot_id)
                    if object_id is None:
                        response.success, response.message = False, ""
                        return response
                    ok = await self._submit(f"load-{io.robot_id}",
                                            lambda: self._sim.carry_load(io.robot_id, object_id))
                    response.success, response.message = bool(ok), object_id if ok else ""
                else:
                    carried = self._sim.held_object(io.robot_id)
                    ok = await self._submit(f"unload-{io.robot_id}", lambda: self._sim.carry_unload(io.robot_id))
                    response.success, response.message = bool(ok), (carried or "") if ok else ""
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                response.success, response.message = False, str(exc)
            return response
        return on_cargo

    def _cargo_candidate(self, robot_id: str) -> str | None:
        """The non-graspable (luggage-class) object nearest the dog, if any: what its bay can load."""
        pose = self._sim.robot_pose(robot_id)
        best: tuple[float, str] | None = None
        for obj in self._sim.scene_graph().objects:
            if obj.graspable or obj.held_by:
                continue
            d = math.hypot(obj.position[0] - pose.x, obj.position[1] - pose.y)
            if best is None or d < best[0]:
                best = (d, obj.id)
        return None if best is None else best[1]

    # ------------------------------------------------------------------------- devices, events
    def _on_device_set(self, msg: String) -> None:
        try:
            request = json.loads(msg.data)
            device, state = str(request["device"]), str(request["state"])
            request_tag = str(request.get("request", ""))
        except (ValueError, TypeError, KeyError) as exc:
            self.get_logger().warning(f"malformed /devices/set {msg.data[:120]!r}: {exc}")
            self._device_result_pub.publish(String(data=json.dumps(
                {"request": "", "device": "", "state": "", "success": False, "error": f"malformed request: {exc}"})))
            return
        error = ""
        try:
            success = self._sim.set_device(device, state)
            if not success:
                error = f"state {state!r} is not allowed for {device}"
        except (KeyError, ValueError) as exc:  # SimError is a ValueError
            success, error = False, str(exc).strip("'\"")
        current = self._device_states.get(device, "")
        if device in self._device_states:
            current = self._sim.device_state(device)
        self._device_result_pub.publish(String(data=json.dumps(
            {"request": request_tag, "device": device, "state": current, "success": success, "error": error})))
        states = self._current_device_states()
        if states != self._device_states:
            self._device_states = states
            self._publish_device_states()
            self._publish_scene_graph()

    def _on_event(self, msg: String) -> None:
        try:
            event = json.loads(msg.data)
            kind = str(event["event"])
            at_time = event.get("at_time")
            at_time = None if at_time is None else float(at_time)
            if kind == "drop_toy":
                object_id = str(event.get("object") or f"toy_dropped_{len(self._sim.events)}")
                x, y = (float(v) for v in event["xy"])
                self._sim.drop_object(object_id, (x, y), at_time=at_time)
            elif kind == "move_person":
                pose = [float(v) for v in event["pose"]]
                self._sim.move_person(Pose2D(*pose[:3]) if len(pose) >= 3 else Pose2D(pose[0], pose[1], 0.0),
                                      person_id=str(event.get("person", "user")),
                                      posture=event.get("posture"), at_time=at_time)
            elif kind == "car_arrived":
                self._sim.car_arrived(at_time=at_time)
            else:
                raise ValueError(f"unknown event {kind!r} (drop_toy, move_person, car_arrived)")
        except (ValueError, TypeError, KeyError) as exc:
            self.get_logger().error(f"rejected /sim/event {msg.data[:120]!r}: {exc}")
            return
        self.get_logger().info(f"event {kind} applied")
        self._scene_dirty = True

    # ---------------------------------------------------------------------------- shutdown
    def destroy_node(self) -> None:
        """Close the simulation (its PyBullet client) together with the node."""
        try:
            self._sim.close()
        finally:
            super().destroy_node()


def _next_due(previous: float, period: float, now: float) -> float:
    """The next publication time on a fixed grid, skipping slots that already passed."""
    if not math.isfinite(period):
        return math.inf
    due = previous + period
    if due <= now:
        due = previous + period * (math.floor((now - previous) / period) + 1)
    return due


def _finite_or_none(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def main(args: Sequence[str] | None = None) -> int:
    """Run the simulation node until Ctrl-C or shutdown; exit status 1 if it cannot start."""
    rclpy.init(args=args)
    node = None
    try:
        node = SimNode()
        spin_until_shutdown(events_executor(node), node.context)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception as exc:  # a broken scene file or parameter: say so and fail
        if node is not None and not rclpy.ok():
            return 0  # Ctrl-C landed while a timer was publishing: a normal shutdown, not an error
        sys.stderr.write(f"sim_node: error: {exc}\n")
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
