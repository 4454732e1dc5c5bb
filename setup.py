"""Setuptools shim for colcon's ament_python build; all metadata lives in pyproject.toml.

colcon calls ``setup.py`` directly, so the ROS-specific install layout (the ament index marker,
``package.xml`` and the launch files under ``share/reflexarc``) is declared here.
"""

from pathlib import Path

from setuptools import setup

_PACKAGE = "reflexarc"
_LAUNCH_FILES = sorted(str(p) for p in Path("launch").glob("*.launch.xml"))

setup(
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{_PACKAGE}"]),
        (f"share/{_PACKAGE}", ["package.xml"]),
        (f"share/{_PACKAGE}/launch", _LAUNCH_FILES),
    ],
)
