"""The vacuum holds its coverage route's edge passes closely enough to sweep the floor beside furniture.

Closed loop in the PyBullet home without ROS: the shipped reflex core (tracking on, the policy as its
fallback) drives vacuum1 along every edge pass of the living room's coverage route, fed by the
executive's waypoint follower exactly as ``clean_area`` feeds it (``_lead_goals``, the corner tolerance).
The floor cell next to a face is swept only while the vacuum stays within about 2 cm of the pass
(``edge_agent.tracking.TrackingConfig``), which is what the clean scenario's coverage depends on.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent import coverage
from edge_agent.astar import GridPlanner
from edge_agent.policy import DEFAULT_MODEL_PATH, ReflexPolicy
from edge_agent.reflex_node import ReflexConfig, ReflexCore
from edge_agent.skills import cleaning, ros_robot
from edge_agent.skills.navigation import mark_other_robots, planning_grid
from edge_agent.waypoint_follower import FollowerConfig, FollowStatus, WaypointFollower
from reflexarc.scene_graph import ROBOT_RADIUS_BY_KIND, Pose2D
from sim.home_sim import HomeSim

PHYSICS_DT = 1.0 / 60.0
SCAN_EVERY = 3  # 20 Hz scans, as sim_node publishes them
LEG_TIMEOUT_S = 120.0


def _drive_edge_passes() -> tuple[np.ndarray, int, int]:
    """Cross-track errors (m) of vacuum1 over every edge pass, how many passes it finished, how many there are."""
    sim = HomeSim()
    scene = sim.scene_graph()
    radius = ROBOT_RADIUS_BY_KIND["vacuum"]
    others = {r.id: (r.pose.x, r.pose.y) for r in scene.robots if r.id != "vacuum1"}
    planner = GridPlanner(mark_other_robots(planning_grid(sim.occupancy_grid(), scene), others), radius)
    start = scene.get("vacuum1").pose
    plan = coverage.plan_coverage(planner.grid, scene.get("living_room").polygon, radius, start_xy=(start.x, start.y),
                                  planner=planner, overlap=cleaning.LANE_OVERLAP, wall_offset_m=cleaning.WALL_OFFSET_M)
    core = ReflexCore(ReflexConfig(robot_radius=radius), ReflexPolicy.load(DEFAULT_MODEL_PATH))
    errors: list[float] = []
    finished = 0
    for chain in plan.edge_passes:
        points = [(float(x), float(y)) for x, y in chain]
        yaw = math.atan2(points[1][1] - points[0][1], points[1][0] - points[0][0])
        sim.teleport_robot("vacuum1", Pose2D(points[0][0], points[0][1], yaw))
        dense, published = ros_robot._lead_goals(points, ros_robot.EXACT_SPACING_M, ros_robot.EXACT_LEAD_M)
        follower = WaypointFollower(dense, FollowerConfig(
            tolerance_m=ros_robot.EXACT_TOLERANCE_M, goal_tolerance_m=0.15, lookahead_m=0.0,
            stuck_timeout_s=ros_robot.EXACT_STUCK_AFTER_S, progress_epsilon_m=ros_robot.PROGRESS_EPS_M))
        core.set_goal("", math.nan, math.nan)
        core.set_tracking(False)
        core.set_tracking(True)
        starts, ends = np.array(points[:-1]), np.array(points[1:])
        legs = ends - starts
        lengths2 = np.maximum((legs ** 2).sum(axis=1), 1e-12)
        t, step = 0.0, 0
        while t < LEG_TIMEOUT_S:
            sim.step(PHYSICS_DT)
            t, step = t + PHYSICS_DT, step + 1
            odom = sim.odometry("vacuum1")
            core.set_odometry(odom.x, odom.y, odom.yaw, odom.v, odom.w, t)
            if step % SCAN_EVERY:
                continue
            update = follower.update(odom.x, odom.y, t)
            if update.status is FollowStatus.ARRIVED:
                finished += 1
                break
            if update.status is FollowStatus.STUCK:
                break
            core.set_goal("map", *published[update.goal.waypoint_index])
            scan = sim.scan("vacuum1")
            decision = core.decide(scan.ranges, scan.angle_min, scan.angle_increment, scan.range_min, scan.range_max,
                                   t, t)
            sim.set_cmd_vel("vacuum1", decision.v, decision.w)
            here = np.array([odom.x, odom.y])
            along = np.clip(((here - starts) * legs).sum(axis=1) / lengths2, 0.0, 1.0)
            errors.append(float(np.hypot(*(starts + legs * along[:, None] - here).T).min()))
    return np.array(errors), finished, len(plan.edge_passes)


@pytest.fixture(scope="module")
def edge_run() -> tuple[np.ndarray, int, int]:
    """One drive over all the edge passes (about 10 s), shared by the checks below."""
    return _drive_edge_passes()


def test_every_edge_pass_is_driven_to_its_end(edge_run):
    errors, finished, passes = edge_run
    assert passes >= 3 and finished == passes


def test_the_vacuum_stays_within_two_centimetres_of_its_edge_passes_most_of_the_way(edge_run):
    errors, _, _ = edge_run
    assert len(errors) > 500
    assert np.median(errors) <= 0.012
    assert np.percentile(errors, 90) <= 0.04
    assert (errors > 0.04).mean() <= 0.06
