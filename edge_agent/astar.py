"""Global path planning for ``navigate_to``: A* on the home's occupancy grid, into sparse waypoints.

The executive plans on the static grid the simulation exports (``reflexarc.occupancy_grid``) and hands
the waypoints to the reflex, which avoids whatever the grid does not know about. So the global path
must leave the reflex room to work: obstacles are inflated by the robot radius (plus half a cell, as a
cell is occupied when only its centre is covered), and a clearance cost from a distance transform keeps
the path in the middle of corridors and doorways rather than skimming walls. Starts and goals that fall
inside the inflation (a robot parked against a wall, "the counter" as a goal) are snapped to the nearest
free cell reachable from the start, and the cell path is pruned by line of sight into a few waypoints.

The search itself is a plain 8-connected A* with an octile heuristic over flat Python lists (fastest
in CPython for per-node work); everything per grid (clearance, costs, components) is computed once per
``GridPlanner`` with numpy and reused across queries.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_agent.raster import distance_to_mask, label_components
from reflexarc.occupancy_grid import OccupancyGrid
from reflexarc.scene_graph import Pose2D

__all__ = ["GridPlanner", "NoPathError", "PlannedPath", "plan_path", "standing_pose_near"]

_LOG = logging.getLogger(__name__)
_SQRT2 = math.sqrt(2.0)
# Heuristic weight of the corridor searches: paths at most 25 % (measured: 0-4 %) costlier than optimal,
# for four to five times fewer expansions.
_GREEDY = 1.25
_Point = tuple[float, float]


class NoPathError(RuntimeError):
    """No collision-free path exists between the requested points (the message says which end failed)."""


@dataclass(frozen=True)
class PlannedPath:
    """A planned path: sparse waypoints for the follower plus the dense cell path it came from.

    Attributes:
        waypoints: world points from the (snapped) start to the (snapped) goal, pruned by line of sight.
        cells: the dense 8-connected ``(row, col)`` path A* found.
        length_m: length of the waypoint polyline.
        start: where the path starts (the requested start unless it had to be snapped).
        goal: where the path ends (the requested goal unless it had to be snapped).
        start_snapped: the start lay inside the inflated obstacles and was moved.
        goal_snapped: the goal lay inside the inflated obstacles (or out of reach) and was moved.
    """

    waypoints: tuple[_Point, ...]
    cells: tuple[tuple[int, int], ...]
    length_m: float
    start: _Point
    goal: _Point
    start_snapped: bool
    goal_snapped: bool


class GridPlanner:
    """A* planner for one robot size on one static grid; precomputes clearance, costs and components.

    Args:
        grid: the static occupancy grid.
        robot_radius: radius of the robot's footprint in metres.
        safety_margin: extra inflation beyond the radius; defaults to half a cell (a cell is occupied
            only when its centre is covered, so an obstacle edge can reach half a cell into free cells).
        clearance_m: beyond the inflation, how far walls still add cost (paths prefer to stay this far).
        wall_cost: extra cost per metre at the inflation boundary, falling quadratically to zero at
            ``clearance_m``; 0 gives plain shortest paths.
        max_snap_m: how far a start or goal inside obstacles may be moved to the nearest free cell.
        coarse_factor: block size (cells) of the coarse map that guides the search.
    """

    def __init__(
        self,
        grid: OccupancyGrid,
        robot_radius: float,
        *,
        safety_margin: float | None = None,
        clearance_m: float = 0.35,
        wall_cost: float = 3.0,
        max_snap_m: float = 1.5,
        coarse_factor: int = 4,
    ) -> None:
        if robot_radius < 0:
            raise ValueError(f"robot_radius must be >= 0, got {robot_radius}")
        self.grid = grid
        self.robot_radius = float(robot_radius)
        margin = grid.resolution / 2.0 if safety_margin is None else float(safety_margin)
        self.inflation_m = self.robot_radius + margin
        self.clearance_m = float(clearance_m)
        self.wall_cost = float(wall_cost)
        self.max_snap_m = float(max_snap_m)
        res = grid.resolution
        # Distances are kept exact up to a generous bound so standing poses with a standoff can use them.
        self._max_dist_cells = (self.inflation_m + max(self.clearance_m, 1.0)) / res + 2.0
        dist_cells = distance_to_mask(grid.data.astype(bool), self._max_dist_cells)
        self.clearance = dist_cells * res
        """Distance in metres from each cell centre to the nearest occupied cell centre (clipped)."""
        self.free = self.clearance > self.inflation_m + 1e-9
        """Cells where the robot's centre may be."""
        excess = np.clip(self.clearance - self.inflation_m, 0.0, self.clearance_m)
        if self.clearance_m > 0:
            penalty = ((self.clearance_m - excess) / self.clearance_m) ** 2
        else:
            penalty = np.zeros_like(excess)
        self.cost = np.where(self.free, 1.0 + self.wall_cost * penalty, np.inf)
        """Per-cell traversal cost (1 in open space, higher near obstacles, inf where not free)."""
        # 4-connected: A* never cuts a blocked corner, so a diagonal-only contact is no passage.
        self.components, self.n_components = label_components(self.free, connectivity=4)
        h, w = grid.data.shape
        self._pw = w + 2
        padded = np.full((h + 2, w + 2), np.inf)
        padded[1:-1, 1:-1] = self.cost
        self._cost_flat: list[float] = padded.reshape(-1).tolist()
        # Coarse map for the corridor search: a block costs its cheapest free cell (optimistic).
        k = self._coarse_factor = coarse_factor
        self._corridor_blocks = 2
        ch, cw = -(-h // k), -(-w // k)
        blocks = np.full((ch * k, cw * k), np.inf)
        blocks[:h, :w] = self.cost
        coarse = blocks.reshape(ch, k, cw, k).min(axis=(1, 3))
        self._coarse_shape = (ch, cw)
        self._coarse_pw = cw + 2
        coarse_padded = np.full((ch + 2, cw + 2), np.inf)
        coarse_padded[1:-1, 1:-1] = coarse
        self._coarse_padded = coarse_padded
        self._coarse_flat: list[float] = coarse_padded.reshape(-1).tolist()

    # ------------------------------------------------------------------------------------ queries
    def plan(self, start_xy: Sequence[float], goal_xy: Sequence[float]) -> PlannedPath:
        """Plan from ``start_xy`` to ``goal_xy`` (world metres).

        Raises:
            NoPathError: the start has no free cell within ``max_snap_m``, or nothing within
                ``max_snap_m`` of the goal is reachable from the start.
        """
        start = (float(start_xy[0]), float(start_xy[1]))
        goal = (float(goal_xy[0]), float(goal_xy[1]))
        start_cell, start_snapped = self._snap(start, component=None, what="start")
        component = int(self.components[start_cell])
        goal_cell, goal_snapped = self._snap(goal, component=component, what="goal")
        cells = self._search(start_cell, goal_cell)
        start_pt = self.grid.cell_to_world(*start_cell) if start_snapped else start
        goal_pt = self.grid.cell_to_world(*goal_cell) if goal_snapped else goal
        waypoints = self._prune(cells, start_pt, goal_pt)
        length = float(sum(math.dist(a, b) for a, b in zip(waypoints, waypoints[1:], strict=False)))
        return PlannedPath(
            waypoints=tuple(waypoints),
            cells=tuple(cells),
            length_m=length,
            start=start_pt,
            goal=goal_pt,
            start_snapped=start_snapped,
            goal_snapped=goal_snapped,
        )

    def standing_pose_near(
        self,
        target_xy: Sequence[float],
        standoff: float = 0.1,
        *,
        from_xy: Sequence[float] | None = None,
    ) -> Pose2D:
        """The nearest pose from which the robot can stand facing ``target_xy``.

        "Navigate to the counter" means: the free pose closest to the counter (its centre is a fine
        target), keeping ``standoff`` metres between the robot's body and the target itself and
        between the body and any obstacle (the latter capped at 0.3 m: a polite distance from a
        person need not be kept from every wall), reachable from ``from_xy`` when given, yaw facing
        the target.

        Raises:
            NoPathError: no such pose exists (or none is reachable from ``from_xy``).
        """
        tx, ty = float(target_xy[0]), float(target_xy[1])
        need = self.inflation_m + max(float(standoff), 0.0)
        candidates = self.clearance > self.inflation_m + min(max(float(standoff), 0.0), 0.3) + 1e-9
        if from_xy is not None:
            start_cell, _ = self._snap((float(from_xy[0]), float(from_xy[1])), component=None, what="start")
            candidates &= self.components == self.components[start_cell]
        gx, gy = self.grid.cell_centres()
        d2 = (gx - tx) ** 2 + (gy - ty) ** 2
        candidates &= d2 >= need * need
        if not candidates.any():
            raise NoPathError(f"no reachable standing pose with {standoff:.2f} m standoff near ({tx:.2f}, {ty:.2f})")
        flat = int(np.argmin(np.where(candidates, d2, np.inf)))
        row, col = divmod(flat, self.grid.width)
        x, y = self.grid.cell_to_world(row, col)
        return Pose2D(x, y, math.atan2(ty - y, tx - x))

    def snap(self, xy: Sequence[float], *, reachable_from: Sequence[float] | None = None) -> tuple[int, int]:
        """The ``(row, col)`` of the free cell at ``xy``, or of the nearest one (reachable from a point).

        Raises:
            NoPathError: nothing suitable within ``max_snap_m``.
        """
        component = None
        if reachable_from is not None:
            origin, _ = self._snap((float(reachable_from[0]), float(reachable_from[1])), component=None, what="start")
            component = int(self.components[origin])
        cell, _ = self._snap((float(xy[0]), float(xy[1])), component=component, what="start" if component is None else "goal")
        return cell

    def is_free(self, xy: Sequence[float]) -> bool:
        """Whether the robot's centre may stand at ``xy`` (inside the grid and outside the inflation)."""
        row, col = self.grid.world_to_cell(float(xy[0]), float(xy[1]))
        return self.grid.in_bounds(row, col) and bool(self.free[row, col])

    def reachable(self, a_xy: Sequence[float], b_xy: Sequence[float]) -> bool:
        """Whether both points are free and lie in the same connected free region."""
        if not (self.is_free(a_xy) and self.is_free(b_xy)):
            return False
        ra = self.grid.world_to_cell(float(a_xy[0]), float(a_xy[1]))
        rb = self.grid.world_to_cell(float(b_xy[0]), float(b_xy[1]))
        return bool(self.components[ra] == self.components[rb])

    def segment_is_free(self, a_xy: Sequence[float], b_xy: Sequence[float]) -> bool:
        """Whether the robot's centre can move straight from ``a_xy`` to ``b_xy`` on free cells."""
        return math.isfinite(self.segment_cost(a_xy, b_xy))

    def segment_cost(self, a_xy: Sequence[float], b_xy: Sequence[float]) -> float:
        """Integrated traversal cost of the straight segment (inf if it touches a non-free cell)."""
        a = (float(a_xy[0]), float(a_xy[1]))
        b = (float(b_xy[0]), float(b_xy[1]))
        rows, cols = self._segment_cells(a, b)
        h, w = self.cost.shape
        if rows.min() < 0 or cols.min() < 0 or rows.max() >= h or cols.max() >= w:
            return math.inf
        return float(self.cost[rows, cols].mean()) * math.dist(a, b)

    # ---------------------------------------------------------------------------------- internals
    def _snap(self, xy: _Point, *, component: int | None, what: str) -> tuple[tuple[int, int], bool]:
        """The cell for ``xy``: its own if free (and in ``component``), else the nearest such cell."""
        row, col = self.grid.world_to_cell(*xy)
        allowed = self.free if component is None else self.components == component
        if self.grid.in_bounds(row, col) and allowed[row, col]:
            return (row, col), False
        gx, gy = self.grid.cell_centres()
        d2 = np.where(allowed, (gx - xy[0]) ** 2 + (gy - xy[1]) ** 2, np.inf)
        flat = int(np.argmin(d2))
        best = float(d2.reshape(-1)[flat])
        if not math.isfinite(best) or math.sqrt(best) > self.max_snap_m:
            where = f"({xy[0]:.2f}, {xy[1]:.2f})"
            if what == "start":
                raise NoPathError(f"start {where} is inside an obstacle with no free cell within {self.max_snap_m} m")
            raise NoPathError(f"goal {where} is not reachable from the start (nothing reachable within {self.max_snap_m} m)")
        snapped = divmod(flat, self.grid.width)
        _LOG.debug("%s (%.2f, %.2f) snapped %.2f m to cell %s", what, xy[0], xy[1], math.sqrt(best), snapped)
        return (int(snapped[0]), int(snapped[1])), True

    def _search(self, start: tuple[int, int], goal: tuple[int, int]) -> list[tuple[int, int]]:
        """Coarse-to-fine A*: 4x4 blocks choose a corridor and supply the fine search's heuristic.

        On a whole-home grid a plain octile heuristic points through walls, so A* floods every room
        the straight line runs into (tens of ms in CPython). Here a coarse A* on blocks (16 times fewer
        cells) finds a corridor, a Dijkstra over the corridor's blocks gives each block its cost to the
        goal, and the fine A* uses that (minus a block's worth of slack) as its heuristic, expanding
        little more than the path itself. Should the optimistic coarse map be wrong (a gap narrower
        than a block), the fine search falls back to the whole grid, so the shortcut never decides
        whether a path exists.
        """
        pw = self._pw
        s = (start[0] + 1) * pw + start[1] + 1
        t = (goal[0] + 1) * pw + goal[1] + 1
        nodes = None
        blocks = self._corridor_heuristic(start, goal)
        if blocks is not None:
            nodes = _astar_flat(
                self._cost_flat, pw, s, t, h_blocks=(blocks, self._coarse_factor, self._coarse_pw), tie_break=_GREEDY
            )
        if nodes is None:
            _LOG.debug("corridor search failed between %s and %s; searching the whole grid", start, goal)
            nodes = _astar_flat(self._cost_flat, pw, s, t)
        if nodes is None:
            raise NoPathError(f"no path from cell {start} to cell {goal}")
        return [(n // pw - 1, n % pw - 1) for n in nodes]

    def _corridor_heuristic(self, start: tuple[int, int], goal: tuple[int, int]) -> list[float] | None:
        """Per coarse block (padded, flat): about the cost from the block to the goal, inf off the corridor."""
        k = self._coarse_factor
        cpw = self._coarse_pw
        ch, cw = self._coarse_shape
        cs = (start[0] // k + 1) * cpw + start[1] // k + 1
        ct = (goal[0] // k + 1) * cpw + goal[1] // k + 1
        coarse_path = _astar_flat(self._coarse_flat, cpw, cs, ct, tie_break=_GREEDY)
        if coarse_path is None:
            return None
        corridor = np.zeros((ch + 2, cw + 2), dtype=bool)
        cr, cc = np.divmod(np.asarray(coarse_path), cpw)
        corridor[cr, cc] = True
        for _ in range(self._corridor_blocks):
            grown = corridor.copy()
            grown[1:, :] |= corridor[:-1, :]
            grown[:-1, :] |= corridor[1:, :]
            grown[:, 1:] |= corridor[:, :-1]
            grown[:, :-1] |= corridor[:, 1:]
            corridor = grown
        coarse_cost = np.where(corridor, self._coarse_padded, np.inf).reshape(-1).tolist()
        to_goal = _dijkstra_flat(coarse_cost, cpw, ct)
        # A block centre is up to a block's diagonal from any of its cells: subtract that slack.
        slack = 2.0 * k
        return [d * k - slack if d * k > slack else (0.0 if d < math.inf else math.inf) for d in to_goal]

    def _segment_cells(self, a: _Point, b: _Point) -> tuple[np.ndarray, np.ndarray]:
        """Cells under the segment, sampled at a quarter cell."""
        res = self.grid.resolution
        n = max(2, int(math.ceil(math.dist(a, b) / (res * 0.25))) + 1)
        ts = np.arange(n) * (1.0 / (n - 1))
        xs = a[0] + (b[0] - a[0]) * ts
        ys = a[1] + (b[1] - a[1]) * ts
        cols = np.floor((xs - self.grid.origin_xy[0]) / res).astype(np.int64)
        rows = np.floor((ys - self.grid.origin_xy[1]) / res).astype(np.int64)
        return rows, cols

    def _prune(self, cells: list[tuple[int, int]], start: _Point, goal: _Point) -> list[_Point]:
        """Line-of-sight pruning under the planner's own objective.

        A shortcut from cell ``i`` to cell ``j`` is taken only when the straight segment is free and its
        integrated cost is no higher than the cell path's between them, so pruning straightens the path
        without trading away the clearance the cost function paid for.
        """
        points = [self.grid.cell_to_world(r, c) for r, c in cells]
        points[0], points[-1] = start, goal
        if len(points) <= 2:
            return points if points[0] != points[-1] else [points[0]]
        rows, cols = np.array(cells).T
        cell_cost = self.cost[rows, cols]
        steps = np.hypot(np.diff(rows), np.diff(cols)) * self.grid.resolution
        cumulative = np.concatenate(([0.0], np.cumsum(0.5 * (cell_cost[1:] + cell_cost[:-1]) * steps)))
        # The exact start and goal lie off their cell centres: the cell path "owes" that stretch too.
        centres = [self.grid.cell_to_world(r, c) for r, c in (cells[0], cells[-1])]
        end_allowance = {
            0: math.dist(points[0], centres[0]) * float(cell_cost[0]),
            len(points) - 1: math.dist(points[-1], centres[1]) * float(cell_cost[-1]),
        }
        slack = 0.5 * self.grid.resolution

        def visible(i: int, j: int) -> bool:
            allowance = cumulative[j] - cumulative[i] + end_allowance.get(i, 0.0) + end_allowance.get(j, 0.0)
            return self.segment_cost(points[i], points[j]) <= allowance + slack

        out = [points[0]]
        i, last = 0, len(points) - 1
        while i < last:
            # Gallop forward while visible, then binary-search the boundary.
            step, ok = 1, i + 1
            while ok + step <= last and visible(i, ok + step):
                ok += step
                step *= 2
            lo, hi = ok, min(ok + step, last + 1)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if visible(i, mid):
                    lo = mid
                else:
                    hi = mid
            out.append(points[lo])
            i = lo
        return out


def _moves(pw: int) -> tuple[tuple[int, float, int, int], ...]:
    """The 8 moves on a flat grid of row width ``pw``: (offset, length, corner cells a diagonal needs)."""
    return (
        (1, 1.0, 0, 0), (-1, 1.0, 0, 0), (pw, 1.0, 0, 0), (-pw, 1.0, 0, 0),
        (pw + 1, _SQRT2, pw, 1), (pw - 1, _SQRT2, pw, -1),
        (-pw + 1, _SQRT2, -pw, 1), (-pw - 1, _SQRT2, -pw, -1),
    )  # fmt: skip


def _astar_flat(
    cost: list[float],
    pw: int,
    s: int,
    t: int,
    *,
    h_blocks: tuple[list[float], int, int] | None = None,
    tie_break: float = 1.001,
) -> list[int] | None:
    """8-connected A* with an octile heuristic over a flat, inf-bordered cost list of row width ``pw``.

    Moving between neighbours costs the mean of their cell costs times the step length; diagonal moves
    may not cut a blocked corner. ``h_blocks = (table, k, block_pw)`` (optional) raises the heuristic
    to a per-block cost-to-go (flat, padded, row width ``block_pw``, blocks of k x k cells) and excludes
    blocks where it is inf. ``tie_break`` scales the heuristic: a hair above 1 (the default) makes the
    search go deep instead of wide among the many equal-cost octile paths (at most 0.1 % longer);
    larger values trade optimality for speed (weighted A*, at most that factor longer).
    Returns the flat node indices from ``s`` to ``t``, or None when ``t`` is unreachable.
    """
    if s == t:
        return [s]
    goal_r, goal_c = divmod(t, pw)
    moves = _moves(pw)
    table, k, bpw = h_blocks if h_blocks is not None else (None, 1, 1)
    inf = math.inf
    g = [inf] * len(cost)
    parent = {s: -1}
    closed = bytearray(len(cost))
    g[s] = 0.0
    heap: list[tuple[float, float, int]] = [(0.0, 0.0, s)]
    push, pop = heapq.heappush, heapq.heappop
    octile = _SQRT2 - 2.0
    while heap:
        _, _, u = pop(heap)
        if closed[u]:
            continue
        if u == t:
            break
        closed[u] = 1
        gu = g[u]
        cu = cost[u]
        for off, length, o1, o2 in moves:
            v = u + off
            cv = cost[v]
            if cv == inf or closed[v]:
                continue
            if o1 and (cost[u + o1] == inf or cost[u + o2] == inf):
                continue
            gv = gu + 0.5 * (cu + cv) * length
            if gv < g[v]:
                vr, vc = divmod(v, pw)
                dr = vr - goal_r if vr > goal_r else goal_r - vr
                dc = vc - goal_c if vc > goal_c else goal_c - vc
                h = dr + dc + octile * (dr if dr < dc else dc)
                if table is not None:
                    ht = table[((vr - 1) // k + 1) * bpw + (vc - 1) // k + 1]
                    if ht == inf:
                        continue
                    if ht > h:
                        h = ht
                h *= tie_break
                g[v] = gv
                parent[v] = u
                push(heap, (gv + h, h, v))
    if g[t] == inf:
        return None
    path = []
    node = t
    while node != -1:
        path.append(node)
        node = parent[node]
    path.reverse()
    return path


def _dijkstra_flat(cost: list[float], pw: int, t: int) -> list[float]:
    """Cost-to-go to ``t`` from every cell of a flat, inf-bordered cost list (same moves as A*)."""
    moves = _moves(pw)
    inf = math.inf
    dist = [inf] * len(cost)
    dist[t] = 0.0
    heap = [(0.0, t)]
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        du, u = pop(heap)
        if du > dist[u]:
            continue
        cu = cost[u]
        for off, length, o1, o2 in moves:
            v = u + off
            cv = cost[v]
            if cv == inf:
                continue
            if o1 and (cost[u + o1] == inf or cost[u + o2] == inf):
                continue
            dv = du + 0.5 * (cu + cv) * length
            if dv < dist[v]:
                dist[v] = dv
                push(heap, (dv, v))
    return dist


def plan_path(
    grid: OccupancyGrid,
    start_xy: Sequence[float],
    goal_xy: Sequence[float],
    robot_radius: float,
    **planner_options: float,
) -> PlannedPath:
    """One-off convenience: build a :class:`GridPlanner` and plan once (reuse a planner for many queries)."""
    return GridPlanner(grid, robot_radius, **planner_options).plan(start_xy, goal_xy)


def standing_pose_near(
    grid: OccupancyGrid,
    target_xy: Sequence[float],
    robot_radius: float,
    standoff: float = 0.1,
    *,
    from_xy: Sequence[float] | None = None,
) -> Pose2D:
    """The nearest reachable pose facing ``target_xy`` with ``standoff`` metres of free space around it."""
    return GridPlanner(grid, robot_radius).standing_pose_near(target_xy, standoff, from_xy=from_xy)
