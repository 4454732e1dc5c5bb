"""``carry(object, to)``: the dog walks to a heavy object, loads it in its cargo bay, and brings it.

The arm cannot lift the luggage; the dog's cargo bay can. Loading only works when the object is within
reach of the bay, which the driver checks, so the skill walks to a standing pose facing the object
first, and walks to the destination's standing pose before unloading.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from edge_agent.skills.base import ArgValue, SkillContext, SkillFailure, SkillResult, arg_str
from edge_agent.skills.navigation import drive_to, navigation_goal
from reflexarc.scene_graph import SceneObject

__all__ = ["Carry"]

_log = logging.getLogger(__name__)


class Carry:
    """``carry(object, to)``: navigate to the object, ``cargo/load``, navigate to ``to``, ``cargo/unload``."""

    name = "carry"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Fetch the object into the cargo bay and unload it at the destination."""
        object_id = arg_str(args, "object")
        destination = arg_str(args, "to")
        obj = ctx.robot.scene().get(object_id)
        if not isinstance(obj, SceneObject):
            raise SkillFailure(f"{object_id!r} is not an object of the scene")
        if ctx.holding != object_id:
            drive_to(ctx, navigation_goal(ctx, object_id))
            ctx.robot.hold()
            ok, loaded = ctx.robot.cargo(True)
            if not ok or (loaded and loaded != object_id):
                if ok:
                    ctx.robot.cargo(False)
                raise SkillFailure(f"could not load {object_id}: {loaded or 'out of reach'}")
            ctx.holding = object_id
        drive_to(ctx, navigation_goal(ctx, destination))
        ctx.robot.hold()
        ok, message = ctx.robot.cargo(False)
        if not ok:
            raise SkillFailure(f"could not unload {object_id}: {message}")
        ctx.holding = ""
        pose = ctx.robot.pose()
        room = ctx.robot.scene().room_at(pose.x, pose.y)
        observed = {f"{object_id}.room": room.id} if room else {}
        return SkillResult(True, f"{object_id} carried to {destination}", observed=observed)
