"""The PyBullet home simulation: the world every demo and test runs in.

Importing ``sim`` (or ``sim.home_layout``) does not import PyBullet; the simulator classes load on
first attribute access so that cloud-side code can read the home layout without a physics engine.
"""

from __future__ import annotations

import importlib
from typing import Any

from sim.home_layout import HomeLayout, LayoutError, load_home_layout

__all__ = [
    "CameraConfig",
    "CameraFrame",
    "CollisionEvent",
    "DockState",
    "HomeLayout",
    "HomeNavEnv",
    "HomeSim",
    "LaserScanData",
    "LayoutError",
    "LidarConfig",
    "Odometry",
    "SimError",
    "SimEvent",
    "draw_top_down",
    "load_home_layout",
]

_LAZY = {
    "HomeSim": "sim.home_sim",
    "SimError": "sim.home_sim",
    "HomeNavEnv": "sim.nav_env",
    "draw_top_down": "sim.snapshot",
    "CameraConfig": "sim.sensors",
    "CameraFrame": "sim.sensors",
    "CollisionEvent": "sim.sensors",
    "DockState": "sim.sensors",
    "LaserScanData": "sim.sensors",
    "LidarConfig": "sim.sensors",
    "Odometry": "sim.sensors",
    "SimEvent": "sim.sensors",
}


def __getattr__(name: str) -> Any:
    """Load simulator classes (and PyBullet) only when they are first used."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
