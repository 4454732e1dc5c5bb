"""Close-range tracking (edge_agent.tracking): steer for the goal while the footprint's way is clear, else the policy.

Scans are hand-built robot-frame obstacle points (x forward, y left), as the shield computes them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent.skills.ros_robot import _lead_goals, detour_route
from edge_agent.tracking import (
    CloseRangeTracker,
    TrackingConfig,
    carrot_on_line,
    footprint_is_clear,
    steer_toward,
    sweep_positions,
)

VACUUM = TrackingConfig(robot_radius=0.17, contact_margin_m=0.02)


def wall_beside(lateral: float, side: float = 1.0, length: float = 3.0) -> np.ndarray:
    """Points of a straight wall parallel to the heading, ``lateral`` m to the left (side=1) or right (-1)."""
    xs = np.arange(-1.0, length, 0.01)
    return np.stack([xs, np.full_like(xs, side * lateral)], axis=1)


def box_ahead(x: float, y: float, half: float = 0.05) -> np.ndarray:
    """Outline points of a small square obstacle (a toy) centred at (x, y)."""
    t = np.linspace(-half, half, 11)
    edges = [np.stack([t, np.full_like(t, s)], axis=1) for s in (-half, half)]
    edges += [np.stack([np.full_like(t, s), t], axis=1) for s in (-half, half)]
    return np.concatenate(edges) + np.array([x, y])


def test_goal_straight_ahead_drives_straight_at_cruise_speed():
    v, w = steer_toward((2.0, 0.0), VACUUM)

    assert v == pytest.approx(VACUUM.cruise_speed)
    assert w == pytest.approx(0.0)


def test_goal_slightly_to_the_left_turns_left_while_driving_on():
    v, w = steer_toward((1.0, 0.2), VACUUM)

    bearing = math.atan2(0.2, 1.0)
    assert w == pytest.approx(VACUUM.turn_gain * bearing)
    assert v == pytest.approx(VACUUM.cruise_speed * math.cos(bearing) ** 2)


def test_goal_well_off_the_heading_is_turned_toward_on_the_spot():
    v, w = steer_toward((-0.5, -0.1), VACUUM)

    assert v == 0.0
    assert w == pytest.approx(-VACUUM.w_max)


def test_a_turn_already_under_way_is_eased_off_before_it_overshoots():
    bearing = 0.2
    goal = (math.cos(bearing), math.sin(bearing))

    _, still = steer_toward(goal, VACUUM, turn_rate=0.0)
    _, turning = steer_toward(goal, VACUUM, turn_rate=1.0)

    assert still > 0.0
    assert turning < 0.0  # at 1 rad/s the heading passes the goal within the lag: start turning back


def test_speed_drops_with_the_distance_to_a_close_goal_but_never_below_the_minimum():
    near, _ = steer_toward((0.2, 0.0), VACUUM)
    very_near, _ = steer_toward((0.02, 0.0), VACUUM)

    assert near == pytest.approx(VACUUM.slow_gain * 0.2)
    assert very_near == pytest.approx(VACUUM.min_speed)


def test_carrot_lies_lookahead_past_the_robots_foot_on_the_line():
    # robot at the origin, 0.1 m left of a line along x from (-1, -0.1) to (2, -0.1)
    carrot = carrot_on_line((-1.0, -0.1), (2.0, -0.1), VACUUM)

    assert carrot == pytest.approx((VACUUM.lookahead_m, -0.1))


def test_carrot_never_passes_the_goal():
    assert carrot_on_line((-1.0, 0.0), (0.1, 0.0), VACUUM) == pytest.approx((0.1, 0.0))


def test_sweep_covers_the_straight_line_and_the_arc_and_ends_at_a_near_goal():
    goal = (0.4, 0.1)

    centres = sweep_positions(goal, VACUUM)

    assert np.hypot(*(centres - np.array(goal)).T).min() == pytest.approx(0.0, abs=1e-9)
    on_line = np.abs(centres[:, 0] * goal[1] - centres[:, 1] * goal[0]) < 1e-9
    assert on_line.any() and not on_line.all()
    assert np.hypot(centres[:, 0], centres[:, 1]).max() <= math.hypot(*goal) + 1e-9


def test_sweep_stops_at_the_check_distance_for_a_far_goal():
    centres = sweep_positions((3.0, 0.0), VACUUM)

    assert centres[:, 0].max() == pytest.approx(VACUUM.check_ahead_m)
    assert np.all(np.diff(centres[:, 0]) > 0)


def test_a_wall_beside_the_way_just_outside_the_margin_leaves_it_clear():
    points = wall_beside(VACUUM.contact_m + 0.01)

    assert footprint_is_clear(points, (2.0, 0.0), VACUUM)


def test_a_wall_inside_the_margin_blocks_the_way():
    points = wall_beside(VACUUM.contact_m - 0.01, side=-1.0)

    assert not footprint_is_clear(points, (2.0, 0.0), VACUUM)


def test_a_toy_on_the_way_blocks_it_and_one_beside_the_way_does_not():
    assert not footprint_is_clear(box_ahead(0.5, 0.1), (2.0, 0.0), VACUUM)
    assert footprint_is_clear(box_ahead(0.5, 0.35), (2.0, 0.0), VACUUM)


def test_an_obstacle_beyond_the_goal_does_not_block_the_way_to_it():
    wall_behind_goal = np.stack([np.full(41, 0.5), np.linspace(-1.0, 1.0, 41)], axis=1)

    assert footprint_is_clear(wall_behind_goal, (0.25, 0.0), VACUUM)
    assert not footprint_is_clear(wall_behind_goal, (0.45, 0.0), VACUUM)


def test_the_real_radius_decides_a_narrow_passage():
    passage = np.concatenate([wall_beside(0.22), wall_beside(0.22, side=-1.0)])

    assert footprint_is_clear(passage, (2.0, 0.0), VACUUM)
    assert not footprint_is_clear(passage, (2.0, 0.0), TrackingConfig(robot_radius=0.25))


def test_tracker_steers_for_the_goal_while_the_way_is_clear():
    tracker = CloseRangeTracker(VACUUM)

    command = tracker.command((1.0, 0.0), wall_beside(0.25), now=0.0)

    assert command == pytest.approx(steer_toward((1.0, 0.0), VACUUM))


def test_tracker_steers_back_onto_the_line_from_the_previous_goal():
    tracker = CloseRangeTracker(VACUUM)

    # the line runs along x, 5 cm to the robot's right; the goal is 2 m ahead on it
    v, w = tracker.command((2.0, -0.05), np.zeros((0, 2)), now=0.0, line_start=(-1.0, -0.05))

    assert v > 0.0
    assert w < steer_toward((2.0, -0.05), VACUUM)[1] < 0.0  # sharper than toward the far goal itself


def test_tracker_hands_a_blocked_way_to_the_policy_and_keeps_it_there_for_the_hold_time():
    tracker = CloseRangeTracker(VACUUM)
    toy = box_ahead(0.4, 0.0)
    clear = np.zeros((0, 2))

    assert tracker.command((1.0, 0.0), toy, now=10.0) is None
    assert tracker.command((1.0, 0.0), clear, now=10.0 + VACUUM.blocked_hold_s / 2) is None
    assert tracker.command((1.0, 0.0), clear, now=10.0 + VACUUM.blocked_hold_s + 0.01) is not None


def test_reset_forgets_a_past_blocked_way():
    tracker = CloseRangeTracker(VACUUM)
    tracker.command((1.0, 0.0), box_ahead(0.4, 0.0), now=0.0)

    tracker.reset()

    assert tracker.command((1.0, 0.0), np.zeros((0, 2)), now=0.1) is not None


@pytest.mark.parametrize(
    "kwargs",
    [{"robot_radius": 0.0}, {"contact_margin_m": -0.01}, {"min_speed": 0.0}, {"min_speed": 0.6},
     {"check_ahead_m": 0.0}, {"lookahead_m": 0.0}, {"turn_in_place_rad": math.pi}],
)
def test_meaningless_settings_are_rejected(kwargs):
    with pytest.raises(ValueError):
        TrackingConfig(**kwargs)


def test_coverage_legs_are_cut_into_short_stretches_whose_published_goals_run_ahead_but_stop_at_corners():
    corners = [(0.0, 0.0), (3.0, 0.0), (3.0, 1.0)]

    dense, goals = _lead_goals(corners, 1.2, 0.35)

    assert np.asarray(dense) == pytest.approx(np.array([(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (3.0, 1.0)]))
    assert np.asarray(goals) == pytest.approx(np.array([(0.0, 0.0), (1.35, 0.0), (2.35, 0.0), (3.0, 0.0), (3.0, 1.0)]))


def _corridor_room():
    from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox

    walls = [OrientedBox(2.0, 0.0, 4.1, 0.1), OrientedBox(2.0, 3.0, 4.1, 0.1),
             OrientedBox(0.0, 1.5, 0.1, 3.1), OrientedBox(4.0, 1.5, 0.1, 3.1)]
    return OccupancyGrid.from_boxes(walls, (-0.5, -0.5, 4.5, 3.5))


def test_a_stalled_coverage_leg_is_driven_round_the_block_and_resumes_the_lane_after_it():
    lane = [(0.5, 0.5), (3.5, 0.5), (3.5, 0.8)]
    dense, goals = _lead_goals(lane, 0.5, 0.35)
    stalled_at = (1.2, 0.5)
    index = next(i for i, p in enumerate(dense) if p[0] > 1.3)

    route = detour_route(_corridor_room(), 0.17, dense, goals, index, stalled_at)

    assert route is not None
    points, published = route
    assert len(points) == len(published)
    block = (1.5, 0.5)
    assert all(math.dist(p, block) > 0.3 for p in points)  # the way round keeps the footprint off the block
    assert points[-2:] == dense[-2:]  # the lane goes on after the block, to its corner
    resumed = next(i for i, p in enumerate(points) if p in dense)
    assert points[resumed][0] > 1.9 and points[resumed][1] == pytest.approx(0.5)


def test_no_detour_when_no_waypoint_is_left_past_the_block():
    lane = [(0.5, 0.5), (1.5, 0.5)]
    dense, goals = _lead_goals(lane, 0.5, 0.35)

    assert detour_route(_corridor_room(), 0.17, dense, goals, len(dense) - 1, (1.2, 0.5)) is None
