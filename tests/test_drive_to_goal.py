"""End to end on real processes: the manipulator drives from the living room into the kitchen without a collision.

``launch/sim.launch.xml`` (robot1 only, 3x real time) and ``launch/robot.launch.xml`` (its reflex with
the shipped policy) run through the launch runner. The test plays the executive's navigation part:
A* waypoints on the static map, fed one at a time as ``local_goal`` by the waypoint follower from
odometry. Success is judged from ``/sim/ground_truth`` (pose and collision log), never from odometry.
"""

from __future__ import annotations

import json
import math

import pytest

rclpy = pytest.importorskip("rclpy")
from geometry_msgs.msg import PoseStamped  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from ros_helpers import LATCHED, RosProbe, launched, shipped_policy, wait_until  # noqa: E402
from std_msgs.msg import String  # noqa: E402

from edge_agent.astar import GridPlanner  # noqa: E402
from edge_agent.waypoint_follower import FollowerConfig, FollowStatus, WaypointFollower  # noqa: E402
from sim.home_layout import load_home_layout  # noqa: E402

GOAL = (3.0, 7.3)  # kitchen, between the dining table and the counter
SPEED = 3.0
TIME_LIMIT_S = 90.0  # simulated


@pytest.mark.slow
def test_manipulator_drives_into_the_kitchen_through_waypoints_without_contact(ros_env, ros_domain_id, tmp_path):
    layout = load_home_layout()
    robot = layout.robot("robot1")
    assert layout.room_at(robot.start.x, robot.start.y) != layout.room_at(*GOAL)
    planner = GridPlanner(layout.occupancy_grid(0.05), robot.radius)
    path = planner.plan((robot.start.x, robot.start.y), GOAL)
    follower = WaypointFollower(path.waypoints, FollowerConfig(goal_tolerance_m=0.2),
                                segment_is_free=planner.segment_is_free)
    logs = tmp_path / "logs"
    sim_args = {"robots": "robot1", "speed": str(SPEED)}
    robot_args = {"robot": "robot1", "robot_radius": str(robot.radius), "policy_path": str(shipped_policy())}
    with launched("sim.launch.xml", sim_args, ros_env, log_dir=logs / "sim") as sim, \
            launched("robot.launch.xml", robot_args, ros_env, log_dir=logs / "robot") as edge, \
            RosProbe(ros_domain_id, use_sim_time=True) as probe:
        odom = probe.listen(Odometry, "/robot1/odom")
        truth = probe.listen(String, "/sim/ground_truth")
        states = probe.listen(String, "/robot1/reflex/state", LATCHED)
        goal_pub = probe.publisher(PoseStamped, "/robot1/local_goal")
        probe.wait_for_subscribers(goal_pub, timeout=60.0, launch=edge)
        states.wait(timeout=60.0)
        odom.wait(timeout=30.0)
        seen = len(odom)  # start from fresh odometry: the backlog is from before the first goal
        t_start = probe.now()
        follower.reset_progress(t_start)
        status = FollowStatus.FOLLOWING
        while status is not FollowStatus.ARRIVED:
            assert sim.returncode is None and edge.returncode is None, "a process died"
            msg = odom.wait(timeout=30.0, after=seen)
            seen = len(odom)
            t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            assert t - t_start < TIME_LIMIT_S, f"not there after {TIME_LIMIT_S} s; stopped at waypoint {follower.index}"
            update = follower.update(msg.pose.pose.position.x, msg.pose.pose.position.y, t)
            status = update.status
            assert status is not FollowStatus.STUCK, f"stuck near waypoint {follower.index}: {states.latest().data}"
            goal = PoseStamped()
            goal.header.frame_id = "map"
            goal.header.stamp = msg.header.stamp
            goal.pose.position.x, goal.pose.position.y = update.goal.x, update.goal.y
            goal.pose.orientation.w = 1.0
            goal_pub.publish(goal)
        arrival = probe.now()
        wait_until(lambda: len(truth) and json.loads(truth.latest().data)["time"] >= arrival, 30.0,
                   "no ground truth after arrival")
        final = json.loads(truth.latest().data)
    x, y, _ = final["robots"]["robot1"]["pose"]
    assert math.dist((x, y), GOAL) < 0.3
    assert layout.room_at(x, y) == "kitchen"
    assert [c for c in final["collisions"] if c["robot"] == "robot1"] == []
    assert final["robots"]["robot1"]["min_clearance_m"] > 0.0
