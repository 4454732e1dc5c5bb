"""Coverage paths for clean_area and the coverage measure the scenarios use (edge_agent.coverage)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent.astar import GridPlanner, NoPathError
from edge_agent.coverage import coverage_fraction, plan_coverage, reachable_floor
from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from sim.home_layout import load_home_layout

RADIUS = 0.17
ROOM = [(0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 3.0)]
WALLS = [
    OrientedBox(2.0, 0.0, 4.1, 0.1),
    OrientedBox(2.0, 3.0, 4.1, 0.1),
    OrientedBox(0.0, 1.5, 0.1, 3.1),
    OrientedBox(4.0, 1.5, 0.1, 3.1),
]
TABLE = OrientedBox(2.0, 1.5, 1.0, 0.6)


def _room(*furniture: OrientedBox) -> OccupancyGrid:
    return OccupancyGrid.from_boxes([*WALLS, *furniture], (-0.5, -0.5, 4.5, 3.5))


@pytest.fixture(scope="module")
def furnished():
    grid = _room(TABLE)
    planner = GridPlanner(grid, RADIUS)
    return grid, planner, plan_coverage(grid, ROOM, RADIUS, start_xy=(0.5, 0.5), planner=planner)


def _route_free(planner: GridPlanner, waypoints) -> bool:
    return all(planner.segment_is_free(a, b) for a, b in zip(waypoints, waypoints[1:], strict=False))


def test_an_empty_room_is_covered_completely_from_the_start_point():
    grid = _room()

    plan = plan_coverage(grid, ROOM, RADIUS, start_xy=(0.5, 0.5))

    assert plan.waypoints[0] == (0.5, 0.5)
    assert plan.expected_coverage >= 0.99
    assert coverage_fraction(grid, ROOM, plan.waypoints, RADIUS) == pytest.approx(plan.expected_coverage)


def _lane_lines(plan) -> list[float]:
    """The coordinate across the lanes of every lane piece (lanes run along x or along y)."""
    along_x = all(a[1] == b[1] for a, b in plan.lanes)
    return [a[1] if along_x else a[0] for a, _ in plan.lanes]


def test_lanes_are_spaced_a_little_less_than_one_diameter_apart():
    plan = plan_coverage(_room(), ROOM, RADIUS, start_xy=(0.5, 0.5), edge_pass=False, overlap=0.15)

    gaps = np.diff(sorted(set(_lane_lines(plan))))

    assert len(gaps) > 5
    assert gaps.max() < 2 * RADIUS  # neighbouring lanes always overlap
    assert gaps.min() >= 2 * RADIUS * 0.85 - _room().resolution  # but not by much more than asked


def test_lanes_split_around_furniture_and_the_route_never_crosses_it(furnished):
    grid, planner, plan = furnished

    lane_lines = _lane_lines(plan)
    assert len(lane_lines) > len(set(lane_lines)), "some lane must be split in two by the table"
    assert _route_free(planner, plan.waypoints)
    assert plan.expected_coverage >= 0.98


def test_edge_pass_hugs_the_furniture_all_the_way_round(furnished):
    grid, planner, plan = furnished
    table_loop = [
        chain for chain in plan.edge_passes
        if max(math.dist(p, (2.0, 1.5)) for p in chain) < 1.2  # the loop round the table, not the walls
    ]

    assert len(table_loop) == 1
    corners = np.array(table_loop[0])
    assert math.dist(corners[0], corners[-1]) < 1e-9  # closed
    loop = np.concatenate([np.linspace(a, b, 10) for a, b in zip(corners[:-1], corners[1:], strict=True)])
    gap_x = np.maximum(np.abs(loop[:, 0] - 2.0) - 0.5, 0.0)
    gap_y = np.maximum(np.abs(loop[:, 1] - 1.5) - 0.3, 0.0)
    gap = np.hypot(gap_x, gap_y) - RADIUS
    assert gap.min() > 0.0 and gap.max() < 0.1  # within 10 cm of the table's edge everywhere
    angles = np.arctan2(loop[:, 1] - 1.5, loop[:, 0] - 2.0)
    assert np.histogram(angles, bins=8, range=(-math.pi, math.pi))[0].min() > 0  # all the way round


def test_edge_pass_adds_coverage_along_walls_and_furniture():
    grid = _room(TABLE, OrientedBox(1.0, 2.6, 0.5, 0.5))
    lanes_only = plan_coverage(grid, ROOM, RADIUS, start_xy=(0.5, 0.5), edge_pass=False)
    with_edges = plan_coverage(grid, ROOM, RADIUS, start_xy=(0.5, 0.5))

    assert with_edges.expected_coverage > lanes_only.expected_coverage
    assert with_edges.expected_coverage >= 0.98


def test_wall_offset_keeps_lanes_and_edge_passes_that_much_farther_from_walls_and_furniture(furnished):
    grid, planner, _ = furnished
    offset = 0.05

    plan = plan_coverage(grid, ROOM, RADIUS, start_xy=(0.5, 0.5), planner=planner, wall_offset_m=offset)

    driven = [p for lane in plan.lanes for p in lane] + [p for chain in plan.edge_passes for p in chain]
    clearances = [planner.clearance[grid.world_to_cell(*p)] for p in driven]
    assert min(clearances) > planner.inflation_m + offset
    edge_clearances = [planner.clearance[grid.world_to_cell(*p)] for c in plan.edge_passes for p in c]
    assert np.median(edge_clearances) < planner.inflation_m + offset + 2 * grid.resolution  # still hugging
    assert plan.expected_coverage >= 0.9


def test_a_negative_wall_offset_is_rejected():
    with pytest.raises(ValueError):
        plan_coverage(_room(), ROOM, RADIUS, start_xy=(0.5, 0.5), wall_offset_m=-0.01)


def test_coverage_fraction_is_zero_without_visits_and_one_for_the_whole_room():
    grid = _room()
    xs, ys = np.meshgrid(np.arange(0.1, 3.95, 0.1), np.arange(0.1, 2.95, 0.1))
    everywhere = np.stack([xs.ravel(), ys.ravel()], axis=1)

    assert coverage_fraction(grid, ROOM, [], RADIUS, start_xy=(1.0, 1.0)) == 0.0
    assert coverage_fraction(grid, ROOM, everywhere, RADIUS, max_gap_m=0.0) == 1.0


def test_coverage_fraction_of_one_lane_is_its_strip_of_the_floor():
    grid = _room()
    floor = reachable_floor(grid, ROOM, RADIUS, start_xy=(1.0, 1.5))

    fraction = coverage_fraction(grid, ROOM, [(0.5, 1.5), (3.5, 1.5)], RADIUS)

    strip_cells = (3.0 + 2 * RADIUS) * 2 * RADIUS / grid.resolution**2  # stadium, ends rounded off
    assert fraction == pytest.approx(strip_cells / floor.sum(), rel=0.1)


def test_long_gaps_between_visited_points_are_jumps_when_limited():
    grid = _room()

    joined = coverage_fraction(grid, ROOM, [(0.5, 1.5), (3.5, 1.5)], RADIUS)
    jumped = coverage_fraction(grid, ROOM, [(0.5, 1.5), (3.5, 1.5)], RADIUS, max_gap_m=0.5)

    assert jumped < joined / 3


def test_floor_under_furniture_and_behind_narrow_gaps_does_not_count():
    closet = [OrientedBox(3.3, 2.0, 0.05, 2.0), OrientedBox(3.65, 1.0, 0.7, 0.05)]  # shut-off corner
    grid = _room(TABLE, *closet)
    floor = reachable_floor(grid, ROOM, RADIUS, start_xy=(0.5, 0.5))

    gx, gy = grid.cell_centres()
    assert not floor[TABLE.contains(gx, gy)].any()
    assert not floor[(gx > 3.35) & (gy > 1.05)].any()
    plan = plan_coverage(grid, ROOM, RADIUS, start_xy=(0.5, 0.5))
    assert plan.expected_coverage >= 0.98
    assert all(not (x > 3.35 and y > 1.05) for x, y in plan.waypoints)


def test_a_room_too_small_for_the_vacuum_raises_no_path_error():
    grid = _room(OrientedBox(2.0, 1.5, 3.8, 2.8))

    with pytest.raises(NoPathError):
        plan_coverage(grid, ROOM, RADIUS, start_xy=(0.1, 0.1))


def test_seed_home_living_room_from_the_vacuums_start_in_another_room():
    layout = load_home_layout()
    grid = layout.occupancy_grid()
    vacuum = layout.robot("vacuum1")
    planner = GridPlanner(grid, vacuum.radius)
    room = layout.room("living_room")

    plan = plan_coverage(grid, room.polygon, vacuum.radius, start_xy=(vacuum.start.x, vacuum.start.y),
                         planner=planner)

    assert layout.room_at(*plan.waypoints[0]) != "living_room"
    assert _route_free(planner, plan.waypoints[1:])
    assert plan.expected_coverage >= 0.97
    assert len(plan.waypoints) < 400  # sparse enough to stream to the follower
