"""Shortest paths on the occupancy grid (8-connected A*), for the nav task's reference length and tools.

The navigation env reports ``shortest_path_length`` from here (SPL needs it), episode goals are checked
for reachability with it, and the snapshot command uses it to drive a robot somewhere worth a picture.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from reflexarc.occupancy_grid import OccupancyGrid

__all__ = ["astar", "line_of_sight", "path_length", "reachable_mask", "shortcut_path"]

_SQRT2 = math.sqrt(2.0)
_MOVES = ((1, 0, 1.0), (-1, 0, 1.0), (0, 1, 1.0), (0, -1, 1.0),
          (1, 1, _SQRT2), (1, -1, _SQRT2), (-1, 1, _SQRT2), (-1, -1, _SQRT2))


def astar(grid: OccupancyGrid, start_xy: tuple[float, float], goal_xy: tuple[float, float]) -> list[tuple[float, float]] | None:
    """World-frame waypoints (cell centres, start and goal included) of a shortest free path, or None.

    ``grid`` should already be inflated by the robot radius. Diagonal moves may not cut corners.
    """
    free = grid.data == 0
    start = grid.world_to_cell(*start_xy)
    goal = grid.world_to_cell(*goal_xy)
    if not (grid.in_bounds(*start) and grid.in_bounds(*goal)) or not free[start] or not free[goal]:
        return None
    h, w = free.shape
    g_cost = np.full(free.shape, np.inf)
    parent = np.full(free.shape + (2,), -1, dtype=np.int64)
    g_cost[start] = 0.0
    gr, gc = goal
    counter = 0
    heap: list[tuple[float, int, int, int]] = [(0.0, counter, start[0], start[1])]
    while heap:
        _, _, r, c = heapq.heappop(heap)
        if (r, c) == goal:
            break
        base = g_cost[r, c]
        for dr, dc, cost in _MOVES:
            nr, nc = r + dr, c + dc
            if not (0 <= nr < h and 0 <= nc < w) or not free[nr, nc]:
                continue
            if dr and dc and not (free[r + dr, c] and free[r, c + dc]):
                continue
            new = base + cost
            if new < g_cost[nr, nc]:
                g_cost[nr, nc] = new
                parent[nr, nc] = (r, c)
                dy, dx = abs(nr - gr), abs(nc - gc)
                heuristic = (dx + dy) + (_SQRT2 - 2.0) * min(dx, dy)
                counter += 1
                heapq.heappush(heap, (new + heuristic, counter, nr, nc))
    if not math.isfinite(g_cost[goal]):
        return None
    cells = [goal]
    while cells[-1] != start:
        r, c = parent[cells[-1]]
        cells.append((int(r), int(c)))
    cells.reverse()
    points = [grid.cell_to_world(r, c) for r, c in cells]
    points[0] = (float(start_xy[0]), float(start_xy[1]))
    points[-1] = (float(goal_xy[0]), float(goal_xy[1]))
    return points


def path_length(points: list[tuple[float, float]] | None) -> float:
    """Length of a polyline in metres (inf for no path)."""
    if points is None:
        return math.inf
    return float(sum(math.dist(a, b) for a, b in zip(points, points[1:], strict=False)))


def reachable_mask(grid: OccupancyGrid, start_xy: tuple[float, float]) -> np.ndarray:
    """Boolean mask of the free cells 4-connected to the start cell (flood fill)."""
    free = grid.data == 0
    seen = np.zeros_like(free)
    start = grid.world_to_cell(*start_xy)
    if not grid.in_bounds(*start) or not free[start]:
        return seen
    stack = [start]
    seen[start] = True
    h, w = free.shape
    while stack:
        r, c = stack.pop()
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < h and 0 <= nc < w and free[nr, nc] and not seen[nr, nc]:
                seen[nr, nc] = True
                stack.append((nr, nc))
    return seen


def line_of_sight(grid: OccupancyGrid, a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether the straight segment a-b crosses only free cells (sampled at a quarter cell)."""
    n = max(int(math.ceil(math.dist(a, b) / (0.25 * grid.resolution))), 1)
    t = np.linspace(0.0, 1.0, n + 1)
    xs = a[0] + (b[0] - a[0]) * t
    ys = a[1] + (b[1] - a[1]) * t
    return not bool(grid.occupied_at(xs, ys).any())


def shortcut_path(grid: OccupancyGrid, points: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
    """String-pull a grid path (greedy line-of-sight shortcuts): close to the any-angle shortest path."""
    if points is None or len(points) <= 2:
        return points
    out = [points[0]]
    i = 0
    while i < len(points) - 1:
        j = len(points) - 1
        while j > i + 1 and not line_of_sight(grid, points[i], points[j]):
            j -= 1
        out.append(points[j])
        i = j
    return out
