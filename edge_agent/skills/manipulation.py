"""``pick``, ``place`` and ``handover``: the manipulator's arm and gripper, guided by what the camera saw.

A pick is judged by the gripper, never by the plan: after closing, the driver reports whether
something is held (contact in the sim, a current/force threshold on a real gripper). When nothing is
held the skill opens the gripper, folds the arm and fails cleanly, so the contingency logic (or the
cloud's re-plan) starts from a known state rather than from an arm stuck in the cupboard.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from edge_agent.skills.base import ArgValue, SkillContext, SkillFailure, SkillResult, arg_str
from edge_agent.skills.navigation import (
    NavigationGoal,
    drive_to,
    navigation_goal,
    stand_facing,
)
from edge_agent.skills.perception import LookFor
from reflexarc.scene_graph import Furniture, Person, SceneObject

__all__ = ["Handover", "Pick", "Place"]

_log = logging.getLogger(__name__)

ARM_REACH_M = 0.75
PICK_DISTANCE_M = 0.62
ARM_STANDOFF_M = 0.03
ARM_APPROACH_TOLERANCE_M = 0.06
APPROACH_HEIGHT_M = 0.12
APPROACH_HEIGHTS_M = (0.10, 0.06)
MAX_SEEN_HEIGHT_ERROR_M = 0.10
LIFT_HEIGHT_M = 0.15
PLACE_INSET_M = 0.18
PLACE_CLEARANCE_M = 0.06
HANDOVER_HEIGHT_M = 0.80
RELEASE_SLACK_XY_M = 0.10
RELEASE_SLACK_Z_M = 0.12
HANDOVER_GAP_M = 0.37
HANDOVER_RELEASE_Z_M = 0.08


def _horizontal_distance(ctx: SkillContext, xy: tuple[float, float]) -> float:
    pose = ctx.robot.pose()
    return math.hypot(xy[0] - pose.x, xy[1] - pose.y)


def _move(ctx: SkillContext, xyz: tuple[float, float, float], what: str) -> None:
    result = ctx.robot.arm_move(xyz)
    if not result.success:
        raise SkillFailure(f"arm could not reach {what} ({xyz[0]:.2f}, {xyz[1]:.2f}, {xyz[2]:.2f}): {result.error}")


def _close_enough(ee: tuple[float, float, float], target: tuple[float, float, float]) -> bool:
    """An end effector near enough to a release point to let go safely (low and above the spot)."""
    if not all(math.isfinite(v) for v in ee):
        return False
    return math.hypot(ee[0] - target[0], ee[1] - target[1]) <= RELEASE_SLACK_XY_M and ee[2] <= target[2] + RELEASE_SLACK_Z_M


def _release_and_fold(ctx: SkillContext) -> None:
    """Leave the arm in a safe state after a failure: gripper open, arm folded."""
    ctx.robot.gripper(False)
    ctx.robot.arm_home()


def _grasp_height(ctx: SkillContext, obj: SceneObject, seen_z: float) -> float:
    """Where to close the gripper: the object's centre height.

    The camera sees the object's near, upper surface, a few centimetres above its centre; an object
    resting on furniture keeps its height above the top it stands on, which the prior map knows, so
    that height is used unless the sighting says the object is somewhere else entirely.
    """
    support = ctx.robot.scene().get(obj.on) if obj.on else None
    if isinstance(support, Furniture):
        prior_z = float(obj.position[2])
        if abs(seen_z - prior_z) <= MAX_SEEN_HEIGHT_ERROR_M:
            return prior_z
    return seen_z


class Pick:
    """``pick(object)``: approach, reach above the detected position, descend, close, lift, fold."""

    name = "pick"

    @staticmethod
    def _reach_above(ctx: SkillContext, xyz: tuple[float, float, float], object_id: str) -> None:
        errors = []
        for height in APPROACH_HEIGHTS_M:
            result = ctx.robot.arm_move((xyz[0], xyz[1], xyz[2] + height))
            if result.success:
                return
            errors.append(result.error)
        raise SkillFailure(f"arm could not reach above {object_id}: {'; '.join(errors)}")

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Grasp the object; success only when the gripper reports holding it."""
        object_id = arg_str(args, "object")
        obj = ctx.robot.scene().get(object_id)
        if not isinstance(obj, SceneObject):
            raise SkillFailure(f"{object_id!r} is not an object of the scene")
        if not obj.graspable:
            raise SkillFailure(f"{object_id} is not graspable by the arm")
        if ctx.holding:
            raise SkillFailure(f"already holding {ctx.holding}")
        detection = ctx.detections.get(object_id)
        if detection is None or _horizontal_distance(ctx, detection.position[:2]) > PICK_DISTANCE_M:
            xy = detection.position[:2] if detection is not None else obj.position[:2]
            xy = (float(xy[0]), float(xy[1]))
            pose = stand_facing(ctx, xy, ARM_STANDOFF_M)
            drive_to(ctx, NavigationGoal(object_id, pose, xy), tolerance=ARM_APPROACH_TOLERANCE_M)
            ctx.robot.hold()
            LookFor().run(ctx, {"object": object_id})
            detection = ctx.detections[object_id]
        x, y, z = detection.position
        z = _grasp_height(ctx, obj, z)
        try:
            self._reach_above(ctx, (x, y, z), object_id)
            _move(ctx, (x, y, z), object_id)
        except SkillFailure:
            ctx.robot.arm_home()
            raise
        held, held_id = ctx.robot.gripper(True)
        if not held or (held_id and held_id != object_id):
            _release_and_fold(ctx)
            what = f"{held_id} instead of {object_id}" if held else "nothing"
            raise SkillFailure(f"gripper closed on {what}")
        ctx.holding = object_id
        ctx.robot.arm_move((x, y, z + LIFT_HEIGHT_M))
        ctx.robot.arm_home()
        ctx.detections.pop(object_id, None)  # it moves with the arm now
        return SkillResult(
            True,
            f"holding {object_id}",
            facts=[(object_id, "held_by", ctx.robot.robot_id)],
            observed={f"{object_id}.held_by": ctx.robot.robot_id},
        )


class Place:
    """``place(object, on)``: put the held object on a piece of furniture, near its edge facing the robot."""

    name = "place"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Reach over the furniture top, open, lift, fold."""
        object_id = arg_str(args, "object")
        on = arg_str(args, "on")
        if ctx.holding != object_id:
            raise SkillFailure(f"not holding {object_id}")
        support = ctx.robot.scene().get(on)
        if not isinstance(support, Furniture):
            raise SkillFailure(f"cannot place on {on!r}")
        if _horizontal_distance(ctx, (support.pose.x, support.pose.y)) > ARM_REACH_M + max(support.size[:2]) / 2:
            drive_to(ctx, navigation_goal(ctx, on))
            ctx.robot.hold()
        x, y = self._spot_on_top(ctx, support)
        z = support.top_height + PLACE_CLEARANCE_M + 0.05
        try:
            _move(ctx, (x, y, z + APPROACH_HEIGHT_M), f"above the {on}")
            _move(ctx, (x, y, z), f"the {on}")
        except SkillFailure:
            ctx.robot.arm_home()
            raise
        released, _ = ctx.robot.gripper(False)
        if not released:
            raise SkillFailure(f"gripper did not release {object_id}")
        ctx.holding = ""
        ctx.robot.arm_move((x, y, z + LIFT_HEIGHT_M))
        ctx.robot.arm_home()
        return SkillResult(True, f"{object_id} on the {on}", facts=[(object_id, "found_on", on)],
                           observed={f"{object_id}.on": on})

    @staticmethod
    def _spot_on_top(ctx: SkillContext, support: Furniture) -> tuple[float, float]:
        """The point of the furniture top nearest the robot, moved ``PLACE_INSET_M`` inward."""
        pose = ctx.robot.pose()
        c, s = math.cos(support.pose.yaw), math.sin(support.pose.yaw)
        dx, dy = pose.x - support.pose.x, pose.y - support.pose.y
        along, across = dx * c + dy * s, -dx * s + dy * c
        half_l = max(support.size[0] / 2 - PLACE_INSET_M, 0.0)
        half_w = max(support.size[1] / 2 - PLACE_INSET_M, 0.0)
        along = max(-half_l, min(half_l, along))
        across = max(-half_w, min(half_w, across))
        return support.pose.x + along * c - across * s, support.pose.y + along * s + across * c


class Handover:
    """``handover(object, person)``: offer the object toward the person, then set it down at their side.

    A seated person cannot be assumed to grab it (and the simulated person does not), so after holding
    it out at table height the arm lowers it to just above the floor beside them before opening: the
    object ends up within arm's reach of the person instead of bouncing off a knee.
    """

    name = "handover"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Face the person, reach out, lower, release, fold."""
        object_id = arg_str(args, "object")
        person_id = arg_str(args, "person")
        if ctx.holding != object_id:
            raise SkillFailure(f"not holding {object_id}")
        person = ctx.robot.scene().get(person_id)
        if not isinstance(person, Person):
            raise SkillFailure(f"{person_id!r} is not a person of the scene")
        target = (person.pose.x, person.pose.y)
        if _horizontal_distance(ctx, target) > ARM_REACH_M + 0.8:
            drive_to(ctx, navigation_goal(ctx, person_id))
            ctx.robot.hold()
        pose = ctx.robot.pose()
        dist = _horizontal_distance(ctx, target)
        ux, uy = (target[0] - pose.x) / max(dist, 1e-6), (target[1] - pose.y) / max(dist, 1e-6)
        reach = max(0.25, min(ARM_REACH_M - 0.15, dist - HANDOVER_GAP_M))
        x, y = pose.x + ux * reach, pose.y + uy * reach
        ctx.robot.arm_move((x, y, HANDOVER_HEIGHT_M))  # offering; not required to succeed
        ctx.robot.arm_move((x, y, (HANDOVER_HEIGHT_M + HANDOVER_RELEASE_Z_M) / 2))
        result = ctx.robot.arm_move((x, y, HANDOVER_RELEASE_Z_M))
        if not result.success:
            result = ctx.robot.arm_move((x, y, HANDOVER_RELEASE_Z_M))  # the arm resumes from where it got
        if not result.success and not _close_enough(result.ee, (x, y, HANDOVER_RELEASE_Z_M)):
            ctx.robot.arm_home()
            raise SkillFailure(f"arm could not reach toward {person_id}: {result.error}")
        released, _ = ctx.robot.gripper(False)
        if not released:
            raise SkillFailure(f"gripper did not release {object_id}")
        ctx.holding = ""
        ctx.robot.sleep(0.5)
        ctx.robot.arm_home()
        return SkillResult(True, f"handed {object_id} to {person_id}",
                           facts=[(object_id, "held_by", person_id)],
                           observed={f"{object_id}.held_by": person_id})
