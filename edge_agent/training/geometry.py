"""Exact 2D geometry of the training world: ray casting and clearance against segments and circles.

Walls and furniture outlines are line segments, legs, clutter and people are circles. Everything is
vectorised over beams x primitives so one full 360-beam scan costs a handful of numpy calls.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-9


def cast_rays(
    origin: tuple[float, float],
    angles: np.ndarray,
    segments: np.ndarray,
    circles: np.ndarray,
    max_range: float,
) -> np.ndarray:
    """Distance along each world-frame ray angle to the first segment or circle, ``inf`` if none in range.

    Args:
        origin: ray origin (x, y).
        angles: world-frame ray angles, shape (N,).
        segments: (S, 4) rows x1, y1, x2, y2.
        circles: (C, 3) rows x, y, radius.
        max_range: rays report ``inf`` beyond this distance (no return).
    """
    ox, oy = origin
    dx = np.cos(angles)[:, None]
    dy = np.sin(angles)[:, None]
    best = np.full(angles.shape[0], np.inf)
    if segments.shape[0]:
        px = segments[None, :, 0] - ox
        py = segments[None, :, 1] - oy
        ex = (segments[:, 2] - segments[:, 0])[None, :]
        ey = (segments[:, 3] - segments[:, 1])[None, :]
        denom = dx * ey - dy * ex
        safe = np.where(np.abs(denom) < _EPS, np.nan, denom)
        s = (px * ey - py * ex) / safe
        t = (px * dy - py * dx) / safe
        hit = (s > 0.0) & (t >= 0.0) & (t <= 1.0)
        best = np.minimum(best, np.where(hit, s, np.inf).min(axis=1))
    if circles.shape[0]:
        cx = circles[None, :, 0] - ox
        cy = circles[None, :, 1] - oy
        b = dx * cx + dy * cy
        c = (cx * cx + cy * cy - circles[None, :, 2] ** 2)
        disc = b * b - c
        root = np.sqrt(np.maximum(disc, 0.0))
        s = np.where(c < 0.0, 0.0, b - root)  # origin inside a circle: immediate hit
        hit = (disc >= 0.0) & ((b - root > 0.0) | (c < 0.0))
        best = np.minimum(best, np.where(hit, s, np.inf).min(axis=1))
    return np.where(best <= max_range, best, np.inf)


def distance_to_segments(points: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Euclidean distance from each point (P, 2) to the nearest segment (S, 4); ``inf`` if there are none."""
    if segments.shape[0] == 0:
        return np.full(points.shape[0], np.inf)
    ax, ay = segments[None, :, 0], segments[None, :, 1]
    ex, ey = segments[None, :, 2] - ax, segments[None, :, 3] - ay
    qx, qy = points[:, 0:1] - ax, points[:, 1:2] - ay
    t = np.clip((qx * ex + qy * ey) / np.maximum(ex * ex + ey * ey, _EPS), 0.0, 1.0)
    return np.hypot(qx - t * ex, qy - t * ey).min(axis=1)


def distance_to_circles(points: np.ndarray, circles: np.ndarray) -> np.ndarray:
    """Distance from each point (P, 2) to the nearest circle boundary (C, 3), negative inside; ``inf`` if none."""
    if circles.shape[0] == 0:
        return np.full(points.shape[0], np.inf)
    d = np.hypot(points[:, 0:1] - circles[None, :, 0], points[:, 1:2] - circles[None, :, 1])
    return (d - circles[None, :, 2]).min(axis=1)


def segment_clearance(start: np.ndarray, end: np.ndarray, segments: np.ndarray, circles: np.ndarray) -> float:
    """Smallest distance from the straight path start->end to any primitive (sampled every 5 cm)."""
    n = max(2, int(np.ceil(np.hypot(*(end - start)) / 0.05)) + 1)
    points = start[None, :] + np.linspace(0.0, 1.0, n)[:, None] * (end - start)[None, :]
    return float(min(distance_to_segments(points, segments).min(), distance_to_circles(points, circles).min()))


def rectangle_segments(cx: float, cy: float, half_w: float, half_h: float) -> np.ndarray:
    """The four edges of an axis-aligned rectangle as (4, 4) segments."""
    x0, x1, y0, y1 = cx - half_w, cx + half_w, cy - half_h, cy + half_h
    return np.array([[x0, y0, x1, y0], [x1, y0, x1, y1], [x1, y1, x0, y1], [x0, y1, x0, y0]])
