"""The safety shield between the policy and the wheels: it can only take speed away.

Modelled on Nav2's collision_monitor, specialised to a circular differential-drive robot and working on
the RAW scan (every beam, not the policy's sectors):

* **clamp**: the command is clamped to the robot's speed limits first; NaN/inf commands become zero.
  This is what makes a "drive at 5 m/s" plan harmless.
* **stop** zone: any point in the capsule the footprint sweeps over the next ``stop_distance_m`` of
  travel (ahead when driving forward, behind when reversing) -> zero linear speed.
* **slowdown** zone: a point in the capsule of ``slowdown_distance_m`` -> linear speed x
  ``slowdown_ratio``.
* **approach** (time to collision): the commanded arc is rolled out; if the footprint would touch a
  point sooner than ``time_to_collision_s``, v and omega are scaled down together (same arc) so the
  collision is at least that far away in time.

Invalid beams are conservative: NaN, -inf and readings below ``range_min`` are an obstacle at
``range_min`` (right next to the sensor), so the robot never moves toward a blinded beam; +inf and
readings above ``range_max`` mean nothing within range (REP 117). A circular robot rotating in place
sweeps no new area, so the stop zone keeps omega; only the approach check scales it.

Every output satisfies ``|v_out| <= |v_in|``, ``|w_out| <= |w_in|`` with the same sign or zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edge_agent import observation as spec


@dataclass(frozen=True)
class ShieldConfig:
    """Zones and limits of the shield (metres beyond the footprint, seconds, m/s, rad/s)."""

    robot_radius: float = spec.ROBOT_RADIUS_M
    lateral_margin_m: float = 0.02
    stop_distance_m: float = 0.12
    slowdown_distance_m: float = 0.35
    slowdown_ratio: float = 0.5
    time_to_collision_s: float = 1.0
    rollout_dt_s: float = 0.05
    v_min: float = spec.V_MIN
    v_max: float = spec.V_MAX
    w_max: float = spec.W_MAX


@dataclass(frozen=True)
class ShieldDecision:
    """The filtered command and why it differs from the request (``"clear"`` when it does not)."""

    v: float
    w: float
    reason: str


class SafetyShield:
    """Pure filter: (command, raw scan) -> a command that is never faster and never toward an obstacle."""

    def __init__(self, config: ShieldConfig | None = None) -> None:
        """Create a shield; it keeps only a cache of beam directions per lidar geometry."""
        self.config = config or ShieldConfig()
        self._directions: dict[tuple[int, float, float], tuple[np.ndarray, np.ndarray]] = {}

    def _beam_directions(self, n: int, angle_min: float, angle_increment: float) -> tuple[np.ndarray, np.ndarray]:
        key = (n, float(angle_min), float(angle_increment))
        if key not in self._directions:
            angles = angle_min + angle_increment * np.arange(n, dtype=np.float64)
            self._directions[key] = (np.cos(angles), np.sin(angles))
        return self._directions[key]

    def obstacle_points(self, ranges: np.ndarray, angle_min: float, angle_increment: float,
                        range_min: float, range_max: float) -> np.ndarray:
        """Robot-frame obstacle points (N, 2) of a raw scan with conservative handling of invalid beams."""
        r = np.asarray(ranges, dtype=np.float64).ravel()
        cos_a, sin_a = self._beam_directions(r.size, angle_min, angle_increment)
        blinded = np.isnan(r) | (r < range_min)
        r = np.where(blinded, range_min, r)
        valid = r <= range_max
        return np.stack([r[valid] * cos_a[valid], r[valid] * sin_a[valid]], axis=1)

    def free_travel(self, ranges: np.ndarray, angle_min: float, angle_increment: float,
                    range_min: float, range_max: float) -> tuple[float, float]:
        """How far (m) the footprint (plus lateral margin) can move straight forward / backward before contact."""
        points = self.obstacle_points(ranges, angle_min, angle_increment, range_min, range_max)
        return self._free_travel(points, 1.0), self._free_travel(points, -1.0)

    def blocked_directions(self, ranges: np.ndarray, angle_min: float, angle_increment: float,
                           range_min: float, range_max: float) -> tuple[bool, bool]:
        """(forward blocked, backward blocked): whether the stop zone would zero any v > 0 / v < 0."""
        forward, backward = self.free_travel(ranges, angle_min, angle_increment, range_min, range_max)
        return forward < self.config.stop_distance_m, backward < self.config.stop_distance_m

    def _free_travel(self, points: np.ndarray, direction: float) -> float:
        """Straight-line travel in ``direction`` (+-1) until a point enters the widened footprint."""
        if points.shape[0] == 0:
            return math.inf
        half_width = self.config.robot_radius + self.config.lateral_margin_m
        ahead = points[:, 0] * direction
        lateral = np.abs(points[:, 1])
        band = (ahead > 0.0) & (lateral < half_width)
        if not band.any():
            return math.inf
        reach = np.sqrt(half_width ** 2 - lateral[band] ** 2)
        return float(max((ahead[band] - reach).min(), 0.0))

    def filter(self, v: float, w: float, ranges: np.ndarray, angle_min: float, angle_increment: float,
               range_min: float, range_max: float, points: np.ndarray | None = None) -> ShieldDecision:
        """Filter one command against one raw scan (``points``: its :meth:`obstacle_points`, if the caller
        already computed them on this hot path)."""
        cfg = self.config
        v_req = float(v) if math.isfinite(v) else 0.0
        w_req = float(w) if math.isfinite(w) else 0.0
        v_out = min(max(v_req, cfg.v_min), cfg.v_max)
        w_out = min(max(w_req, -cfg.w_max), cfg.w_max)
        reasons = [] if (v_out == float(v) and w_out == float(w)) else ["clamp"]
        if points is None:
            points = self.obstacle_points(ranges, angle_min, angle_increment, range_min, range_max)
        if v_out != 0.0 and points.shape[0]:
            travel = self._free_travel(points, math.copysign(1.0, v_out))
            if travel < cfg.stop_distance_m:
                v_out = 0.0
                reasons.append("stop")
            elif travel < cfg.slowdown_distance_m:
                v_out *= cfg.slowdown_ratio
                reasons.append("slowdown")
        if v_out != 0.0 and points.shape[0]:
            scale = self._approach_scale(v_out, w_out, points)
            if scale < 1.0:
                v_out *= scale
                w_out *= scale
                reasons.append("approach")
        return ShieldDecision(v=v_out, w=w_out, reason="+".join(reasons) if reasons else "clear")

    def _approach_scale(self, v: float, w: float, points: np.ndarray) -> float:
        """t_collision / horizon along the commanded arc (1.0 when no collision within the horizon)."""
        cfg = self.config
        horizon = cfg.time_to_collision_s
        contact = cfg.robot_radius + cfg.lateral_margin_m
        reach = abs(v) * horizon + contact
        dist0 = np.hypot(points[:, 0], points[:, 1])
        near = points[(dist0 < reach) & (dist0 >= contact)]
        if near.shape[0] == 0:
            return 1.0
        t = np.arange(1, int(round(horizon / cfg.rollout_dt_s)) + 1) * cfg.rollout_dt_s
        if abs(w) > 1e-6:
            cx = (v / w) * np.sin(w * t)
            cy = (v / w) * (1.0 - np.cos(w * t))
        else:
            cx, cy = v * t, np.zeros_like(t)
        d = np.hypot(cx[:, None] - near[None, :, 0], cy[:, None] - near[None, :, 1])
        hit = (d < contact).any(axis=1)
        if not hit.any():
            return 1.0
        return float(t[int(np.argmax(hit))]) / horizon
