"""The classic DWA baseline: non-privileged, same observation, goes to the goal and avoids what it sees."""

from __future__ import annotations

import numpy as np

from edge_agent import observation as spec
from edge_agent.baseline import DWABaseline


def _obs(sectors: np.ndarray, goal=(3.0, 0.0), velocity=(0.3, 0.0)) -> np.ndarray:
    return spec.build_observation(sectors, goal, velocity)


def test_drives_straight_at_a_goal_in_open_space():
    v, w = DWABaseline().act(_obs(np.ones(spec.N_SECTORS, dtype=np.float32)))
    assert v > 0.3 and abs(w) < 0.3


def test_never_drives_into_a_wall_right_ahead():
    sectors = np.ones(spec.N_SECTORS, dtype=np.float32)
    sectors[30:43] = 0.3 / spec.SECTOR_CLIP_M  # wall 0.3 m ahead across +-30 deg
    v, _w = DWABaseline().act(_obs(sectors))
    assert v < 0.15


def test_steers_around_an_obstacle_between_it_and_the_goal():
    sectors = np.ones(spec.N_SECTORS, dtype=np.float32)
    sectors[35:38] = 0.6 / spec.SECTOR_CLIP_M  # a post 0.6 m straight ahead
    v, w = DWABaseline().act(_obs(sectors))
    assert abs(w) > 0.1 or v < 0.2


def test_turns_toward_a_goal_behind_it():
    v, w = DWABaseline().act(_obs(np.ones(spec.N_SECTORS, dtype=np.float32), goal=(-2.0, 0.5),
                                  velocity=(0.0, 0.0)))
    assert abs(w) > 0.3
