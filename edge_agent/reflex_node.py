"""``reflex_node``: scan + odom + local goal -> ONNX policy -> safety shield -> ``cmd_vel``, on the robot.

The reflex is the only thing between the cloud's plan and the wheels, so every safety rule lives
here and holds whatever any other node says:

* each ``scan`` is turned into one ``cmd_vel`` (``geometry_msgs/TwistStamped``) stamped with the
  **scan's stamp**, so latency is measurable end to end (sensor -> actuator);
* **hold** (zero velocity) without a goal, at the goal (``goal_tolerance``), or without odometry;
* **watchdog**: no scan for ``scan_timeout_s`` (or odometry older than ``odom_timeout_s``) -> zero
  velocity, published by a timer because no scan will trigger it; it recovers with the next scan;
* **fault**: an inference error or a decision slower than ``max_decision_ms`` -> zero velocity;
* **e-stop**: ``e_stop`` True latches; False does not release; only the ``reset_e_stop`` service does;
* **close-range tracking** (``local_goal/tracking`` True, set by the executive for coverage legs):
  while the lidar shows the footprint's way to the goal clear, a turn-and-go controller
  (:mod:`edge_agent.tracking`) drives instead of the policy, which keeps clearances sized for the
  largest base and so never reaches a small robot's wall-hugging passes; anything in the way hands
  control back to the policy;
* the shield (:mod:`edge_agent.shield`) then the speed limits (``v_max``, ``w_max``) always apply, in
  every mode, sized with this robot's ``robot_radius`` (a launch-file parameter per robot).

The decision logic is :class:`ReflexCore`, which takes plain numbers and arrays (no messages) and is
unit-tested with hand-built inputs; the node only moves messages. The scan callback is the hot path: numpy views instead of copies, one
reused output message, no logging, state changes published from the timer.

State (``reflex/state``, JSON, on change and at 2 Hz, latched) and latency statistics
(``reflex/latency``, JSON at 1 Hz) are published for the executive, the demo report and benchmarks;
the latency message also counts the decisions by who chose them (``decisions``: tracking, policy,
holding, watchdog, fault, e_stop) and what the shield did to the driving ones (``shield``).
A missing or corrupt model is fatal at start-up: the node logs why and exits with status 1, never driving.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from edge_agent import observation as spec
from edge_agent.policy import DEFAULT_MODEL_PATH, PolicyInferenceError, PolicyLoadError, ReflexPolicy
from edge_agent.shield import SafetyShield, ShieldConfig
from edge_agent.tracking import CloseRangeTracker, TrackingConfig
from reflexarc.ros_executor import events_executor, spin_until_shutdown

__all__ = [
    "LatencyWindow",
    "ReflexConfig",
    "ReflexCore",
    "ReflexDecision",
    "ReflexNode",
    "main",
    "shield_label",
]


MODES = ("driving", "holding", "watchdog", "e_stop", "fault")
SHIELD_LABELS = ("clear", "slowdown", "stop", "ttc")


def shield_label(reason: str) -> str:
    """Map a :class:`~edge_agent.shield.ShieldDecision` reason (e.g. ``"clamp+slowdown"``) to the interface's label."""
    if "stop" in reason:
        return "stop"
    if "approach" in reason:
        return "ttc"
    if "slowdown" in reason:
        return "slowdown"
    return "clear"


@dataclass(frozen=True)
class ReflexConfig:
    """Every tunable of the reflex (the node's parameters, with the same names)."""

    policy_path: str = ""
    """ONNX model; empty for the shipped :data:`~edge_agent.policy.DEFAULT_MODEL_PATH`."""
    robot_radius: float = spec.ROBOT_RADIUS_M
    v_max: float = spec.V_MAX
    w_max: float = spec.W_MAX
    goal_tolerance: float = 0.15
    scan_timeout_s: float = 0.1
    max_scan_age_s: float = 0.2
    """A scan stamped longer ago than this (it sat in a queue) is not acted on: zero velocity."""
    odom_timeout_s: float = 0.5
    max_decision_ms: float = 10.0
    watchdog_rate_hz: float = 100.0
    stop_distance_m: float = 0.12
    slowdown_distance_m: float = 0.35
    slowdown_ratio: float = 0.5
    time_to_collision_s: float = 1.0
    lateral_margin_m: float = 0.02
    tracking_speed: float = 0.5
    """Cruise speed of close-range tracking (m/s, still capped by ``v_max``)."""
    tracking_check_m: float = 0.6
    """How far along the way to the goal the footprint must be clear for tracking (m)."""
    tracking_goal_tolerance: float = 0.05
    """``goal_tolerance`` while tracking: the line is followed to its corners, not to 0.15 m of them."""

    def shield_config(self) -> ShieldConfig:
        """The shield's zones for this robot (its radius and speed limits)."""
        return ShieldConfig(
            robot_radius=self.robot_radius,
            lateral_margin_m=self.lateral_margin_m,
            stop_distance_m=self.stop_distance_m,
            slowdown_distance_m=self.slowdown_distance_m,
            slowdown_ratio=self.slowdown_ratio,
            time_to_collision_s=self.time_to_collision_s,
            v_min=max(spec.V_MIN, -self.v_max),
            v_max=min(spec.V_MAX, self.v_max),
            w_max=min(spec.W_MAX, self.w_max),
        )

    def tracking_config(self) -> TrackingConfig:
        """Close-range tracking for this robot: its radius and the shield's margin, so both agree."""
        speed = min(self.tracking_speed, self.v_max)
        return TrackingConfig(
            robot_radius=self.robot_radius,
            contact_margin_m=self.lateral_margin_m,
            cruise_speed=speed,
            min_speed=min(TrackingConfig.min_speed, speed),
            w_max=min(spec.W_MAX, self.w_max),
            check_ahead_m=self.tracking_check_m,
        )


@dataclass(frozen=True)
class ReflexDecision:
    """One command and why: ``mode`` in :data:`MODES`, ``shield`` in :data:`SHIELD_LABELS`."""

    v: float
    w: float
    mode: str
    reason: str
    shield: str = "clear"


_HOLD_NO_GOAL = ReflexDecision(0.0, 0.0, "holding", "no_goal")
_HOLD_NO_ODOM = ReflexDecision(0.0, 0.0, "holding", "no_odom")
_HOLD_AT_GOAL = ReflexDecision(0.0, 0.0, "holding", "goal_reached")
_E_STOP = ReflexDecision(0.0, 0.0, "e_stop", "e_stop_latched")


class ReflexCore:
    """The reflex's decisions without ROS: inputs are plain numbers and arrays, times in seconds."""

    def __init__(self, config: ReflexConfig, policy: ReflexPolicy, shield: SafetyShield | None = None) -> None:
        """Bind a loaded policy and a shield built for ``config``."""
        self.config = config
        self.policy = policy
        self.shield = shield or SafetyShield(config.shield_config())
        self.tracker = CloseRangeTracker(config.tracking_config())
        self.tracking = False
        self.goal: tuple[float, float] | None = None
        self.previous_goal: tuple[float, float] | None = None
        self.pose: tuple[float, float, float] | None = None
        self.velocity: tuple[float, float] = (0.0, 0.0)
        self.odom_time = -math.inf
        self.scan_time = -math.inf
        self.e_stop = False

    # ------------------------------------------------------------------------------- inputs
    def set_goal(self, frame_id: str, x: float, y: float) -> None:
        """A new local goal in ``map``; an empty frame or a non-finite position means "no goal"."""
        goal = (x, y) if frame_id and math.isfinite(x) and math.isfinite(y) else None
        if goal != self.goal:
            self.previous_goal = self.goal  # tracking follows the line from it to the new goal
        self.goal = goal

    def set_tracking(self, enabled: bool) -> None:
        """Select close-range tracking (True) or the policy alone (False) for the goals that follow."""
        if enabled and not self.tracking:
            self.tracker.reset()
        self.tracking = bool(enabled)

    def set_odometry(self, x: float, y: float, yaw: float, v: float, w: float, now: float) -> None:
        """The latest pose in ``map`` and measured body velocities."""
        self.pose = (x, y, yaw)
        self.velocity = (v, w)
        self.odom_time = now

    def latch_e_stop(self) -> None:
        """Engage the e-stop; only :meth:`reset_e_stop` releases it."""
        self.e_stop = True

    def reset_e_stop(self) -> bool:
        """Release the e-stop; returns whether it was engaged."""
        was, self.e_stop = self.e_stop, False
        return was

    # ------------------------------------------------------------------------------ decisions
    def decide(self, ranges: np.ndarray, angle_min: float, angle_increment: float, range_min: float,
               range_max: float, now: float, stamp: float | None = None) -> ReflexDecision:
        """The command for one scan received at ``now`` and taken at ``stamp`` (policy, shield, limits).

        A scan that arrives too old describes a world that has moved on: it neither moves the robot nor
        feeds the watchdog, so a backlog flushed after a stall cannot override the watchdog's zero.
        """
        if self.e_stop:
            return _E_STOP
        if stamp is not None and now - stamp > self.config.max_scan_age_s:
            return ReflexDecision(0.0, 0.0, "watchdog", "stale_scan")
        self.scan_time = now
        goal, pose = self.goal, self.pose
        if goal is None:
            return _HOLD_NO_GOAL
        if pose is None:
            return _HOLD_NO_ODOM
        if now - self.odom_time > self.config.odom_timeout_s:
            return ReflexDecision(0.0, 0.0, "watchdog", "odom_timeout")
        gx, gy = spec.goal_in_robot_frame(pose, goal)
        tolerance = self.config.tracking_goal_tolerance if self.tracking else self.config.goal_tolerance
        if math.hypot(gx, gy) <= tolerance:
            return _HOLD_AT_GOAL
        command = None
        points = None
        source = "policy"
        try:
            if self.tracking:
                points = self.shield.obstacle_points(ranges, angle_min, angle_increment, range_min, range_max)
                previous = self.previous_goal
                line_start = None if previous is None else spec.goal_in_robot_frame(pose, previous)
                command = self.tracker.command((gx, gy), points, now, self.velocity[1], line_start)
                source = "tracking" if command is not None else "policy"
            if command is None:
                sectors = spec.scan_to_sectors(ranges, angle_min, angle_increment, range_min, range_max)
                obs = spec.build_observation(sectors, (gx, gy), self.velocity)
                command = self.policy.act(obs)
        except (PolicyInferenceError, ValueError) as exc:
            return ReflexDecision(0.0, 0.0, "fault", f"inference: {exc}")
        v, w = command
        decision = self.shield.filter(v, w, ranges, angle_min, angle_increment, range_min, range_max, points)
        cfg = self.config
        v_out = min(max(decision.v, -cfg.v_max, spec.V_MIN), cfg.v_max)
        w_out = min(max(decision.w, -cfg.w_max), cfg.w_max)
        return ReflexDecision(v_out, w_out, "driving", source, shield_label(decision.reason))

    def watchdog(self, now: float) -> ReflexDecision | None:
        """A zero command when scans stopped (or odometry went stale) while driving; None when all is well."""
        if self.e_stop:
            return _E_STOP
        if now - self.scan_time > self.config.scan_timeout_s:
            reason = "no_scan_yet" if self.scan_time == -math.inf else "scan_timeout"
            return ReflexDecision(0.0, 0.0, "watchdog", reason)
        if self.goal is not None and self.pose is not None and now - self.odom_time > self.config.odom_timeout_s:
            return ReflexDecision(0.0, 0.0, "watchdog", "odom_timeout")
        return None


class LatencyWindow:
    """The last ``capacity`` latencies (ms) in a preallocated ring buffer, with percentiles on demand."""

    def __init__(self, capacity: int = 65536) -> None:
        """An empty window; ``capacity`` samples cover about 55 minutes at 20 Hz."""
        self._buffer = np.zeros(capacity, dtype=np.float64)
        self._next = 0
        self.total = 0

    def add(self, value_ms: float) -> None:
        """Record one sample (O(1), no allocation: safe on the hot path)."""
        self._buffer[self._next] = value_ms
        self._next = (self._next + 1) % self._buffer.size
        self.total += 1

    def summary(self) -> dict[str, float | int]:
        """``{"n", "p50_ms", "p99_ms", "max_ms"}`` over the window (zeros when empty)."""
        n = min(self.total, self._buffer.size)
        if n == 0:
            return {"n": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        data = self._buffer[:n]
        p50, p99 = np.percentile(data, (50.0, 99.0))
        return {"n": int(n), "p50_ms": round(float(p50), 4), "p99_ms": round(float(p99), 4),
                "max_ms": round(float(data.max()), 4)}


# ------------------------------------------------------------------------------------ ROS node
class ReflexNode(Node):
    """Thin ROS 2 wrapper around :class:`ReflexCore` (see the module docstring for the interface)."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, load the policy (PolicyLoadError on failure) and wire topics and timers."""
        super().__init__("reflex_node", **kwargs)
        defaults = ReflexConfig()
        values: dict[str, Any] = {}
        for name in ReflexConfig.__dataclass_fields__:
            default = getattr(defaults, name)
            # dynamic typing: a launch file's "1" (int) is as good as "1.0" for a float parameter
            value = self.declare_parameter(name, default, ParameterDescriptor(dynamic_typing=True)).value
            try:
                values[name] = type(default)(value)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {name!r} must be a {type(default).__name__}, got {value!r}") from None
        config = ReflexConfig(**values)
        policy = ReflexPolicy.load(Path(config.policy_path or DEFAULT_MODEL_PATH))
        self._core = ReflexCore(config, policy)
        self._warm_up()

        latest_only = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)  # decide on the freshest scan
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._cmd_pub = self.create_publisher(TwistStamped, "cmd_vel", 10)
        self._state_pub = self.create_publisher(String, "reflex/state", latched)
        self._latency_pub = self.create_publisher(String, "reflex/latency", 10)
        self.create_subscription(LaserScan, "scan", self._on_scan, latest_only)
        self.create_subscription(Odometry, "odom", self._on_odom, 10)
        self.create_subscription(PoseStamped, "local_goal", self._on_goal, 10)
        self.create_subscription(Bool, "local_goal/tracking", self._on_tracking, latched)
        self.create_subscription(Bool, "e_stop", self._on_e_stop, 10)
        self.create_service(Trigger, "reset_e_stop", self._on_reset_e_stop)

        self._cmd = TwistStamped()
        base = self.get_namespace().strip("/")
        self._cmd.header.frame_id = f"{base}/base_link" if base else "base_link"
        self._processing = LatencyWindow()
        self._end_to_end = LatencyWindow()
        self._decision_counts: dict[str, int] = {}
        self._shield_counts: dict[str, int] = {}
        self._mode, self._reason, self._shield = "holding", "starting", "clear"
        self._state_dirty = True
        self._watchdog_zero_sent = False
        self._last_watchdog_zero = -math.inf
        self._last_state_publish = -math.inf
        self.create_timer(1.0 / config.watchdog_rate_hz, self._on_watchdog)
        self.create_timer(1.0, self._publish_latency)
        self.get_logger().info(
            f"reflex ready: policy {policy.path.name} (obs spec {policy.metadata.obs_spec_version}), "
            f"radius {config.robot_radius:g} m, limits {config.v_max:g} m/s {config.w_max:g} rad/s, "
            f"scan timeout {config.scan_timeout_s * 1000:g} ms")

    def _warm_up(self) -> None:
        """Run the policy and the shield a few times so the first real scan pays no lazy initialisation."""
        ranges = np.full(spec.LIDAR_BEAMS, 3.0, dtype=np.float32)
        sectors = spec.scan_to_sectors(ranges, spec.LIDAR_ANGLE_MIN, spec.LIDAR_ANGLE_INCREMENT,
                                       spec.LIDAR_RANGE_MIN, spec.LIDAR_RANGE_MAX)
        obs = spec.build_observation(sectors, (2.0, 0.0), (0.0, 0.0))
        for _ in range(20):
            v, w = self._core.policy.act(obs)
            self._core.shield.filter(v, w, ranges, spec.LIDAR_ANGLE_MIN, spec.LIDAR_ANGLE_INCREMENT,
                                     spec.LIDAR_RANGE_MIN, spec.LIDAR_RANGE_MAX)

    @property
    def core(self) -> ReflexCore:
        """The decision logic (for tests and tools)."""
        return self._core

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # --------------------------------------------------------------------------- hot path
    def _on_scan(self, msg: Any) -> None:
        t0 = time.perf_counter()
        now = self._now()
        ranges = np.frombuffer(msg.ranges, dtype=np.float32)
        stamp = msg.header.stamp
        stamp_s = stamp.sec + stamp.nanosec * 1e-9
        decision = self._core.decide(ranges, msg.angle_min, msg.angle_increment, msg.range_min, msg.range_max, now,
                                     stamp_s)
        elapsed_ms = (time.perf_counter() - t0) * 1000.0
        if elapsed_ms > self._core.config.max_decision_ms and decision.mode == "driving":
            decision = ReflexDecision(0.0, 0.0, "fault", f"overrun {elapsed_ms:.1f} ms", decision.shield)
        cmd = self._cmd
        cmd.header.stamp = msg.header.stamp
        cmd.twist.linear.x = decision.v
        cmd.twist.angular.z = decision.w
        self._cmd_pub.publish(cmd)
        processing_ms = (time.perf_counter() - t0) * 1000.0
        self._processing.add(processing_ms)
        self._end_to_end.add((now - stamp_s) * 1000.0 + processing_ms)
        self._watchdog_zero_sent = False
        driving = decision.mode == "driving"
        key = decision.reason if driving else decision.mode
        self._decision_counts[key] = self._decision_counts.get(key, 0) + 1
        if driving:
            self._shield_counts[decision.shield] = self._shield_counts.get(decision.shield, 0) + 1
        if decision.mode != self._mode or decision.reason != self._reason or decision.shield != self._shield:
            self._mode, self._reason, self._shield = decision.mode, decision.reason, decision.shield
            self._state_dirty = True

    # --------------------------------------------------------------------------- other inputs
    def _on_odom(self, msg: Any) -> None:
        p = msg.pose.pose
        q = p.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        self._core.set_odometry(p.position.x, p.position.y, yaw, msg.twist.twist.linear.x,
                                msg.twist.twist.angular.z, self._now())

    def _on_goal(self, msg: Any) -> None:
        self._core.set_goal(msg.header.frame_id, msg.pose.position.x, msg.pose.position.y)

    def _on_tracking(self, msg: Any) -> None:
        self._core.set_tracking(bool(msg.data))

    def _on_e_stop(self, msg: Any) -> None:
        if msg.data:
            if not self._core.e_stop:
                self._core.latch_e_stop()
                self.get_logger().warning("e-stop latched: zero velocity until reset_e_stop")
            self._publish_zero(self._now())
            self._set_state("e_stop", "e_stop_latched")
        elif self._core.e_stop:
            self.get_logger().info("e_stop False ignored: the e-stop is released only by reset_e_stop")

    def _on_reset_e_stop(self, request: Any, response: Any) -> Any:
        was = self._core.reset_e_stop()
        response.success = True
        response.message = "e-stop released" if was else "e-stop was not engaged"
        self.get_logger().info(response.message)
        if was:
            self._set_state("holding", "e_stop_released")
        return response

    # -------------------------------------------------------------------------------- timers
    def _on_watchdog(self) -> None:
        now = self._now()
        decision = self._core.watchdog(now)
        if decision is not None and decision.mode != "e_stop":
            # publish the zero once when tripping, then every 100 ms while it lasts
            if not self._watchdog_zero_sent or now - self._last_watchdog_zero >= 0.1:
                self._publish_zero(now)
                self._watchdog_zero_sent = True
                self._last_watchdog_zero = now
            self._set_state(decision.mode, decision.reason)
        if self._state_dirty or now - self._last_state_publish >= 0.5:
            self._publish_state(now)

    def _publish_zero(self, now: float) -> None:
        cmd = self._cmd
        nanos = int(now * 1e9)
        cmd.header.stamp = Time(sec=nanos // 1_000_000_000, nanosec=nanos % 1_000_000_000)
        cmd.twist.linear.x = 0.0
        cmd.twist.angular.z = 0.0
        self._cmd_pub.publish(cmd)

    def _set_state(self, mode: str, reason: str) -> None:
        if mode != self._mode or reason != self._reason:
            self._mode, self._reason = mode, reason
            self._state_dirty = True

    def _publish_state(self, now: float) -> None:
        self._state_dirty = False
        self._last_state_publish = now
        self._state_pub.publish(String(data=json.dumps(
            {"mode": self._mode, "reason": self._reason, "shield": self._shield})))

    def _publish_latency(self) -> None:
        stats = self._processing.summary()
        stats["stamp_to_publish"] = self._end_to_end.summary()
        stats["decisions"] = dict(self._decision_counts)
        stats["shield"] = dict(self._shield_counts)
        self._latency_pub.publish(String(data=json.dumps(stats)))


def main(args: Sequence[str] | None = None) -> int:
    """Run the reflex until Ctrl-C or shutdown; exit status 1 (and no motion) if the policy cannot load."""
    rclpy.init(args=args)
    node = None
    try:
        node = ReflexNode()
        spin_until_shutdown(events_executor(node), node.context)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except PolicyLoadError as exc:
        sys.stderr.write(f"reflex_node: error: cannot load the reflex policy: {exc}\n")
        return 1
    except ValueError as exc:  # a malformed parameter
        sys.stderr.write(f"reflex_node: error: {exc}\n")
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
