"""Skills against a fake RobotInterface: the decisions skills make, without processes.

The fake is the ONE test double of the edge stack: it stands in for sim_node + reflex_node so these
tests can check where a skill decides to stand, when a pick counts as failed, and which contingency
runs. The real interface (ROS topics and services) is exercised end to end in test_executive_node.py
and test_scenarios.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from edge_agent.skills import (
    ArmResult,
    CameraView,
    Detection,
    NavigateTo,
    Pick,
    SkillContext,
    SkillFailure,
    SkillRunner,
    StepStatus,
)
from reflexarc.occupancy_grid import OccupancyGrid
from reflexarc.scene_graph import Pose2D, SceneGraph
from sim.home_layout import load_home_layout


@pytest.fixture(scope="module")
def home() -> tuple[SceneGraph, OccupancyGrid]:
    layout = load_home_layout()
    return layout.scene_graph(), layout.occupancy_grid()


@dataclass
class FakeRobot:
    """Drives by teleporting to the last waypoint; records every call the skills make."""

    scene_graph: SceneGraph
    occupancy: OccupancyGrid
    robot_id: str = "robot1"
    robot_radius: float = 0.25
    current: Pose2D = Pose2D(6.0, 4.1, 0.0)
    grip_result: tuple[bool, str] = (True, "cup_red")
    arm_ok: bool = True
    cargo_ok: bool = True
    camera_view: CameraView | None = None
    calls: list[tuple[str, Any]] = field(default_factory=list)
    paths: list[list[tuple[float, float]]] = field(default_factory=list)
    skips: list[bool] = field(default_factory=list)
    others: dict[str, tuple[float, float]] = field(default_factory=dict)
    gripper_closed: bool = False
    arm_folded: bool = True

    def scene(self) -> SceneGraph:
        return self.scene_graph

    def grid(self) -> OccupancyGrid:
        return self.occupancy

    def pose(self) -> Pose2D:
        return self.current

    def drive_path(self, waypoints: Sequence[tuple[float, float]], *, tolerance: float = 0.15,
                   timeout_s: float = 120.0, skip_unreachable: bool = False, follow_exactly: bool = False) -> bool:
        points = [(self.current.x, self.current.y), *[tuple(map(float, p)) for p in waypoints]]
        self.paths.append(points[1:])
        self.skips.append(skip_unreachable)
        (x0, y0), (x1, y1) = points[-2], points[-1]
        self.current = Pose2D(x1, y1, math.atan2(y1 - y0, x1 - x0))
        self.calls.append(("drive", points[-1]))
        return True

    def hold(self) -> None:
        self.calls.append(("hold", None))

    def other_robots(self) -> Mapping[str, tuple[float, float]]:
        return self.others

    def camera(self) -> CameraView | None:
        return self.camera_view

    def arm_move(self, xyz: tuple[float, float, float], timeout_s: float = 20.0) -> ArmResult:
        self.calls.append(("arm", xyz))
        self.arm_folded = False
        return ArmResult(self.arm_ok, "" if self.arm_ok else "out of reach", xyz)

    def arm_home(self) -> bool:
        self.calls.append(("arm_home", None))
        self.arm_folded = True
        return True

    def gripper(self, close: bool) -> tuple[bool, str]:
        self.calls.append(("gripper", close))
        self.gripper_closed = close
        return self.grip_result if close else (True, "")

    def cargo(self, load: bool) -> tuple[bool, str]:
        self.calls.append(("cargo", load))
        return self.cargo_ok, "luggage" if self.cargo_ok else "nothing within reach"

    def set_device(self, device: str, state: str, timeout_s: float = 10.0) -> tuple[bool, str]:
        self.calls.append(("set_device", (device, state)))
        return True, ""

    def dock_state(self) -> Mapping[str, Any]:
        return {"docked": True}

    def say(self, text: str) -> None:
        self.calls.append(("say", text))

    def sleep(self, seconds: float) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def record_detection(self, detection: Detection) -> None:
        self.calls.append(("detection", detection.object_id))


@dataclass
class Step:
    """A plan step as the runner sees it."""

    skill: str
    args: dict[str, Any]
    robot: str = "robot1"
    on_failure: tuple[Step, ...] = ()


def _cup_detection(scene: SceneGraph) -> Detection:
    cup = scene.get("cup_red")
    return Detection("cup_red", tuple(cup.position), (10, 10, 20, 30), 120, 0.9)


def _facing_error(pose: Pose2D, target: tuple[float, float]) -> float:
    bearing = math.atan2(target[1] - pose.y, target[0] - pose.x)
    return abs(math.atan2(math.sin(bearing - pose.yaw), math.cos(bearing - pose.yaw)))


def test_navigate_to_furniture_stands_next_to_it_facing_it(home):
    scene, grid = home
    robot = FakeRobot(scene, grid)
    result = NavigateTo().run(SkillContext(robot), {"target": "kitchen_counter"})
    counter = scene.get("kitchen_counter")
    pose = robot.pose()
    front_edge_y = counter.pose.y - counter.size[1] / 2
    assert result.success
    assert grid.inflate(robot.robot_radius).is_free(pose.x, pose.y)
    assert counter.pose.x - counter.size[0] / 2 <= pose.x <= counter.pose.x + counter.size[0] / 2
    assert 0.0 < front_edge_y - pose.y < robot.robot_radius + 0.3
    assert _facing_error(pose, (counter.pose.x, counter.pose.y)) < math.radians(20)


def test_navigate_to_room_ends_inside_that_room(home):
    scene, grid = home
    robot = FakeRobot(scene, grid)
    NavigateTo().run(SkillContext(robot), {"target": "bedroom"})
    assert scene.room_at(robot.pose().x, robot.pose().y).id == "bedroom"


def test_navigate_to_room_keeps_clear_of_a_robot_already_standing_there(home):
    scene, grid = home
    room = scene.get("entrance")
    xs, ys = zip(*room.polygon, strict=True)
    centre = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    robot = FakeRobot(scene, grid, robot_id="dog1", robot_radius=0.3, current=Pose2D(6.2, 0.6, 0.0),
                      others={"robot1": centre})
    NavigateTo().run(SkillContext(robot), {"target": "entrance"})
    assert scene.room_at(robot.pose().x, robot.pose().y).id == "entrance"
    assert math.dist((robot.pose().x, robot.pose().y), centre) >= 1.2


def test_navigate_to_person_keeps_a_handover_distance(home):
    scene, grid = home
    robot = FakeRobot(scene, grid)
    NavigateTo().run(SkillContext(robot), {"target": "user"})
    user = scene.get("user").pose
    distance = math.hypot(robot.pose().x - user.x, robot.pose().y - user.y)
    assert 0.55 < distance < 1.1
    assert _facing_error(robot.pose(), (user.x, user.y)) < math.radians(20)


def test_pick_fails_cleanly_when_the_gripper_holds_nothing(home):
    scene, grid = home
    robot = FakeRobot(scene, grid, current=Pose2D(1.7, 7.9, math.pi / 2), grip_result=(False, ""))
    ctx = SkillContext(robot, detections={"cup_red": _cup_detection(scene)})
    with pytest.raises(SkillFailure, match="nothing"):
        Pick().run(ctx, {"object": "cup_red"})
    assert ctx.holding == ""
    assert robot.gripper_closed is False
    assert robot.arm_folded is True


def test_pick_succeeds_only_when_the_gripper_reports_the_object(home):
    scene, grid = home
    robot = FakeRobot(scene, grid, current=Pose2D(1.7, 7.9, math.pi / 2), grip_result=(True, "cup_red"))
    ctx = SkillContext(robot, detections={"cup_red": _cup_detection(scene)})
    result = Pick().run(ctx, {"object": "cup_red"})
    assert result.success
    assert ctx.holding == "cup_red"
    assert result.observed == {"cup_red.held_by": "robot1"}


def test_contingency_runs_when_the_object_is_not_where_expected(home):
    scene, grid = home
    robot = FakeRobot(scene, grid, camera_view=None)
    step = Step("look_for", {"object": "cup_red"}, on_failure=(
        Step("navigate_to", {"target": "dining_table"}),
        Step("say", {"text": "looking on the dining table"}),
    ))
    outcome = SkillRunner(SkillContext(robot)).run_step(step)
    table = scene.get("dining_table").pose
    assert outcome.status is StepStatus.RECOVERED
    assert ("cup_red", "not_found_on", "kitchen_counter") in outcome.facts
    assert math.hypot(robot.pose().x - table.x, robot.pose().y - table.y) < 1.3
    assert ("say", "looking on the dining table") in robot.calls


def test_step_fails_when_its_contingency_fails_too(home):
    scene, grid = home
    robot = FakeRobot(scene, grid, current=Pose2D(1.7, 7.9, math.pi / 2), grip_result=(False, ""))
    ctx = SkillContext(robot, detections={"cup_red": _cup_detection(scene)})
    step = Step("pick", {"object": "cup_red"}, on_failure=(Step("pick", {"object": "cup_red"}),))
    outcome = SkillRunner(ctx).run_step(step)
    assert outcome.status is StepStatus.FAILED
    assert sum(1 for call in robot.calls if call == ("gripper", True)) == 2


def test_set_device_refuses_a_state_the_device_does_not_allow(home):
    scene, grid = home
    robot = FakeRobot(scene, grid)
    outcome = SkillRunner(SkillContext(robot)).run_step(
        Step("set_device", {"device": "front_door_lock", "state": "unlocked"}))
    assert outcome.status is StepStatus.FAILED
    assert not any(call[0] == "set_device" for call in robot.calls)


def test_set_device_sends_thermostat_setpoint_as_the_device_shows_it(home):
    scene, grid = home
    robot = FakeRobot(scene, grid)
    outcome = SkillRunner(SkillContext(robot)).run_step(
        Step("set_device", {"device": "thermostat", "state": "22.0"}))
    assert outcome.status is StepStatus.SUCCEEDED
    assert ("set_device", ("thermostat", "22")) in robot.calls


def test_carry_loads_at_the_object_and_unloads_in_the_destination(home):
    scene, grid = home
    robot = FakeRobot(scene, grid, robot_id="dog1", robot_radius=0.3, current=Pose2D(6.2, 0.6, 0.0))
    outcome = SkillRunner(SkillContext(robot)).run_step(Step("carry", {"object": "luggage", "to": "entrance"},
                                                             robot="dog1"))
    cargo_calls = [c for c in robot.calls if c[0] == "cargo"]
    assert outcome.status is StepStatus.SUCCEEDED
    assert cargo_calls == [("cargo", True), ("cargo", False)]
    assert scene.room_at(robot.pose().x, robot.pose().y).id == "entrance"


def test_a_robot_without_the_capability_does_not_run_the_skill(home):
    scene, grid = home
    robot = FakeRobot(scene, grid, robot_id="vacuum1", robot_radius=0.17)
    runner = SkillRunner(SkillContext(robot), capabilities=("navigate_to", "clean_area", "dock", "wait"))
    outcome = runner.run_step(Step("pick", {"object": "cup_red"}, robot="vacuum1"))
    assert outcome.status is StepStatus.FAILED
    assert not any(call[0] in ("arm", "gripper") for call in robot.calls)


def test_clean_area_sweeps_the_room_and_skips_what_blocks_it(home):
    from edge_agent.coverage import coverage_fraction

    scene, grid = home
    room = scene.get("living_room")
    robot = FakeRobot(scene, grid, robot_id="vacuum1", robot_radius=0.17, current=Pose2D(7.0, 6.0, 0.0))
    outcome = SkillRunner(SkillContext(robot)).run_step(Step("clean_area", {"room": "living_room"}, robot="vacuum1"))
    route = robot.paths[-1]
    assert outcome.status is StepStatus.SUCCEEDED
    assert robot.skips[-1] is True
    assert coverage_fraction(grid, room.polygon, [(7.0, 6.0), *route], 0.17) >= 0.9
