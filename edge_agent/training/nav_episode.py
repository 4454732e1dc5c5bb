"""Bookkeeping shared by the two navigation worlds (the 2D training world and the PyBullet home).

Both worlds pose the same task (start, goal, time limit, success radius) and report it the same way,
so the parts that define the task live here once: the Gymnasium spaces (from the one observation spec,
``edge_agent.observation``), the time limit, the ``info`` dict the evaluation reads, and the doorway
waypoints of the 2D training world's room-level route, and the local goal the deployed stack hands
the reflex (:class:`StackLocalGoal`: A* on the robot's map through the waypoint follower, built from the
stack's own ``edge_agent.astar`` and ``edge_agent.waypoint_follower``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from edge_agent import observation as spec
from edge_agent.astar import GridPlanner, NoPathError
from edge_agent.waypoint_follower import FollowerConfig, FollowStatus, WaypointFollower
from reflexarc.occupancy_grid import OccupancyGrid

__all__ = [
    "DoorwayWaypoint",
    "EpisodeTally",
    "LOCAL_GOAL_MODES",
    "RouteFollowing",
    "StackLocalGoal",
    "action_space",
    "advance_doorway_waypoints",
    "doorway_waypoints",
    "observation_space",
    "point_segment_distance",
    "time_limit_s",
]

_LOG = logging.getLogger(__name__)

LOCAL_GOAL_MODES = ("route", "doorways")
"""``route``: the stack's A* waypoints through the waypoint follower; ``doorways``: next doorway, then the goal."""

DoorwayWaypoint = tuple[np.ndarray, np.ndarray, np.ndarray, float]
"""(target point past the doorway, doorway centre, crossing direction, half width)."""


def observation_space(obs_spec: spec.ObservationSpec = spec.OBSERVATION_SPEC) -> gym.spaces.Box:
    """The observation space of the reflex policy: ``obs_dim`` float32 values in [-1, 1]."""
    return gym.spaces.Box(-1.0, 1.0, shape=(obs_spec.obs_dim,), dtype=np.float32)


def action_space(obs_spec: spec.ObservationSpec = spec.OBSERVATION_SPEC) -> gym.spaces.Box:
    """The action space of the reflex policy: (v, omega) within the spec's limits."""
    return gym.spaces.Box(
        np.array([obs_spec.v_min, -obs_spec.w_max], dtype=np.float32),
        np.array([obs_spec.v_max, obs_spec.w_max], dtype=np.float32),
        dtype=np.float32,
    )


def time_limit_s(shortest_path_length: float, slack_s: float) -> float:
    """Episode time limit: 2.5 times the shortest path at full speed, plus a fixed slack."""
    return 2.5 * shortest_path_length / spec.V_MAX + slack_s


@dataclass
class EpisodeTally:
    """What an episode has used so far (time, distance) against what it could have (shortest path)."""

    shortest_path_length: float
    time_limit_s: float
    time_s: float = 0.0
    path_length: float = 0.0

    def out_of_time(self) -> bool:
        """Whether the time limit is reached (with a tolerance for accumulated float steps)."""
        return self.time_s >= self.time_limit_s - 1e-9

    def info(self, collision: bool, success: bool) -> dict:
        """The ``info`` dict every navigation world returns (the evaluation reads these keys)."""
        return {
            "collision": bool(collision),
            "success": bool(success),
            "path_length": float(self.path_length),
            "shortest_path_length": float(self.shortest_path_length),
            "time_s": float(self.time_s),
        }


def doorway_waypoints(path, doors: Iterable[tuple[np.ndarray, np.ndarray, float]],
                      overshoot_m: float) -> list[DoorwayWaypoint]:
    """Doorways a polyline crosses, in order along it, each with a target ``overshoot_m`` past the doorway.

    Args:
        path: the route as a sequence of (x, y) points.
        doors: (centre, unit normal, half width) of every doorway.
        overshoot_m: how far beyond the doorway centre the target lies, in the crossing direction.
    """
    doors = [(np.asarray(c, dtype=np.float64), np.asarray(n, dtype=np.float64), float(hw)) for c, n, hw in doors]
    crossings = []
    travelled = 0.0
    for a, b in zip(path[:-1], path[1:], strict=True):
        a, b = np.asarray(a), np.asarray(b)
        seg = b - a
        for c, n, half_width in doors:
            sa, sb = float(np.dot(a - c, n)), float(np.dot(b - c, n))
            if sa * sb >= 0.0 or sa == sb:
                continue
            t = sa / (sa - sb)
            p = a + t * seg
            tangent = np.array([-n[1], n[0]])
            if abs(float(np.dot(p - c, tangent))) <= half_width + 0.05:
                direction = n if sb > sa else -n
                crossings.append((travelled + t * float(np.hypot(*seg)), c, direction, half_width))
        travelled += float(np.hypot(*seg))
    crossings.sort(key=lambda item: item[0])
    return [(c + overshoot_m * d, c, d, hw) for _, c, d, hw in crossings]


def advance_doorway_waypoints(waypoints: list[DoorwayWaypoint], xy: np.ndarray) -> None:
    """Drop (in place) the leading waypoints the robot at ``xy`` has passed through or reached."""
    while waypoints:
        target, centre, normal, half_width = waypoints[0]
        rel = xy - centre
        passed = float(np.dot(rel, normal)) > 0.0 and abs(float(np.dot(rel, [-normal[1], normal[0]]))) < half_width + 0.3
        if passed or float(np.hypot(*(xy - target))) < 0.15:
            waypoints.pop(0)
        else:
            break


def point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Distance from point ``p`` to the segment ``a``-``b``."""
    ab = b - a
    t = float(np.clip(np.dot(p - a, ab) / max(float(np.dot(ab, ab)), 1e-12), 0.0, 1.0))
    return float(np.hypot(*(p - (a + t * ab))))


@dataclass(frozen=True)
class RouteFollowing:
    """How the executive feeds the reflex along an A* route.

    The values are the executive's (``edge_agent.skills.ros_robot``: intermediate tolerance,
    look-ahead, stuck timeout, progress epsilon); ``replans`` is ``drive_to``'s one re-plan.
    """

    tolerance_m: float = 0.35
    lookahead_m: float = 0.3
    stuck_timeout_s: float = 8.0
    progress_epsilon_m: float = 0.05
    replans: int = 1


class StackLocalGoal:
    """The local goal as the deployed stack produces it: A* on the robot's map, one waypoint at a time.

    ``navigate_to`` plans with :class:`edge_agent.astar.GridPlanner` on the map the robot has and feeds
    the waypoints through :class:`edge_agent.waypoint_follower.WaypointFollower`; when the follower
    reports STUCK it re-plans once from where the robot is. Should A* find no path, the goal itself is
    handed over. The last waypoint is always the task's goal, even where the planner snapped its end.

    Args:
        planning_grid: returns the robot's current map (called at every (re-)plan).
        robot_radius: footprint radius for the planner's inflation.
        goal_xy: the task's goal.
        goal_tolerance_m: the follower's tolerance at the goal (the task's success radius).
        following: the executive's follower tuning.
        approach_xy: where the last, straight leg to the goal starts, or None. ``drive_to`` plans to a
            "pre-approach" point behind a standing pose and drives straight from there to the goal,
            facing what the robot came for; with it the route does the same.
    """

    def __init__(self, planning_grid: Callable[[], OccupancyGrid], robot_radius: float,
                 goal_xy: tuple[float, float], goal_tolerance_m: float,
                 following: RouteFollowing | None = None,
                 approach_xy: tuple[float, float] | None = None) -> None:
        self._planning_grid = planning_grid
        self._approach = None if approach_xy is None else (float(approach_xy[0]), float(approach_xy[1]))
        self._robot_radius = float(robot_radius)
        self._goal = (float(goal_xy[0]), float(goal_xy[1]))
        self._following = following if following is not None else RouteFollowing()
        self._config = FollowerConfig(
            tolerance_m=max(self._following.tolerance_m, goal_tolerance_m), goal_tolerance_m=goal_tolerance_m,
            lookahead_m=self._following.lookahead_m, stuck_timeout_s=self._following.stuck_timeout_s,
            progress_epsilon_m=self._following.progress_epsilon_m,
        )
        self._follower: WaypointFollower | None = None
        self.replans = 0
        self.waypoints: tuple[tuple[float, float], ...] = ()
        self.goal = np.array(self._goal, dtype=np.float64)

    def start(self, xy, t: float) -> np.ndarray:
        """Plan from ``xy`` at time ``t`` and return the first local goal."""
        planner = GridPlanner(self._planning_grid(), self._robot_radius)
        here = (float(xy[0]), float(xy[1]))
        try:
            path = planner.plan(here, self._approach or self._goal)
            waypoints = list(path.waypoints[1:]) if len(path.waypoints) > 1 else [path.goal]
        except NoPathError as exc:
            _LOG.debug("no A* route to the goal (%s); the reflex gets the goal itself", exc)
            waypoints = []
        if not waypoints or math.dist(waypoints[-1], self._goal) > 1e-6:
            waypoints.append(self._goal)
        self.waypoints = tuple((float(p[0]), float(p[1])) for p in waypoints)
        self._follower = WaypointFollower(self.waypoints, self._config)
        self._follower.reset_progress(t)
        return self.update(xy, t)

    def update(self, xy, t: float) -> np.ndarray:
        """Advance along the route for the robot at ``xy`` at time ``t``; the local goal to drive to now."""
        if self._follower is None:
            return self.start(xy, t)
        update = self._follower.update(float(xy[0]), float(xy[1]), t)
        if update.status is FollowStatus.STUCK and self.replans < self._following.replans:
            self.replans += 1
            return self.start(xy, t)
        self.goal = np.array([update.goal.x, update.goal.y], dtype=np.float64)
        return self.goal
