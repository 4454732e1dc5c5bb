"""Sensor configurations and readings the simulated robots produce (plain data, no PyBullet).

They mirror the ROS messages the sim node publishes (``sensor_msgs/LaserScan``, ``nav_msgs/Odometry``,
``sensor_msgs/Image`` + ``CameraInfo``) so that the node only copies fields across.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CameraConfig",
    "CameraFrame",
    "CollisionEvent",
    "DockState",
    "LaserScanData",
    "LidarConfig",
    "Odometry",
    "SimEvent",
]


@dataclass(frozen=True)
class LidarConfig:
    """A planar lidar: ``beams`` rays spread over ``fov`` radians centred ahead, ranges in metres.

    The default (360 beams over 360 deg, 0.05-6.0 m) is the observation contract of the reflex policy.
    ``noise_sigma`` is the standard deviation of additive Gaussian range noise (seeded, deterministic).
    """

    beams: int = 360
    fov: float = 2.0 * math.pi
    range_min: float = 0.05
    range_max: float = 6.0
    noise_sigma: float = 0.005
    rate_hz: float = 20.0

    def __post_init__(self) -> None:
        if self.beams < 1:
            raise ValueError("a lidar needs at least one beam")
        if not 0.0 < self.fov <= 2.0 * math.pi:
            raise ValueError(f"lidar fov must be in (0, 2 pi], got {self.fov}")
        if not 0.0 <= self.range_min < self.range_max:
            raise ValueError("lidar needs 0 <= range_min < range_max")

    @property
    def angle_min(self) -> float:
        """Angle of the first beam (robot frame, 0 = ahead, counter-clockwise positive)."""
        return -math.pi if self.fov >= 2.0 * math.pi - 1e-9 else -self.fov / 2.0

    @property
    def angle_increment(self) -> float:
        """Angle between consecutive beams (a full circle does not repeat its first beam)."""
        if self.fov >= 2.0 * math.pi - 1e-9:
            return self.fov / self.beams
        return self.fov / max(self.beams - 1, 1)

    def angles(self) -> np.ndarray:
        """Beam angles in the robot frame."""
        return self.angle_min + self.angle_increment * np.arange(self.beams, dtype=np.float64)


@dataclass(frozen=True)
class LaserScanData:
    """One lidar sweep in ROS ``LaserScan`` convention; ``inf`` means nothing within ``range_max``."""

    ranges: np.ndarray
    angle_min: float
    angle_increment: float
    range_min: float
    range_max: float
    stamp: float
    frame_id: str = "laser"


@dataclass(frozen=True)
class Odometry:
    """Pose in the odom frame (here coincident with the map frame) and body-frame velocities."""

    x: float
    y: float
    yaw: float
    v: float
    w: float
    stamp: float


@dataclass(frozen=True)
class CameraConfig:
    """A pinhole RGB-D camera; small by default so rendering stays cheap."""

    width: int = 160
    height: int = 120
    fov_deg: float = 70.0
    near: float = 0.05
    far: float = 8.0


@dataclass(frozen=True)
class CameraFrame:
    """An RGB-D image with intrinsics and the camera pose.

    ``world_from_camera`` is a 4x4 transform of the optical frame (OpenCV convention: x right, y down,
    z forward). ``segmentation`` holds per-pixel indices into ``labels`` (-1 for nothing/floor): a
    stand-in for an object detector, documented as such.
    """

    rgb: np.ndarray
    depth: np.ndarray
    fx: float
    fy: float
    cx: float
    cy: float
    world_from_camera: np.ndarray
    stamp: float
    segmentation: np.ndarray | None = None
    labels: tuple[str, ...] = ()

    @property
    def position(self) -> tuple[float, float, float]:
        """Camera centre in the world frame."""
        return tuple(float(v) for v in self.world_from_camera[:3, 3])  # type: ignore[return-value]

    def pixel_to_world(self, u: float, v: float) -> tuple[float, float, float]:
        """Back-project pixel (u, v) through its depth to a world point."""
        z = float(self.depth[int(v), int(u)])
        cam = np.array([(u - self.cx) * z / self.fx, (v - self.cy) * z / self.fy, z, 1.0])
        return tuple(float(c) for c in (self.world_from_camera @ cam)[:3])  # type: ignore[return-value]


@dataclass(frozen=True)
class DockState:
    """Whether a robot sits on its dock, and its battery level in percent."""

    robot_id: str
    dock_id: str
    docked: bool
    battery: float
    charging: bool


@dataclass(frozen=True)
class CollisionEvent:
    """A robot's body touched something that is not the floor (logged once per new contact)."""

    time: float
    robot_id: str
    other: str
    position: tuple[float, float, float]
    distance_m: float = 0.0
    """Bullet's contact distance at that moment: negative is penetration, positive a contact point
    inside the collision margin (counted as a collision all the same)."""


@dataclass(frozen=True)
class SimEvent:
    """Something that happened in the world (``kind``: toy_dropped, person_moved, car_arrived, ...)."""

    time: float
    kind: str
    data: dict = field(default_factory=dict)
