"""``look_for``'s eyes: find an object of a named colour in an RGB-D frame and locate it in the map.

The home's objects are told apart by colour (the red cup, the blue cup, the yellow duck), so a classic
pipeline is enough and runs in a millisecond on a 160x120 frame: HSV thresholds per colour name, the
connected components of the mask, tiny and background-sized blobs rejected, then the blob's pixels
back-projected through their depth with the pinhole intrinsics and the camera pose.

Depth only sees the front of an object, and the centre of a 7 cm cup lies 3.5 cm behind its visible
surface, more than the 3 cm the skills need. So for solid objects (the default) the centre is placed
one estimated radius behind the nearest visible surface along the horizontal viewing direction, the
radius coming from the blob's width in metres; the height is the middle of the visible vertical
extent. ``solid=False`` returns the visible surface's centre instead (flat things: a poster, a disc).

Conventions: the camera pose is the 4x4 transform of the optical frame (OpenCV: x right, y down,
z forward) in the map frame; depth is metres along the optical axis (z), as the simulation converts
OpenGL/TinyRenderer depth buffers; pixel ``(u, v)`` has its centre at integer coordinates.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_agent.raster import label_components

__all__ = [
    "COLOUR_RANGES",
    "CameraIntrinsics",
    "ColourRange",
    "ObjectSighting",
    "colour_mask",
    "locate_object",
    "rgb_to_hsv",
]


@dataclass(frozen=True)
class ColourRange:
    """An HSV box for one colour name: hue ranges in degrees (may wrap), saturation and value bounds."""

    hues: tuple[tuple[float, float], ...] = ((0.0, 360.0),)
    s_min: float = 0.0
    s_max: float = 1.0
    v_min: float = 0.0
    v_max: float = 1.0


COLOUR_RANGES: dict[str, ColourRange] = {
    "red": ColourRange(((0.0, 14.0), (340.0, 360.0)), s_min=0.45, v_min=0.2),
    "orange": ColourRange(((15.0, 40.0),), s_min=0.5, v_min=0.35),
    "yellow": ColourRange(((41.0, 72.0),), s_min=0.45, v_min=0.35),
    "green": ColourRange(((75.0, 165.0),), s_min=0.35, v_min=0.15),
    "blue": ColourRange(((195.0, 255.0),), s_min=0.4, v_min=0.15),
    "white": ColourRange(s_max=0.1, v_min=0.5),
    "black": ColourRange(v_max=0.2),
}
"""Thresholds per colour name of the scene graph, wide enough for TinyRenderer's diffuse shading."""


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics in pixels."""

    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_fov(cls, width: int, height: int, vertical_fov_deg: float) -> CameraIntrinsics:
        """Square pixels, principal point at the image centre, from the vertical field of view."""
        f = (height / 2.0) / math.tan(math.radians(vertical_fov_deg) / 2.0)
        return cls(f, f, (width - 1) / 2.0, (height - 1) / 2.0)


@dataclass(frozen=True)
class ObjectSighting:
    """An object found in a frame.

    Attributes:
        position: estimated map-frame centre (x, y, z) of the object.
        pixel_count: pixels of the blob.
        bbox: ``(u_min, v_min, u_max, v_max)`` in pixels, inclusive.
        confidence: 0..1, from the blob's size and how much of it has valid depth; halved when the
            blob is cut by the image border (partly out of view).
        radius_m: estimated horizontal radius of the object (half its visible width).
    """

    position: tuple[float, float, float]
    pixel_count: int
    bbox: tuple[int, int, int, int]
    confidence: float
    radius_m: float = 0.0


def rgb_to_hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), saturation and value in [0, 1], from an HxWx3 uint8 (or float 0..1) image."""
    arr = np.asarray(rgb)
    img = arr.astype(np.float64) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float64)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    value = img.max(axis=-1)
    chroma = value - img.min(axis=-1)
    sat = np.where(value > 0, chroma / np.where(value > 0, value, 1.0), 0.0)
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(
        value == r,
        ((g - b) / safe) % 6.0,
        np.where(value == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
    )
    hue = np.where(chroma > 0, hue * 60.0, 0.0) % 360.0
    return hue, sat, value


def colour_mask(rgb: np.ndarray, colour: str) -> np.ndarray:
    """Boolean HxW mask of the pixels of a named colour (see ``COLOUR_RANGES``).

    Raises:
        KeyError: the colour name is not known.
    """
    spec = COLOUR_RANGES[colour.lower()]
    hue, sat, val = rgb_to_hsv(rgb)
    in_hue = np.zeros(hue.shape, dtype=bool)
    for lo, hi in spec.hues:
        in_hue |= (hue >= lo) & (hue <= hi)
    return in_hue & (sat >= spec.s_min) & (sat <= spec.s_max) & (val >= spec.v_min) & (val <= spec.v_max)


def locate_object(
    rgb: np.ndarray,
    depth: np.ndarray,
    colour: str,
    intrinsics: CameraIntrinsics,
    camera_to_map: np.ndarray,
    *,
    min_pixels: int = 12,
    max_fraction: float = 0.35,
    min_depth_m: float = 0.35,
    max_depth_m: float = 3.0,
    solid: bool = True,
    near_xy: Sequence[float] | None = None,
) -> ObjectSighting | None:
    """Find the object of ``colour`` in the frame and estimate its map-frame centre.

    Args:
        rgb: HxWx3 uint8 image.
        depth: HxW depth in metres along the optical axis (0, negative, NaN or inf = no reading).
        colour: a colour name of ``COLOUR_RANGES``.
        intrinsics: pinhole intrinsics of the frame.
        camera_to_map: 4x4 transform of the optical frame in the map frame.
        min_pixels: smaller blobs are noise or too far to locate well.
        max_fraction: blobs covering more of the image are background (a white wall, a dark doorway).
        min_depth_m: nearer pixels are ignored: the robot's own arm and body, or too close to locate.
        max_depth_m: farther pixels are ignored: other rooms' furniture, too small to locate well.
        solid: the object is round-ish and solid: place the centre behind the visible surface.
        near_xy: prefer the blob closest to this map point (where the object should be) over the largest.

    Returns:
        The sighting, or None when no acceptable blob of that colour (with depth) is in view.
    """
    depth = np.asarray(depth, dtype=np.float64)
    valid_depth = np.isfinite(depth) & (depth > 0)
    # Pixels without depth stay in the mask (the blob's shape still counts); out-of-range ones do not.
    in_range = ~valid_depth | ((depth >= min_depth_m) & (depth <= max_depth_m))
    mask = colour_mask(rgb, colour) & in_range
    labels, count = label_components(mask, connectivity=8)
    if count == 0:
        return None
    sizes = np.bincount(labels.reshape(-1), minlength=count + 1)
    limit = max_fraction * mask.size
    candidates = [k for k in range(1, count + 1) if min_pixels <= sizes[k] <= limit]
    if not candidates:
        return None
    # Prefer blobs seen whole: one cut by the image border is partly out of view (its centre would be
    # off) or is the robot's own arm or bumper in the bottom of the frame. Then the largest.
    edge = np.zeros_like(mask)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    cut = set(np.unique(labels[edge & mask]).tolist())
    candidates.sort(key=lambda k: (k in cut, -sizes[k]))
    sightings = []
    for k in candidates[: 1 if near_xy is None else 6]:
        sighting = _locate_blob(labels == k, depth, valid_depth, intrinsics, np.asarray(camera_to_map), solid,
                                min_pixels)
        if sighting is not None:
            if k in cut:
                sighting = dataclasses.replace(sighting, confidence=0.5 * sighting.confidence)
            sightings.append(sighting)
            if near_xy is None:
                break
    if not sightings:
        return None
    if near_xy is None:
        return sightings[0]
    nx, ny = float(near_xy[0]), float(near_xy[1])
    return min(sightings, key=lambda s: math.hypot(s.position[0] - nx, s.position[1] - ny))


def _locate_blob(
    blob: np.ndarray,
    depth: np.ndarray,
    valid_depth: np.ndarray,
    intr: CameraIntrinsics,
    camera_to_map: np.ndarray,
    solid: bool,
    min_pixels: int,
) -> ObjectSighting | None:
    vs, us = np.nonzero(blob)
    bbox = (int(us.min()), int(vs.min()), int(us.max()), int(vs.max()))
    pixel_count = int(len(us))
    has_depth = valid_depth[vs, us]
    if int(has_depth.sum()) < max(3, min_pixels // 2):
        return None
    us, vs = us[has_depth], vs[has_depth]
    z = depth[vs, us]
    # Drop pixels whose depth is far from the blob's (a same-coloured thing further back, bleeding).
    median = float(np.median(z))
    spread = max(0.15, 3.0 * float(np.median(np.abs(z - median))))
    near = np.abs(z - median) <= spread
    us, vs, z = us[near], vs[near], z[near]
    cam = np.stack([(us - intr.cx) * z / intr.fx, (vs - intr.cy) * z / intr.fy, z, np.ones_like(z)])
    world = (camera_to_map @ cam)[:3].T
    pixel_m = float(np.median(z)) / intr.fx  # size of one pixel at the object's distance
    forward = camera_to_map[:3, 2]
    horizontal = np.array([forward[0], forward[1]])
    norm = float(np.hypot(*horizontal))
    if norm > 1e-6:
        along = horizontal / norm
        across = np.array([-along[1], along[0]])
        a = world[:, :2] @ along
        b = world[:, :2] @ across
        b_lo, b_hi = np.percentile(b, [2.0, 98.0])
        radius = 0.5 * float(b_hi - b_lo) + 0.5 * pixel_m
        if solid:
            a_front = float(np.percentile(a, 5.0))
            a_centre = a_front + radius
            b_centre = 0.5 * float(b_lo + b_hi)
        else:
            a_centre, b_centre = float(np.median(a)), float(np.median(b))
        xy = a_centre * along + b_centre * across
    else:  # looking straight down: the blob's footprint is what is seen
        x_lo, x_hi = np.percentile(world[:, 0], [2.0, 98.0])
        y_lo, y_hi = np.percentile(world[:, 1], [2.0, 98.0])
        radius = 0.25 * float((x_hi - x_lo) + (y_hi - y_lo)) + 0.5 * pixel_m
        xy = np.array([0.5 * (x_lo + x_hi), 0.5 * (y_lo + y_hi)])
    if solid:
        z_lo, z_hi = np.percentile(world[:, 2], [2.0, 98.0])
        height = 0.5 * float(z_lo + z_hi)
    else:
        height = float(np.median(world[:, 2]))
    confidence = min(1.0, pixel_count / (4.0 * min_pixels)) * float(near.mean()) * float(has_depth.mean())
    return ObjectSighting(
        position=(float(xy[0]), float(xy[1]), height),
        pixel_count=pixel_count,
        bbox=bbox,
        confidence=confidence,
        radius_m=radius,
    )
