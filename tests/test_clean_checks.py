"""The clean-living-room checks (reflexarc.demo.scenarios): what counts as floor the vacuum had to clean."""

from __future__ import annotations

import pytest

from edge_agent.coverage import plan_coverage
from edge_agent.skills.navigation import planning_grid
from reflexarc.demo.scenarios import GroundTruthLog, get_scenario
from reflexarc.occupancy_grid import OrientedBox
from sim.home_layout import load_home_layout

ROBOT1_PARKED = [6.0, 4.1, 0.0]  # robot1's dock in the living room's corner


@pytest.fixture(scope="module")
def home():
    layout = load_home_layout()
    return layout.scene_graph(), layout.occupancy_grid()


def _log(route, robot1_pose) -> GroundTruthLog:
    log = GroundTruthLog()
    for x, y in route:
        log.add({"robots": {"vacuum1": {"pose": [x, y, 0.0]}, "robot1": {"pose": robot1_pose}}, "collisions": []})
    return log


def test_floor_under_and_behind_a_parked_robot_does_not_count_against_the_vacuum(home):
    scene, grid = home
    room = scene.get("living_room")
    around_robot1 = planning_grid(grid, scene).with_boxes([OrientedBox(6.0, 4.1, 0.6, 0.6)])
    route = plan_coverage(around_robot1, room.polygon, 0.17, start_xy=(8.0, 5.0)).waypoints
    scenario = get_scenario("clean-living-room")

    parked = scenario.evaluate(_log(route, ROBOT1_PARKED), scene, grid)["coverage"].value
    elsewhere = scenario.evaluate(_log(route, [2.0, 2.0, 0.0]), scene, grid)["coverage"].value

    assert parked > elsewhere
    assert parked >= 0.99
