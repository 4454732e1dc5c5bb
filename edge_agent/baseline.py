"""A classic, non-privileged baseline: the Dynamic Window Approach on the same 77-element observation.

Fox, Burgard & Thrun (1997): sample (v, omega) inside the window reachable under acceleration limits,
roll each arc forward, drop arcs that would hit an obstacle point, and maximise
``alpha * heading + beta * clearance + gamma * velocity``. It sees exactly what the student sees (the
min-pooled sectors, the local goal, its own velocity), so comparing the two measures what distillation
from privileged teachers adds over hand tuning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edge_agent import observation as spec


@dataclass(frozen=True)
class DWAConfig:
    """Weights and sampling of the dynamic window."""

    robot_radius: float = spec.ROBOT_RADIUS_M
    safety_margin_m: float = 0.05
    horizon_s: float = 1.5
    dt_s: float = 0.1
    control_period_s: float = 0.1
    window_periods: float = 3.0
    accel_v: float = spec.ACCEL_V
    accel_w: float = spec.ACCEL_W
    n_v: int = 9
    n_w: int = 21
    heading_weight: float = 1.0
    clearance_weight: float = 0.6
    velocity_weight: float = 0.35
    clearance_cap_m: float = 1.0


class DWABaseline:
    """Dynamic Window Approach on min-pooled lidar sectors and the robot-frame local goal."""

    def __init__(self, config: DWAConfig | None = None) -> None:
        """Precompute the sector sampling directions."""
        self.config = config or DWAConfig()
        width = 2.0 * math.pi / spec.N_SECTORS
        starts = -math.pi + width * np.arange(spec.N_SECTORS)
        # Three directions per sector (edges and centre) so a sector's minimum is never misplaced.
        self._angles = np.stack([starts + 0.02, starts + width / 2, starts + width - 0.02], axis=1)

    def obstacle_points(self, sectors: np.ndarray) -> np.ndarray:
        """Robot-frame obstacle points from normalised sectors (free sectors at the clip range give none)."""
        ranges = np.asarray(sectors, dtype=np.float64) * spec.SECTOR_CLIP_M
        seen = ranges < spec.SECTOR_CLIP_M - 1e-3
        r = np.repeat(ranges[seen], 3)
        a = self._angles[seen].ravel()
        return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)

    def act(self, obs: np.ndarray) -> tuple[float, float]:
        """(v, omega) for one observation."""
        cfg = self.config
        obs = np.asarray(obs, dtype=np.float64)
        sectors = obs[: spec.N_SECTORS]
        goal_d = obs[spec.N_SECTORS] * spec.GOAL_CLIP_M
        goal = np.array([obs[spec.N_SECTORS + 1], obs[spec.N_SECTORS + 2]]) * goal_d
        v0 = obs[spec.N_SECTORS + 3] * spec.V_MAX
        w0 = obs[spec.N_SECTORS + 4] * spec.W_MAX
        reach = cfg.window_periods  # the window: velocities reachable within a few control periods
        vs = np.linspace(max(spec.V_MIN, v0 - cfg.accel_v * cfg.control_period_s * reach),
                         min(spec.V_MAX, v0 + cfg.accel_v * cfg.control_period_s * reach), cfg.n_v)
        ws = np.linspace(max(-spec.W_MAX, w0 - cfg.accel_w * cfg.control_period_s * reach),
                         min(spec.W_MAX, w0 + cfg.accel_w * cfg.control_period_s * reach), cfg.n_w)
        v, w = (a.ravel() for a in np.meshgrid(vs, ws, indexing="ij"))
        t = np.arange(1, int(round(cfg.horizon_s / cfg.dt_s)) + 1) * cfg.dt_s
        small = np.abs(w) < 1e-6
        w_safe = np.where(small, 1.0, w)
        x = np.where(small[:, None], v[:, None] * t, (v / w_safe)[:, None] * np.sin(w_safe[:, None] * t))
        y = np.where(small[:, None], 0.0, (v / w_safe)[:, None] * (1.0 - np.cos(w_safe[:, None] * t)))
        yaw = w[:, None] * t
        points = self.obstacle_points(sectors)
        points = points[np.hypot(points[:, 0], points[:, 1]) < spec.V_MAX * cfg.horizon_s + cfg.clearance_cap_m]
        if points.shape[0]:
            d = np.hypot(x[:, :, None] - points[None, None, :, 0], y[:, :, None] - points[None, None, :, 1])
            clearance = d.min(axis=(1, 2)) - cfg.robot_radius
        else:
            clearance = np.full(v.shape, cfg.clearance_cap_m)
        # Admissible: can stop before the nearest obstacle on the arc.
        admissible = (clearance > cfg.safety_margin_m) & (
            np.maximum(v, 0.0) ** 2 / (2.0 * cfg.accel_v) < np.maximum(clearance, 0.0))
        end_heading = np.arctan2(goal[1] - y[:, -1], goal[0] - x[:, -1]) - yaw[:, -1]
        heading = 1.0 - np.abs(np.angle(np.exp(1j * end_heading))) / math.pi
        score = (cfg.heading_weight * heading
                 + cfg.clearance_weight * np.minimum(clearance, cfg.clearance_cap_m) / cfg.clearance_cap_m
                 + cfg.velocity_weight * v / spec.V_MAX)
        if not admissible.any():
            # Nothing safe moves forward: turn toward the goal on the spot.
            bearing = math.atan2(goal[1], goal[0])
            return 0.0, float(np.clip(2.0 * bearing, -spec.W_MAX, spec.W_MAX))
        best = int(np.argmax(np.where(admissible, score, -np.inf)))
        return spec.clip_action(float(v[best]), float(w[best]))
