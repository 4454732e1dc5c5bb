"""The one observation spec of the reflex policy, shared by training, the PyBullet robot and the ROS node.

Why these numbers:

* **Sensor**: a 2D lidar, 360 beams over 360 deg (1 deg), range 0.05-6.0 m, ROS ``LaserScan`` convention
  (``angle_min = -pi``, ``angle_increment = 2 pi / 360``, float32 ranges, inf/NaN possible). A full circle
  matters for a differential-drive robot that turns in place and may back up; 1 deg is what cheap
  home-robot lidars (RPLidar A1/A2, LDS-01) deliver.
* **Sectors, not beams**: the policy sees 72 sectors of 5 deg, each the MINIMUM of its beams. A 3-5 cm
  chair leg at 1.5 m covers a single beam; average pooling would dilute it, subsampling would drop it,
  min-pooling keeps it. 72 inputs keep the network tiny (microsecond inference) while 5 deg still
  resolves a 0.8 m doorway at 4 m (about 11 deg wide). Any beam count / ``angle_min`` maps into the same
  sectors, so another lidar needs no retraining.
* **Conservative cleaning**: NaN, -inf and readings below ``range_min`` are an obstacle at ``range_min``
  (a blinded beam must never look like free space); +inf and readings above ``range_max`` are max range
  (REP 117: +inf means nothing within range). Sector values are clipped at 4.0 m (beyond the stopping
  and planning horizon of a 0.5 m/s robot indoors) and normalised to [0, 1].
* **Goal**: the local goal (waypoint) in the robot frame as (min(d, 5 m) / 5, cos bearing, sin bearing):
  bounded, and free of the +-pi wrap of a raw bearing.
* **Velocity**: the measured (v / v_max, omega / omega_max), for controllers that reason about their
  acceleration limits (the DWA baseline's dynamic window). The distilled network deliberately does not
  read it: a cloned policy that sees its own speed learns to copy it and, once stopped, stays stopped
  (see ``edge_agent.training.rollouts.USED_OBS``).
* **Action** (v, omega): v in [-0.15, 0.5] m/s (walking pace around people and furniture, slow reversing
  because nothing looks behind except the same lidar), omega in [-1.5, 1.5] rad/s.
* **Robot**: differential drive, circular footprint. The design radius is 0.25 m, the footprint of the
  home's mobile manipulator (``robot1`` in ``sim/scenes/home.yaml``), the largest wheeled base in the
  home: the policy keeps clearances sized for it and is merely conservative on the 0.17 m vacuum. A
  0.8 m doorway then leaves 0.15 m either side. Acceleration limits of the robots: 0.8 m/s^2 and
  3 rad/s^2 (``ACCEL_V``, ``ACCEL_W``).

Observation layout (``OBS_DIM = 77`` float32):
``[0:72]`` sectors (sector k covers angles [-pi + 5k deg, -pi + 5(k+1) deg) in the robot frame, x forward,
y left), ``[72]`` goal distance, ``[73]`` cos bearing, ``[74]`` sin bearing, ``[75]`` v / v_max,
``[76]`` omega / omega_max.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

OBS_SPEC_VERSION = "1"
"""Bump whenever the meaning of any observation element changes; models carry it in their metadata."""

N_SECTORS = 72
SECTOR_CLIP_M = 4.0
GOAL_CLIP_M = 5.0
V_MIN = -0.15
V_MAX = 0.5
W_MAX = 1.5
ROBOT_RADIUS_M = 0.25
ACCEL_V = 0.8
ACCEL_W = 3.0
LIDAR_BEAMS = 360
LIDAR_ANGLE_MIN = -math.pi
LIDAR_ANGLE_INCREMENT = 2.0 * math.pi / LIDAR_BEAMS
LIDAR_RANGE_MIN = 0.05
LIDAR_RANGE_MAX = 6.0
OBS_DIM = N_SECTORS + 3 + 2

_SECTOR_WIDTH = 2.0 * math.pi / N_SECTORS
_ANGLE_EPS = 1e-6


@dataclass(frozen=True)
class ObservationSpec:
    """Every number that defines the observation and action spaces, as one versioned value."""

    version: str = OBS_SPEC_VERSION
    n_sectors: int = N_SECTORS
    sector_clip_m: float = SECTOR_CLIP_M
    goal_clip_m: float = GOAL_CLIP_M
    v_min: float = V_MIN
    v_max: float = V_MAX
    w_max: float = W_MAX
    robot_radius_m: float = ROBOT_RADIUS_M
    lidar_beams: int = LIDAR_BEAMS
    lidar_angle_min: float = LIDAR_ANGLE_MIN
    lidar_angle_increment: float = LIDAR_ANGLE_INCREMENT
    lidar_range_min: float = LIDAR_RANGE_MIN
    lidar_range_max: float = LIDAR_RANGE_MAX

    @property
    def obs_dim(self) -> int:
        """Length of the observation vector."""
        return self.n_sectors + 5


OBSERVATION_SPEC = ObservationSpec()


@functools.lru_cache(maxsize=16)
def _sector_layout(n_beams: int, angle_min: float, angle_increment: float) -> tuple[np.ndarray, ...]:
    """Beam order, reduceat starts and fill-in beams for one lidar geometry (pure, hence cacheable)."""
    angles = angle_min + angle_increment * np.arange(n_beams, dtype=np.float64)
    wrapped = np.mod(angles + math.pi + _ANGLE_EPS, 2.0 * math.pi)
    sector = np.minimum((wrapped / _SECTOR_WIDTH).astype(np.int64), N_SECTORS - 1)
    order = np.argsort(sector, kind="stable")
    sorted_sector = sector[order]
    present = np.unique(sorted_sector)
    starts = np.searchsorted(sorted_sector, present)
    # Sectors no beam falls in (sparse or partial-FoV lidars) take the beam nearest their centre.
    centres = -math.pi + (np.arange(N_SECTORS) + 0.5) * _SECTOR_WIDTH
    diff = np.angle(np.exp(1j * (centres[:, None] - angles[None, :])))
    nearest = np.argmin(np.abs(diff), axis=1)
    missing = np.setdiff1d(np.arange(N_SECTORS), present)
    for array in (order, starts, present, nearest, missing):
        array.setflags(write=False)
    return order, starts, present, nearest[missing], missing


def clean_ranges(ranges: np.ndarray, range_min: float, range_max: float) -> np.ndarray:
    """Replace invalid readings conservatively: NaN/-inf/too-near -> range_min, +inf/too-far -> range_max."""
    r = np.asarray(ranges, dtype=np.float32)
    out = np.where(np.isnan(r) | (r < range_min), np.float32(range_min), r)
    return np.where(out > range_max, np.float32(range_max), out)


def scan_to_sectors(
    ranges: np.ndarray,
    angle_min: float,
    angle_increment: float,
    range_min: float,
    range_max: float,
) -> np.ndarray:
    """Min-pool a raw scan into 72 sectors of 5 deg, normalised to [0, 1] (1 = 4 m or more free).

    Min-pooling keeps a single-beam thin obstacle (a chair leg); invalid beams are cleaned
    conservatively (see :func:`clean_ranges`). Works for any beam count and ``angle_min``.
    """
    r = clean_ranges(ranges, range_min, range_max)
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"scan must be a non-empty 1-D array, got shape {r.shape}")
    order, starts, present, fill_beams, missing = _sector_layout(r.size, float(angle_min), float(angle_increment))
    sectors = np.empty(N_SECTORS, dtype=np.float32)
    sectors[present] = np.minimum.reduceat(r[order], starts)
    if missing.size:
        sectors[missing] = r[fill_beams]
    np.clip(sectors, 0.0, SECTOR_CLIP_M, out=sectors)
    sectors *= np.float32(1.0 / SECTOR_CLIP_M)
    return sectors


def goal_in_robot_frame(pose: tuple[float, float, float], goal_xy: tuple[float, float]) -> tuple[float, float]:
    """Express a world-frame goal in the robot frame (x forward, y left) of ``pose`` = (x, y, yaw)."""
    dx, dy = goal_xy[0] - pose[0], goal_xy[1] - pose[1]
    c, s = math.cos(pose[2]), math.sin(pose[2])
    return (c * dx + s * dy, -s * dx + c * dy)


def build_observation(
    sectors: np.ndarray,
    goal_xy_robot_frame: tuple[float, float],
    velocity: tuple[float, float],
) -> np.ndarray:
    """Assemble the 77-element float32 observation from sectors, robot-frame goal and measured (v, omega)."""
    sectors = np.asarray(sectors, dtype=np.float32)
    if sectors.shape != (N_SECTORS,):
        raise ValueError(f"expected {N_SECTORS} sectors, got shape {sectors.shape}")
    gx, gy = float(goal_xy_robot_frame[0]), float(goal_xy_robot_frame[1])
    distance = math.hypot(gx, gy)
    if distance > 1e-9:
        cos_b, sin_b = gx / distance, gy / distance
    else:
        cos_b, sin_b = 1.0, 0.0
    obs = np.empty(OBS_DIM, dtype=np.float32)
    obs[:N_SECTORS] = sectors
    obs[N_SECTORS] = min(distance, GOAL_CLIP_M) / GOAL_CLIP_M
    obs[N_SECTORS + 1] = cos_b
    obs[N_SECTORS + 2] = sin_b
    obs[N_SECTORS + 3] = float(np.clip(velocity[0], V_MIN, V_MAX)) / V_MAX
    obs[N_SECTORS + 4] = float(np.clip(velocity[1], -W_MAX, W_MAX)) / W_MAX
    return obs


def clip_action(v: float, w: float) -> tuple[float, float]:
    """Clamp a (v, omega) command to the action limits; NaN becomes zero (stand still)."""
    v = 0.0 if not math.isfinite(v) else min(max(v, V_MIN), V_MAX)
    w = 0.0 if not math.isfinite(w) else min(max(w, -W_MAX), W_MAX)
    return float(v), float(w)
