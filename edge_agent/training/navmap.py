"""Static-map analysis for a circular robot: clearance, cost-to-go fields and shortest paths.

Built once per map from an :class:`OccupancyGrid` (so it serves the 2D world and the PyBullet home
alike). Clearance comes from the exact distance transform of the fine grid; cost-to-go fields live on a
coarser grid (0.1 m by default) so a field to a new waypoint costs milliseconds.
"""

from __future__ import annotations

import math

import numpy as np

from edge_agent.training.gridmaps import distance_transform, geodesic_field, sample_grid
from edge_agent.training.privileged import OccupancyGrid

_SOFT_BAND_M = 0.25
_SOFT_GAIN = 4.0
_TIGHT_COST = 30.0


class NavMap:
    """Clearance and geodesic queries on one static map for a robot of a given radius."""

    def __init__(self, grid: OccupancyGrid, robot_radius: float, nav_resolution: float = 0.1) -> None:
        """Precompute the clearance field and the coarse planning grid."""
        self.grid = grid
        self.robot_radius = robot_radius
        res = grid.resolution
        # Distance from a cell centre to the nearest occupied centre, minus half a cell: an estimate of
        # the distance to the obstacle surface good to about half a cell.
        self.clearance = np.maximum(distance_transform(grid.data, res) - 0.5 * res, 0.0).astype(np.float32)
        self.clearance[grid.data.astype(bool)] = 0.0
        self._factor = max(1, int(round(nav_resolution / res)))
        f = self._factor
        h, w = self.clearance.shape
        hc, wc = -(-h // f), -(-w // f)
        padded = np.zeros((hc * f, wc * f), dtype=np.float32)
        padded[:h, :w] = self.clearance
        self.coarse_clearance = padded.reshape(hc, f, wc, f).min(axis=(1, 3))
        self.coarse = OccupancyGrid(
            data=(self.coarse_clearance <= 0.0).astype(np.uint8), resolution=res * f, origin_xy=grid.origin_xy
        )
        self._fields: dict[tuple, np.ndarray] = {}
        self._next: dict[int, np.ndarray] = {}

    def clearance_at(self, xy: np.ndarray) -> np.ndarray:
        """Estimated distance (m) from world points (..., 2) to the nearest static obstacle surface."""
        return sample_grid(self.clearance, self.grid, np.asarray(xy, dtype=np.float64), outside=0.0)

    def _cell_cost(self, hard: bool) -> np.ndarray:
        clr = self.coarse_clearance
        r = self.robot_radius
        if hard:
            return np.where(clr >= r, 1.0, np.inf)
        soft = 1.0 + _SOFT_GAIN * np.clip((r + _SOFT_BAND_M - clr) / _SOFT_BAND_M, 0.0, 1.0) ** 2
        cost = np.where(clr >= r + 0.02, soft, _TIGHT_COST)
        return np.where(clr > 0.0, cost, np.inf)

    def cost_to_go(self, goal_xy: tuple[float, float], hard: bool = False,
                   blockers: tuple[tuple[float, float, float], ...] = ()) -> np.ndarray:
        """Coarse geodesic cost-to-go field to ``goal_xy`` (cached per goal and blockers).

        ``hard=True`` gives true shortest distances for the robot's centre (cells with less than a robot
        radius of clearance are walls); the default soft field prefers clearance and still gives a way
        out of tight spots, which is what a tracking controller wants. ``blockers`` are extra discs
        (x, y, radius), e.g. a person standing in a corridor, that the soft field routes around.
        """
        key = (round(goal_xy[0], 4), round(goal_xy[1], 4), hard, blockers)
        if key not in self._fields:
            if len(self._fields) > 64:
                self._fields.clear()
                self._next.clear()
            cell = self.coarse.cell_of(*goal_xy)
            cost = self._cell_cost(hard)
            h, w = cost.shape
            if blockers:
                ys = self.coarse.origin_xy[1] + (np.arange(h) + 0.5) * self.coarse.resolution
                xs = self.coarse.origin_xy[0] + (np.arange(w) + 0.5) * self.coarse.resolution
                for bx, by, br in blockers:
                    near = np.hypot(xs[None, :] - bx, ys[:, None] - by) < br + self.robot_radius + 0.1
                    cost = np.where(near & np.isfinite(cost), np.maximum(cost, _TIGHT_COST), cost)
            cell = (min(max(cell[0], 0), h - 1), min(max(cell[1], 0), w - 1))
            if not np.isfinite(cost[cell]):
                cost = cost.copy()
                cost[cell] = 1.0
            self._fields[key] = geodesic_field(cost, cell, self.coarse.resolution)
        return self._fields[key]

    def _descent(self, field: np.ndarray, cell: tuple[int, int], steps: int) -> list[tuple[int, int]]:
        """Cells visited by steepest descent from ``cell`` (included), at most ``steps`` moves."""
        w = field.shape[1]
        nxt = self._pointers(field)
        flat = cell[0] * w + cell[1]
        cells = [cell]
        for _ in range(steps):
            following = int(nxt[flat])
            if following == flat:
                break
            flat = following
            cells.append(divmod(flat, w))
        return cells

    def _pointers(self, field: np.ndarray) -> np.ndarray:
        """For every coarse cell, the flat index of its steepest-descent neighbour (itself at a minimum)."""
        key = id(field)
        if key not in self._next:
            h, w = field.shape
            padded = np.pad(field, 1, constant_values=np.inf)
            stack = np.stack([padded[1 + di:1 + di + h, 1 + dj:1 + dj + w]
                              for di in (-1, 0, 1) for dj in (-1, 0, 1)])
            stack[4] = field  # staying put wins ties, so a descent never cycles
            choice = np.argmin(np.where(np.isnan(stack), np.inf, stack), axis=0)
            # argmin returns the first minimum; move "stay" to win ties by checking it explicitly.
            stay = stack[4] <= stack.min(axis=0)
            di = choice // 3 - 1
            dj = choice % 3 - 1
            rows, cols = np.indices((h, w))
            nxt = (rows + di) * w + (cols + dj)
            self._next[key] = np.where(stay, rows * w + cols, nxt).ravel()
        return self._next[key]

    def field_value(self, field: np.ndarray, xy: np.ndarray) -> np.ndarray:
        """Cost-to-go at world points (..., 2) by nearest coarse cell; ``inf`` outside the map."""
        return sample_grid(field, self.coarse, np.asarray(xy, dtype=np.float64), outside=np.inf)

    def path_ahead(self, field: np.ndarray, start_xy: tuple[float, float], goal_xy: tuple[float, float],
                   distance: float) -> list[tuple[float, float]]:
        """World points of the descent path from ``start_xy`` covering about ``distance`` metres."""
        cell = self.coarse.cell_of(*start_xy)
        h, w = field.shape
        cell = (min(max(cell[0], 0), h - 1), min(max(cell[1], 0), w - 1))
        steps = int(math.ceil(distance / self.coarse.resolution)) + 2
        cells = self._descent(field, cell, steps)
        points = [self.coarse.cell_centre(i, j) for i, j in cells[1:]]
        goal_cell = self.coarse.cell_of(*goal_xy)
        if cells[-1] == goal_cell or not points:
            points.append(tuple(goal_xy))
        return points

    def line_is_clear(self, a: np.ndarray, b: np.ndarray, min_clearance: float) -> bool:
        """True if every point of segment a-b (sampled at half a cell) has at least ``min_clearance``."""
        length = float(np.hypot(*(b - a)))
        n = max(2, int(length / (0.5 * self.grid.resolution)) + 2)
        pts = a[None, :] + np.linspace(0.0, 1.0, n)[:, None] * (b - a)[None, :]
        return bool(self.clearance_at(pts).min() >= min_clearance)

    def shortest_path(self, start_xy: tuple[float, float], goal_xy: tuple[float, float]) -> np.ndarray | None:
        """Any-angle shortest path for the robot centre (string-pulled grid path), ``None`` if unreachable."""
        field = self.cost_to_go(goal_xy, hard=True)
        start_val = self.field_value(field, np.asarray(start_xy))
        if not np.isfinite(start_val):
            return None
        cells = self._descent(field, self.coarse.cell_of(*start_xy), field.size)
        pts = [np.asarray(start_xy, dtype=np.float64)]
        pts += [np.asarray(self.coarse.cell_centre(i, j)) for i, j in cells[1:-1]]
        pts.append(np.asarray(goal_xy, dtype=np.float64))
        min_clear = self.robot_radius - 0.5 * self.grid.resolution
        pulled = [pts[0]]
        i = 0
        while i < len(pts) - 1:
            j = i + 1
            while j + 1 < len(pts) and self.line_is_clear(pts[i], pts[j + 1], min_clear):
                j += 1
            pulled.append(pts[j])
            i = j
        return np.asarray(pulled)


def polyline_length(points: np.ndarray) -> float:
    """Total length of a polyline (N, 2)."""
    return float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0
