"""``look_for(object)``: find an object with the camera and locate it in the map within a few centimetres.

The scene graph says where the object should be (its prior position and the furniture it rests on);
the camera says where it is. The robot first looks from where it stands (a contingency may already
have brought it to the next place to search), and if the object is not in view it walks to a standing
pose facing the object's prior position and looks again, a few frames each time. A sighting is the
colour blob of the object's colour with the depth behind it, back-projected to the map frame by
``edge_agent.perception``; the frame is kept for the demo's camera.png.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np

from edge_agent import perception
from edge_agent.skills.base import (
    ArgValue,
    CameraView,
    Detection,
    SkillContext,
    SkillFailure,
    SkillResult,
    arg_str,
)
from edge_agent.skills.navigation import FURNITURE_STANDOFF_M, NavigationGoal, drive_to, stand_facing
from reflexarc.scene_graph import SceneGraph, SceneObject

__all__ = ["LookFor", "locate_in_view"]

_log = logging.getLogger(__name__)

FRAMES_PER_LOOK = 3
FRAME_INTERVAL_S = 0.6
# A sighting farther than this from every place the object may be is some other object of that colour.
MAX_DISTANCE_FROM_SUPPORT_M = 1.5


def locate_in_view(view: CameraView, colour: str, near_xy: tuple[float, float] | None = None) -> Detection | None:
    """Segment ``colour`` in one frame and back-project it; None when nothing of that colour is seen."""
    sighting = perception.locate_object(
        view.rgb,
        view.depth,
        colour,
        perception.CameraIntrinsics(fx=view.fx, fy=view.fy, cx=view.cx, cy=view.cy),
        np.asarray(view.camera_to_map, dtype=np.float64),
        near_xy=near_xy,
    )
    if sighting is None:
        return None
    x, y, z = (float(v) for v in sighting.position)
    return Detection(
        object_id="",
        position=(x, y, z),
        bbox=tuple(int(v) for v in sighting.bbox),  # type: ignore[arg-type]
        pixel_count=int(sighting.pixel_count),
        confidence=float(sighting.confidence),
        view=view,
    )


class LookFor:
    """``look_for(object)``: locate the object with the camera; fails with a not_found fact."""

    name = "look_for"

    def _look(self, ctx: SkillContext, obj: SceneObject, near_xy: tuple[float, float]) -> Detection | None:
        for attempt in range(FRAMES_PER_LOOK):
            if ctx.robot.cancelled():
                return None
            view = ctx.robot.camera()
            if view is not None:
                found = locate_in_view(view, obj.colour, near_xy)
                if found is not None:
                    dist = math.hypot(found.position[0] - near_xy[0], found.position[1] - near_xy[1])
                    if dist <= MAX_DISTANCE_FROM_SUPPORT_M:
                        return Detection(obj.id, found.position, found.bbox, found.pixel_count,
                                         found.confidence, view)
                    _log.info("%s: %s blob at %.2f m from where %s can be; ignored", ctx.robot.robot_id,
                              obj.colour, dist, obj.id)
            if attempt + 1 < FRAMES_PER_LOOK and not ctx.robot.sleep(FRAME_INTERVAL_S):
                return None
        return None

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Look from here; if not seen, walk up to the object's prior place and look again."""
        object_id = arg_str(args, "object")
        scene = ctx.robot.scene()
        obj = scene.get(object_id)
        if not isinstance(obj, SceneObject):
            raise SkillFailure(f"{object_id!r} is not an object of the scene")
        prior_xy = (float(obj.position[0]), float(obj.position[1]))
        here = ctx.robot.pose()
        # A contingency ("look on the dining table") brings the robot elsewhere first: look there.
        detection = self._look(ctx, obj, (here.x, here.y))
        if detection is None:
            # Not in view: walk up to the object's prior place, facing it, and look again.
            pose = stand_facing(ctx, prior_xy, FURNITURE_STANDOFF_M)
            if math.hypot(pose.x - here.x, pose.y - here.y) > 0.05:
                drive_to(ctx, NavigationGoal(object_id, pose, prior_xy))
                ctx.robot.hold()
                detection = self._look(ctx, obj, prior_xy)
        if detection is None:
            support = self._where_looked(scene, obj, ctx)
            raise SkillFailure(
                f"no {obj.colour} {obj.cls} on the {support.replace('_', ' ')}",
                facts=[(obj.id, "not_found_on", support)],
            )
        ctx.detections[obj.id] = detection
        ctx.robot.record_detection(detection)
        x, y, z = detection.position
        support = self._where_looked(scene, obj, ctx)
        _log.info("%s: found %s at (%.3f, %.3f, %.3f)", ctx.robot.robot_id, obj.id, x, y, z)
        return SkillResult(
            True,
            f"found {obj.id} at ({x:.2f}, {y:.2f}, {z:.2f})",
            facts=[(obj.id, "found_on", support)] if support else [],
        )

    @staticmethod
    def _where_looked(scene: SceneGraph, obj: SceneObject, ctx: SkillContext) -> str:
        """The furniture nearest to where the robot looked (what a not_found/found fact is about)."""
        pose = ctx.robot.pose()
        ahead = (pose.x + 0.6 * math.cos(pose.yaw), pose.y + 0.6 * math.sin(pose.yaw))
        best, best_d = obj.on, math.inf
        for item in scene.furniture:
            d = math.hypot(item.pose.x - ahead[0], item.pose.y - ahead[1]) - 0.5 * max(item.size[0], item.size[1])
            if d < best_d:
                best, best_d = item.id, d
        return best or obj.on or obj.room
