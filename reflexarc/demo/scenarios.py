"""The seed scenarios: what the person says, what happens meanwhile, and how success is judged.

Success is always read from the simulator's ground truth (``/sim/ground_truth``: robot poses, object
positions, device states, the collision log), never from the plan or the executive's own reports, so a
plan that "succeeded" while the cup lies on the kitchen floor fails the scenario.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from reflexarc.scene_graph import ROBOT_RADIUS_BY_KIND, SceneGraph

__all__ = [
    "SCENARIOS",
    "Check",
    "GroundTruthLog",
    "Scenario",
    "TOY_DROPPED_ID",
    "get_scenario",
]

CUP_TO_PERSON_MAX_M = 0.5
COVERAGE_MIN = 0.90
THERMOSTAT_TARGET = 22.0
TOY_DROPPED_ID = "toy_dropped"


@dataclass(frozen=True)
class Check:
    """One success criterion: its name, whether it passed, the measured value and the requirement."""

    name: str
    passed: bool
    value: Any
    requirement: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form for report.json."""
        return {"passed": bool(self.passed), "value": self.value, "requirement": self.requirement}


@dataclass
class GroundTruthLog:
    """Every ``/sim/ground_truth`` message of a run, with helpers the checks use.

    The message JSON (sim_node): ``{"time", "robots": {id: {"x","y","yaw", "docked"?}}, "objects":
    {id: {"position": [x,y,z], "held_by"?}}, "devices": {id: state}, "collisions": [...],
    "people": {id: {"x","y"}}}``. Reading is tolerant of small shape differences (lists of
    records with ``id``), so evaluation does not break on a cosmetic change.
    """

    samples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, sample: Mapping[str, Any]) -> None:
        """Record one message."""
        self.samples.append(dict(sample))

    @property
    def last(self) -> dict[str, Any]:
        """The latest message (empty before the first)."""
        return self.samples[-1] if self.samples else {}

    @staticmethod
    def _by_id(section: Any) -> dict[str, Any]:
        if isinstance(section, Mapping):
            return dict(section)
        if isinstance(section, list):
            return {str(item.get("id")): item for item in section if isinstance(item, Mapping)}
        return {}

    def robot_xy(self, sample: Mapping[str, Any], robot: str) -> tuple[float, float] | None:
        """A robot's position in one message."""
        entry = self._by_id(sample.get("robots")).get(robot)
        if not isinstance(entry, Mapping):
            return None
        if "pose" in entry and isinstance(entry["pose"], Mapping | list):
            pose = entry["pose"]
            return (float(pose["x"]), float(pose["y"])) if isinstance(pose, Mapping) else (float(pose[0]), float(pose[1]))
        if "x" in entry:
            return float(entry["x"]), float(entry["y"])
        if "position" in entry:
            return float(entry["position"][0]), float(entry["position"][1])
        return None

    def trajectory(self, robot: str) -> list[tuple[float, float]]:
        """A robot's path over the run."""
        points = [self.robot_xy(s, robot) for s in self.samples]
        return [p for p in points if p is not None]

    def timed_trajectory(self, robot: str) -> list[tuple[float, float, float]]:
        """A robot's path as (sim time s, x, y), for looking at where a run spent its time."""
        out = []
        for sample in self.samples:
            xy = self.robot_xy(sample, robot)
            t = sample.get("time")
            if xy is not None and isinstance(t, int | float):
                out.append((round(float(t), 3), round(xy[0], 4), round(xy[1], 4)))
        return out

    def object_position(self, object_id: str, sample: Mapping[str, Any] | None = None) -> tuple[float, ...] | None:
        """An object's position (latest message by default)."""
        sample = self.last if sample is None else sample
        entry = self._by_id(sample.get("objects")).get(object_id)
        if isinstance(entry, Mapping):
            pos = entry.get("position") or [entry.get("x"), entry.get("y"), entry.get("z", 0.0)]
            return tuple(float(v) for v in pos)
        if isinstance(entry, list | tuple):
            return tuple(float(v) for v in entry)
        return None

    def object_positions(self, object_id: str) -> list[tuple[float, ...]]:
        """An object's position in every message where it exists."""
        out = [self.object_position(object_id, s) for s in self.samples]
        return [p for p in out if p is not None]

    def device_state(self, device_id: str) -> str | None:
        """A device's latest state."""
        entry = self._by_id(self.last.get("devices")).get(device_id)
        if isinstance(entry, Mapping):
            entry = entry.get("state")
        return None if entry is None else str(entry)

    def person_xy(self, person_id: str, scene: SceneGraph) -> tuple[float, float]:
        """Where the person is (ground truth if it says, else the scene graph)."""
        entry = self._by_id(self.last.get("people")).get(person_id)
        if isinstance(entry, list | tuple) and len(entry) >= 2:
            return float(entry[0]), float(entry[1])
        if isinstance(entry, Mapping):
            if "x" in entry:
                return float(entry["x"]), float(entry["y"])
            if "pose" in entry:
                pose = entry["pose"]
                return (float(pose["x"]), float(pose["y"])) if isinstance(pose, Mapping) else (float(pose[0]), float(pose[1]))
        person = scene.get(person_id)
        return float(person.pose.x), float(person.pose.y)

    def robot_yaw(self, robot: str) -> float:
        """A robot's heading in the latest message (0 when unknown)."""
        entry = self._by_id(self.last.get("robots")).get(robot)
        pose = entry.get("pose") if isinstance(entry, Mapping) else None
        if isinstance(pose, list | tuple) and len(pose) >= 3:
            return float(pose[2])
        if isinstance(pose, Mapping):
            return float(pose.get("yaw", 0.0))
        return float(entry.get("yaw", 0.0)) if isinstance(entry, Mapping) else 0.0

    def collisions(self) -> list[dict[str, Any]]:
        """The collision log (robot body against anything but the floor and what it holds)."""
        log = self.last.get("collisions", self.last.get("collision_log", []))
        return [c if isinstance(c, Mapping) else {"what": c} for c in log]

    def touched(self, entity_id: str, by: str | None = None) -> bool:
        """Whether the collision log has ``entity_id`` touching a robot (``by``, when given)."""
        for entry in self.collisions():
            other = str(entry.get("other", entry.get("what", "")))
            robot = str(entry.get("robot", ""))
            if other == entity_id and (by is None or robot == by):
                return True
        return False

    def docked(self, robot: str) -> bool:
        """Whether the robot is docked in the latest message."""
        entry = self._by_id(self.last.get("robots")).get(robot)
        return bool(isinstance(entry, Mapping) and entry.get("docked"))


@dataclass(frozen=True)
class Scenario:
    """A seed scenario: default utterances (English, Korean), home events, time limit, success checks.

    Attributes:
        name: the CLI name.
        command_en / command_ko: the default utterances.
        event: a home event that starts the scenario instead of an utterance (arrive-home).
        time_limit_s: sim seconds before the run counts as failed.
        robots: robots whose trajectories are drawn and evaluated.
    """

    name: str
    command_en: str
    command_ko: str
    time_limit_s: float
    robots: tuple[str, ...]
    event: str = ""
    description: str = ""

    def command(self, language: str = "en") -> str:
        """The default utterance in ``language``."""
        return self.command_ko if language == "ko" else self.command_en

    def evaluate(
        self, truth: GroundTruthLog, scene: SceneGraph, grid: OccupancyGrid | None
    ) -> dict[str, Check]:
        """The scenario's checks from ground truth."""
        return _CHECKS[self.name](truth, scene, grid)


def _fetch_cup_checks(truth: GroundTruthLog, scene: SceneGraph, grid: OccupancyGrid | None) -> dict[str, Check]:
    cup = truth.object_position("cup_red")
    person = truth.person_xy("user", scene)
    dist = math.hypot(cup[0] - person[0], cup[1] - person[1]) if cup else math.inf
    collisions = truth.collisions()
    return {
        "cup_near_person": Check("cup_near_person", dist <= CUP_TO_PERSON_MAX_M,
                                 round(dist, 3) if math.isfinite(dist) else None,
                                 f"cup_red within {CUP_TO_PERSON_MAX_M} m of the user"),
        "no_collision": Check("no_collision", not collisions, len(collisions), "no robot collision"),
    }


def _clean_checks(truth: GroundTruthLog, scene: SceneGraph, grid: OccupancyGrid | None) -> dict[str, Check]:
    from edge_agent.coverage import coverage_fraction
    from edge_agent.skills.navigation import planning_grid

    room = scene.get("living_room")
    path = truth.trajectory("vacuum1")
    inside = [p for p in path if room.contains(p[0], p[1])]
    radius = ROBOT_RADIUS_BY_KIND["vacuum"]
    fraction = 0.0
    if grid is not None and inside:
        # floor under toys, people and the other robots standing in the home cannot be cleaned
        floor_map = planning_grid(grid, scene).with_boxes(_parked_robots(truth, scene, exclude="vacuum1"))
        fraction = coverage_fraction(floor_map, room.polygon, path, radius, start_xy=inside[0])
    toy_ids = [o.id for o in scene.objects if o.cls == "toy"] + [TOY_DROPPED_ID]
    touched = sorted({t for t in toy_ids if truth.touched(t, "vacuum1")})
    return {
        "coverage": Check("coverage", fraction >= COVERAGE_MIN, round(float(fraction), 4),
                          f">= {COVERAGE_MIN:.0%} of reachable free living-room floor"),
        "toy_untouched": Check("toy_untouched", not touched, touched, "the vacuum never touches a toy"),
        "docked": Check("docked", truth.docked("vacuum1"), truth.docked("vacuum1"), "vacuum1 docked at the end"),
    }


def _parked_robots(truth: GroundTruthLog, scene: SceneGraph, exclude: str) -> list[OrientedBox]:
    """Footprints (squares round their discs) of the robots other than ``exclude`` where they stand at the end."""
    boxes = []
    for robot in scene.robots:
        xy = truth.robot_xy(truth.last, robot.id) if robot.id != exclude else None
        if xy is not None:
            side = 2.0 * ROBOT_RADIUS_BY_KIND.get(robot.kind, 0.3)
            boxes.append(OrientedBox(xy[0], xy[1], side, side))
    return boxes


def _arrive_checks(truth: GroundTruthLog, scene: SceneGraph, grid: OccupancyGrid | None) -> dict[str, Check]:
    luggage = truth.object_position("luggage")
    entrance = scene.get("entrance")
    inside = bool(luggage and entrance.contains(luggage[0], luggage[1]))
    checks = {
        "luggage_inside": Check("luggage_inside", inside, [round(v, 2) for v in luggage] if luggage else None,
                                "luggage inside the entrance"),
    }
    for device, target in (("light_entrance", "on"), ("light_living_room", "on"), ("air_purifier", "on")):
        state = truth.device_state(device)
        checks[device] = Check(device, state == target, state, f"{device} {target}")
    state = truth.device_state("thermostat")
    try:
        ok = state is not None and abs(float(state) - THERMOSTAT_TARGET) < 0.01
    except ValueError:
        ok = False
    checks["thermostat"] = Check("thermostat", ok, state, f"thermostat {THERMOSTAT_TARGET:g} °C")
    return checks


def densify(points: Sequence[tuple[float, float]], step_m: float) -> list[tuple[float, float]]:
    """Linear interpolation between consecutive samples so a sparse log sweeps like the real motion."""
    if len(points) < 2:
        return list(points)
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step_m))
        for k in range(1, n + 1):
            t = k / n
            out.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    return out


def min_clearance(grid: OccupancyGrid, path: Sequence[tuple[float, float]], radius: float) -> float:
    """Smallest gap between the robot's footprint and the static map along a path (metres)."""
    from edge_agent.raster import distance_to_mask

    if not path:
        return math.nan
    dist = distance_to_mask(grid.data.astype(bool), 40.0) * grid.resolution
    best = math.inf
    for x, y in path:
        row, col = grid.world_to_cell(x, y)
        if grid.in_bounds(row, col):
            best = min(best, float(dist[row, col]) - grid.resolution / 2 - radius)
    return float(np.round(best, 3)) if math.isfinite(best) else math.nan


_CHECKS = {
    "fetch-cup": _fetch_cup_checks,
    "clean-living-room": _clean_checks,
    "arrive-home": _arrive_checks,
}

SCENARIOS: Mapping[str, Scenario] = {
    "fetch-cup": Scenario(
        name="fetch-cup",
        command_en="bring me the red cup from the kitchen",
        command_ko="주방에 가서 빨간 컵 가져와",
        time_limit_s=420.0,
        robots=("robot1",),
        description="the manipulator fetches the red cup from the kitchen counter and hands it over",
    ),
    "clean-living-room": Scenario(
        name="clean-living-room",
        command_en="clean the living room",
        command_ko="거실을 청소해줘",
        time_limit_s=1200.0,
        robots=("vacuum1",),
        description="the vacuum covers the living room, avoids a toy dropped mid-run, and docks",
    ),
    "arrive-home": Scenario(
        name="arrive-home",
        command_en="i'm home",
        command_ko="나 왔어",
        time_limit_s=600.0,
        robots=("dog1", "robot1"),
        event="car_arrived",
        description="the dog carries the luggage in; lights, thermostat and purifier are set",
    ),
}


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; ValueError naming the known ones otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
