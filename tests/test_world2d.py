"""The numpy 2D training world: deterministic, home-like, physically honest, Gymnasium-compliant."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from edge_agent import observation as spec
from edge_agent.training.geometry import cast_rays
from edge_agent.training.layout import generate_layout
from edge_agent.training.world2d import World2DConfig, World2DEnv


def _rollout(seed: int, steps: int) -> tuple[list[np.ndarray], list[dict]]:
    env = World2DEnv()
    obs, info = env.reset(seed=seed)
    observations, infos = [obs], [info]
    actions = np.random.default_rng(0).uniform([-0.1, -1.0], [0.5, 1.0], size=(steps, 2))
    for action in actions:
        obs, _r, term, trunc, info = env.step(action)
        observations.append(obs)
        infos.append(info)
        if term or trunc:
            break
    return observations, infos


def test_world_is_deterministic_for_a_seed():
    obs_a, info_a = _rollout(123, 40)
    obs_b, info_b = _rollout(123, 40)
    assert len(obs_a) == len(obs_b)
    assert all(np.array_equal(a, b) for a, b in zip(obs_a, obs_b, strict=True))
    assert info_a == info_b


def test_different_seeds_give_different_homes():
    env = World2DEnv()
    env.reset(seed=1)
    first = env.layout.segments.copy()
    env.reset(seed=2)
    assert first.shape != env.layout.segments.shape or not np.allclose(first, env.layout.segments)


def test_passes_the_gymnasium_env_checker():
    env = World2DEnv()
    check_env(env, skip_render_check=True)


@pytest.mark.parametrize("seed", range(12))
def test_layouts_are_home_like(seed):
    layout = generate_layout(np.random.default_rng(seed))
    assert 6.0 <= layout.width <= 10.0 and 5.0 <= layout.height <= 8.0
    assert 2 <= len(layout.rooms) <= 4
    assert len(layout.doors) == len(layout.rooms) - 1
    for door in layout.doors:
        assert 0.8 <= 2 * door.half_width <= 1.0
    legs = layout.circles[layout.circles[:, 2] <= 0.025]
    assert np.all(legs[:, 2] >= 0.015)  # 3-5 cm diameter legs


def test_reset_gives_a_reachable_goal_and_the_required_info():
    env = World2DEnv()
    obs, info = env.reset(seed=5)
    assert obs.shape == (spec.OBS_DIM,) and obs.dtype == np.float32
    assert set(info) >= {"collision", "success", "path_length", "shortest_path_length"}
    assert info["shortest_path_length"] >= env.config.min_start_goal_m - 1e-6
    assert env.robot_clearance() > 0.0


def test_driving_into_a_wall_ends_the_episode_with_a_collision():
    env = World2DEnv(World2DConfig(with_person=False))
    env.reset(seed=3)
    # Face the nearest wall and drive at it.
    ranges = env.scan().ranges
    beam = int(np.nanargmin(np.where(np.isfinite(ranges), ranges, np.inf)))
    env.pose[2] += env.scan().angle_min + beam * env.scan().angle_increment
    info = {}
    for _ in range(400):
        _o, _r, terminated, _t, info = env.step((0.5, 0.0))
        if terminated:
            break
    assert info["collision"] and not info["success"]


def test_path_length_accumulates_distance_driven():
    env = World2DEnv(World2DConfig(with_person=False))
    env.reset(seed=8)
    env.step((0.5, 0.0))
    _o, _r, _te, _tr, info = env.step((0.5, 0.0))
    # accelerates from rest at the acceleration limit: a*dt, then 2*a*dt, each for dt
    dt, a = env.config.dt, env.config.accel_v
    assert info["path_length"] == pytest.approx(3 * a * dt * dt)


def test_privileged_state_matches_the_world():
    env = World2DEnv()
    env.reset(seed=11)
    state = env.privileged()
    assert state.pose == pytest.approx(tuple(env.pose))
    assert state.robot_radius == env.config.robot_radius
    assert state.dynamic_obstacles.shape == (1, 5)
    row, col = state.grid.cell_of(0.0, env.layout.height / 2)  # on the outer wall
    assert state.grid.data[row, col] == 1
    assert state.scan.ranges.shape == (spec.LIDAR_BEAMS,)


def test_ray_casting_hits_a_thin_leg_and_a_wall_exactly():
    segments = np.array([[2.0, -5.0, 2.0, 5.0]])
    circles = np.array([[1.0, 0.5, 0.02]])
    angles = np.array([0.0, math.atan2(0.5, 1.0), math.pi])
    ranges = cast_rays((0.0, 0.0), angles, segments, circles, 6.0)
    assert ranges[0] == pytest.approx(2.0)
    assert ranges[1] == pytest.approx(math.hypot(1.0, 0.5) - 0.02, abs=1e-6)
    assert ranges[2] == np.inf


def test_observation_goal_is_the_next_doorway_then_the_final_goal():
    env = World2DEnv()
    for seed in range(40):
        env.reset(seed=seed)
        if env.waypoints:
            break
    assert env.waypoints, "expected at least one multi-room task in 40 seeds"
    assert not np.allclose(env.local_goal(), env.goal)
    env.waypoints.clear()
    assert np.allclose(env.local_goal(), env.goal)


def test_training_keeps_the_doorway_local_goal_by_default():
    assert World2DConfig().local_goal == "doorways"
    env = World2DEnv()
    env.reset(seed=3)
    assert env.route is None


def test_route_local_goal_is_a_waypoint_of_the_stacks_astar_route_ending_at_the_goal():
    env = World2DEnv(World2DConfig(local_goal="route"))
    for seed in range(40):
        env.reset(seed=seed)
        if len(env.route.waypoints) > 1:
            break
    waypoints = env.route.waypoints
    assert len(waypoints) > 1, "expected a route with a corner in 40 seeds"
    assert waypoints[-1] == pytest.approx(tuple(env.goal))
    assert tuple(env.local_goal()) in [pytest.approx(w) for w in waypoints]
    assert not np.allclose(env.local_goal(), env.goal)


def test_episode_is_the_same_whichever_local_goal_is_handed_to_the_policy():
    route = World2DEnv(World2DConfig(local_goal="route"))
    doors = World2DEnv(World2DConfig(local_goal="doorways"))
    _, info_route = route.reset(seed=5)
    _, info_doors = doors.reset(seed=5)
    assert np.array_equal(route.pose, doors.pose) and np.array_equal(route.goal, doors.goal)
    assert info_route == info_doors
    assert np.array_equal(route.person.position, doors.person.position)


def test_beside_obstacle_goals_stand_in_the_band_next_to_furniture():
    cfg = World2DConfig(beside_obstacle_goals=1.0, beside_obstacle_clearance_m=0.03, with_person=False)
    env = World2DEnv(cfg)
    for seed in range(6):
        env.reset(seed=seed)
        gap = float(env.navmap.clearance_at(np.asarray([env.goal]))[0]) - cfg.robot_radius
        assert 0.03 - 1e-6 <= gap < 0.10, (seed, gap)


def test_beside_obstacle_goals_leave_the_default_episodes_alone():
    default = World2DEnv(World2DConfig())
    none_beside = World2DEnv(World2DConfig(beside_obstacle_goals=0.0, beside_obstacle_clearance_m=0.05))
    for seed in (1, 2, 3):
        first, _ = default.reset(seed=seed)
        second, _ = none_beside.reset(seed=seed)
        assert np.array_equal(first, second) and np.array_equal(default.goal, none_beside.goal)


def test_beside_obstacle_share_must_be_a_fraction():
    with pytest.raises(ValueError, match="beside_obstacle_goals"):
        World2DConfig(beside_obstacle_goals=1.5)
