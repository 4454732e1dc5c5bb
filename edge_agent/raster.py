"""Raster operations the edge's planners and perception share (pure numpy, no SciPy).

SciPy is not a project dependency, so the three image operations the executive needs are written here
once: a Euclidean distance transform (clearance maps for path costs and coverage), connected-component
labelling (reachable free space, colour blobs) and rasterising a polygon onto grid cells (room floors).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["distance_to_mask", "label_components", "polygon_mask"]


def distance_to_mask(mask: np.ndarray, max_distance: float, *, outside_is_mask: bool = True) -> np.ndarray:
    """Euclidean distance, in cells, from every cell centre to the nearest ``True`` cell centre.

    Exact for distances up to ``max_distance`` and clipped to ``max_distance`` beyond it: the planners
    only care about clearance up to a few robot radii, and the truncation keeps the transform to a few
    vectorised passes (first along columns, then a windowed minimum along rows).

    Args:
        mask: boolean array (H, W); ``True`` marks the cells distances are measured to.
        max_distance: largest distance of interest, in cells.
        outside_is_mask: treat the ring of cells just outside the array as ``True`` (an occupancy
            grid's outside counts as occupied).

    Returns:
        float64 array (H, W) of distances in cells, 0 on ``mask`` cells.
    """
    mask = np.asarray(mask, dtype=bool)
    if outside_is_mask:
        mask = np.pad(mask, 1, constant_values=True)
    h, w = mask.shape
    reach = int(np.ceil(max_distance)) + 1
    big = float(reach + 1)
    rows = np.arange(h, dtype=np.float64)[:, None]
    # Vertical distance to the nearest mask cell in the same column (forward and backward sweeps).
    above = np.where(mask, rows, -np.inf)
    np.maximum.accumulate(above, axis=0, out=above)
    below = np.where(mask, rows, np.inf)
    below = np.minimum.accumulate(below[::-1], axis=0)[::-1]
    vertical = np.minimum(rows - above, below - rows)
    np.minimum(vertical, big, out=vertical)
    vertical_sq = vertical * vertical
    # Horizontal pass: d^2(i, j) = min_k k^2 + v^2(i, j + k) over the window |k| <= reach.
    padded = np.pad(vertical_sq, ((0, 0), (reach, reach)), constant_values=big * big)
    best = vertical_sq.copy()
    for k in range(1, reach + 1):
        kk = float(k * k)
        np.minimum(best, padded[:, reach + k : reach + k + w] + kk, out=best)
        np.minimum(best, padded[:, reach - k : reach - k + w] + kk, out=best)
    dist = np.sqrt(best)
    np.minimum(dist, max_distance, out=dist)
    if outside_is_mask:
        dist = dist[1:-1, 1:-1]
    return dist


def label_components(mask: np.ndarray, *, connectivity: int = 8) -> tuple[np.ndarray, int]:
    """Label the connected components of ``True`` cells (run-length union-find).

    Rows are split into runs of ``True`` cells and overlapping runs of adjacent rows are merged, so the
    Python-level work scales with the number of runs (a few thousand for a home), not with cells.

    Args:
        mask: boolean array (H, W).
        connectivity: 4 or 8.

    Returns:
        ``(labels, count)``: int32 array with 0 for background and 1..count per component.
    """
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    labels = np.zeros((h, w), dtype=np.int32)
    if not mask.any():
        return labels, 0
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    start_r, start_c = np.nonzero(edges == 1)
    end_r, end_c = np.nonzero(edges == -1)
    # np.nonzero walks row-major, so starts and ends pair up run by run.
    run_rows = start_r.tolist()
    run_starts = start_c.tolist()
    run_ends = end_c.tolist()  # exclusive
    n_runs = len(run_rows)
    parent = list(range(n_runs))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    slack = 1 if connectivity == 8 else 0
    row_first = np.searchsorted(start_r, np.arange(h + 1)).tolist()
    for r in range(h - 1):
        a, a_end = row_first[r], row_first[r + 1]
        b, b_end = row_first[r + 1], row_first[r + 2]
        while a < a_end and b < b_end:
            if run_starts[b] < run_ends[a] + slack and run_starts[a] < run_ends[b] + slack:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if run_ends[a] < run_ends[b]:
                a += 1
            else:
                b += 1
    roots = np.fromiter((find(i) for i in range(n_runs)), dtype=np.int64, count=n_runs)
    _, run_label = np.unique(roots, return_inverse=True)
    run_label = run_label.astype(np.int32) + 1
    lengths = end_c - start_c
    offsets = np.repeat(start_r * w + start_c - np.cumsum(lengths) + lengths, lengths)
    flat_index = np.arange(int(lengths.sum())) + offsets
    labels.reshape(-1)[flat_index] = np.repeat(run_label, lengths)
    return labels, int(run_label.max())


def polygon_mask(
    polygon: Sequence[tuple[float, float]],
    xs: np.ndarray,
    ys: np.ndarray,
) -> np.ndarray:
    """Boolean mask of the points ``(xs, ys)`` (broadcast arrays) inside ``polygon`` (even-odd rule).

    Args:
        polygon: vertices in order, not repeated at the end.
        xs: x coordinates of the query points.
        ys: y coordinates of the query points.
    """
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    inside = np.zeros(np.broadcast(xs, ys).shape, dtype=bool)
    pts = [(float(x), float(y)) for x, y in polygon]
    for i, (x1, y1) in enumerate(pts):
        x2, y2 = pts[(i + 1) % len(pts)]
        if y1 == y2:
            continue
        crosses = (y1 > ys) != (y2 > ys)
        x_at = x1 + (ys - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (xs < x_at)
    return inside
