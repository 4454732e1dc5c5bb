"""A ground-truth path follower for tools and tests (not the robot's navigation stack).

The snapshot command uses it to drive a robot somewhere worth photographing, and tests use it to make
trajectories; the real robot navigates with the edge agent's planner and reflex policy instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.grid_path import astar

__all__ = ["drive_to", "follow_path", "turn_to"]


def follow_path(
    sim,
    robot_id: str,
    path: Sequence[tuple[float, float]],
    timeout: float = 60.0,
    tolerance: float = 0.1,
    lookahead: float = 0.35,
    speed: float = 0.4,
    control_dt: float = 0.05,
) -> bool:
    """Pure-pursuit along ``path`` using the true pose; stops at the end. True if it got within ``tolerance``."""
    if not path:
        return False
    deadline = sim.time + timeout
    index = 0
    goal = path[-1]
    while sim.time < deadline:
        pose = sim.robot_pose(robot_id)
        if math.dist((pose.x, pose.y), goal) <= tolerance:
            sim.set_cmd_vel(robot_id, 0.0, 0.0)
            sim.step(0.3)
            return True
        while index < len(path) - 1 and math.dist((pose.x, pose.y), path[index]) < lookahead:
            index += 1
        tx, ty = path[index]
        error = math.atan2(ty - pose.y, tx - pose.x) - pose.yaw
        error = math.atan2(math.sin(error), math.cos(error))
        v = speed * max(math.cos(error), 0.0) ** 2
        v = min(v, 0.8 * math.dist((pose.x, pose.y), goal) + 0.05)
        sim.set_cmd_vel(robot_id, v, max(min(2.0 * error, 1.5), -1.5))
        sim.step(control_dt)
    sim.set_cmd_vel(robot_id, 0.0, 0.0)
    return False


def turn_to(sim, robot_id: str, yaw: float, timeout: float = 10.0, control_dt: float = 0.05) -> bool:
    """Rotate in place to face ``yaw`` (true pose); True once within 0.03 rad."""
    deadline = sim.time + timeout
    while sim.time < deadline:
        error = yaw - sim.robot_pose(robot_id).yaw
        error = math.atan2(math.sin(error), math.cos(error))
        if abs(error) < 0.03:
            sim.set_cmd_vel(robot_id, 0.0, 0.0)
            sim.step(0.2)
            return True
        sim.set_cmd_vel(robot_id, 0.0, max(min(2.0 * error, 1.0), -1.0))
        sim.step(control_dt)
    sim.set_cmd_vel(robot_id, 0.0, 0.0)
    return False


def drive_to(sim, robot_id: str, goal_xy: tuple[float, float], yaw: float | None = None,
             timeout: float = 90.0) -> bool:
    """Plan with A* on the inflated static grid and follow the path; optionally turn to ``yaw`` at the end."""
    pose = sim.robot_pose(robot_id)
    grid = sim.occupancy_grid().inflate(sim.robot_radius(robot_id) + 0.05)
    path = astar(grid, (pose.x, pose.y), goal_xy)
    if path is None:
        return False
    if not follow_path(sim, robot_id, path[::3] + [path[-1]], timeout=timeout):
        return False
    return turn_to(sim, robot_id, yaw) if yaw is not None else True
