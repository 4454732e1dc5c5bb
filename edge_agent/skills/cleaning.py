"""``clean_area(room)``: drive the vacuum over the room's free floor along a coverage path.

The path comes from ``edge_agent.coverage`` (boustrophedon lanes about one vacuum diameter apart, split
around furniture, plus a pass hugging furniture and walls). The reflex drives every leg, so something
the map does not know (a toy dropped on the floor) is avoided by the shield and the policy, and a
waypoint the robot cannot make progress toward is skipped rather than failing the whole room.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from edge_agent import coverage
from edge_agent.skills.base import ArgValue, SkillContext, SkillFailure, SkillResult, arg_str
from edge_agent.skills.navigation import grid_planner
from reflexarc.scene_graph import Room

__all__ = ["CleanArea"]

_log = logging.getLogger(__name__)

WAYPOINT_TOLERANCE_M = 0.15
TIME_PER_METRE_S = 6.0
LANE_END_TRIM_M = 0.12


def _trim_lane_ends(path: coverage.CoveragePlan) -> list[tuple[float, float]]:
    """The route with every lane end pulled ``LANE_END_TRIM_M`` back along its lane.

    Lanes run right up to the inflated walls, where the shield (rightly) will not let the vacuum drive
    head-on; the strip a trimmed lane leaves is swept by the edge pass, which runs along the walls.
    """
    trimmed: dict[tuple[float, float], tuple[float, float]] = {}
    for (ax, ay), (bx, by) in path.lanes:
        length = math.hypot(bx - ax, by - ay)
        if length <= 3 * LANE_END_TRIM_M:
            continue
        ux, uy = (bx - ax) / length, (by - ay) / length
        trimmed[(ax, ay)] = (ax + ux * LANE_END_TRIM_M, ay + uy * LANE_END_TRIM_M)
        trimmed[(bx, by)] = (bx - ux * LANE_END_TRIM_M, by - uy * LANE_END_TRIM_M)
    return [trimmed.get((float(x), float(y)), (float(x), float(y))) for x, y in path.waypoints]


class CleanArea:
    """``clean_area(room)``: cover the room's reachable free floor, skipping blocked waypoints."""

    name = "clean_area"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Plan the coverage path from the current pose and drive it."""
        room_id = arg_str(args, "room")
        room = ctx.robot.scene().get(room_id)
        if not isinstance(room, Room):
            raise SkillFailure(f"{room_id!r} is not a room")
        planner = grid_planner(ctx)
        here = ctx.robot.pose()
        path = coverage.plan_coverage(
            planner.grid, room.polygon, ctx.robot.robot_radius, start_xy=(here.x, here.y), planner=planner
        )
        waypoints = _trim_lane_ends(path)
        if not waypoints:
            raise SkillFailure(f"no reachable free floor in {room_id}")
        _log.info("%s: cleaning %s along %d waypoints (%.1f m)", ctx.robot.robot_id, room_id, len(waypoints),
                  path.length_m)
        ctx.robot.drive_path(
            waypoints,
            tolerance=WAYPOINT_TOLERANCE_M,
            timeout_s=max(120.0, TIME_PER_METRE_S * path.length_m),
            skip_unreachable=True,
            follow_exactly=True,
        )
        if ctx.robot.cancelled():
            raise SkillFailure("cancelled")
        ctx.robot.hold()
        return SkillResult(True, f"cleaned {room_id}", observed={f"{room_id}.clean": "true"})
