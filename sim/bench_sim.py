"""``reflexarc bench sim``: real-time factor of the headless home simulation.

One control loop as the ROS sim node runs it: every 50 ms of simulated time each robot gets a velocity
command and a 64-beam lidar scan (20 Hz), physics advancing in fixed sub-steps in between. The
real-time factor is simulated seconds per wall-clock second (best of a few repeats, since the machine
is shared); the CPU-time factor beside it is what the process itself spent, independent of load.
"""

from __future__ import annotations

import argparse
import math
import os
import time

__all__ = ["bench_sim", "measure_rtf"]

_CIRCLE_CENTRES = {"manipulator": (8.4, 5.3), "dog": (8.5, 1.75), "vacuum": (3.8, 2.6)}
_CIRCLE_RADIUS_M = 0.7
_CIRCLE_SPEED = 0.35


def measure_rtf(robots: tuple[str, ...], beams: int = 64, rate_hz: float = 20.0, sim_seconds: float = 20.0,
                repeats: int = 3, seed: int = 0) -> dict:
    """Run the loop and return one result row."""
    from reflexarc.scene_graph import Pose2D
    from sim.home_sim import HomeSim
    from sim.sensors import LidarConfig

    sim = HomeSim(seed=seed, robots=robots, lidar=LidarConfig(beams=beams, rate_hz=rate_hz))
    try:
        for robot in robots:
            # each robot drives circles in open floor (living room, entrance, bedroom): moving, turning,
            # scanning a cluttered home, touching nothing
            cx, cy = _CIRCLE_CENTRES[sim.robot_kind(robot)]
            sim.teleport_robot(robot, Pose2D(cx, cy - _CIRCLE_RADIUS_M, 0.0))
            sim.set_cmd_vel(robot, _CIRCLE_SPEED, _CIRCLE_SPEED / _CIRCLE_RADIUS_M)
        sim.step(1.0)
        period = 1.0 / rate_hz
        ticks = int(round(sim_seconds / period))
        best_wall = best_cpu = math.inf
        for _ in range(repeats):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(ticks):
                for robot in robots:
                    sim.set_cmd_vel(robot, _CIRCLE_SPEED, _CIRCLE_SPEED / _CIRCLE_RADIUS_M)
                sim.step(period)
                for robot in robots:
                    sim.scan(robot)
            best_wall = min(best_wall, time.perf_counter() - wall0)
            best_cpu = min(best_cpu, time.process_time() - cpu0)
        return {
            "robots": len(robots),
            "robot_ids": list(robots),
            "lidar_beams": beams,
            "lidar_rate_hz": rate_hz,
            "time_step_s": sim.time_step,
            "sim_seconds": sim_seconds,
            "real_time_factor": round(sim_seconds / best_wall, 1),
            "cpu_real_time_factor": round(sim_seconds / best_cpu, 1),
            "collisions": len(sim.collision_log),
        }
    finally:
        sim.close()


def bench_sim(args: argparse.Namespace) -> dict:
    """Real-time factor for one robot and for three robots, 64-beam lidar at 20 Hz, headless."""
    quick = bool(getattr(args, "quick", False))
    seed = int(getattr(args, "seed", 0))
    seconds = 5.0 if quick else 20.0
    repeats = 1 if quick else 3
    rows = [
        measure_rtf(("robot1",), sim_seconds=seconds, repeats=repeats, seed=seed),
        measure_rtf(("robot1", "dog1", "vacuum1"), sim_seconds=seconds, repeats=repeats, seed=seed),
    ]
    first = rows[0]
    return {
        "robots": first["robots"],
        "lidar_beams": first["lidar_beams"],
        "real_time_factor": first["real_time_factor"],
        "cpu_real_time_factor": first["cpu_real_time_factor"],
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
