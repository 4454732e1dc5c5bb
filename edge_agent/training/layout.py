"""Random home-like floor plans for the 2D training world.

A home is a rectangle of 6-10 m x 5-8 m split into 2-4 rooms by walls, each wall with one doorway of
0.8-1.0 m (the range of real interior doors). Rooms get furniture along the walls (sofas, beds,
cabinets: solid to a 2D lidar), a free-standing table with chairs (a lidar at 20 cm sees only their
3-5 cm legs), and floor clutter (toys, shoes, bags: 6-24 cm). Nothing is placed within 0.8 m of a
doorway so every doorway stays usable; the start/goal sampler still checks connectivity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_agent.training.geometry import rectangle_segments

_MIN_ROOM = 2.5
_DOOR_KEEPOUT = 0.8
_FURNITURE_GAP = 0.6


@dataclass(frozen=True)
class Door:
    """A doorway: the opening's centre, unit normal, half width and the two wall-end points."""

    centre: tuple[float, float]
    normal: tuple[float, float]
    half_width: float


@dataclass(frozen=True)
class HomeLayout:
    """Static geometry of one home: outline segments, solid rectangles, circles and doorways."""

    width: float
    height: float
    segments: np.ndarray
    solid_rects: np.ndarray
    circles: np.ndarray
    doors: tuple[Door, ...]
    rooms: tuple[tuple[float, float, float, float], ...]


def _rect_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean gap between two axis-aligned rectangles given as (cx, cy, hw, hh); 0 when they overlap."""
    dx = max(0.0, abs(a[0] - b[0]) - a[2] - b[2])
    dy = max(0.0, abs(a[1] - b[1]) - a[3] - b[3])
    return float(np.hypot(dx, dy))


def _near_door(rect: np.ndarray, doors: list[Door], keepout: float) -> bool:
    """True if a rectangle (cx, cy, hw, hh) comes within ``keepout`` of any doorway centre."""
    return any(_rect_gap(rect, np.array([d.centre[0], d.centre[1], 0.0, 0.0])) < keepout + d.half_width
               for d in doors)


def _split_rooms(rng: np.random.Generator, width: float, height: float) -> tuple[list, list, list]:
    """Recursively split the outline into rooms; returns rooms, wall segments and doors."""
    rooms = [(0.0, 0.0, width, height)]
    walls = [[0.0, 0.0, width, 0.0], [width, 0.0, width, height], [width, height, 0.0, height],
             [0.0, height, 0.0, 0.0]]
    doors: list[Door] = []
    for _ in range(int(rng.integers(1, 4))):
        candidates = [r for r in rooms if max(r[2] - r[0], r[3] - r[1]) >= 2 * _MIN_ROOM]
        if not candidates:
            break
        room = candidates[int(rng.integers(len(candidates)))]
        x0, y0, x1, y1 = room
        vertical = (x1 - x0) >= (y1 - y0)
        lo, hi = (x0, x1) if vertical else (y0, y1)
        along_lo, along_hi = (y0, y1) if vertical else (x0, x1)
        for _attempt in range(20):
            pos = float(rng.uniform(lo + _MIN_ROOM, hi - _MIN_ROOM))
            # The new wall must not end inside or next to an existing doorway.
            if all(abs((d.centre[0] if vertical else d.centre[1]) - pos) > d.half_width + 0.5 for d in doors
                   if abs(d.normal[1 if vertical else 0]) > 0.5):
                break
        else:
            continue
        half = float(rng.uniform(0.4, 0.5))
        centre = float(rng.uniform(along_lo + 0.5 + half, along_hi - 0.5 - half))
        if vertical:
            walls += [[pos, along_lo, pos, centre - half], [pos, centre + half, pos, along_hi]]
            doors.append(Door((pos, centre), (1.0, 0.0), half))
            rooms.remove(room)
            rooms += [(x0, y0, pos, y1), (pos, y0, x1, y1)]
        else:
            walls += [[along_lo, pos, centre - half, pos], [centre + half, pos, along_hi, pos]]
            doors.append(Door((centre, pos), (0.0, 1.0), half))
            rooms.remove(room)
            rooms += [(x0, y0, x1, pos), (x0, pos, x1, y1)]
    return rooms, walls, doors


def generate_layout(rng: np.random.Generator, clutter_per_room: tuple[int, int] = (0, 4)) -> HomeLayout:
    """Draw one random home from ``rng`` with between ``clutter_per_room`` floor items per room."""
    width = float(rng.uniform(6.0, 10.0))
    height = float(rng.uniform(5.0, 8.0))
    rooms, walls, doors = _split_rooms(rng, width, height)
    rects: list[np.ndarray] = []
    circles: list[list[float]] = []
    footprints: list[np.ndarray] = []  # everything placed so far, for spacing checks

    def fits(rect: np.ndarray, gap: float = _FURNITURE_GAP) -> bool:
        return not _near_door(rect, doors, _DOOR_KEEPOUT) and all(
            _rect_gap(rect, other) >= gap for other in footprints)

    for x0, y0, x1, y1 in rooms:
        # Solid furniture against a wall: sofa, bed, cabinet, shelf.
        for _ in range(int(rng.integers(0, 3))):
            side = int(rng.integers(4))
            span = (x1 - x0) if side in (0, 2) else (y1 - y0)
            length = float(rng.uniform(0.5, min(2.0, span - 0.6)))
            depth = float(rng.uniform(0.35, 0.9))
            t = float(rng.uniform(length / 2 + 0.05, span - length / 2 - 0.05))
            if side == 0:
                rect = np.array([x0 + t, y0 + depth / 2, length / 2, depth / 2])
            elif side == 2:
                rect = np.array([x0 + t, y1 - depth / 2, length / 2, depth / 2])
            elif side == 1:
                rect = np.array([x1 - depth / 2, y0 + t, depth / 2, length / 2])
            else:
                rect = np.array([x0 + depth / 2, y0 + t, depth / 2, length / 2])
            if fits(rect):
                rects.append(rect)
                footprints.append(rect)
        # A table with chairs: only legs are visible at lidar height.
        if rng.random() < 0.7:
            tw, td = float(rng.uniform(0.4, 0.8)), float(rng.uniform(0.3, 0.45))
            table = np.array([rng.uniform(x0 + tw + 0.7, max(x0 + tw + 0.71, x1 - tw - 0.7)),
                              rng.uniform(y0 + td + 0.7, max(y0 + td + 0.71, y1 - td - 0.7)), tw, td])
            chair_rects = []
            for cx_sign, cy_sign in ((0, -1), (0, 1), (-1, 0), (1, 0)):
                if rng.random() < 0.5:
                    s = float(rng.uniform(0.19, 0.225))
                    chair_rects.append(np.array([table[0] + cx_sign * (tw + s * 0.6), table[1] + cy_sign * (td + s * 0.6),
                                                 s, s]))
            group = [table, *chair_rects]
            envelope = np.array([table[0], table[1], tw + 0.6, td + 0.6])
            inside = x0 + 0.1 < table[0] - envelope[2] and table[0] + envelope[2] < x1 - 0.1 and \
                y0 + 0.1 < table[1] - envelope[3] and table[1] + envelope[3] < y1 - 0.1
            if inside and fits(envelope, gap=0.3):
                for piece in group:
                    leg = float(rng.uniform(0.015, 0.025))
                    for sx in (-1, 1):
                        for sy in (-1, 1):
                            circles.append([piece[0] + sx * (piece[2] - leg), piece[1] + sy * (piece[3] - leg), leg])
                footprints.append(envelope)
        # Floor clutter.
        for _ in range(int(rng.integers(clutter_per_room[0], clutter_per_room[1] + 1))):
            r = float(rng.uniform(0.03, 0.12))
            c = np.array([rng.uniform(x0 + r + 0.05, x1 - r - 0.05), rng.uniform(y0 + r + 0.05, y1 - r - 0.05), r, r])
            if fits(c, gap=0.45):
                circles.append([c[0], c[1], r])
                footprints.append(c)
    segs = [np.asarray(walls, dtype=np.float64).reshape(-1, 4)]
    segs += [rectangle_segments(*rect) for rect in rects]
    return HomeLayout(
        width=width,
        height=height,
        segments=np.concatenate(segs, axis=0),
        solid_rects=np.asarray(rects, dtype=np.float64).reshape(-1, 4),
        circles=np.asarray(circles, dtype=np.float64).reshape(-1, 3),
        doors=tuple(doors),
        rooms=tuple(rooms),
    )
