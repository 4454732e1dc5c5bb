"""Waypoints + odometry -> the reflex's local goal, with arrival and stuck detection (edge_agent.waypoint_follower)."""

from __future__ import annotations

import math

import pytest

from edge_agent.astar import GridPlanner
from edge_agent.waypoint_follower import FollowerConfig, FollowStatus, WaypointFollower
from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox

STRAIGHT = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)]
CORNER = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]


def test_waypoints_advance_when_the_robot_gets_within_tolerance():
    follower = WaypointFollower(STRAIGHT, FollowerConfig(tolerance_m=0.2, lookahead_m=0.0))

    assert follower.update(0.0, 0.0, 0.0).goal.waypoint_index == 1
    assert follower.update(0.7, 0.0, 1.0).goal.waypoint_index == 1
    assert follower.update(0.85, 0.0, 2.0).goal.waypoint_index == 2


def test_a_waypoint_driven_past_counts_as_reached():
    follower = WaypointFollower(STRAIGHT, FollowerConfig(tolerance_m=0.1, lookahead_m=0.0))
    follower.update(0.0, 0.0, 0.0)

    update = follower.update(1.3, 0.4, 1.0)  # beyond (1, 0) along the first segment, too far to be "near" it

    assert update.goal.waypoint_index == 2


def test_the_local_goal_is_always_a_waypoint_never_a_point_in_between():
    follower = WaypointFollower(CORNER, FollowerConfig(tolerance_m=0.1, lookahead_m=0.5))
    follower.update(0.0, 0.0, 0.0)

    goal = follower.update(0.3, 0.05, 1.0).goal

    assert (goal.x, goal.y) == (1.0, 0.0)
    assert not goal.is_final


def test_within_lookahead_the_goal_moves_on_to_the_next_waypoint():
    follower = WaypointFollower(CORNER, FollowerConfig(tolerance_m=0.1, lookahead_m=0.5))
    follower.update(0.0, 0.0, 0.0)

    goal = follower.update(0.6, 0.0, 1.0).goal  # 0.4 m before the corner

    assert (goal.x, goal.y) == (1.0, 1.0) and goal.waypoint_index == 2


def test_without_lookahead_the_goal_moves_on_only_within_tolerance():
    follower = WaypointFollower(CORNER, FollowerConfig(tolerance_m=0.1, lookahead_m=0.0))
    follower.update(0.0, 0.0, 0.0)

    assert follower.update(0.6, 0.0, 1.0).goal.waypoint_index == 1
    assert follower.update(0.95, 0.0, 2.0).goal.waypoint_index == 2


def test_the_last_waypoint_is_marked_final_with_the_distance_left():
    follower = WaypointFollower(STRAIGHT, FollowerConfig(lookahead_m=0.5))
    follower.update(0.0, 0.0, 0.0)

    goal = follower.update(1.8, 0.0, 1.0).goal

    assert (goal.x, goal.y) == (2.0, 0.0)
    assert goal.is_final
    assert goal.remaining_m == pytest.approx(0.2)


def test_remaining_distance_follows_the_path_not_the_straight_line():
    follower = WaypointFollower(CORNER, FollowerConfig(tolerance_m=0.1, lookahead_m=0.0))
    follower.update(0.0, 0.0, 0.0)

    assert follower.update(0.5, 0.1, 1.0).goal.remaining_m == pytest.approx(1.0 + math.hypot(0.5, 0.1))


def test_arrival_needs_the_goal_tolerance_at_the_last_waypoint():
    follower = WaypointFollower(STRAIGHT, FollowerConfig(tolerance_m=0.3, goal_tolerance_m=0.1))
    follower.update(0.0, 0.0, 0.0)

    assert follower.update(1.8, 0.0, 1.0).status is FollowStatus.FOLLOWING
    assert follower.update(1.95, 0.02, 2.0).status is FollowStatus.ARRIVED
    assert follower.arrived


def test_no_progress_for_the_timeout_is_reported_as_stuck():
    follower = WaypointFollower(STRAIGHT, FollowerConfig(stuck_timeout_s=5.0, progress_epsilon_m=0.05))
    follower.update(0.0, 0.0, 0.0)
    follower.update(0.5, 0.0, 1.0)

    jitter = [follower.update(0.5 + 0.01 * (k % 2), 0.0, 1.0 + k).status for k in range(1, 7)]

    assert jitter[:4] == [FollowStatus.FOLLOWING] * 4
    assert jitter[-1] is FollowStatus.STUCK


def test_progress_clears_the_stuck_timer():
    follower = WaypointFollower(STRAIGHT, FollowerConfig(stuck_timeout_s=2.0))
    follower.update(0.0, 0.0, 0.0)
    follower.update(0.5, 0.0, 1.0)
    assert follower.update(0.5, 0.0, 3.5).status is FollowStatus.STUCK

    update = follower.update(0.9, 0.0, 4.0)

    assert update.status is FollowStatus.FOLLOWING and update.stalled_s == 0.0


def test_skipping_a_blocked_waypoint_moves_on_and_restarts_the_stuck_timer():
    follower = WaypointFollower(STRAIGHT, FollowerConfig(stuck_timeout_s=2.0, tolerance_m=0.1, lookahead_m=0.0))
    follower.update(0.0, 0.0, 0.0)
    follower.update(0.3, 0.0, 0.5)
    assert follower.update(0.3, 0.0, 3.0).status is FollowStatus.STUCK

    assert follower.skip_waypoint(3.0)
    update = follower.update(0.3, 0.0, 4.0)

    assert update.goal.waypoint_index == 2 and update.status is FollowStatus.FOLLOWING
    assert not follower.skip_waypoint(4.0)  # nothing left to skip


def test_lookahead_switch_waits_while_the_line_to_the_next_waypoint_cuts_an_obstacle_corner():
    # An L-shaped corridor: the inner corner block sits where an early switch would cut.
    block = OrientedBox(0.5, 1.5, 3.0, 2.0)
    grid = OccupancyGrid.from_boxes([block], (-1.5, -1.0, 3.0, 3.0))
    planner = GridPlanner(grid, 0.2)
    path = [(-1.0, 0.0), (2.4, 0.0), (2.4, 2.5)]
    config = FollowerConfig(tolerance_m=0.15, lookahead_m=1.5)
    checked = WaypointFollower(path, config, segment_is_free=planner.segment_is_free)
    unchecked = WaypointFollower(path, config)
    checked.update(-1.0, 0.0, 0.0)
    unchecked.update(-1.0, 0.0, 0.0)

    assert not planner.segment_is_free((1.6, 0.0), (2.4, 2.5))
    assert unchecked.update(1.6, 0.0, 1.0).goal.waypoint_index == 2
    assert checked.update(1.6, 0.0, 1.0).goal.waypoint_index == 1
    assert checked.update(2.3, 0.0, 2.0).goal.waypoint_index == 2  # line of sight round the corner


def test_a_single_waypoint_path_is_a_plain_goal():
    follower = WaypointFollower([(1.0, 1.0)], FollowerConfig(goal_tolerance_m=0.1))

    first = follower.update(0.0, 0.0, 0.0)
    last = follower.update(1.0, 1.05, 1.0)

    assert (first.goal.x, first.goal.y) == (1.0, 1.0) and first.goal.is_final
    assert first.goal.remaining_m == pytest.approx(math.sqrt(2.0))
    assert last.status is FollowStatus.ARRIVED


def test_empty_paths_and_bad_tuning_are_rejected():
    with pytest.raises(ValueError):
        WaypointFollower([])
    with pytest.raises(ValueError):
        FollowerConfig(tolerance_m=0.0)
    with pytest.raises(ValueError):
        FollowerConfig(stuck_timeout_s=-1.0)
