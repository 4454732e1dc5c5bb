"""Privileged teachers: a global path tracker, a velocity-sampling safety teacher, and their arbitration.

They act from :class:`PrivilegedState` only (full static map, exact moving obstacles, true pose), so the
same code labels states in the numpy 2D world and in the PyBullet home.

* :class:`GlobalTeacher` follows the shortest path on the full map: a geodesic cost-to-go field to the
  local goal (with a soft preference for clearance), the farthest path point in clear view (up to
  1.5 m), and a heading controller that turns in place when the path is behind and slows down in tight
  spaces. People standing still near the robot are routed around.
* :class:`SafetyTeacher` samples (v, omega) commands, rolls each out for 1 s with the robot's
  acceleration limits against the exact static clearance and the people's constant-velocity futures, and
  picks the safe command that best keeps the global teacher's intent and progress.
* :class:`ArbitratedTeacher` uses the global command when its rollout is safe, the safety teacher's
  otherwise: the global teacher decides where to go, the safety teacher has the last word on how. It
  also knows the deployed shield: where the shield's stop zone blocks the way, it recovers (turns
  toward the path or backs off) instead of pushing into the stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from edge_agent import observation as spec
from edge_agent.shield import SafetyShield
from edge_agent.training.navmap import NavMap
from edge_agent.training.privileged import OccupancyGrid, PrivilegedState


@dataclass(frozen=True)
class TeacherConfig:
    """Tuning of the teachers (shared by all three)."""

    lookahead_m: float = 1.5
    visibility_margin_m: float = 0.2
    heading_gain: float = 2.5
    turn_in_place_rad: float = 1.0
    tight_clearance_m: float = 0.3
    horizon_s: float = 1.0
    rollout_dt: float = 0.1
    accel_v: float = spec.ACCEL_V
    accel_w: float = spec.ACCEL_W
    static_margin_m: float = 0.04
    person_margin_m: float = 0.2
    n_v: int = 8
    n_w: int = 15
    standing_person_range_m: float = 2.0
    recovery_aligned_rad: float = 0.35
    recovery_reverse_v: float = -0.1
    recovery_min_turn: float = 0.6
    ease_band_m: float = 0.25


class _MapCache:
    """Keeps the :class:`NavMap` of the grid currently in use (one map per episode)."""

    def __init__(self) -> None:
        self._grid: OccupancyGrid | None = None
        self._navmap: NavMap | None = None

    def seed(self, grid: OccupancyGrid, navmap: NavMap) -> None:
        """Adopt an analysis already computed for ``grid`` (the world built one at reset)."""
        self._grid, self._navmap = grid, navmap

    def get(self, grid: OccupancyGrid, robot_radius: float) -> NavMap:
        if self._grid is not grid or self._navmap is None or self._navmap.robot_radius != robot_radius:
            self._navmap = NavMap(grid, robot_radius)
            self._grid = grid
        return self._navmap


def _wrap(angle: float) -> float:
    return math.atan2(math.sin(angle), math.cos(angle))


class GlobalTeacher:
    """Shortest path on the full map plus a look-ahead heading controller."""

    def __init__(self, config: TeacherConfig | None = None, maps: _MapCache | None = None) -> None:
        """Create a teacher; ``maps`` lets several teachers share one map analysis."""
        self.config = config or TeacherConfig()
        self._maps = maps or _MapCache()

    def navmap(self, state: PrivilegedState) -> NavMap:
        """The map analysis of the state's grid (built on first use)."""
        return self._maps.get(state.grid, state.robot_radius)

    def standing_people(self, state: PrivilegedState) -> tuple[tuple[float, float, float], ...]:
        """People standing (almost) still near the robot, rounded so a waiting person maps to one field."""
        people = []
        for px, py, pr, pvx, pvy in state.dynamic_obstacles:
            near = math.hypot(px - state.pose[0], py - state.pose[1]) < self.config.standing_person_range_m
            if near and math.hypot(pvx, pvy) < 0.1:
                people.append((round(float(px), 1), round(float(py), 1), round(float(pr), 2)))
        return tuple(people)

    def lookahead_point(self, state: PrivilegedState) -> tuple[float, float]:
        """The farthest point of the shortest path (up to ``lookahead_m``) in clear straight-line view.

        Aiming at the farthest visible path point, rather than the next grid cell, removes the
        staircase jitter of grid paths and cuts corners only where there is room.
        """
        cfg = self.config
        navmap = self.navmap(state)
        x, y, _ = state.pose
        here = np.array([x, y])
        goal = np.asarray(state.goal_xy, dtype=np.float64)
        min_clear = state.robot_radius + cfg.visibility_margin_m
        start_clear = float(navmap.clearance_at(here))
        # Close to an obstacle, accept lines that do not get any closer than we already are.
        min_clear = min(min_clear, start_clear - 0.01)
        if np.hypot(*(goal - here)) <= cfg.lookahead_m and navmap.line_is_clear(here, goal, min_clear):
            return float(goal[0]), float(goal[1])
        field = navmap.cost_to_go(state.goal_xy, blockers=self.standing_people(state))
        points = [np.asarray(p, dtype=np.float64) for p in navmap.path_ahead(field, (x, y), state.goal_xy,
                                                                               cfg.lookahead_m)]
        within = [p for p in points if np.hypot(*(p - here)) <= cfg.lookahead_m] or points[:1]
        for p in reversed(within):
            if navmap.line_is_clear(here, p, min_clear):
                return float(p[0]), float(p[1])
        return float(within[0][0]), float(within[0][1])

    def act(self, state: PrivilegedState) -> tuple[float, float]:
        """Velocity command (v, omega) tracking the shortest path."""
        cfg = self.config
        x, y, yaw = state.pose
        lx, ly = self.lookahead_point(state)
        alpha = _wrap(math.atan2(ly - y, lx - x) - yaw)
        w = float(np.clip(cfg.heading_gain * alpha, -spec.W_MAX, spec.W_MAX))
        if abs(alpha) >= cfg.turn_in_place_rad:
            return 0.0, w
        v = spec.V_MAX * (1.0 - abs(alpha) / cfg.turn_in_place_rad)
        clearance = float(self.navmap(state).clearance_at(np.array([x, y]))) - state.robot_radius
        v *= float(np.clip(clearance / cfg.tight_clearance_m, 0.4, 1.0))
        return spec.clip_action(v, w)


@dataclass(frozen=True)
class RolloutCheck:
    """Result of rolling candidate commands forward: end positions and worst clearances."""

    end_xy: np.ndarray
    static_clearance: np.ndarray
    person_clearance: np.ndarray


class SafetyTeacher:
    """Velocity sampling against exact obstacle geometry and the people's predicted motion."""

    def __init__(self, config: TeacherConfig | None = None, maps: _MapCache | None = None) -> None:
        """Create a teacher; ``maps`` lets several teachers share one map analysis."""
        self.config = config or TeacherConfig()
        self._maps = maps or _MapCache()
        cfg = self.config
        vs = np.linspace(spec.V_MIN, spec.V_MAX, cfg.n_v)
        ws = np.linspace(-spec.W_MAX, spec.W_MAX, cfg.n_w)
        grid_v, grid_w = np.meshgrid(vs, ws, indexing="ij")
        self._candidates = np.stack([grid_v.ravel(), grid_w.ravel()], axis=1)

    def rollout(self, state: PrivilegedState, commands: np.ndarray) -> RolloutCheck:
        """Simulate each command (M, 2) for the horizon with acceleration limits; report clearances."""
        cfg = self.config
        navmap = self._maps.get(state.grid, state.robot_radius)
        n_steps = int(round(cfg.horizon_s / cfg.rollout_dt))
        dt = cfg.rollout_dt
        k = np.arange(1, n_steps + 1)[None, :]
        # Constant command under acceleration limits: velocity ramps toward it by at most k * a * dt.
        v0, w0 = state.velocity
        v = v0 + np.clip(commands[:, 0:1] - v0, -k * cfg.accel_v * dt, k * cfg.accel_v * dt)
        w = w0 + np.clip(commands[:, 1:2] - w0, -k * cfg.accel_w * dt, k * cfg.accel_w * dt)
        yaw_after = state.pose[2] + np.cumsum(w * dt, axis=1)
        mid = yaw_after - 0.5 * w * dt
        m = commands.shape[0]
        xs = np.empty((m, n_steps + 1))
        ys = np.empty((m, n_steps + 1))
        xs[:, 0], ys[:, 0] = state.pose[0], state.pose[1]
        xs[:, 1:] = state.pose[0] + np.cumsum(v * dt * np.cos(mid), axis=1)
        ys[:, 1:] = state.pose[1] + np.cumsum(v * dt * np.sin(mid), axis=1)
        pts = np.stack([xs, ys], axis=-1)
        static = navmap.clearance_at(pts).min(axis=1) - state.robot_radius
        people = state.dynamic_obstacles
        if people.shape[0]:
            t = np.arange(n_steps + 1) * dt
            px = people[:, 0][None, :] + people[:, 3][None, :] * t[:, None]  # (K, P)
            py = people[:, 1][None, :] + people[:, 4][None, :] * t[:, None]
            d = np.hypot(xs[:, :, None] - px[None], ys[:, :, None] - py[None]) - people[:, 2][None, None, :]
            person = d.min(axis=(1, 2)) - state.robot_radius
        else:
            person = np.full(m, np.inf)
        return RolloutCheck(end_xy=pts[:, -1, :], static_clearance=static, person_clearance=person)

    def is_safe(self, check: RolloutCheck) -> np.ndarray:
        """Which rolled-out commands keep the required margins."""
        return (check.static_clearance >= self.config.static_margin_m) & (
            check.person_clearance >= self.config.person_margin_m)

    def act(self, state: PrivilegedState, preferred: tuple[float, float] | None = None,
            blockers: tuple[tuple[float, float, float], ...] = (), forbid_forward: bool = False,
            forbid_backward: bool = False) -> tuple[float, float]:
        """The safe sampled command closest to ``preferred`` in intent and progress; the safest if none is.

        Progress is measured on the cost-to-go field around ``blockers`` (standing people);
        ``forbid_forward`` / ``forbid_backward`` drop directions the shield would stop anyway.
        """
        navmap = self._maps.get(state.grid, state.robot_radius)
        check = self.rollout(state, self._candidates)
        allowed = ~((forbid_forward & (self._candidates[:, 0] > 0.0)) | (forbid_backward & (self._candidates[:, 0] < 0.0)))
        safe = self.is_safe(check) & allowed
        field = navmap.cost_to_go(state.goal_xy, blockers=blockers)
        here = float(navmap.field_value(field, np.array(state.pose[:2])))
        togo = navmap.field_value(field, check.end_xy)
        progress = np.where(np.isfinite(togo), here - togo, -10.0) if np.isfinite(here) else np.zeros(len(togo))
        pref = preferred if preferred is not None else (spec.V_MAX, 0.0)
        deviation = np.abs(self._candidates[:, 0] - pref[0]) / spec.V_MAX + \
            0.5 * np.abs(self._candidates[:, 1] - pref[1]) / spec.W_MAX
        comfort = np.minimum(check.static_clearance, 0.3) + np.minimum(check.person_clearance, 0.6)
        score = 2.0 * progress - 0.6 * deviation + 0.5 * comfort
        if safe.any():
            best = int(np.argmax(np.where(safe, score, -np.inf)))
        else:
            margin = np.minimum(check.static_clearance - self.config.static_margin_m,
                                check.person_clearance - self.config.person_margin_m)
            best = int(np.argmax(np.where(allowed, margin + 1e-3 * score, -np.inf)))
        return spec.clip_action(float(self._candidates[best, 0]), float(self._candidates[best, 1]))


class ArbitratedTeacher:
    """The global teacher's command when it is safe, otherwise the safety teacher's best alternative.

    The arbitration also knows the shield that runs after every policy: when the shield's stop zone
    blocks the way the global teacher wants to go, it recovers the way a careful driver would (turn
    toward the path, or back off when the path is straight ahead) instead of pushing into the stop.
    """

    def __init__(self, config: TeacherConfig | None = None, shield: SafetyShield | None = None) -> None:
        """Create both teachers over one shared map analysis."""
        self.config = config or TeacherConfig()
        self.shield = shield or SafetyShield()
        maps = _MapCache()
        self._maps = maps
        self.global_teacher = GlobalTeacher(self.config, maps)
        self.safety_teacher = SafetyTeacher(self.config, maps)
        self.last_source = "global"

    def reuse_navmap(self, grid: OccupancyGrid, navmap: NavMap) -> None:
        """Skip re-analysing ``grid``: use ``navmap``, built for it with the same robot radius."""
        self._maps.seed(grid, navmap)

    def act(self, state: PrivilegedState) -> tuple[float, float]:
        """Arbitrated (v, omega) for this state; ``last_source`` records which teacher decided."""
        if abs(self.shield.config.robot_radius - state.robot_radius) > 1e-9:
            self.shield = SafetyShield(replace(self.shield.config, robot_radius=state.robot_radius))
        preferred = self.global_teacher.act(state)
        scan = state.scan
        forward, backward = self.shield.free_travel(
            scan.ranges, scan.angle_min, scan.angle_increment, scan.range_min, scan.range_max)
        stop = self.shield.config.stop_distance_m
        forward_blocked, backward_blocked = forward < stop, backward < stop
        if (preferred[0] > 0.0 and forward_blocked) or (preferred[0] < 0.0 and backward_blocked):
            self.last_source = "recovery"
            return self._recover(state, backward_blocked)
        check = self.safety_teacher.rollout(state, np.array([preferred]))
        if bool(self.safety_teacher.is_safe(check)[0]):
            self.last_source = "global"
            command = preferred
        else:
            self.last_source = "safety"
            command = self.safety_teacher.act(state, preferred, self.global_teacher.standing_people(state),
                                              forbid_forward=forward_blocked, forbid_backward=backward_blocked)
        # Ease off smoothly as the way ahead closes in, so the command reaches zero exactly where the
        # shield's stop zone begins instead of jumping there (a smooth target a small network can fit).
        travel = forward if command[0] > 0.0 else backward
        ease = float(np.clip((travel - stop) / self.config.ease_band_m, 0.0, 1.0))
        return spec.clip_action(command[0] * ease, command[1])

    def _recover(self, state: PrivilegedState, backward_blocked: bool) -> tuple[float, float]:
        """Forward is in the shield's stop zone: turn toward the path, or back off if already facing it."""
        cfg = self.config
        x, y, yaw = state.pose
        lx, ly = self.global_teacher.lookahead_point(state)
        alpha = _wrap(math.atan2(ly - y, lx - x) - yaw)
        if abs(alpha) < cfg.recovery_aligned_rad and not backward_blocked:
            command = np.array([[cfg.recovery_reverse_v, float(np.clip(cfg.heading_gain * alpha, -0.5, 0.5))]])
            if bool(self.safety_teacher.is_safe(self.safety_teacher.rollout(state, command))[0]):
                return spec.clip_action(float(command[0, 0]), float(command[0, 1]))
        turn = math.copysign(max(abs(cfg.heading_gain * alpha), cfg.recovery_min_turn), alpha)
        return spec.clip_action(0.0, turn)
