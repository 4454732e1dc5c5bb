"""The reflex core in close-range tracking (coverage legs): who drives, and that the shield still does its job.

Hand-built 360-beam scans in the observation spec's geometry, the shipped policy, no ROS traffic.
"""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent import observation as spec
from edge_agent.policy import DEFAULT_MODEL_PATH, ReflexPolicy
from edge_agent.reflex_node import ReflexConfig, ReflexCore
from edge_agent.shield import ShieldConfig
from edge_agent.tracking import steer_toward

VACUUM_RADIUS = 0.17
ANGLES = spec.LIDAR_ANGLE_MIN + spec.LIDAR_ANGLE_INCREMENT * np.arange(spec.LIDAR_BEAMS)


@pytest.fixture(scope="module")
def policy() -> ReflexPolicy:
    """The shipped policy (the fallback the robot really runs)."""
    return ReflexPolicy.load(DEFAULT_MODEL_PATH)


def scan_with(*, wall_left: float | None = None, disc: tuple[float, float, float] | None = None,
              wall_ahead: float | None = None) -> np.ndarray:
    """Ranges of a room with nothing within 6 m except a wall to the left, a disc (x, y, r) and/or a wall ahead."""
    ranges = np.full(spec.LIDAR_BEAMS, np.inf)
    cos_a, sin_a = np.cos(ANGLES), np.sin(ANGLES)
    if wall_left is not None:
        hit = sin_a > 1e-6
        ranges[hit] = np.minimum(ranges[hit], wall_left / sin_a[hit])
    if wall_ahead is not None:
        hit = cos_a > 1e-6
        ranges[hit] = np.minimum(ranges[hit], wall_ahead / cos_a[hit])
    if disc is not None:
        cx, cy, r = disc
        along = cx * cos_a + cy * sin_a
        miss2 = cx * cx + cy * cy - along * along
        hit = (along > 0) & (miss2 <= r * r)
        ranges[hit] = np.minimum(ranges[hit], along[hit] - np.sqrt(r * r - miss2[hit]))
    return np.where(ranges > spec.LIDAR_RANGE_MAX, np.inf, ranges).astype(np.float32)


def vacuum_core(policy: ReflexPolicy, *, tracking: bool, goal=(2.0, 0.0)) -> ReflexCore:
    """A vacuum's reflex at the origin facing +x, with a goal."""
    core = ReflexCore(ReflexConfig(robot_radius=VACUUM_RADIUS), policy)
    core.set_tracking(tracking)
    core.set_odometry(0.0, 0.0, 0.0, 0.0, 0.0, now=0.0)
    core.set_goal("map", *goal)
    return core


def decide(core: ReflexCore, ranges: np.ndarray, now: float = 0.05):
    return core.decide(ranges, spec.LIDAR_ANGLE_MIN, spec.LIDAR_ANGLE_INCREMENT, spec.LIDAR_RANGE_MIN,
                       spec.LIDAR_RANGE_MAX, now)


def test_tracking_drives_straight_along_a_wall_the_vacuum_passes_closely(policy):
    core = vacuum_core(policy, tracking=True)

    decision = decide(core, scan_with(wall_left=0.21))

    assert (decision.mode, decision.reason, decision.shield) == ("driving", "tracking", "clear")
    assert decision.v == pytest.approx(ReflexConfig().tracking_speed)
    assert decision.w == pytest.approx(0.0)


def test_without_tracking_the_policy_drives_the_same_scene(policy):
    core = vacuum_core(policy, tracking=False)

    assert decide(core, scan_with(wall_left=0.21)).reason == "policy"


def test_a_toy_on_the_way_hands_the_leg_to_the_policy(policy):
    core = vacuum_core(policy, tracking=True)

    decision = decide(core, scan_with(disc=(0.5, 0.05, 0.06)))

    assert (decision.mode, decision.reason) == ("driving", "policy")


def test_the_shield_still_slows_a_tracked_leg_near_a_wall_ahead(policy):
    core = vacuum_core(policy, tracking=True, goal=(0.3, 0.0))

    decision = decide(core, scan_with(wall_ahead=0.5))

    assert decision.reason == "tracking"
    assert decision.shield in ("slowdown", "ttc")
    asked = steer_toward((0.3, 0.0), core.tracker.config)[0]
    assert 0.0 < decision.v <= asked * ShieldConfig().slowdown_ratio + 1e-9


def test_tracking_can_be_switched_off_again(policy):
    core = vacuum_core(policy, tracking=True)
    core.set_tracking(False)

    assert decide(core, scan_with(wall_left=0.5)).reason == "policy"


def test_tracking_speed_never_exceeds_the_robots_speed_limit(policy):
    core = ReflexCore(ReflexConfig(robot_radius=VACUUM_RADIUS, v_max=0.2), policy)
    core.set_tracking(True)
    core.set_odometry(0.0, 0.0, 0.0, 0.0, 0.0, now=0.0)
    core.set_goal("map", 2.0, 0.0)

    decision = decide(core, scan_with())

    assert decision.reason == "tracking" and decision.v == pytest.approx(0.2)


def test_the_nodes_lateral_margin_matches_the_shields_default():
    assert ReflexConfig().lateral_margin_m == ShieldConfig().lateral_margin_m
    assert ReflexConfig(robot_radius=VACUUM_RADIUS).shield_config().robot_radius == VACUUM_RADIUS
    assert ReflexConfig(robot_radius=VACUUM_RADIUS).tracking_config().contact_m == pytest.approx(VACUUM_RADIUS + 0.02)
