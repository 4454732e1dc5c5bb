"""The static occupancy grid: transforms, rasterising, inflation and storage."""

from __future__ import annotations

import numpy as np
import pytest

from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from sim.home_layout import load_home_layout


def _grid_with_box() -> OccupancyGrid:
    return OccupancyGrid.from_boxes([OrientedBox(1.0, 1.0, 0.4, 0.2)], bounds=(0.0, 0.0, 2.0, 2.0))


def test_world_and_cell_transforms_are_inverse_at_cell_centres():
    grid = OccupancyGrid.empty((-1.0, -2.0, 3.0, 2.0), 0.05)
    row, col = grid.world_to_cell(0.512, -1.3)
    x, y = grid.cell_to_world(row, col)
    assert abs(x - 0.525) < 1e-9 and abs(y - -1.325) < 1e-9
    assert grid.world_to_cell(x, y) == (row, col)


def test_box_cells_are_occupied_and_the_rest_free():
    grid = _grid_with_box()
    assert not grid.is_free(1.0, 1.0)
    assert not grid.is_free(1.18, 1.08)
    assert grid.is_free(1.25, 1.0)
    assert grid.is_free(1.0, 1.15)
    assert int(grid.data.sum()) == 8 * 4


def test_rotated_box_follows_its_yaw():
    grid = OccupancyGrid.from_boxes([OrientedBox(1.0, 1.0, 1.0, 0.1, np.pi / 2)], bounds=(0.0, 0.0, 2.0, 2.0))
    assert not grid.is_free(1.0, 1.4)
    assert grid.is_free(1.4, 1.0)


def test_outside_the_grid_is_not_free():
    grid = _grid_with_box()
    assert not grid.is_free(-0.1, 1.0)
    assert bool(grid.occupied_at(np.array([5.0]), np.array([5.0]))[0])


def test_inflate_grows_obstacles_by_the_radius_as_a_disc():
    grid = _grid_with_box().inflate(0.25)
    assert not grid.is_free(1.0, 1.0 + 0.1 + 0.22)
    assert grid.is_free(1.0, 1.0 + 0.1 + 0.28)
    # corner: the diagonal is farther than the radius, so it stays free
    assert grid.is_free(1.2 + 0.2, 1.1 + 0.2)


def test_save_and_load_round_trip(tmp_path):
    grid = load_home_layout().occupancy_grid()
    path = grid.save(tmp_path / "home_grid.npz")
    assert OccupancyGrid.load(path) == grid


def test_data_is_read_only_so_shared_grids_cannot_be_corrupted():
    grid = _grid_with_box()
    with pytest.raises(ValueError):
        grid.data[0, 0] = 1


def test_home_grid_marks_walls_and_furniture_but_not_room_centres():
    layout = load_home_layout()
    grid = layout.occupancy_grid()
    assert grid.resolution == 0.05
    assert not grid.is_free(0.0, 2.0)  # west exterior wall
    counter = layout.furniture_by_id("kitchen_counter")
    assert not grid.is_free(counter.pose.x, counter.pose.y)
    assert grid.is_free(4.0, 3.5)  # bedroom floor
    assert grid.is_free(7.0, 5.0)  # living room floor (toys are not static obstacles)
