"""The safety shield on crafted scans: it stops, slows and clamps, and never adds speed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent import observation as spec
from edge_agent.shield import SafetyShield, ShieldConfig

N = spec.LIDAR_BEAMS
ANGLES = spec.LIDAR_ANGLE_MIN + spec.LIDAR_ANGLE_INCREMENT * np.arange(N)
R = spec.ROBOT_RADIUS_M

commands = st.floats(allow_nan=True, allow_infinity=True, width=32)
finite_forward = st.floats(min_value=1e-3, max_value=10.0)
any_turn = st.floats(min_value=-10.0, max_value=10.0)


def _filter(shield, v, w, ranges):
    return shield.filter(v, w, ranges, spec.LIDAR_ANGLE_MIN, spec.LIDAR_ANGLE_INCREMENT,
                         spec.LIDAR_RANGE_MIN, spec.LIDAR_RANGE_MAX)


def _wall_ahead(distance_from_lidar: float) -> np.ndarray:
    """A straight wall perpendicular to the heading at ``distance_from_lidar`` metres."""
    with np.errstate(divide="ignore"):
        ranges = np.where(np.cos(ANGLES) > 1e-6, distance_from_lidar / np.cos(ANGLES), np.inf)
    return np.where(ranges <= spec.LIDAR_RANGE_MAX, ranges, np.inf).astype(np.float32)


@pytest.fixture(scope="module")
def shield() -> SafetyShield:
    return SafetyShield()


@settings(max_examples=150, deadline=None)
@given(v=finite_forward, w=any_turn)
def test_wall_10cm_ahead_of_the_bumper_gives_zero_forward_speed(shield, v, w):
    decision = _filter(shield, v, w, _wall_ahead(R + 0.10))
    assert decision.v == 0.0
    assert "stop" in decision.reason


@settings(max_examples=150, deadline=None)
@given(v=finite_forward, w=any_turn)
def test_wall_10cm_from_the_lidar_gives_zero_forward_speed(shield, v, w):
    assert _filter(shield, v, w, _wall_ahead(0.10)).v == 0.0


def test_wall_ahead_still_allows_turning_in_place_and_backing_off(shield):
    ranges = _wall_ahead(R + 0.10)
    assert _filter(shield, 0.0, 1.0, ranges).w == 1.0
    assert _filter(shield, -0.1, 0.0, ranges).v == pytest.approx(-0.1)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    fraction=st.floats(0.0, 0.2),
    v=st.floats(min_value=-1.0, max_value=1.0),
    w=st.floats(min_value=-3.0, max_value=3.0),
)
def test_nan_beams_never_produce_motion_toward_them(shield, seed, fraction, v, w):
    ranges = np.full(N, 5.0, dtype=np.float32)
    mask = np.random.default_rng(seed).random(N) < fraction
    ranges[mask] = np.nan
    decision = _filter(shield, v, w, ranges)
    toward = decision.v * np.cos(ANGLES[mask])
    assert np.all(toward <= 0.0)


def test_a_single_nan_beam_ahead_stops_forward_motion(shield):
    ranges = np.full(N, 5.0, dtype=np.float32)
    ranges[180] = np.nan
    assert _filter(shield, 0.4, 0.0, ranges).v == 0.0
    assert _filter(shield, -0.1, 0.0, ranges).v == pytest.approx(-0.1)


def _messy_scan(seed: int, near: float) -> np.ndarray:
    """A random scan mixing valid ranges with NaN, +-inf, negative, too-near and too-far readings."""
    rng = np.random.default_rng(seed)
    ranges = rng.uniform(near, 6.0, N)
    specials = np.array([np.nan, np.inf, -np.inf, -1.0, 0.0, 0.01, 100.0])
    mask = rng.random(N) < rng.uniform(0.0, 0.3)
    ranges[mask] = rng.choice(specials, size=int(mask.sum()))
    return ranges.astype(np.float32)


@settings(max_examples=300, deadline=None)
@given(v=commands, w=commands, seed=st.integers(0, 2**32 - 1), near=st.floats(0.0, 2.0))
def test_shield_never_adds_speed_nor_flips_direction(shield, v, w, seed, near):
    decision = _filter(shield, v, w, _messy_scan(seed, near))
    for requested, out in ((v, decision.v), (w, decision.w)):
        assert math.isfinite(out)
        if not math.isfinite(requested):
            assert out == 0.0
        else:
            assert abs(out) <= abs(requested)
            assert out == 0.0 or math.copysign(1.0, out) == math.copysign(1.0, requested)
    assert spec.V_MIN <= decision.v <= spec.V_MAX
    assert -spec.W_MAX <= decision.w <= spec.W_MAX


def test_drive_at_5_m_per_s_is_clamped_to_the_speed_limit(shield):
    decision = _filter(shield, 5.0, 0.0, np.full(N, np.inf, dtype=np.float32))
    assert decision.v == spec.V_MAX
    assert decision.reason == "clamp"


def test_open_space_passes_the_command_unchanged(shield):
    decision = _filter(shield, 0.4, 0.5, np.full(N, np.inf, dtype=np.float32))
    assert (decision.v, decision.w, decision.reason) == (0.4, 0.5, "clear")


def test_slowdown_zone_reduces_forward_speed(shield):
    decision = _filter(shield, 0.1, 0.0, _wall_ahead(R + 0.25))
    assert 0.0 < decision.v < 0.1
    assert "slowdown" in decision.reason


def test_time_to_collision_scales_speed_along_the_same_arc(shield):
    decision = _filter(shield, 0.5, 0.2, _wall_ahead(R + 0.45))
    assert 0.0 < decision.v < 0.5
    assert decision.w / decision.v == pytest.approx(0.2 / 0.5)
    assert "approach" in decision.reason


def test_obstacle_behind_does_not_stop_forward_motion(shield):
    ranges = np.full(N, np.inf, dtype=np.float32)
    ranges[0:5] = 0.2  # right behind the robot
    assert _filter(shield, 0.3, 0.0, ranges).v == pytest.approx(0.3)


def test_obstacle_beside_the_path_does_not_stop_the_robot(shield):
    ranges = np.full(N, np.inf, dtype=np.float32)
    ranges[270] = R + 0.15  # 90 deg left, outside the swept band
    assert _filter(shield, 0.3, 0.0, ranges).v > 0.0


def test_config_zones_are_respected():
    lenient = SafetyShield(ShieldConfig(stop_distance_m=0.05, slowdown_distance_m=0.06, time_to_collision_s=0.1))
    assert _filter(lenient, 0.2, 0.0, _wall_ahead(R + 0.10)).v == pytest.approx(0.2)
