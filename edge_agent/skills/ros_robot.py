"""The real :class:`RobotInterface`: one robot driven through the ROS 2 interfaces of docs/ros_interfaces.md.

Skills run in their own threads and block; this class turns each blocking call into ROS traffic and
waits for the answer on a ``threading.Event`` that a subscription (or service future) callback sets on
the node's executor. All waits are bounded and honour the step's cancel flag. Times are sim time
(``use_sim_time``): goals are re-sent and "stuck" is judged against the ``/clock`` the sim publishes.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from geometry_msgs.msg import PointStamped, PoseStamped
from nav_msgs.msg import Odometry
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Bool, String
from std_srvs.srv import SetBool, Trigger

from edge_agent.skills.base import ArmResult, CameraView, Detection
from edge_agent.waypoint_follower import FollowerConfig, FollowStatus, WaypointFollower
from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from reflexarc.scene_graph import Pose2D, SceneGraph

__all__ = ["RosRobot", "detour_route", "pose_to_matrix"]

_log = logging.getLogger(__name__)

GOAL_RESEND_S = 0.5
INTERMEDIATE_TOLERANCE_M = 0.35
PROGRESS_EPS_M = 0.05
LOOKAHEAD_M = 0.3
STUCK_AFTER_S = 8.0
EXACT_STUCK_AFTER_S = 5.0
EXACT_SPACING_M = 1.2
"""Coverage legs are cut into stretches at most this long: a stretch the vacuum cannot get along (a
toy on it, a gap it will not enter) is skipped alone, and the lane goes on after it."""
EXACT_LEAD_M = 0.35
"""On a long leg, the goal published to the reflex runs this far ahead of the follower's waypoint (never
past the leg's end): tracking slows down within about 0.3 m of its goal, and a leg cut into stretches
is driven at cruise speed through the joints instead of braking at each."""
EXACT_TOLERANCE_M = 0.1  # > the reflex's tracking_goal_tolerance (0.05), or it would hold short of a waypoint
DETOUR_BLOCK_SIDE_M = 0.3
"""Side of the square marked blocked just ahead of a stalled coverage leg when a detour is planned (a
toy on the floor, whatever the map does not know)."""
DETOUR_BLOCK_AHEAD_M = 0.3
"""How far ahead of the stalled robot, toward its waypoint, that square is centred."""
DETOUR_CLEAR_M = 0.35
"""Waypoints this close to the blocked square are dropped: the detour resumes the route after them."""
DETOUR_MAX_STRETCH = 3.0
"""A detour longer than this many times the straight way (plus 2 m) is not worth it: skip instead."""
MAX_DETOURS = 12
"""Detours per path, after which a stalled waypoint is only skipped (bounded time for a cluttered room)."""
SETTLED_AFTER_S = 1.5
SETTLED_SLACK_M = 0.12
TIGHT_SETTLED_SLACK_M = 0.04
GOAL_EXTENSION_SHORTFALL_M = 0.06  # stop a little short of the true point rather than coast past it
POLL_S = 0.02


def pose_to_matrix(position: Sequence[float], quaternion_xyzw: Sequence[float]) -> np.ndarray:
    """A 4x4 homogeneous transform from a position and an (x, y, z, w) quaternion."""
    x, y, z, w = (float(v) for v in quaternion_xyzw)
    n = math.sqrt(x * x + y * y + z * z + w * w) or 1.0
    x, y, z, w = x / n, y / n, z / n, w / n
    m = np.eye(4)
    m[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    m[:3, 3] = [float(v) for v in position]
    return m


def _lead_goals(points: list[tuple[float, float]], spacing: float,
                lead: float) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Legs cut into stretches at most ``spacing`` long, and the goal to publish for each point.

    The goal of a point inserted inside a leg lies ``lead`` farther along the leg (at most its end);
    the goal of a leg's end is the end itself, so every corner is still driven to exactly.
    """
    dense = points[:1]
    goals = points[:1]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        length = math.hypot(x1 - x0, y1 - y0)
        n = max(1, math.ceil(length / spacing))
        for k in range(1, n + 1):
            t = k / n
            dense.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
            t_goal = 1.0 if k == n else min(1.0, t + lead / length)
            goals.append((x0 + (x1 - x0) * t_goal, y0 + (y1 - y0) * t_goal))
    return dense, goals


def detour_route(
    grid: OccupancyGrid,
    robot_radius: float,
    points: Sequence[tuple[float, float]],
    published: Sequence[tuple[float, float]],
    index: int,
    here: tuple[float, float],
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]] | None:
    """The rest of a coverage path from ``here``, round what stalls the robot on the way to ``points[index]``.

    Something the map does not know blocks the way just ahead (the policy, which only steers locally,
    cannot get past it: a toy dropped in a gap between furniture). Skipping waypoint after waypoint
    would leave the robot standing there while the follower works through lanes it cannot reach;
    instead the way just ahead is marked blocked, the waypoints next to it are dropped, and A* leads
    to the first one after them, where the path goes on.

    Returns:
        the new waypoints and the goals to publish for them (see :func:`_lead_goals`), or None when
        there is no waypoint left past the block, no way round it, or the way round is too long.
    """
    from edge_agent.astar import GridPlanner, NoPathError

    gx, gy = points[index]
    heading = math.atan2(gy - here[1], gx - here[0])
    ahead = min(DETOUR_BLOCK_AHEAD_M, math.hypot(gx - here[0], gy - here[1]))
    block = (here[0] + ahead * math.cos(heading), here[1] + ahead * math.sin(heading))
    resume = next((j for j in range(index, len(points)) if math.dist(points[j], block) > DETOUR_CLEAR_M), None)
    if resume is None:
        return None
    blocked = grid.with_boxes([OrientedBox(block[0], block[1], DETOUR_BLOCK_SIDE_M, DETOUR_BLOCK_SIDE_M)])
    try:
        path = GridPlanner(blocked, robot_radius).plan(here, points[resume])
    except NoPathError:
        return None
    length = sum(math.dist(a, b) for a, b in zip(path.waypoints, path.waypoints[1:], strict=False))
    if length > DETOUR_MAX_STRETCH * math.dist(here, points[resume]) + 2.0:
        return None
    way = [(float(x), float(y)) for x, y in path.waypoints[1:]]
    if not way or math.dist(way[-1], points[resume]) > 1e-6:
        way.append(points[resume])
    way_dense, way_goals = _lead_goals([here, *way], EXACT_SPACING_M, EXACT_LEAD_M)
    return way_dense[1:] + list(points[resume + 1 :]), way_goals[1:] + list(published[resume + 1 :])


def _stamp_s(stamp: Any) -> float:
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


class RosRobot:
    """One robot's topics and services, behind the blocking :class:`RobotInterface` calls.

    Args:
        node: the executive node (its clock is sim time; its executor must spin in another thread).
        robot_id: namespace of the robot's topics (``/<robot_id>/odom`` ...).
        robot_radius: footprint radius for planning.
        world: provides ``scene()`` and ``grid()`` (the node's latest ``/scene_graph`` and ``/map``).
        publish_say: callback that publishes what the robot says.
        on_detection: callback receiving every detection (the node saves frames for the demo).
    """

    def __init__(
        self,
        node: Node,
        robot_id: str,
        robot_radius: float,
        world: Any,
        publish_say: Callable[[str, str], None],
        on_detection: Callable[[str, Detection], None],
        reflex_goal_tolerance: float = 0.15,
    ) -> None:
        self.robot_id = robot_id
        self._reflex_tolerance = reflex_goal_tolerance
        self.robot_radius = robot_radius
        self._node = node
        self._world = world
        self._publish_say = publish_say
        self._on_detection = on_detection
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._pose: Pose2D | None = None
        self._pose_event = threading.Event()
        self._dock_state: dict[str, Any] = {}
        self._camera: dict[str, Any] = {}
        self._camera_event = threading.Condition(self._lock)
        self._arm_results: dict[tuple[int, int], dict[str, Any]] = {}
        self._arm_event = threading.Condition(threading.Lock())
        self._request_counter = 0
        group = ReentrantCallbackGroup()
        ns = f"/{robot_id}"
        self._goal_pub = node.create_publisher(PoseStamped, f"{ns}/local_goal", 10)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._tracking_pub = node.create_publisher(Bool, f"{ns}/local_goal/tracking", latched)
        self._arm_pub = node.create_publisher(PointStamped, f"{ns}/arm/goal", 10)
        node.create_subscription(Odometry, f"{ns}/odom", self._on_odom, 10, callback_group=group)
        node.create_subscription(String, f"{ns}/dock_state", self._on_dock, 10, callback_group=group)
        node.create_subscription(String, f"{ns}/arm/result", self._on_arm_result, 10, callback_group=group)
        self._group = group
        # Subscribed on the first look, not before: a robot that never looks never pays for its images.
        # (Never destroyed again: destroying a subscription under a spinning executor races its wait set.)
        self._camera_subs: list[Any] = []
        self._arm_home = node.create_client(Trigger, f"{ns}/arm/home", callback_group=group)
        self._gripper = node.create_client(SetBool, f"{ns}/gripper/close", callback_group=group)
        self._cargo_load = node.create_client(Trigger, f"{ns}/cargo/load", callback_group=group)
        self._cargo_unload = node.create_client(Trigger, f"{ns}/cargo/unload", callback_group=group)

    # -------------------------------------------------------------------------------- callbacks
    def _on_odom(self, msg: Odometry) -> None:
        q = msg.pose.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        self._pose = Pose2D(msg.pose.pose.position.x, msg.pose.pose.position.y, yaw)
        self._pose_event.set()

    def _on_dock(self, msg: String) -> None:
        try:
            self._dock_state = dict(json.loads(msg.data))
        except (ValueError, TypeError):
            _log.warning("%s: bad dock_state %r", self.robot_id, msg.data[:80])

    def _on_arm_result(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
            sec, _, nsec = str(data.get("request", "")).partition(".")
            key = (int(sec), int(nsec or 0))
        except (ValueError, TypeError):
            _log.warning("%s: bad arm/result %r", self.robot_id, msg.data[:80])
            return
        with self._arm_event:
            self._arm_results[key] = data
            self._arm_event.notify_all()

    def _camera_cb(self, part: str) -> Callable[[Any], None]:
        def callback(msg: Any) -> None:
            with self._camera_event:
                self._camera[part] = msg
                self._camera_event.notify_all()

        return callback

    def _publish(self, publisher: Any, msg: Any) -> None:
        """Publish unless the node is going away (skills may still be unwinding during shutdown)."""
        try:
            publisher.publish(msg)
        except Exception:  # rclpy raises RCLError once its context is shut down
            if not self._cancel.is_set():
                raise

    # -------------------------------------------------------------------------- RobotInterface
    def scene(self) -> SceneGraph:
        """The latest ``/scene_graph``."""
        return self._world.scene()

    def grid(self) -> OccupancyGrid:
        """The latest ``/map``."""
        return self._world.grid()

    def latest_pose(self) -> Pose2D | None:
        """Latest odometry pose without waiting (None before the first)."""
        return self._pose

    def pose(self) -> Pose2D:
        """Latest odometry pose; waits up to 5 s for the first one."""
        if self._pose is None and not self._pose_event.wait(5.0):
            raise RuntimeError(f"no odometry from /{self.robot_id}/odom")
        assert self._pose is not None
        return self._pose

    def other_robots(self) -> dict[str, tuple[float, float]]:
        """Where the other robots of this executive are now (odometry)."""
        return self._world.robot_positions(exclude=self.robot_id)

    def has_pose(self) -> bool:
        """Whether odometry has arrived."""
        return self._pose is not None

    def now_s(self) -> float:
        """Sim time in seconds."""
        return self._node.get_clock().now().nanoseconds * 1e-9

    def _publish_goal(self, x: float, y: float) -> None:
        msg = PoseStamped()
        msg.header.stamp = self._node.get_clock().now().to_msg()
        msg.header.frame_id = "map"
        msg.pose.position.x = float(x)
        msg.pose.position.y = float(y)
        msg.pose.orientation.w = 1.0
        self._publish(self._goal_pub, msg)

    def hold(self) -> None:
        """Publish the "no goal" local goal (empty frame id, NaN position)."""
        msg = PoseStamped()
        msg.header.stamp = self._node.get_clock().now().to_msg()
        msg.header.frame_id = ""
        msg.pose.position.x = math.nan
        msg.pose.position.y = math.nan
        msg.pose.orientation.w = 1.0
        self._publish(self._goal_pub, msg)

    def drive_path(
        self,
        waypoints: Sequence[tuple[float, float]],
        *,
        tolerance: float = 0.15,
        timeout_s: float = 120.0,
        skip_unreachable: bool = False,
        follow_exactly: bool = False,
    ) -> bool:
        """Feed waypoints to the reflex through the waypoint follower; skip or fail when stuck (sim time).

        ``follow_exactly`` (coverage) puts the reflex in close-range tracking for the path's goals:
        it drives the line itself while the way is clear, instead of the policy's wide berth.
        The reflex holds once within its own ``goal_tolerance`` of the local goal; when the skill needs
        to end closer than that (docking, reaching distance of the arm), the last goal is moved on
        along the final leg by that tolerance so the robot stops right at the real end point.
        """
        points = [(float(p[0]), float(p[1])) for p in waypoints]
        goal_tolerance = tolerance
        if tolerance < self._reflex_tolerance and points:
            here = self.pose()
            (x0, y0), (x1, y1) = ((here.x, here.y) if len(points) == 1 else points[-2]), points[-1]
            leg = math.hypot(x1 - x0, y1 - y0)
            if leg > 1e-6:
                extend = self._reflex_tolerance - GOAL_EXTENSION_SHORTFALL_M
                points[-1] = (x1 + (x1 - x0) / leg * extend, y1 + (y1 - y0) / leg * extend)
                goal_tolerance = self._reflex_tolerance + tolerance / 2.0
        if follow_exactly:  # coverage: every corner reached (tracking follows the lines), no look-ahead cutting
            points, published = _lead_goals(points, EXACT_SPACING_M, EXACT_LEAD_M)
            corner_tolerance, lookahead, stuck_after = EXACT_TOLERANCE_M, 0.0, EXACT_STUCK_AFTER_S
        else:
            corner_tolerance, lookahead, stuck_after = INTERMEDIATE_TOLERANCE_M, LOOKAHEAD_M, STUCK_AFTER_S
        follower = WaypointFollower(
            points,
            FollowerConfig(tolerance_m=corner_tolerance if follow_exactly else max(goal_tolerance, corner_tolerance),
                           goal_tolerance_m=goal_tolerance,
                           lookahead_m=lookahead, stuck_timeout_s=stuck_after, progress_epsilon_m=PROGRESS_EPS_M),
        )
        if not follow_exactly:
            return self._follow(follower, tolerance, goal_tolerance, timeout_s, skip_unreachable)
        self._publish(self._tracking_pub, Bool(data=True))
        try:
            return self._follow(follower, tolerance, goal_tolerance, timeout_s, skip_unreachable, published)
        finally:
            self._publish(self._tracking_pub, Bool(data=False))

    def _detour(self, follower: WaypointFollower, published: Sequence[tuple[float, float]],
                pose: Pose2D, now: float) -> tuple[WaypointFollower, list[tuple[float, float]]] | None:
        """A follower for the rest of a coverage path that goes round what stalls the robot, or None.

        See :func:`detour_route`; the map is the planning grid with the other robots marked on it.
        """
        from edge_agent.skills.navigation import mark_other_robots, planning_grid

        grid = mark_other_robots(planning_grid(self.grid(), self.scene()), self.other_robots())
        route = detour_route(grid, self.robot_radius, follower.waypoints, published, follower.index, (pose.x, pose.y))
        if route is None:
            return None
        new_points, new_published = route
        _log.info("%s: blocked on the way to (%.2f, %.2f); driving round it", self.robot_id,
                  *follower.waypoints[follower.index])
        detour = WaypointFollower(new_points, follower.config)
        detour.reset_progress(now)
        return detour, new_published

    def _follow(self, follower: WaypointFollower, tolerance: float, goal_tolerance: float, timeout_s: float,
                skip_unreachable: bool, published: Sequence[tuple[float, float]] | None = None) -> bool:
        """The loop of :meth:`drive_path`: publish the follower's goals until arrival, stuck or timeout.

        ``published`` (one per waypoint) is the goal the reflex gets while the follower approaches
        that waypoint; the waypoint itself when not given. Given it (coverage), a stalled waypoint
        is first driven round (:meth:`_detour`), and only skipped when no detour helps.
        """
        detours = 0
        start = self.now_s()
        sent: tuple[float, float] | None = None
        sent_t = -math.inf
        while True:
            if self._cancel.is_set():
                self.hold()
                return False
            now = self.now_s()
            if now - start > timeout_s:
                _log.warning("%s: path timed out after %.0f s", self.robot_id, timeout_s)
                self.hold()
                return False
            pose = self.pose()
            update = follower.update(pose.x, pose.y, now)
            goal = update.goal
            if update.status is FollowStatus.ARRIVED:
                return True
            slack = SETTLED_SLACK_M if tolerance >= self._reflex_tolerance else TIGHT_SETTLED_SLACK_M
            if goal.is_final and update.stalled_s > SETTLED_AFTER_S and goal.remaining_m <= goal_tolerance + slack:
                return True  # the reflex holds inside its own goal tolerance
            if update.status is FollowStatus.STUCK:
                if skip_unreachable and published is not None and detours < MAX_DETOURS:
                    detours += 1
                    replanned = self._detour(follower, published, pose, now)
                    if replanned is not None:
                        follower, published = replanned
                        sent = None
                        continue
                if skip_unreachable:
                    _log.info("%s: skipping blocked waypoint (%.2f, %.2f)", self.robot_id, goal.x, goal.y)
                    if follower.skip_waypoint(now):
                        continue
                    return True
                _log.warning("%s: stuck %.2f m from (%.2f, %.2f)", self.robot_id, goal.remaining_m, goal.x, goal.y)
                self.hold()
                return False
            target = (goal.x, goal.y) if published is None else published[goal.waypoint_index]
            if target != sent or now - sent_t >= GOAL_RESEND_S:
                self._publish_goal(*target)
                sent, sent_t = target, now
            time.sleep(POLL_S)

    def _subscribe_camera(self) -> None:
        if self._camera_subs:
            return
        node, ns, group = self._node, f"/{self.robot_id}", self._group
        self._camera_subs = [
            node.create_subscription(Image, f"{ns}/camera/image", self._camera_cb("image"), 2, callback_group=group),
            node.create_subscription(Image, f"{ns}/camera/depth", self._camera_cb("depth"), 2, callback_group=group),
            node.create_subscription(CameraInfo, f"{ns}/camera/info", self._camera_cb("info"), 2,
                                     callback_group=group),
            node.create_subscription(PoseStamped, f"{ns}/camera/pose", self._camera_cb("pose"), 2,
                                     callback_group=group),
        ]

    def subscribe_camera(self) -> None:
        """Subscribe the camera now, ahead of a look, so the first look has frames waiting."""
        self._subscribe_camera()

    def release_camera(self) -> None:
        """Drop the camera subscriptions: the simulator renders a camera only while someone listens, and
        RGB-D frames nobody looks at cost the renderer and this process a large share of their CPU."""
        subs, self._camera_subs = self._camera_subs, []
        for sub in subs:
            self._node.destroy_subscription(sub)
        with self._camera_event:
            self._camera.clear()

    def camera(self) -> CameraView | None:
        """The next complete RGB-D frame (image, depth, info and pose of one stamp) within 5 s."""
        self._subscribe_camera()
        deadline = time.monotonic() + 5.0
        after = self.now_s() - 0.05
        with self._camera_event:
            while time.monotonic() < deadline and not self._cancel.is_set():
                parts = self._camera
                if all(k in parts for k in ("image", "depth", "info", "pose")):
                    stamps = {_stamp_s(parts[k].header.stamp) for k in ("image", "depth", "info", "pose")}
                    if len(stamps) == 1 and stamps.pop() >= after:
                        return self._to_view(parts)
                self._camera_event.wait(0.2)
        _log.warning("%s: no camera frame", self.robot_id)
        return None

    @staticmethod
    def _to_view(parts: Mapping[str, Any]) -> CameraView:
        img, dep, info, pose = parts["image"], parts["depth"], parts["info"], parts["pose"]
        rgb = np.frombuffer(bytes(img.data), dtype=np.uint8).reshape(img.height, img.step)[:, : img.width * 3]
        rgb = rgb.reshape(img.height, img.width, 3).copy()
        depth = np.frombuffer(bytes(dep.data), dtype=np.float32).reshape(dep.height, dep.step // 4)
        depth = depth[:, : dep.width].copy()
        k = info.k
        p, q = pose.pose.position, pose.pose.orientation
        return CameraView(
            rgb=rgb,
            depth=depth,
            fx=float(k[0]),
            fy=float(k[4]),
            cx=float(k[2]),
            cy=float(k[5]),
            camera_to_map=pose_to_matrix((p.x, p.y, p.z), (q.x, q.y, q.z, q.w)),
            stamp=_stamp_s(img.header.stamp),
        )

    def arm_move(self, xyz: tuple[float, float, float], timeout_s: float = 20.0) -> ArmResult:
        """Publish ``arm/goal`` with a fresh request stamp and wait for the matching ``arm/result``."""
        msg = PointStamped()
        now = self._node.get_clock().now()
        with self._lock:
            self._request_counter += 1
            nanos = now.nanoseconds + self._request_counter  # unique even within one clock tick
        msg.header.stamp.sec = nanos // 1_000_000_000
        msg.header.stamp.nanosec = nanos % 1_000_000_000
        msg.header.frame_id = "map"
        msg.point.x, msg.point.y, msg.point.z = (float(v) for v in xyz)
        key = (int(msg.header.stamp.sec), int(msg.header.stamp.nanosec))
        self._publish(self._arm_pub, msg)
        deadline = time.monotonic() + timeout_s
        with self._arm_event:
            while key not in self._arm_results:
                if self._cancel.is_set() or time.monotonic() > deadline:
                    return ArmResult(False, "cancelled" if self._cancel.is_set() else "no arm/result in time")
                self._arm_event.wait(0.2)
            data = self._arm_results.pop(key)
        ee = data.get("ee") or (math.nan, math.nan, math.nan)
        return ArmResult(bool(data.get("success")), str(data.get("error", "")), tuple(float(v) for v in ee))

    def _call(self, client: Any, request: Any, timeout_s: float = 20.0) -> Any | None:
        if not client.wait_for_service(timeout_sec=5.0):
            _log.warning("%s: service %s unavailable", self.robot_id, client.srv_name)
            return None
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _f: done.set())
        if not done.wait(timeout_s):
            _log.warning("%s: service %s timed out", self.robot_id, client.srv_name)
            return None
        return future.result()

    def arm_home(self) -> bool:
        """``arm/home``."""
        response = self._call(self._arm_home, Trigger.Request())
        return bool(response and response.success)

    def gripper(self, close: bool) -> tuple[bool, str]:
        """``gripper/close`` (data=True close, False open)."""
        request = SetBool.Request()
        request.data = bool(close)
        response = self._call(self._gripper, request)
        if response is None:
            return False, ""
        return bool(response.success), str(response.message)

    def cargo(self, load: bool) -> tuple[bool, str]:
        """``cargo/load`` or ``cargo/unload``."""
        response = self._call(self._cargo_load if load else self._cargo_unload, Trigger.Request())
        if response is None:
            return False, "service unavailable"
        return bool(response.success), str(response.message)

    def set_device(self, device: str, state: str, timeout_s: float = 10.0) -> tuple[bool, str]:
        """Publish ``/devices/set`` and wait for the ``/devices/result`` with our request id."""
        request_id = f"{self.robot_id}-{uuid.uuid4().hex[:12]}"
        return self._world.set_device(device, state, request_id, timeout_s)

    def dock_state(self) -> Mapping[str, Any]:
        """Latest ``dock_state``."""
        return dict(self._dock_state)

    def say(self, text: str) -> None:
        """Publish on ``/executive/say``."""
        self._publish_say(self.robot_id, text)

    def sleep(self, seconds: float) -> bool:
        """Sleep in sim time (bounded in wall time in case the clock stops)."""
        end = self.now_s() + seconds
        wall_deadline = time.monotonic() + 5.0 * seconds + 10.0
        while self.now_s() < end:
            if self._cancel.is_set():
                return False
            if time.monotonic() > wall_deadline:
                _log.warning("%s: sim clock stalled during a %.1f s wait", self.robot_id, seconds)
                break
            time.sleep(POLL_S)
        return not self._cancel.is_set()

    def cancelled(self) -> bool:
        """Whether the running step was cancelled."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Cancel whatever the robot is doing (Cancel from the cloud, shutdown)."""
        self._cancel.set()

    def clear_cancel(self) -> None:
        """Allow new steps after a cancel."""
        self._cancel.clear()

    def record_detection(self, detection: Detection) -> None:
        """Hand the detection to the node (which keeps the frame for the demo)."""
        self._on_detection(self.robot_id, detection)
