"""Coverage paths for ``clean_area``: boustrophedon lanes over a room's free floor plus an edge pass.

The vacuum's centre may stand wherever the grid leaves its radius (plus half a cell) free, inside the
room's polygon and connected to where it starts. Over that region the planner lays parallel lanes a
little less than one vacuum diameter apart (the overlap hides odometry drift), splits every lane where
furniture interrupts it, and orders the pieces greedily, nearest end first, so consecutive lanes snake
back and forth. Pieces that cannot be joined in a straight line are joined with A*. Lanes alone leave
crescents of floor uncleaned along walls and around furniture legs, so a second pass follows the
region's boundary, the "tight passes around furniture" a person expects from a robot vacuum.

``coverage_fraction`` is the measure the scenario checks use: the share of the room's reachable free
floor (floor cells a vacuum of that radius can get over at all) swept by a trajectory.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_agent.astar import GridPlanner, NoPathError
from edge_agent.raster import distance_to_mask, polygon_mask
from reflexarc.occupancy_grid import OccupancyGrid

__all__ = ["CoveragePlan", "coverage_fraction", "plan_coverage", "reachable_floor"]

_LOG = logging.getLogger(__name__)
_Point = tuple[float, float]
_NEIGHBOURS_4 = ((0, 1), (1, 0), (0, -1), (-1, 0))
_NEIGHBOURS_8 = _NEIGHBOURS_4 + ((1, 1), (1, -1), (-1, 1), (-1, -1))


@dataclass(frozen=True)
class CoveragePlan:
    """An ordered coverage route.

    Attributes:
        waypoints: the whole route in driving order (lanes, edge passes and the A* links between them).
        lanes: the lane pieces as ``(entry, exit)`` in the order driven.
        edge_passes: the boundary-hugging polylines in the order driven.
        length_m: length of the route.
        expected_coverage: ``coverage_fraction`` of the route itself (what a perfect follower achieves).
    """

    waypoints: tuple[_Point, ...]
    lanes: tuple[tuple[_Point, _Point], ...]
    edge_passes: tuple[tuple[_Point, ...], ...]
    length_m: float
    expected_coverage: float


def plan_coverage(
    grid: OccupancyGrid,
    room_polygon: Sequence[Sequence[float]],
    radius: float,
    *,
    start_xy: Sequence[float] | None = None,
    overlap: float = 0.15,
    edge_pass: bool = True,
    wall_offset_m: float = 0.0,
    planner: GridPlanner | None = None,
) -> CoveragePlan:
    """Plan a route that sweeps the room's reachable free floor with a round vacuum of ``radius``.

    Args:
        grid: the static occupancy grid.
        room_polygon: the room's floor polygon (map frame).
        radius: the vacuum's radius (its cleaning footprint is taken to be its body).
        start_xy: where the vacuum is; the route starts there and covers what is reachable from it.
            Without it, the largest free region of the room is covered, starting at its first lane.
        overlap: fraction of the diameter by which neighbouring lanes overlap (0 <= overlap < 1).
        edge_pass: add the pass that hugs walls and furniture.
        wall_offset_m: how much farther than the planner's inflation (radius plus half a cell) the
            lanes and the edge pass keep from walls and furniture. Walls lie up to a cell beyond the
            occupied cell centres, and the reflex's shield refuses to drive with an obstacle inside
            its lateral margin, so a route planned right on the inflation would make it stop.
        planner: a planner for this grid and radius to reuse (built when not given).

    Raises:
        NoPathError: the room has no floor the vacuum can reach.
    """
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must lie in [0, 1), got {overlap}")
    if wall_offset_m < 0.0:
        raise ValueError(f"wall_offset_m must be >= 0, got {wall_offset_m}")
    planner = planner if planner is not None else GridPlanner(grid, radius)
    roomy = planner.clearance > planner.inflation_m + wall_offset_m + 1e-9
    region = _workable_region(planner, room_polygon, start_xy) & roomy
    if not region.any():
        raise NoPathError("the room has no floor far enough from walls for the coverage route")
    res = grid.resolution
    spacing_cells = max(1.0, 2.0 * radius * (1.0 - overlap) / res)
    cells = min(_cells(region, spacing_cells), _cells(region.T, spacing_cells, transpose=True), key=len)
    cells_world = [[(grid.cell_to_world(*a), grid.cell_to_world(*b)) for a, b in cell] for cell in cells]
    edges_world = _edge_chains(planner, region, roomy) if edge_pass else []

    position: _Point = (
        (float(start_xy[0]), float(start_xy[1])) if start_xy is not None else cells_world[0][0][0]
    )
    route: list[_Point] = [position]
    driven_lanes: list[tuple[_Point, _Point]] = []
    driven_edges: list[tuple[_Point, ...]] = []
    open_cells = list(cells_world)
    while open_cells:
        i, order = min(
            ((i, order) for i, cell in enumerate(open_cells) for order in _snakes(cell)),
            key=lambda item: math.dist(position, item[1][0][0]),
        )
        open_cells.pop(i)
        for entry, exit_ in order:
            if _link(planner, route, entry):
                route.append(exit_)
                driven_lanes.append((entry, exit_))
                position = exit_
    open_edges = list(edges_world)
    while open_edges:
        i, flip = _nearest_piece(position, [(c[0], c[-1]) for c in open_edges], loops=open_edges)
        chain = open_edges.pop(i)
        chain = _orient_chain(chain, position, flip)
        if _link(planner, route, chain[0]):
            route.extend(chain[1:])
            driven_edges.append(tuple(chain))
            position = chain[-1]
    waypoints = _dedupe(route)
    length = float(sum(math.dist(p, q) for p, q in zip(waypoints, waypoints[1:], strict=False)))
    expected = coverage_fraction(grid, room_polygon, waypoints, radius, planner=planner, start_xy=start_xy)
    _LOG.debug("coverage: %d lanes, %d edge passes, %.1f m, %.1f%% expected", len(driven_lanes),
               len(driven_edges), length, 100 * expected)
    return CoveragePlan(tuple(waypoints), tuple(driven_lanes), tuple(driven_edges), length, expected)


def reachable_floor(
    grid: OccupancyGrid,
    room_polygon: Sequence[Sequence[float]],
    radius: float,
    *,
    start_xy: Sequence[float] | None = None,
    planner: GridPlanner | None = None,
) -> np.ndarray:
    """Boolean mask of the room's free floor cells a vacuum of ``radius`` can get its footprint over."""
    planner = planner if planner is not None else GridPlanner(grid, radius)
    centres = _reachable_centres(planner, room_polygon, start_xy)
    floor = _room_mask(grid, room_polygon) & (grid.data == 0)
    return floor & _within(centres, radius / grid.resolution)


def coverage_fraction(
    grid: OccupancyGrid,
    room_polygon: Sequence[Sequence[float]],
    visited_xy: Sequence[Sequence[float]],
    radius: float,
    *,
    start_xy: Sequence[float] | None = None,
    max_gap_m: float = math.inf,
    planner: GridPlanner | None = None,
) -> float:
    """Share of the room's reachable free floor swept by a vacuum of ``radius`` along ``visited_xy``.

    The visited points are a trajectory: consecutive points closer than ``max_gap_m`` are joined by a
    straight sweep (odometry sampled at a few Hz still counts the floor in between); a larger gap is a
    jump. "Reachable" floor is what the footprint can get over from the region containing
    ``start_xy`` (the first visited point when not given), so floor hidden under furniture or
    behind a gap narrower than the vacuum does not count against it.

    Returns:
        A fraction in [0, 1]; 1.0 when the room has no reachable floor at all.
    """
    planner = planner if planner is not None else GridPlanner(grid, radius)
    points = np.asarray(visited_xy, dtype=np.float64).reshape(-1, 2)
    if start_xy is None and len(points):
        start_xy = tuple(points[0])
    try:
        floor = reachable_floor(grid, room_polygon, radius, start_xy=start_xy, planner=planner)
    except NoPathError:
        return 1.0
    total = int(floor.sum())
    if total == 0:
        return 1.0
    swept = np.zeros(grid.data.shape, dtype=bool)
    dense = _densify(points, grid.resolution / 2.0, max_gap_m)
    if len(dense):
        cols = np.floor((dense[:, 0] - grid.origin_xy[0]) / grid.resolution).astype(np.int64)
        rows = np.floor((dense[:, 1] - grid.origin_xy[1]) / grid.resolution).astype(np.int64)
        inside = (rows >= 0) & (rows < grid.height) & (cols >= 0) & (cols < grid.width)
        swept[rows[inside], cols[inside]] = True
    covered = _within(swept, radius / grid.resolution) & floor
    return float(covered.sum()) / total


# ------------------------------------------------------------------------------------------ regions
def _room_mask(grid: OccupancyGrid, room_polygon: Sequence[Sequence[float]]) -> np.ndarray:
    gx, gy = grid.cell_centres()
    return polygon_mask([(float(x), float(y)) for x, y in room_polygon], gx, gy)


def _reachable_centres(
    planner: GridPlanner, room_polygon: Sequence[Sequence[float]], start_xy: Sequence[float] | None
) -> np.ndarray:
    """Free centre cells (anywhere) connected to the room's floor region the vacuum works in."""
    region = _workable_region(planner, room_polygon, start_xy)
    labels = np.unique(planner.components[region])
    return np.isin(planner.components, labels[labels > 0])


def _workable_region(
    planner: GridPlanner, room_polygon: Sequence[Sequence[float]], start_xy: Sequence[float] | None
) -> np.ndarray:
    """Cells inside the room where the vacuum's centre may be, in the free region it works in.

    That region is the one containing the start (connected through the whole home: the vacuum may
    leave the room to get round something), or without a start the one holding most of the room.
    """
    inside = _room_mask(planner.grid, room_polygon) & planner.free
    label = 0
    if start_xy is not None:
        try:
            label = int(planner.components[planner.snap(start_xy)])
        except NoPathError:
            label = 0
    if label == 0 or not (inside & (planner.components == label)).any():
        labels = planner.components[inside]
        if labels.size == 0:
            raise NoPathError("the room has no floor a robot of this size can reach")
        label = int(np.argmax(np.bincount(labels)))
    return inside & (planner.components == label)


def _within(mask: np.ndarray, radius_cells: float) -> np.ndarray:
    """Cells whose centre lies within ``radius_cells`` of a ``True`` cell centre."""
    if not mask.any():
        return np.zeros_like(mask, dtype=bool)
    return distance_to_mask(mask, radius_cells + 1.0, outside_is_mask=False) <= radius_cells + 1e-9


# -------------------------------------------------------------------------------------------- lanes
def _cells(
    region: np.ndarray, spacing_cells: float, *, transpose: bool = False
) -> list[list[tuple[tuple[int, int], tuple[int, int]]]]:
    """Boustrophedon cells: lane pieces along rows, grouped where one piece continues another.

    Lanes run along the rows of ``region`` ``spacing_cells`` apart and split where furniture
    interrupts them. A piece joins the cell of the piece in the previous lane it overlaps when that
    overlap is one-to-one (boustrophedon cell decomposition): each cell can then be swept in one
    snake, and only the few cells need linking by A*.

    Returns:
        cells, each a list of ``((row, col), (row, col))`` pieces in lane order (``transpose``: the
        region was given transposed, and the cells are returned in the original orientation).
    """
    rows = np.nonzero(region.any(axis=1))[0]
    if len(rows) == 0:
        return []
    first, last = int(rows[0]), int(rows[-1])
    count = int(math.ceil((last - first) / spacing_cells)) + 1
    cells: list[list[tuple[int, int, int]]] = []
    previous: list[tuple[int, int, int]] = []
    previous_ids: list[int] = []
    for row in sorted({int(round(v)) for v in np.linspace(first, last, count)}):
        line = np.concatenate(([False], region[row], [False]))
        edges = np.diff(line.astype(np.int8))
        lane = [
            (row, c0, c1)
            for c0, c1 in zip(np.nonzero(edges == 1)[0].tolist(), (np.nonzero(edges == -1)[0] - 1).tolist(), strict=True)
        ]
        ids = []
        for piece in lane:
            above = [j for j, prev in enumerate(previous) if _overlap(prev, piece)]
            if len(above) == 1 and sum(_overlap(previous[above[0]], other) for other in lane) == 1:
                cell_id = previous_ids[above[0]]
                cells[cell_id].append(piece)
            else:
                cells.append([piece])
                cell_id = len(cells) - 1
            ids.append(cell_id)
        previous, previous_ids = lane, ids

    def cell_of(row: int, col: int) -> tuple[int, int]:
        return (col, row) if transpose else (row, col)

    return [[(cell_of(r, c0), cell_of(r, c1)) for r, c0, c1 in cell] for cell in cells]


def _overlap(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return a[1] <= b[2] and b[1] <= a[2]


def _snakes(cell: list[tuple[_Point, _Point]]) -> list[list[tuple[_Point, _Point]]]:
    """The four ways to sweep a cell: from its first or last lane, entering at either end."""
    options = []
    for lanes in (cell, cell[::-1]):
        for reverse_first in (False, True):
            order = []
            for k, (a, b) in enumerate(lanes):
                flip = reverse_first != (k % 2 == 1)
                order.append((b, a) if flip else (a, b))
            options.append(order)
    return options


def _nearest_piece(
    position: _Point, ends: list[tuple[_Point, _Point]], *, loops: list[list[_Point]] | None = None
) -> tuple[int, bool]:
    """Index of the piece with the nearest end, and whether to drive it reversed."""
    best, best_i, best_flip = math.inf, 0, False
    for i, (a, b) in enumerate(ends):
        da, db = math.dist(position, a), math.dist(position, b)
        if loops is not None and _is_loop(loops[i]):
            da = min(math.dist(position, p) for p in loops[i])
            db = math.inf
        if da < best:
            best, best_i, best_flip = da, i, False
        if db < best:
            best, best_i, best_flip = db, i, True
    return best_i, best_flip


def _link(planner: GridPlanner, route: list[_Point], target: _Point) -> bool:
    """Append a collision-free way from the route's end to ``target``; False if there is none."""
    here = route[-1]
    if math.dist(here, target) < 1e-9:
        return True
    if planner.segment_is_free(here, target):
        route.append(target)
        return True
    try:
        path = planner.plan(here, target)
    except NoPathError:
        _LOG.debug("coverage: no way from %s to %s; piece skipped", here, target)
        return False
    route.extend(path.waypoints[1:])
    if route[-1] != target:
        route.append(target)
    return True


# ------------------------------------------------------------------------------------- edge passes
def _edge_chains(planner: GridPlanner, region: np.ndarray, roomy: np.ndarray) -> list[list[_Point]]:
    """Polylines along the region's cells that touch walls or furniture (not the room's open edges).

    ``roomy`` marks the cells far enough from obstacles for the route; a region cell next to one that
    is not lies along a wall or a piece of furniture.
    """
    blocked = ~roomy
    touching = np.zeros_like(region)
    padded = np.pad(blocked, 1, constant_values=True)
    h, w = region.shape
    for dr, dc in _NEIGHBOURS_4:
        touching |= padded[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
    boundary = region & touching
    remaining = {(int(r), int(c)) for r, c in np.argwhere(boundary)}

    def free_neighbours(cell: tuple[int, int]) -> list[tuple[int, int]]:
        r, c = cell
        return [(r + dr, c + dc) for dr, dc in _NEIGHBOURS_8 if (r + dr, c + dc) in remaining]

    chains: list[list[_Point]] = []
    min_cells = 4
    while remaining:
        start = min(remaining, key=lambda cell: (len(free_neighbours(cell)), cell))
        remaining.discard(start)
        cells = [start]
        current = start
        while True:
            options = free_neighbours(current)
            if not options:
                break
            # Prefer straight (4-connected) steps, then the neighbour with the fewest onward options,
            # which keeps the walk on the outermost cells instead of cutting through thick corners.
            step = min(
                options,
                key=lambda cell: (abs(cell[0] - current[0]) + abs(cell[1] - current[1]), len(free_neighbours(cell))),
            )
            if step[0] != current[0] and step[1] != current[1]:
                # A diagonal step would graze the corner between the two orthogonal cells: go round
                # through whichever of them is free.
                for corner in ((current[0], step[1]), (step[0], current[1])):
                    if region[corner]:
                        remaining.discard(corner)
                        cells.append(corner)
                        break
            current = step
            remaining.discard(current)
            cells.append(current)
        if len(cells) < min_cells:
            continue
        if len(cells) > 3 and max(abs(cells[0][0] - cells[-1][0]), abs(cells[0][1] - cells[-1][1])) <= 1:
            cells.append(cells[0])  # closed loop (round a piece of furniture)
        points = [planner.grid.cell_to_world(r, c) for r, c in cells]
        chains.append(_simplify(points, planner, roomy, planner.grid.resolution * 0.75))
    return chains


def _is_loop(chain: Sequence[_Point]) -> bool:
    return len(chain) > 3 and chain[0] == chain[-1]


def _orient_chain(chain: list[_Point], position: _Point, flip: bool) -> list[_Point]:
    """Open chains: start at the nearer end. Loops: start at the point nearest ``position``."""
    if not _is_loop(chain):
        return list(reversed(chain)) if flip else list(chain)
    ring = chain[:-1]
    k = min(range(len(ring)), key=lambda i: math.dist(position, ring[i]))
    rotated = ring[k:] + ring[:k]
    return rotated + [rotated[0]]


def _simplify(points: list[_Point], planner: GridPlanner, roomy: np.ndarray, tolerance: float) -> list[_Point]:
    """Douglas-Peucker that also keeps splitting while a shortcut would leave the ``roomy`` cells."""
    if len(points) <= 2:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    pts = np.asarray(points)
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b = pts[i], pts[j]
        seg = b - a
        norm = float(np.hypot(*seg))
        inner = pts[i + 1 : j]
        if norm < 1e-12:
            dist = np.hypot(*(inner - a).T)
        else:
            dist = np.abs(seg[0] * (inner[:, 1] - a[1]) - seg[1] * (inner[:, 0] - a[0])) / norm
        k = int(np.argmax(dist))
        if dist[k] > tolerance or not _segment_within(planner.grid, roomy, points[i], points[j]):
            mid = i + 1 + k
            keep[mid] = True
            stack.append((i, mid))
            stack.append((mid, j))
    return [p for p, kept in zip(points, keep, strict=True) if kept]


# ----------------------------------------------------------------------------------------- helpers
def _segment_within(grid: OccupancyGrid, mask: np.ndarray, a: _Point, b: _Point) -> bool:
    """Whether the straight segment a-b stays on ``mask`` cells (sampled every half cell)."""
    n = max(2, int(math.ceil(math.dist(a, b) / (grid.resolution / 2.0))) + 1)
    t = np.linspace(0.0, 1.0, n)
    xs = a[0] + (b[0] - a[0]) * t
    ys = a[1] + (b[1] - a[1]) * t
    cols = np.floor((xs - grid.origin_xy[0]) / grid.resolution).astype(np.int64)
    rows = np.floor((ys - grid.origin_xy[1]) / grid.resolution).astype(np.int64)
    inside = (rows >= 0) & (rows < grid.height) & (cols >= 0) & (cols < grid.width)
    return bool(inside.all() and mask[rows, cols].all())


def _dedupe(points: list[_Point]) -> list[_Point]:
    out: list[_Point] = []
    for p in points:
        q = (float(p[0]), float(p[1]))
        if not out or math.dist(out[-1], q) > 1e-9:
            out.append(q)
    return out


def _densify(points: np.ndarray, step: float, max_gap: float) -> np.ndarray:
    """The trajectory sampled every ``step`` metres along segments shorter than ``max_gap``."""
    if len(points) < 2:
        return points
    chunks = [points[:1]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        gap = float(np.hypot(*(b - a)))
        if gap > max_gap:
            chunks.append(b[None, :])
            continue
        n = max(1, int(math.ceil(gap / step)))
        ts = (np.arange(1, n + 1) / n)[:, None]
        chunks.append(a + (b - a) * ts)
    return np.concatenate(chunks)
