"""Privileged teachers: they reach goals, refuse unsafe commands, and act from PrivilegedState alone."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from edge_agent import observation as spec
from edge_agent.shield import SafetyShield
from edge_agent.training.geometry import cast_rays, rectangle_segments
from edge_agent.training.gridmaps import distance_transform, geodesic_field
from edge_agent.training.privileged import OccupancyGrid, PrivilegedState, ScanSnapshot
from edge_agent.training.teachers import ArbitratedTeacher, GlobalTeacher, SafetyTeacher
from edge_agent.training.world2d import World2DEnv


def _room_state(pose, goal, people=None, velocity=(0.0, 0.0), wall_x=None) -> PrivilegedState:
    """A 4 m x 4 m walled room (5 cm cells), optionally with a wall across it at ``wall_x`` (door at y 3-3.9)."""
    res = 0.05
    data = np.zeros((80, 80), dtype=np.uint8)
    data[0, :] = data[-1, :] = data[:, 0] = data[:, -1] = 1
    if wall_x is not None:
        col = int(wall_x / res)
        data[:60, col] = 1
        data[78:, col] = 1
    scan = ScanSnapshot(np.full(360, np.inf, dtype=np.float32), -math.pi, 2 * math.pi / 360, 0.05, 6.0)
    return PrivilegedState(
        pose=pose, velocity=velocity, goal_xy=goal,
        grid=OccupancyGrid(data=data, resolution=res, origin_xy=(0.0, 0.0)),
        dynamic_obstacles=np.asarray(people if people is not None else np.zeros((0, 5)), dtype=np.float64),
        robot_radius=spec.ROBOT_RADIUS_M, scan=scan,
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_arbitrated_teacher_reaches_goals_in_the_2d_world(seed):
    env = World2DEnv()
    teacher = ArbitratedTeacher()
    env.reset(seed=seed)
    info = {}
    for _ in range(2000):
        _o, _r, terminated, truncated, info = env.step(teacher.act(env.privileged()))
        if terminated or truncated:
            break
    assert info["success"] and not info["collision"]
    assert info["path_length"] < 1.5 * info["shortest_path_length"] + 0.5


def test_global_teacher_heads_for_the_doorway_not_through_the_wall():
    state = _room_state(pose=(1.0, 1.0, 0.0), goal=(3.0, 1.0), wall_x=2.0)
    lx, ly = GlobalTeacher().lookahead_point(state)
    assert ly > 1.2  # the look-ahead bends up toward the doorway at y 3-3.9
    v, w = GlobalTeacher().act(state)
    assert w > 0.0


def test_global_teacher_drives_straight_at_a_visible_goal():
    v, w = GlobalTeacher().act(_room_state(pose=(1.0, 2.0, 0.0), goal=(3.0, 2.0)))
    assert v > 0.3 and abs(w) < 0.1


def test_safety_teacher_rejects_driving_into_a_wall():
    teacher = SafetyTeacher()
    state = _room_state(pose=(3.55, 2.0, 0.0), goal=(3.9, 2.0), velocity=(0.4, 0.0))
    check = teacher.rollout(state, np.array([[0.5, 0.0]]))
    assert not teacher.is_safe(check)[0]
    v, w = ArbitratedTeacher().act(state)
    assert teacher.is_safe(teacher.rollout(state, np.array([[v, w]])))[0]


def test_arbitration_gives_way_to_a_person_walking_at_the_robot():
    person = [[2.0, 2.0, 0.2, -0.8, 0.0]]  # 1 m ahead, walking toward the robot
    state = _room_state(pose=(1.0, 2.0, 0.0), goal=(3.5, 2.0), people=person, velocity=(0.4, 0.0))
    teacher = ArbitratedTeacher()
    v, w = teacher.act(state)
    assert teacher.last_source == "safety"
    assert not (v > 0.3 and abs(w) < 0.2)  # not full speed straight into them


def test_arbitration_keeps_the_global_command_when_it_is_safe():
    teacher = ArbitratedTeacher()
    state = _room_state(pose=(1.0, 2.0, 0.0), goal=(3.0, 2.0))
    assert teacher.act(state) == GlobalTeacher().act(state)
    assert teacher.last_source == "global"


def test_distance_transform_matches_brute_force():
    rng = np.random.default_rng(0)
    occ = rng.random((30, 40)) < 0.05
    edt = distance_transform(occ, 0.1)
    occ_cells = np.argwhere(occ)
    for i, j in [(0, 0), (15, 20), (29, 39), (7, 33)]:
        expected = np.hypot(*(occ_cells - [i, j]).T).min() * 0.1
        assert edt[i, j] == pytest.approx(expected, rel=1e-5)


def test_geodesic_field_goes_around_a_wall():
    cost = np.ones((50, 50))
    cost[25, :45] = np.inf
    field = geodesic_field(cost, (10, 10), 0.1)
    assert field[10, 20] == pytest.approx(1.0)
    assert field[40, 10] > 0.1 * (2 * math.hypot(35, 15) - 1)
    assert np.isinf(field[25, 10])


def test_teacher_recovers_instead_of_pushing_into_the_shields_stop_zone():
    # A box the map does not know, 10 cm in front of the bumper, on the way to the goal: the global
    # teacher would drive on into the shield's stop zone; the arbitration backs off instead.
    box = rectangle_segments(2.45, 2.0, 0.1, 0.1)
    state = _room_state(pose=(2.0, 2.0, 0.0), goal=(3.5, 2.0))
    angles = -math.pi + np.arange(360) * 2 * math.pi / 360
    ranges = cast_rays((2.0, 2.0), angles, box, np.zeros((0, 3)), 6.0).astype(np.float32)
    state = replace(state, scan=ScanSnapshot(ranges, -math.pi, 2 * math.pi / 360, 0.05, 6.0))
    assert GlobalTeacher().act(state)[0] > 0.0
    assert SafetyShield().blocked_directions(ranges, -math.pi, 2 * math.pi / 360, 0.05, 6.0) == (True, False)
    teacher = ArbitratedTeacher()
    v, w = teacher.act(state)
    assert teacher.last_source == "recovery"
    assert v < 0.0
