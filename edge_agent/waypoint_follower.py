"""From a waypoint list and odometry to the local goal the reflex drives toward, with stuck detection.

A* hands the executive a few sparse waypoints; the reflex policy only ever sees one local goal, and
it was trained with that goal being a real waypoint (it slows down as the goal gets close). So the
local goal is always a waypoint, never a pure-pursuit "carrot" a fixed distance ahead, which would
keep the policy crawling. The follower advances to the next waypoint when the robot gets within
tolerance of the current one or drives past it, and already within the look-ahead distance when the
straight line to the next waypoint is free (an optional check, e.g. ``GridPlanner.segment_is_free``),
so the robot flows through corners instead of stopping at each. It reports STUCK when the remaining
path length has not shrunk for a while, so the contingency logic can re-plan, skip a waypoint or fail
the step. Time is passed in (sim time): deterministic and testable without clocks.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["FollowStatus", "FollowerConfig", "FollowerUpdate", "LocalGoal", "WaypointFollower"]

_Point = tuple[float, float]


@dataclass(frozen=True)
class FollowerConfig:
    """Tuning of the follower.

    Attributes:
        tolerance_m: distance at which an intermediate waypoint counts as reached.
        goal_tolerance_m: distance at which the last waypoint counts as reached.
        lookahead_m: within this distance of a waypoint the goal already moves on to the next one,
            if the straight line there is free (0 = only by tolerance).
        stuck_timeout_s: no progress for this long means stuck.
        progress_epsilon_m: the remaining path must shrink by this much to count as progress.
    """

    tolerance_m: float = 0.2
    goal_tolerance_m: float = 0.1
    lookahead_m: float = 0.5
    stuck_timeout_s: float = 6.0
    progress_epsilon_m: float = 0.05

    def __post_init__(self) -> None:
        if self.tolerance_m <= 0 or self.goal_tolerance_m <= 0:
            raise ValueError("tolerances must be positive")
        if self.lookahead_m < 0 or self.stuck_timeout_s <= 0 or self.progress_epsilon_m < 0:
            raise ValueError("lookahead must be >= 0, stuck timeout > 0, progress epsilon >= 0")


@dataclass(frozen=True)
class LocalGoal:
    """The point the reflex should drive toward now.

    Attributes:
        x: map-frame x of the goal.
        y: map-frame y of the goal.
        waypoint_index: index of the waypoint being approached.
        is_final: the goal is the path's last waypoint (the reflex should stop there).
        remaining_m: path length still to drive (straight to the current waypoint, then along the path).
    """

    x: float
    y: float
    waypoint_index: int
    is_final: bool
    remaining_m: float


class FollowStatus(enum.Enum):
    """Where the follower stands."""

    FOLLOWING = "following"
    ARRIVED = "arrived"
    STUCK = "stuck"


@dataclass(frozen=True)
class FollowerUpdate:
    """Result of one ``update``: what to publish and whether the contingency logic must act."""

    status: FollowStatus
    goal: LocalGoal
    stalled_s: float


class WaypointFollower:
    """Follows one waypoint path.

    Args:
        waypoints: map-frame points, in order (at least one).
        config: tuning (defaults suit a 0.5 m/s indoor robot).
        segment_is_free: optional check that the robot can drive straight between two points; when
            given, the early (look-ahead) switch to the next waypoint waits until the check passes.
    """

    def __init__(
        self,
        waypoints: Sequence[Sequence[float]],
        config: FollowerConfig | None = None,
        *,
        segment_is_free: Callable[[_Point, _Point], bool] | None = None,
    ) -> None:
        if len(waypoints) == 0:
            raise ValueError("a path needs at least one waypoint")
        self.waypoints: tuple[_Point, ...] = tuple((float(p[0]), float(p[1])) for p in waypoints)
        self.config = config if config is not None else FollowerConfig()
        self._segment_is_free = segment_is_free
        # Path length from each waypoint to the end.
        tail = [0.0] * len(self.waypoints)
        for i in range(len(self.waypoints) - 2, -1, -1):
            tail[i] = tail[i + 1] + math.dist(self.waypoints[i], self.waypoints[i + 1])
        self._tail = tail
        self._index = 0
        self._best_remaining = math.inf
        self._best_t: float | None = None
        self._arrived = False

    # --------------------------------------------------------------------------------- properties
    @property
    def index(self) -> int:
        """Index of the waypoint being approached."""
        return self._index

    @property
    def arrived(self) -> bool:
        """Whether the last waypoint was reached."""
        return self._arrived

    # ------------------------------------------------------------------------------------ updates
    def update(self, x: float, y: float, t: float) -> FollowerUpdate:
        """Advance along the path for the robot at ``(x, y)`` at time ``t`` (seconds) and return the goal."""
        pose = (float(x), float(y))
        last = len(self.waypoints) - 1
        while self._index < last and self._may_advance(pose):
            self._index += 1
        final = self.waypoints[last]
        if self._index == last and math.dist(pose, final) <= self.config.goal_tolerance_m:
            self._arrived = True
        remaining = self._remaining(pose)
        if self._best_t is None or remaining < self._best_remaining - self.config.progress_epsilon_m:
            self._best_remaining, self._best_t = remaining, t
        stalled = max(0.0, t - self._best_t)
        target = self.waypoints[self._index]
        goal = LocalGoal(target[0], target[1], self._index, self._index == last, 0.0 if self._arrived else remaining)
        if self._arrived:
            return FollowerUpdate(FollowStatus.ARRIVED, goal, 0.0)
        status = FollowStatus.STUCK if stalled >= self.config.stuck_timeout_s else FollowStatus.FOLLOWING
        return FollowerUpdate(status, goal, stalled)

    def skip_waypoint(self, t: float) -> bool:
        """Give up on the waypoint being approached (blocked) and restart the stuck timer; False at the end."""
        if self._index >= len(self.waypoints) - 1:
            return False
        self._index += 1
        self.reset_progress(t)
        return True

    def reset_progress(self, t: float) -> None:
        """Restart stuck detection at time ``t`` (e.g. after the robot was paused on purpose)."""
        self._best_remaining = math.inf
        self._best_t = t

    # --------------------------------------------------------------------------------- internals
    def _may_advance(self, pose: _Point) -> bool:
        """Reached (within tolerance), passed, or close enough with a free line to the next waypoint."""
        i = self._index
        target = self.waypoints[i]
        dist = math.dist(pose, target)
        if dist <= self.config.tolerance_m or self._passed(pose):
            return True
        if dist > self.config.lookahead_m:
            return False
        return self._segment_is_free is None or self._segment_is_free(pose, self.waypoints[i + 1])

    def _passed(self, pose: _Point) -> bool:
        """Driven past the current waypoint: the projection on the segment leading to it lies beyond it."""
        i = self._index
        if i == 0:
            return False
        ax, ay = self.waypoints[i - 1]
        tx, ty = self.waypoints[i]
        dx, dy = tx - ax, ty - ay
        seg2 = dx * dx + dy * dy
        return seg2 > 0 and ((pose[0] - ax) * dx + (pose[1] - ay) * dy) / seg2 >= 1.0

    def _remaining(self, pose: _Point) -> float:
        """Path length left: straight to the current waypoint, then along the path."""
        return math.dist(pose, self.waypoints[self._index]) + self._tail[self._index]
