"""A static 2D occupancy grid of the home for global planning (pure numpy, no simulator).

The simulation builds it from the home layout (walls, furniture footprints, floor-standing devices),
the edge's A* plans on it and the policy teachers read it as privileged state. Cells are indexed
``data[row, col]`` with ``row`` along +y and ``col`` along +x; ``origin_xy`` is the world position
of the lower-left corner of cell (0, 0). A cell is occupied (1) when its centre lies inside an
obstacle footprint; anything outside the grid counts as occupied.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["OccupancyGrid", "OrientedBox"]


@dataclass(frozen=True)
class OrientedBox:
    """A rectangle footprint in the plane: centre, ``length`` along ``yaw``, ``width`` across it."""

    cx: float
    cy: float
    length: float
    width: float
    yaw: float = 0.0

    def corners(self) -> np.ndarray:
        """The four corners, counter-clockwise, as a (4, 2) array."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        hl, hw = self.length / 2.0, self.width / 2.0
        local = np.array([[-hl, -hw], [hl, -hw], [hl, hw], [-hl, hw]])
        rot = np.array([[c, -s], [s, c]])
        return local @ rot.T + np.array([self.cx, self.cy])

    def contains(self, xs: np.ndarray, ys: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Boolean mask of the points (broadcast arrays) inside the rectangle grown by ``margin``."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        dx = np.asarray(xs, dtype=np.float64) - self.cx
        dy = np.asarray(ys, dtype=np.float64) - self.cy
        along = dx * c + dy * s
        across = -dx * s + dy * c
        return (np.abs(along) <= self.length / 2.0 + margin) & (np.abs(across) <= self.width / 2.0 + margin)

    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounds ``(xmin, ymin, xmax, ymax)``."""
        pts = self.corners()
        return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


@dataclass(frozen=True, eq=False)
class OccupancyGrid:
    """A 2D grid of occupied (1) and free (0) cells with world <-> cell transforms."""

    resolution: float
    origin_xy: tuple[float, float]
    data: np.ndarray

    def __post_init__(self) -> None:
        data = np.ascontiguousarray(self.data, dtype=np.uint8)
        if data.ndim != 2:
            raise ValueError(f"occupancy data must be 2D, got shape {data.shape}")
        if self.resolution <= 0:
            raise ValueError(f"resolution must be positive, got {self.resolution}")
        data = (data != 0).astype(np.uint8)
        data.setflags(write=False)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "origin_xy", (float(self.origin_xy[0]), float(self.origin_xy[1])))
        object.__setattr__(self, "resolution", float(self.resolution))

    # ----------------------------------------------------------------------------------- geometry
    @property
    def height(self) -> int:
        """Number of rows (cells along y)."""
        return int(self.data.shape[0])

    @property
    def width(self) -> int:
        """Number of columns (cells along x)."""
        return int(self.data.shape[1])

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """World extent ``(xmin, xmax, ymin, ymax)`` (the order matplotlib's ``imshow`` wants)."""
        x0, y0 = self.origin_xy
        return x0, x0 + self.width * self.resolution, y0, y0 + self.height * self.resolution

    def world_to_cell(self, x: float, y: float) -> tuple[int, int]:
        """The ``(row, col)`` of the cell containing the world point (may be out of bounds)."""
        col = math.floor((x - self.origin_xy[0]) / self.resolution)
        row = math.floor((y - self.origin_xy[1]) / self.resolution)
        return int(row), int(col)

    def cell_to_world(self, row: int, col: int) -> tuple[float, float]:
        """The world position of the centre of cell ``(row, col)``."""
        return (
            self.origin_xy[0] + (col + 0.5) * self.resolution,
            self.origin_xy[1] + (row + 0.5) * self.resolution,
        )

    def in_bounds(self, row: int, col: int) -> bool:
        """Whether the cell index lies inside the grid."""
        return 0 <= row < self.height and 0 <= col < self.width

    def is_free(self, x: float, y: float) -> bool:
        """Whether the world point lies in a free cell (outside the grid is not free)."""
        row, col = self.world_to_cell(x, y)
        return self.in_bounds(row, col) and self.data[row, col] == 0

    def occupied_at(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Vectorised occupancy of world points; points outside the grid count as occupied."""
        cols = np.floor((np.asarray(xs, dtype=np.float64) - self.origin_xy[0]) / self.resolution).astype(np.int64)
        rows = np.floor((np.asarray(ys, dtype=np.float64) - self.origin_xy[1]) / self.resolution).astype(np.int64)
        inside = (rows >= 0) & (rows < self.height) & (cols >= 0) & (cols < self.width)
        result = np.ones(np.broadcast(rows, cols).shape, dtype=bool)
        result[inside] = self.data[rows[inside], cols[inside]] != 0
        return result

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """World x and y of every cell centre, each shaped like ``data``."""
        xs = self.origin_xy[0] + (np.arange(self.width) + 0.5) * self.resolution
        ys = self.origin_xy[1] + (np.arange(self.height) + 0.5) * self.resolution
        gx, gy = np.meshgrid(xs, ys)
        return gx, gy

    # --------------------------------------------------------------------------------- operations
    def inflate(self, radius_m: float) -> OccupancyGrid:
        """A copy with every obstacle grown by ``radius_m`` (a disc), as a planner for a round robot needs."""
        if radius_m <= 0:
            return self
        r_cells = int(math.floor(radius_m / self.resolution + 1e-9))
        src = self.data.astype(bool)
        out = src.copy()
        h, w = src.shape
        for di in range(-r_cells, r_cells + 1):
            for dj in range(-r_cells, r_cells + 1):
                if (di == 0 and dj == 0) or math.hypot(di, dj) > radius_m / self.resolution + 1e-9:
                    continue
                # out[i, j] |= src[i - di, j - dj]
                dst_rows = slice(max(di, 0), h + min(di, 0))
                src_rows = slice(max(-di, 0), h - max(di, 0))
                dst_cols = slice(max(dj, 0), w + min(dj, 0))
                src_cols = slice(max(-dj, 0), w - max(dj, 0))
                out[dst_rows, dst_cols] |= src[src_rows, src_cols]
        return OccupancyGrid(self.resolution, self.origin_xy, out.astype(np.uint8))

    def with_boxes(self, boxes: Iterable[OrientedBox]) -> OccupancyGrid:
        """A copy with the given footprints marked occupied (cells whose centre lies inside)."""
        data = self.data.copy()
        for box in boxes:
            xmin, ymin, xmax, ymax = box.bounds()
            r0, c0 = self.world_to_cell(xmin, ymin)
            r1, c1 = self.world_to_cell(xmax, ymax)
            r0, c0 = max(r0, 0), max(c0, 0)
            r1, c1 = min(r1, self.height - 1), min(c1, self.width - 1)
            if r0 > r1 or c0 > c1:
                continue
            xs = self.origin_xy[0] + (np.arange(c0, c1 + 1) + 0.5) * self.resolution
            ys = self.origin_xy[1] + (np.arange(r0, r1 + 1) + 0.5) * self.resolution
            gx, gy = np.meshgrid(xs, ys)
            # a cell centre exactly on an edge counts as inside (edges often fall on centres)
            data[r0 : r1 + 1, c0 : c1 + 1] |= box.contains(gx, gy, margin=1e-4).astype(np.uint8)
        return OccupancyGrid(self.resolution, self.origin_xy, data)

    @classmethod
    def empty(cls, bounds: tuple[float, float, float, float], resolution: float = 0.05) -> OccupancyGrid:
        """An all-free grid covering ``bounds = (xmin, ymin, xmax, ymax)``, origin snapped to the resolution."""
        xmin, ymin, xmax, ymax = bounds
        x0 = math.floor(xmin / resolution + 1e-9) * resolution
        y0 = math.floor(ymin / resolution + 1e-9) * resolution
        width = int(math.ceil((xmax - x0) / resolution - 1e-9))
        height = int(math.ceil((ymax - y0) / resolution - 1e-9))
        return cls(resolution, (round(x0, 9), round(y0, 9)), np.zeros((height, width), dtype=np.uint8))

    @classmethod
    def from_boxes(
        cls,
        boxes: Iterable[OrientedBox],
        bounds: tuple[float, float, float, float],
        resolution: float = 0.05,
    ) -> OccupancyGrid:
        """Rasterise obstacle footprints into a grid covering ``bounds = (xmin, ymin, xmax, ymax)``."""
        return cls.empty(bounds, resolution).with_boxes(boxes)

    # ------------------------------------------------------------------------------------ storage
    def save(self, path: str | Path) -> Path:
        """Write the grid as a compressed ``.npz`` (resolution, origin, data) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                resolution=np.float64(self.resolution),
                origin_xy=np.asarray(self.origin_xy, dtype=np.float64),
                data=self.data,
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> OccupancyGrid:
        """Read a grid written by :meth:`save`."""
        with np.load(Path(path)) as npz:
            return cls(float(npz["resolution"]), tuple(npz["origin_xy"].tolist()), npz["data"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OccupancyGrid):
            return NotImplemented
        return (
            self.resolution == other.resolution
            and self.origin_xy == other.origin_xy
            and np.array_equal(self.data, other.data)
        )

    __hash__ = None  # type: ignore[assignment]
