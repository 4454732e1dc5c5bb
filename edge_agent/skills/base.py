"""What every skill needs: the robot interface it acts through, its context and its result.

Skills are plain classes that talk to a robot ONLY through :class:`RobotInterface`. The executive node
implements it with ROS topics and services (``local_goal``, ``arm/goal``, ``gripper/close``, ...); unit
tests implement it with a small fake, so the skills' decisions (where to stand, when a pick failed,
which contingency runs) are tested without processes, while the real interface is tested end to end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from reflexarc.occupancy_grid import OccupancyGrid
from reflexarc.scene_graph import Pose2D, SceneGraph

__all__ = [
    "ArgValue",
    "ArmResult",
    "CameraView",
    "Detection",
    "RobotInterface",
    "Skill",
    "SkillContext",
    "SkillFailure",
    "SkillResult",
    "StepLike",
]

ArgValue = str | float


@dataclass(frozen=True)
class CameraView:
    """One RGB-D frame with what is needed to back-project it into the map frame.

    Attributes:
        rgb: HxWx3 uint8 image.
        depth: HxW float32 depth in metres along the optical axis.
        fx, fy, cx, cy: pinhole intrinsics in pixels.
        camera_to_map: 4x4 transform of the camera optical frame (z forward, x right, y down) in ``map``.
        stamp: sim time of the frame in seconds.
    """

    rgb: np.ndarray
    depth: np.ndarray
    fx: float
    fy: float
    cx: float
    cy: float
    camera_to_map: np.ndarray
    stamp: float = 0.0


@dataclass(frozen=True)
class ArmResult:
    """Outcome of one arm motion: whether the end effector reached the goal, and where it ended."""

    success: bool
    error: str = ""
    ee: tuple[float, float, float] = (math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class Detection:
    """Where ``look_for`` saw an object, and the frame it saw it in (kept for the demo's camera.png)."""

    object_id: str
    position: tuple[float, float, float]
    bbox: tuple[int, int, int, int]
    pixel_count: int
    confidence: float
    view: CameraView | None = None


@dataclass(frozen=True)
class SkillResult:
    """What a skill reports: success, a human message, and machine-readable observations.

    Attributes:
        success: whether the skill achieved its purpose.
        message: a short description for logs and people ("no red cup on the counter").
        facts: (subject, predicate, object) triples the planner understands, e.g.
            ("cup_red", "not_found_on", "kitchen_counter").
        observed: observed values of ``expect`` keys, e.g. {"cup_red.held_by": "robot1"}.
    """

    success: bool
    message: str = ""
    facts: tuple[tuple[str, str, str], ...] = ()
    observed: Mapping[str, str] = field(default_factory=dict)


class SkillFailure(Exception):
    """A skill could not do its job; carries the facts learned while trying."""

    def __init__(self, message: str, facts: Sequence[tuple[str, str, str]] = ()) -> None:
        super().__init__(message)
        self.facts = tuple(facts)


@runtime_checkable
class RobotInterface(Protocol):
    """The robot as skills see it: state, motion, sensors and actuators; every call blocks until done.

    Blocking calls return early (with failure) once :meth:`cancelled` becomes true, so a Cancel from
    the cloud or a shutdown stops a skill within one control period.
    """

    robot_id: str
    robot_radius: float

    def scene(self) -> SceneGraph:
        """The robot's prior map of the home (the latest ``/scene_graph``)."""
        ...

    def grid(self) -> OccupancyGrid:
        """The static occupancy grid (``/map``)."""
        ...

    def pose(self) -> Pose2D:
        """The current pose from odometry, in ``map``."""
        ...

    def drive_path(
        self,
        waypoints: Sequence[tuple[float, float]],
        *,
        tolerance: float = 0.15,
        timeout_s: float = 120.0,
        skip_unreachable: bool = False,
        follow_exactly: bool = False,
    ) -> bool:
        """Feed the waypoints to the reflex one by one; True when the last one was reached.

        With ``skip_unreachable`` a waypoint the robot makes no progress toward (blocked by something
        the map does not know) is skipped instead of failing the whole path; ``follow_exactly`` drives
        through every waypoint without cutting corners (a coverage route hugging furniture).
        """
        ...

    def hold(self) -> None:
        """Stop: publish the "no goal" local goal so the reflex holds the robot still."""
        ...

    def other_robots(self) -> Mapping[str, tuple[float, float]]:
        """Where the other robots are now, so two robots are not sent to the same spot."""
        ...

    def camera(self) -> CameraView | None:
        """A fresh camera frame, or None when the robot has no camera or none arrived in time."""
        ...

    def arm_move(self, xyz: tuple[float, float, float], timeout_s: float = 20.0) -> ArmResult:
        """Move the end effector to a point in ``map``."""
        ...

    def arm_home(self) -> bool:
        """Fold the arm to its travel pose (a held object stays held)."""
        ...

    def gripper(self, close: bool) -> tuple[bool, str]:
        """Close (grasp) or open (release); returns (success, held object id or "")."""
        ...

    def cargo(self, load: bool) -> tuple[bool, str]:
        """Load the object within reach of the cargo bay, or unload it; returns (success, object id)."""
        ...

    def set_device(self, device: str, state: str, timeout_s: float = 10.0) -> tuple[bool, str]:
        """Request a device state; returns (success, error)."""
        ...

    def dock_state(self) -> Mapping[str, Any]:
        """The latest ``dock_state`` JSON ({"docked", "dock", "battery"}), empty if none arrived."""
        ...

    def say(self, text: str) -> None:
        """Speak to the person (published for the demo's live log)."""
        ...

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` of sim time; False when cancelled meanwhile."""
        ...

    def cancelled(self) -> bool:
        """Whether the current step has been cancelled (plan cancelled or node shutting down)."""
        ...

    def record_detection(self, detection: Detection) -> None:
        """Keep a detection (with its frame) for the demo's camera.png."""
        ...


class StepLike(Protocol):
    """The parts of a plan step a skill runner needs (``QueuedStep`` and contingency steps have them)."""

    robot: str
    skill: str
    args: Mapping[str, ArgValue]
    on_failure: Sequence[Any]


@dataclass
class SkillContext:
    """Per-robot state shared by consecutive skills: the robot and what it has seen and holds.

    Attributes:
        robot: the interface the skills act through.
        detections: the latest detection per object id (``pick`` uses what ``look_for`` found).
        holding: the object the arm or cargo bay holds, "" when empty.
        cache: per-robot derived data reused across skills (e.g. the A* planner of the current map).
    """

    robot: RobotInterface
    detections: dict[str, Detection] = field(default_factory=dict)
    holding: str = ""
    cache: dict[str, Any] = field(default_factory=dict)


class Skill(Protocol):
    """A skill: one entry of the fixed library, executed against a robot."""

    name: str

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Execute with the step's arguments; raise :class:`SkillFailure` or return a failed result."""
        ...


def arg_str(args: Mapping[str, ArgValue], name: str) -> str:
    """A required text/entity argument, or a SkillFailure naming it."""
    value = args.get(name)
    if value is None or value == "":
        raise SkillFailure(f"missing argument {name!r}")
    return str(value)


def arg_float(args: Mapping[str, ArgValue], name: str, default: float | None = None) -> float:
    """A numeric argument (numbers may arrive as text), or a SkillFailure naming it."""
    value = args.get(name, default)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise SkillFailure(f"argument {name!r} is not a number: {value!r}") from exc
