"""A* on the occupancy grid: free, clear, snapped and sparse paths, and standing poses (edge_agent.astar)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_agent.astar import GridPlanner, NoPathError, _astar_flat, plan_path, standing_pose_near
from edge_agent.raster import distance_to_mask, label_components
from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from sim.home_layout import load_home_layout

RADIUS = 0.25


def _two_rooms(door_width: float = 0.9) -> OccupancyGrid:
    """Two 4 m x 3 m rooms side by side, joined by a door in the shared wall centred at y = 1.5."""
    half = door_width / 2.0
    walls = [
        OrientedBox(4.0, 0.0, 8.1, 0.1),  # south
        OrientedBox(4.0, 3.0, 8.1, 0.1),  # north
        OrientedBox(0.0, 1.5, 0.1, 3.1),  # west
        OrientedBox(8.0, 1.5, 0.1, 3.1),  # east
        OrientedBox(4.0, (1.5 - half) / 2.0, 0.1, 1.5 - half),  # shared wall below the door
        OrientedBox(4.0, 3.0 - (1.5 - half) / 2.0, 0.1, 1.5 - half),  # shared wall above the door
    ]
    return OccupancyGrid.from_boxes(walls, (-0.5, -0.5, 8.5, 3.5))


def _segments_free(planner: GridPlanner, waypoints) -> bool:
    return all(planner.segment_is_free(a, b) for a, b in zip(waypoints, waypoints[1:], strict=False))


@pytest.fixture(scope="module")
def two_rooms() -> GridPlanner:
    return GridPlanner(_two_rooms(), RADIUS)


@pytest.fixture(scope="module")
def home():
    layout = load_home_layout()
    return layout, GridPlanner(layout.occupancy_grid(), layout.robot("robot1").radius)


def test_open_floor_gives_a_single_straight_segment(two_rooms):
    path = two_rooms.plan((1.0, 1.5), (3.0, 1.5))

    assert path.waypoints == ((1.0, 1.5), (3.0, 1.5))
    assert path.length_m == pytest.approx(2.0)
    assert not path.start_snapped and not path.goal_snapped


def test_path_between_rooms_goes_through_the_door_and_every_segment_is_free(two_rooms):
    path = two_rooms.plan((1.0, 0.7), (7.0, 2.3))

    assert _segments_free(two_rooms, path.waypoints)
    crossing = [(r, c) for r, c in path.cells if abs(two_rooms.grid.cell_to_world(r, c)[0] - 4.0) < 0.03]
    assert crossing, "the path must cross the shared wall's line"
    for r, c in crossing:
        assert abs(two_rooms.grid.cell_to_world(r, c)[1] - 1.5) <= 0.1  # through the door's middle
    assert path.waypoints[0] == (1.0, 0.7) and path.waypoints[-1] == (7.0, 2.3)


def test_waypoints_are_sparse_compared_with_the_cell_path(two_rooms):
    path = two_rooms.plan((1.0, 0.7), (7.0, 2.3))

    assert len(path.cells) > 100
    assert len(path.waypoints) <= 6


def test_path_never_enters_the_inflated_obstacles(two_rooms):
    path = two_rooms.plan((0.5, 0.5), (7.5, 2.5))

    rows, cols = np.array(path.cells).T
    assert np.all(two_rooms.clearance[rows, cols] > RADIUS)


def test_wall_cost_pulls_the_path_away_from_a_wall_it_could_skim():
    grid = _two_rooms()
    start, goal = (1.0, 0.36), (3.5, 0.36)  # both just outside the inflation of the south wall
    plain = GridPlanner(grid, RADIUS, wall_cost=0.0).plan(start, goal)
    careful = GridPlanner(grid, RADIUS).plan(start, goal)

    assert plain.length_m == pytest.approx(2.5, abs=1e-6)
    mid_y = max(y for _, y in careful.waypoints)
    assert mid_y > 0.36 + 0.15


def test_start_inside_the_inflation_is_snapped_to_the_nearest_free_cell(two_rooms):
    path = two_rooms.plan((1.0, 0.15), (2.0, 1.5))  # 0.1 m from the south wall's face

    assert path.start_snapped
    assert two_rooms.is_free(path.start)
    assert math.dist(path.start, (1.0, 0.15)) < 0.3


def test_goal_inside_furniture_snaps_to_the_nearest_reachable_free_cell():
    table = OrientedBox(2.0, 1.5, 1.0, 0.6)
    grid = _two_rooms().with_boxes([table])
    planner = GridPlanner(grid, RADIUS)

    path = planner.plan((6.0, 1.5), (2.0, 1.5))

    assert path.goal_snapped
    assert planner.is_free(path.goal)
    gap_to_table = math.hypot(max(abs(path.goal[0] - 2.0) - 0.5, 0.0), max(abs(path.goal[1] - 1.5) - 0.3, 0.0))
    assert RADIUS < gap_to_table < RADIUS + 0.1  # right next to the table, outside the inflation


def test_goal_behind_a_wall_snaps_to_the_side_reachable_from_the_start():
    grid = _two_rooms(door_width=0.9)
    planner = GridPlanner(grid, RADIUS)

    path = planner.plan((1.0, 0.5), (4.0, 0.5))  # goal on the shared wall, below the door

    assert planner.reachable(path.start, path.goal)
    assert path.goal[0] < 4.0  # stayed in the start's room: no need to go round through the door


def test_goal_in_a_closed_room_raises_no_path_error():
    grid = _two_rooms(door_width=0.3)  # narrower than the robot
    planner = GridPlanner(grid, RADIUS)

    with pytest.raises(NoPathError, match="goal .* not reachable"):
        planner.plan((1.0, 1.5), (7.0, 1.5))


def test_start_deep_inside_an_obstacle_raises_no_path_error():
    grid = _two_rooms().with_boxes([OrientedBox(2.0, 1.5, 3.6, 2.8)])
    planner = GridPlanner(grid, RADIUS, max_snap_m=0.5)

    with pytest.raises(NoPathError, match="start"):
        planner.plan((2.0, 1.5), (6.0, 1.5))


def test_standing_pose_near_furniture_faces_it_from_the_reachable_side():
    counter = OrientedBox(2.0, 2.6, 2.0, 0.6)  # along the north wall of the west room
    grid = _two_rooms().with_boxes([counter])

    pose = standing_pose_near(grid, (2.0, 2.6), RADIUS, standoff=0.1, from_xy=(6.0, 1.5))

    assert pose.y < 2.3  # in front of the counter, not squeezed between it and the wall
    assert abs(pose.x - 2.0) < 0.1
    gap = (2.3 - pose.y) - RADIUS
    assert 0.1 <= gap <= 0.25
    assert pose.yaw == pytest.approx(math.atan2(2.6 - pose.y, 2.0 - pose.x))


def test_standing_pose_near_a_floor_target_keeps_the_standoff_from_it(two_rooms):
    person = (2.0, 1.5)

    pose = two_rooms.standing_pose_near(person, standoff=0.4)
    far = two_rooms.standing_pose_near(person, standoff=1.2)  # more than the 1.5 m wide room's half

    assert RADIUS + 0.4 <= math.dist((pose.x, pose.y), person) < RADIUS + 0.4 + 0.1
    assert RADIUS + 1.2 <= math.dist((far.x, far.y), person) < RADIUS + 1.2 + 0.1


def test_standing_pose_raises_when_nothing_is_reachable(two_rooms):
    with pytest.raises(NoPathError):
        two_rooms.standing_pose_near((2.0, 1.5), standoff=20.0)


def test_plan_path_convenience_matches_the_planner(two_rooms):
    path = plan_path(_two_rooms(), (1.0, 0.7), (7.0, 2.3), RADIUS)

    assert path.waypoints == two_rooms.plan((1.0, 0.7), (7.0, 2.3)).waypoints


def test_seed_home_living_room_to_bedroom_is_collision_free_and_near_shortest(home):
    layout, planner = home
    start = (layout.robot("robot1").start.x, layout.robot("robot1").start.y)
    shortest = GridPlanner(layout.occupancy_grid(), planner.robot_radius, wall_cost=0.0).plan(start, (2.5, 1.0))

    path = planner.plan(start, (2.5, 1.0))

    assert _segments_free(planner, path.waypoints)
    rooms = [layout.room_at(*planner.grid.cell_to_world(r, c)) for r, c in path.cells]
    assert rooms[0] == "living_room" and rooms[-1] == "bedroom" and "entrance" in rooms
    assert path.length_m <= 1.1 * shortest.length_m


def test_seed_home_standing_pose_at_the_counter_faces_the_red_cup(home):
    layout, planner = home
    cup = layout.object_by_id("cup_red").position
    start = layout.robot("robot1").start

    pose = planner.standing_pose_near(cup[:2], 0.05, from_xy=(start.x, start.y))
    path = planner.plan((start.x, start.y), (pose.x, pose.y))

    assert not path.goal_snapped
    assert math.dist((pose.x, pose.y), cup[:2]) < 0.75  # within the arm's reach of the cup
    assert layout.room_at(pose.x, pose.y) == "kitchen"


def _random_grid(seed: int, boxes: int) -> OccupancyGrid:
    rng = np.random.default_rng(seed)
    items = [
        OrientedBox(float(rng.uniform(0, 4)), float(rng.uniform(0, 4)), float(rng.uniform(0.1, 1.5)),
                    float(rng.uniform(0.1, 1.5)), float(rng.uniform(0, math.pi)))
        for _ in range(boxes)
    ]
    return OccupancyGrid.from_boxes(items, (0.0, 0.0, 4.0, 4.0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), boxes=st.integers(0, 9), ends=st.integers(0, 10_000))
def test_corridor_search_finds_a_path_iff_one_exists_and_stays_near_optimal(seed, boxes, ends):
    planner = GridPlanner(_random_grid(seed, boxes), 0.15)
    free_cells = np.argwhere(planner.free)
    if len(free_cells) < 2:
        return
    rng = np.random.default_rng(ends)
    a, b = (tuple(int(v) for v in free_cells[i]) for i in rng.choice(len(free_cells), 2, replace=False))
    pw = planner._pw
    optimal = _astar_flat(planner._cost_flat, pw, (a[0] + 1) * pw + a[1] + 1, (b[0] + 1) * pw + b[1] + 1,
                          tie_break=1.0)
    same_component = planner.components[a] == planner.components[b]
    assert (optimal is not None) == bool(same_component)
    if optimal is None:
        with pytest.raises(NoPathError):
            planner._search(a, b)
        return

    cells = planner._search(a, b)

    assert cells[0] == a and cells[-1] == b
    steps = np.abs(np.diff(np.array(cells), axis=0))
    assert steps.max() <= 1 and np.all(steps.sum(axis=1) >= 1)  # 8-connected, no repeats
    assert all(planner.free[c] for c in cells)

    def cost_of(path_cells):
        rows, cols = np.array(path_cells).T
        c = planner.cost[rows, cols]
        return float(np.sum(0.5 * (c[1:] + c[:-1]) * np.hypot(np.diff(rows), np.diff(cols))))

    optimal_cells = [(n // pw - 1, n % pw - 1) for n in optimal]
    assert cost_of(cells) <= 1.25 * cost_of(optimal_cells) + 1e-6


# --------------------------------------------------- the raster helpers A* is built on (edge_agent.raster)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), density=st.floats(0.0, 0.6), reach=st.floats(1.0, 12.0))
def test_distance_transform_matches_brute_force_up_to_its_reach(seed, density, reach):
    mask = np.random.default_rng(seed).random((17, 23)) < density * 0.3

    got = distance_to_mask(mask, reach, outside_is_mask=False)

    points = np.argwhere(mask)
    cells = np.argwhere(np.ones_like(mask))
    if len(points) == 0:
        assert np.all(got == reach)
        return
    brute = np.sqrt(((cells[:, None, :] - points[None, :, :]) ** 2).sum(-1)).min(axis=1).reshape(mask.shape)
    assert np.allclose(got, np.minimum(brute, reach))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), density=st.floats(0.2, 0.8), connectivity=st.sampled_from([4, 8]))
def test_component_labels_match_a_flood_fill(seed, density, connectivity):
    mask = np.random.default_rng(seed).random((15, 19)) < density

    labels, count = label_components(mask, connectivity=connectivity)

    steps = [(0, 1), (1, 0), (0, -1), (-1, 0)] + ([(1, 1), (1, -1), (-1, 1), (-1, -1)] if connectivity == 8 else [])
    seen = np.zeros_like(mask)
    flood_count = 0
    for start in map(tuple, np.argwhere(mask)):
        if seen[start]:
            continue
        flood_count += 1
        stack, members = [start], []
        seen[start] = True
        while stack:
            r, c = stack.pop()
            members.append((r, c))
            for dr, dc in steps:
                n = (r + dr, c + dc)
                if 0 <= n[0] < mask.shape[0] and 0 <= n[1] < mask.shape[1] and mask[n] and not seen[n]:
                    seen[n] = True
                    stack.append(n)
        assert len({labels[m] for m in members}) == 1 and labels[start] > 0
    assert count == flood_count
    assert np.all((labels > 0) == mask)
