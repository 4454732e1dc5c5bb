"""``clean_area(room)``: drive the vacuum over the room's free floor along a coverage path.

The path comes from ``edge_agent.coverage`` (boustrophedon lanes about one vacuum diameter apart, split
around furniture, plus a pass hugging furniture and walls). The reflex drives every leg in close-range
tracking (it follows the line itself while its footprint's way is clear, so the passes along walls get
as close as the shield allows); something the map does not know (a toy dropped on the floor) hands the
leg back to the policy, which steers around it. When the policy cannot get past (a toy dropped in a
narrow gap between furniture), the leg is re-planned round the blocked spot and the route resumes after
it; only a waypoint with no way round is skipped, rather than failing the whole room.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from edge_agent import coverage
from edge_agent.astar import GridPlanner
from edge_agent.skills.base import ArgValue, SkillContext, SkillFailure, SkillResult, arg_str
from edge_agent.skills.navigation import grid_planner, mark_other_robots
from reflexarc.scene_graph import Room

__all__ = ["CleanArea"]

_log = logging.getLogger(__name__)

WAYPOINT_TOLERANCE_M = 0.15
TIME_PER_METRE_S = 6.0
LANE_END_TRIM_M = 0.05
LANE_OVERLAP = 0.2
"""Lanes overlap by a fifth of the vacuum's diameter: a lane followed a few centimetres off still
leaves no strip unswept beside it."""
WALL_OFFSET_M = 0.05
"""How much farther than the planner's inflation the route keeps from walls and furniture.

A wall's face can lie half a cell beyond the occupied cell centres, and the reflex's shield stops the
robot when anything is within its radius plus a 0.02 m lateral margin beside its way; 0.05 m keeps
the wall-hugging passes at 0.21 m or more from any face, out of that band, at the cost of a
half-cell strip along the walls.
"""


def _trim_lane_ends(path: coverage.CoveragePlan) -> list[tuple[float, float]]:
    """The route with every lane end pulled ``LANE_END_TRIM_M`` back along its lane.

    Lanes run right up to the route's offset from the walls, where the shield's stop zone (rightly)
    halts the vacuum driving head-on a few centimetres short; pulled back a little, every lane end
    lies within the follower's tolerance of where the vacuum can stop, so no lane end stalls. The strip
    a trimmed lane leaves is swept by the edge pass, which runs along the walls.
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


def _planner_round_other_robots(ctx: SkillContext) -> GridPlanner:
    """The skill's planner, with the robots standing in the home marked as obstacles.

    Lanes planned through a parked robot would only be driven up to it and skipped, one stalled
    waypoint at a time.
    """
    planner = grid_planner(ctx)
    others = ctx.robot.other_robots()
    if not others:
        return planner
    return GridPlanner(mark_other_robots(planner.grid, others), planner.robot_radius)


class CleanArea:
    """``clean_area(room)``: cover the room's reachable free floor, skipping blocked waypoints."""

    name = "clean_area"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Plan the coverage path from the current pose and drive it."""
        room_id = arg_str(args, "room")
        room = ctx.robot.scene().get(room_id)
        if not isinstance(room, Room):
            raise SkillFailure(f"{room_id!r} is not a room")
        planner = _planner_round_other_robots(ctx)
        here = ctx.robot.pose()
        path = coverage.plan_coverage(
            planner.grid, room.polygon, ctx.robot.robot_radius, start_xy=(here.x, here.y), planner=planner,
            overlap=LANE_OVERLAP, wall_offset_m=WALL_OFFSET_M,
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
