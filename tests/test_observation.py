"""The one observation spec: min-pooled sectors, conservative cleaning, goal and velocity encoding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent import observation as spec


def _open_scan(n: int = spec.LIDAR_BEAMS, value: float = 6.0) -> np.ndarray:
    return np.full(n, value, dtype=np.float32)


def _sectors(ranges, angle_min=spec.LIDAR_ANGLE_MIN, increment=spec.LIDAR_ANGLE_INCREMENT):
    return spec.scan_to_sectors(ranges, angle_min, increment, spec.LIDAR_RANGE_MIN, spec.LIDAR_RANGE_MAX)


def test_min_pooling_keeps_a_single_beam_thin_obstacle():
    ranges = _open_scan()
    ranges[181] = 1.5  # one beam, 1 deg left of straight ahead: a chair leg
    sectors = _sectors(ranges)
    assert sectors[181 // 5] == pytest.approx(1.5 / spec.SECTOR_CLIP_M)
    assert np.count_nonzero(sectors < 1.0) == 1


def test_sector_layout_starts_behind_the_robot_and_runs_counter_clockwise():
    ranges = _open_scan()
    ranges[180] = 2.0  # angle 0: straight ahead
    ranges[270] = 1.0  # +90 deg: left
    sectors = _sectors(ranges)
    assert sectors[36] == pytest.approx(0.5)
    assert sectors[54] == pytest.approx(0.25)


def test_nan_and_too_near_beams_are_obstacles_at_range_min():
    ranges = _open_scan()
    ranges[10] = np.nan
    ranges[100] = 0.01
    ranges[200] = -np.inf
    sectors = _sectors(ranges)
    expected = spec.LIDAR_RANGE_MIN / spec.SECTOR_CLIP_M
    assert sectors[2] == pytest.approx(expected)
    assert sectors[20] == pytest.approx(expected)
    assert sectors[40] == pytest.approx(expected)


def test_inf_and_too_far_beams_are_free_space():
    ranges = _open_scan()
    ranges[:180] = np.inf
    ranges[180:] = 50.0
    assert np.all(_sectors(ranges) == 1.0)


def test_other_angle_min_maps_into_the_same_sectors():
    ranges = _open_scan()
    ranges[180 + 30] = 1.2  # 30 deg left, ROS -pi convention
    # The same scan from a lidar whose first beam is at 0 rad.
    rotated = np.roll(ranges, -180)
    assert np.array_equal(_sectors(ranges), _sectors(rotated, angle_min=0.0))


def test_sparse_lidar_fills_every_sector_from_the_nearest_beam():
    ranges = _open_scan(36)  # 10 deg beams: every other sector has no beam
    ranges[18] = 0.8  # straight ahead
    sectors = _sectors(ranges, angle_min=-math.pi, increment=2 * math.pi / 36)
    assert sectors.shape == (spec.N_SECTORS,)
    assert sectors[36] == pytest.approx(0.2)
    assert np.all(np.isfinite(sectors))


def test_partial_field_of_view_lidar_is_accepted():
    n = 271  # 270 deg front lidar
    ranges = _open_scan(n)
    sectors = _sectors(ranges, angle_min=-math.radians(135), increment=math.radians(1))
    assert sectors.shape == (spec.N_SECTORS,)
    assert np.all(sectors == 1.0)


def test_empty_scan_is_rejected():
    with pytest.raises(ValueError):
        _sectors(np.zeros(0, dtype=np.float32))


def test_build_observation_layout_and_dtype():
    sectors = np.linspace(0.0, 1.0, spec.N_SECTORS, dtype=np.float32)
    obs = spec.build_observation(sectors, (0.0, 2.0), (0.25, -0.75))
    assert obs.dtype == np.float32 and obs.shape == (spec.OBS_DIM,) == (77,)
    assert np.array_equal(obs[:72], sectors)
    assert obs[72] == pytest.approx(2.0 / 5.0)
    assert obs[73] == pytest.approx(0.0, abs=1e-7)
    assert obs[74] == pytest.approx(1.0)
    assert obs[75] == pytest.approx(0.5)
    assert obs[76] == pytest.approx(-0.5)


def test_goal_distance_is_clipped_at_five_metres():
    obs = spec.build_observation(np.ones(spec.N_SECTORS), (30.0, 0.0), (0.0, 0.0))
    assert obs[72] == pytest.approx(1.0)


def test_goal_in_robot_frame_rotates_with_the_robot():
    gx, gy = spec.goal_in_robot_frame((1.0, 1.0, math.pi / 2), (1.0, 3.0))
    assert gx == pytest.approx(2.0) and gy == pytest.approx(0.0, abs=1e-9)


def test_build_observation_rejects_wrong_sector_count():
    with pytest.raises(ValueError):
        spec.build_observation(np.ones(10), (1.0, 0.0), (0.0, 0.0))


def test_clip_action_bounds_and_zeroes_non_finite_commands():
    assert spec.clip_action(5.0, -9.0) == (spec.V_MAX, -spec.W_MAX)
    assert spec.clip_action(float("nan"), float("inf")) == (0.0, 0.0)


def test_spec_constants_agree_with_the_spec_value():
    assert spec.OBSERVATION_SPEC.obs_dim == spec.OBS_DIM
    assert spec.OBSERVATION_SPEC.version == spec.OBS_SPEC_VERSION
