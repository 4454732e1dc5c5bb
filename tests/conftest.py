"""Shared fixtures: isolated ROS 2 domains, the repo root, subprocess environments."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests assert behaviour, never speed (speed is measured by `reflexarc bench`): a CI core shared
# with other jobs must not fail an example for taking longer than hypothesis's default 200 ms deadline.
settings.register_profile("reflexarc", deadline=None)
settings.load_profile("reflexarc")

REPO_ROOT = Path(__file__).resolve().parent.parent
_domain_counter = itertools.count()


def _fresh_domain_id() -> int:
    """A ROS domain id unlikely to collide with other test runs on this machine (valid range 1..101)."""
    return 1 + (os.getpid() * 7 + next(_domain_counter)) % 100


@pytest.fixture(autouse=True, scope="session")
def _ros_localhost_only():
    """Keep every ROS 2 participant of the test run (this process included) on localhost."""
    previous = os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE")
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    yield
    if previous is None:
        os.environ.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)
    else:
        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = previous


@pytest.fixture
def ros_domain_id() -> int:
    """A domain id for this test alone, so concurrent test runs never see each other's topics."""
    return _fresh_domain_id()


@pytest.fixture
def ros_env(ros_domain_id: int) -> dict[str, str]:
    """Environment for child processes that talk ROS 2 over Fast DDS on localhost only."""
    env = dict(os.environ)
    env.update(
        ROS_DOMAIN_ID=str(ros_domain_id),
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
        RMW_IMPLEMENTATION="rmw_fastrtps_cpp",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def python_exe() -> str:
    """The interpreter running the tests (the project venv)."""
    return sys.executable
