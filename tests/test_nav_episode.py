"""The task bookkeeping both navigation worlds share: spaces from the one spec, time limit, info, doorways."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent import observation as spec
from edge_agent.training.nav_episode import (
    EpisodeTally,
    action_space,
    advance_doorway_waypoints,
    doorway_waypoints,
    observation_space,
    point_segment_distance,
    time_limit_s,
)
from edge_agent.training.world2d import World2DEnv

# A doorway at x = 2 in a wall along y, 0.8 m wide, crossed towards +x.
DOOR = (np.array([2.0, 1.0]), np.array([1.0, 0.0]), 0.4)


def test_spaces_follow_the_observation_spec():
    obs, act = observation_space(), action_space()
    assert obs.shape == (spec.OBS_DIM,) and obs.dtype == np.float32
    assert act.low.tolist() == pytest.approx([spec.V_MIN, -spec.W_MAX])
    assert act.high.tolist() == pytest.approx([spec.V_MAX, spec.W_MAX])


def test_the_2d_world_uses_the_shared_spaces():
    env = World2DEnv()
    assert env.observation_space == observation_space()
    assert env.action_space == action_space()


def test_time_limit_is_two_and_a_half_times_the_shortest_path_at_full_speed_plus_slack():
    assert time_limit_s(4.0, 20.0) == pytest.approx(2.5 * 4.0 / spec.V_MAX + 20.0)


def test_tally_reports_the_info_keys_the_evaluation_reads():
    tally = EpisodeTally(shortest_path_length=3.0, time_limit_s=10.0, time_s=2.5, path_length=1.25)
    assert tally.info(collision=True, success=False) == {
        "collision": True, "success": False, "path_length": 1.25, "shortest_path_length": 3.0, "time_s": 2.5,
    }
    assert not tally.out_of_time()
    tally.time_s = 10.0
    assert tally.out_of_time()


def test_a_path_through_a_doorway_gets_a_target_just_past_it():
    path = np.array([[1.0, 1.0], [3.0, 1.2]])
    (target, centre, direction, half_width), = doorway_waypoints(path, [DOOR], overshoot_m=0.2)
    assert target == pytest.approx([2.2, 1.0])
    assert centre == pytest.approx([2.0, 1.0])
    assert direction == pytest.approx([1.0, 0.0])
    assert half_width == pytest.approx(0.4)


def test_a_path_beside_the_doorway_or_not_crossing_it_gets_no_target():
    through_wall = np.array([[1.0, 3.0], [3.0, 3.0]])
    same_side = np.array([[0.5, 1.0], [1.5, 1.0]])
    assert doorway_waypoints(through_wall, [DOOR], 0.2) == []
    assert doorway_waypoints(same_side, [DOOR], 0.2) == []


def test_doorway_target_is_dropped_once_the_robot_is_through():
    waypoints = doorway_waypoints(np.array([[1.0, 1.0], [3.0, 1.0]]), [DOOR], 0.2)
    advance_doorway_waypoints(waypoints, np.array([1.8, 1.0]))
    assert len(waypoints) == 1
    advance_doorway_waypoints(waypoints, np.array([2.05, 1.1]))
    assert waypoints == []


def test_point_segment_distance_measures_to_the_nearest_point_of_the_segment():
    a, b = np.array([0.0, 0.0]), np.array([2.0, 0.0])
    assert point_segment_distance(np.array([1.0, 0.5]), a, b) == pytest.approx(0.5)
    assert point_segment_distance(np.array([3.0, 0.0]), a, b) == pytest.approx(1.0)
