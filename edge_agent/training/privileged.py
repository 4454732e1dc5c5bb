"""What a privileged teacher may see: the full static map, exact moving obstacles, the robot's true state.

Both evaluation environments (the numpy 2D world here and ``sim.nav_env.HomeNavEnv`` in PyBullet)
expose ``privileged() -> PrivilegedState``; the teachers act from this value only, so they run unchanged
in either world.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class OccupancyGrid:
    """A static occupancy grid in the ROS ``nav_msgs/OccupancyGrid`` layout.

    ``data[row, col]`` is 1 when occupied, 0 when free; row indexes y, col indexes x; ``origin_xy`` is the
    world position of the outer corner of cell (0, 0), so cell (i, j) spans
    x in [ox + j * res, ox + (j + 1) * res) and y in [oy + i * res, oy + (i + 1) * res).
    Cells outside the array count as occupied.
    """

    data: np.ndarray
    resolution: float
    origin_xy: tuple[float, float]

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """(row, col) of the cell containing world point (x, y); may lie outside the array."""
        return (int(np.floor((y - self.origin_xy[1]) / self.resolution)),
                int(np.floor((x - self.origin_xy[0]) / self.resolution)))

    def cell_centre(self, row: int, col: int) -> tuple[float, float]:
        """World (x, y) of the centre of cell (row, col)."""
        return (self.origin_xy[0] + (col + 0.5) * self.resolution, self.origin_xy[1] + (row + 0.5) * self.resolution)


@dataclass(frozen=True)
class ScanSnapshot:
    """One raw lidar scan in the ``sensor_msgs/LaserScan`` convention (robot frame, x forward)."""

    ranges: np.ndarray
    angle_min: float
    angle_increment: float
    range_min: float
    range_max: float


@dataclass(frozen=True)
class PrivilegedState:
    """Everything a privileged teacher knows at one instant.

    Attributes:
        pose: robot (x, y, yaw) in the world frame.
        velocity: measured (v, omega).
        goal_xy: the local goal the observation refers to (current waypoint), world frame.
        grid: the static occupancy grid (walls, furniture, legs, clutter).
        dynamic_obstacles: (N, 5) rows x, y, radius, vx, vy of moving obstacles (people), world frame.
        robot_radius: radius of the circular footprint (m).
        scan: the raw scan the robot's lidar produced at this instant.
        final_goal_xy: the episode's final goal (equal to ``goal_xy`` when there are no waypoints left).
    """

    pose: tuple[float, float, float]
    velocity: tuple[float, float]
    goal_xy: tuple[float, float]
    grid: OccupancyGrid
    dynamic_obstacles: np.ndarray
    robot_radius: float
    scan: ScanSnapshot
    final_goal_xy: tuple[float, float] | None = field(default=None)
