"""``navigate_to`` and ``dock``: where to stand for a target, A* to get there, the reflex to drive it.

A target is an entity id, and each kind means a different place to stand:

* room: a free spot at the room's centre (the nearest free one when furniture stands there);
* furniture, object, device: the nearest reachable standing pose facing it, a small standoff away;
* person: a standing pose facing them at a polite distance (close enough to hand something over);
* dock: the dock itself.

The last leg is driven straight at the target ("pre-approach" point behind the standing pose), so the
robot ends up facing what it came for: the policy only steers toward positions, not headings, and the
camera and arm look forward.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np

from edge_agent.astar import GridPlanner, NoPathError
from edge_agent.raster import polygon_mask
from edge_agent.skills.base import ArgValue, SkillContext, SkillFailure, SkillResult, arg_str
from reflexarc.occupancy_grid import OccupancyGrid, OrientedBox
from reflexarc.scene_graph import Device, Furniture, Person, Pose2D, Robot, Room, SceneGraph, SceneObject

__all__ = [
    "Dock",
    "NavigateTo",
    "NavigationGoal",
    "drive_to",
    "grid_planner",
    "known_obstacles",
    "mark_other_robots",
    "planning_grid",
    "navigation_goal",
    "stand_facing",
]

_log = logging.getLogger(__name__)

FURNITURE_STANDOFF_M = 0.10
PERSON_STANDOFF_M = 0.15
FLOOR_OBJECT_SIZE_M = 0.35
PERSON_SIZE_M = 0.70
ROBOT_SPACING_M = 1.2
ROOM_SPOT_CLEARANCE_M = 0.1
PRE_APPROACH_M = 0.35
OTHER_ROBOT_SIDE_M = 0.6
"""Side of the square marked round another robot's position (the largest base is 0.30 m in radius)."""
FINAL_TOLERANCE_M = 0.12
DOCK_TOLERANCE_M = 0.06
DOCK_ATTEMPTS = 3
DOCK_BACKOFF_M = 0.5
DOCK_SETTLE_S = 1.5


class NavigationGoal:
    """Where to stand (``pose``) and what to face (``face_xy``, None when the heading does not matter)."""

    __slots__ = ("face_xy", "pose", "target")

    def __init__(self, target: str, pose: Pose2D, face_xy: tuple[float, float] | None) -> None:
        self.target = target
        self.pose = pose
        self.face_xy = face_xy

    def __repr__(self) -> str:
        return f"NavigationGoal({self.target!r}, ({self.pose.x:.2f}, {self.pose.y:.2f}), face={self.face_xy})"


def known_obstacles(scene: SceneGraph) -> list[OrientedBox]:
    """Footprints the prior map knows beyond the static grid: things on the floor and people.

    The static map holds walls and furniture only; a toy on the floor or a seated person's legs are
    in the scene graph, so plans route around them instead of leaving it all to the reflex.
    """
    boxes = [
        OrientedBox(float(o.position[0]), float(o.position[1]), FLOOR_OBJECT_SIZE_M, FLOOR_OBJECT_SIZE_M)
        for o in scene.objects
        if not o.on and not o.held_by
    ]
    boxes.extend(OrientedBox(p.pose.x, p.pose.y, PERSON_SIZE_M, PERSON_SIZE_M) for p in scene.people)
    return boxes


def planning_grid(static: OccupancyGrid, scene: SceneGraph) -> OccupancyGrid:
    """The static map plus the known floor objects and people (see :func:`known_obstacles`)."""
    return static.with_boxes(known_obstacles(scene))


def mark_other_robots(grid: OccupancyGrid, positions: Mapping[str, tuple[float, float]]) -> OccupancyGrid:
    """``grid`` with a square round each other robot's position: robots are on no map, and a parked one stays put."""
    return grid.with_boxes([OrientedBox(x, y, OTHER_ROBOT_SIDE_M, OTHER_ROBOT_SIDE_M) for x, y in positions.values()])


def grid_planner(ctx: SkillContext) -> GridPlanner:
    """The A* planner for this robot's size on the current map and scene, rebuilt only when they change."""
    static = ctx.robot.grid()
    scene = ctx.robot.scene()
    key = (id(static), tuple((b.cx, b.cy) for b in known_obstacles(scene)))
    cached = ctx.cache.get("planner")
    if cached is not None and ctx.cache.get("planner_key") == key:
        return cached
    planner = GridPlanner(planning_grid(static, scene), ctx.robot.robot_radius)
    ctx.cache["planner"], ctx.cache["planner_key"] = planner, key
    return planner


def _room_centre(room: Room) -> tuple[float, float]:
    xs = [p[0] for p in room.polygon]
    ys = [p[1] for p in room.polygon]
    return (min(xs) + max(xs)) / 2.0, (min(ys) + max(ys)) / 2.0


def free_spot_in_room(ctx: SkillContext, room: Room) -> Pose2D:
    """The reachable spot nearest the room's centre that keeps clear of where the other robots stand."""
    planner = grid_planner(ctx)
    centre = _room_centre(room)
    others = list(ctx.robot.other_robots().values())
    if planner.is_free(centre) and all(math.dist(centre, o) >= ROBOT_SPACING_M for o in others):
        return Pose2D(centre[0], centre[1])
    here = ctx.robot.pose()
    gx, gy = planner.grid.cell_centres()
    ok = planner.free & (planner.clearance > planner.inflation_m + ROOM_SPOT_CLEARANCE_M)
    ok &= polygon_mask(room.polygon, gx, gy)
    start = planner.grid.world_to_cell(here.x, here.y)
    if planner.grid.in_bounds(*start) and planner.free[start]:
        ok &= planner.components == planner.components[start]
    for ox, oy in others:
        ok &= (gx - ox) ** 2 + (gy - oy) ** 2 >= ROBOT_SPACING_M**2
    if not ok.any():
        raise SkillFailure(f"no free spot in {room.id}")
    d2 = np.where(ok, (gx - centre[0]) ** 2 + (gy - centre[1]) ** 2, np.inf)
    row, col = divmod(int(np.argmin(d2)), planner.grid.width)
    x, y = planner.grid.cell_to_world(row, col)
    return Pose2D(x, y)


def stand_facing(ctx: SkillContext, target_xy: tuple[float, float], standoff: float) -> Pose2D:
    """The nearest reachable pose facing ``target_xy`` with ``standoff`` metres of free space around it."""
    planner = grid_planner(ctx)
    here = ctx.robot.pose()
    try:
        return planner.standing_pose_near(target_xy, standoff, from_xy=(here.x, here.y))
    except NoPathError as exc:
        raise SkillFailure(f"no place to stand near ({target_xy[0]:.2f}, {target_xy[1]:.2f}): {exc}") from exc


def navigation_goal(ctx: SkillContext, target: str) -> NavigationGoal:
    """Turn a target entity id into a standing pose (see the module docstring for each kind)."""
    scene: SceneGraph = ctx.robot.scene()
    entity = scene.get(target)
    if entity is None:
        raise SkillFailure(f"unknown target {target!r}")
    if isinstance(entity, Room):
        return NavigationGoal(target, free_spot_in_room(ctx, entity), None)
    if isinstance(entity, Device) and entity.kind == "dock":
        return NavigationGoal(target, Pose2D(entity.position[0], entity.position[1]), None)
    if isinstance(entity, Robot) and entity.dock:
        return navigation_goal(ctx, entity.dock)
    if isinstance(entity, Person):
        xy = (entity.pose.x, entity.pose.y)
        return NavigationGoal(target, stand_facing(ctx, xy, PERSON_STANDOFF_M), xy)
    if isinstance(entity, Furniture):
        xy = (entity.pose.x, entity.pose.y)
    elif isinstance(entity, SceneObject):
        detection = ctx.detections.get(entity.id)
        xy = (detection.position[0], detection.position[1]) if detection else entity.position[:2]
    elif isinstance(entity, Device):
        xy = entity.position[:2]
    else:
        raise SkillFailure(f"cannot navigate to {target!r} ({type(entity).__name__})")
    xy = (float(xy[0]), float(xy[1]))
    return NavigationGoal(target, stand_facing(ctx, xy, FURNITURE_STANDOFF_M), xy)


def drive_to(ctx: SkillContext, goal: NavigationGoal, tolerance: float = FINAL_TOLERANCE_M) -> None:
    """Plan with A* from the current pose and drive there; one re-plan from wherever it got stuck."""
    planner = grid_planner(ctx)
    for attempt in range(2):
        if ctx.robot.cancelled():
            raise SkillFailure("cancelled")
        here = ctx.robot.pose()
        if math.hypot(goal.pose.x - here.x, goal.pose.y - here.y) <= tolerance:
            return
        end = (goal.pose.x, goal.pose.y)
        pre: tuple[float, float] | None = None
        if goal.face_xy is not None:
            heading = math.atan2(goal.face_xy[1] - end[1], goal.face_xy[0] - end[0])
            candidate = (end[0] - PRE_APPROACH_M * math.cos(heading), end[1] - PRE_APPROACH_M * math.sin(heading))
            if planner.is_free(candidate) and planner.segment_is_free(candidate, end):
                pre = candidate
        try:
            path = planner.plan((here.x, here.y), pre if pre is not None else end)
        except NoPathError as exc:
            raise SkillFailure(f"no path to {goal.target}: {exc}") from exc
        waypoints = list(path.waypoints[1:]) if len(path.waypoints) > 1 else [path.goal]
        if pre is not None:
            waypoints.append(end)
        _log.info("%s: driving to %s via %d waypoints (%.1f m)", ctx.robot.robot_id, goal.target,
                  len(waypoints), path.length_m)
        if ctx.robot.drive_path(waypoints, tolerance=tolerance):
            return
        _log.warning("%s: did not reach %s (attempt %d)", ctx.robot.robot_id, goal.target, attempt + 1)
    raise SkillFailure(f"could not reach {goal.target}")


class NavigateTo:
    """``navigate_to(target)``: go and stand at the target (room, furniture, object, device, person, dock)."""

    name = "navigate_to"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Drive to the target's standing pose."""
        target = arg_str(args, "target")
        goal = navigation_goal(ctx, target)
        drive_to(ctx, goal)
        ctx.robot.hold()
        pose = ctx.robot.pose()
        room = ctx.robot.scene().room_at(pose.x, pose.y)
        observed = {f"{ctx.robot.robot_id}.room": room.id} if room else {}
        return SkillResult(True, f"at {target}", observed=observed)


class Dock:
    """``dock()``: return to the robot's own dock and confirm it docked."""

    name = "dock"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Drive onto the dock, then wait briefly for the driver to report it docked."""
        robot = ctx.robot.scene().get(ctx.robot.robot_id)
        dock_id = str(args.get("dock") or (robot.dock if isinstance(robot, Robot) else ""))
        if not dock_id:
            raise SkillFailure(f"{ctx.robot.robot_id} has no dock")
        goal = navigation_goal(ctx, dock_id)
        for attempt in range(DOCK_ATTEMPTS):
            if attempt:
                # Back off along the line from the dock and drive straight in again.
                here = ctx.robot.pose()
                away = math.atan2(here.y - goal.pose.y, here.x - goal.pose.x)
                back = (goal.pose.x + DOCK_BACKOFF_M * math.cos(away), goal.pose.y + DOCK_BACKOFF_M * math.sin(away))
                if grid_planner(ctx).is_free(back):
                    ctx.robot.drive_path([back], tolerance=0.2, timeout_s=30.0)
                ctx.robot.drive_path([(goal.pose.x, goal.pose.y)], tolerance=DOCK_TOLERANCE_M, timeout_s=30.0)
            else:
                try:
                    drive_to(ctx, goal, tolerance=DOCK_TOLERANCE_M)
                except SkillFailure as exc:
                    if ctx.robot.cancelled():
                        raise
                    _log.info("%s: first docking approach ended short: %s", ctx.robot.robot_id, exc)
            ctx.robot.hold()
            if not ctx.robot.sleep(DOCK_SETTLE_S):  # come to rest, let a fresh dock_state arrive
                raise SkillFailure("cancelled")
            for _ in range(3):
                if ctx.robot.dock_state().get("docked"):
                    return SkillResult(True, f"docked at {dock_id}",
                                       observed={f"{ctx.robot.robot_id}.docked": "true"})
                if not ctx.robot.sleep(0.5):
                    raise SkillFailure("cancelled")
        raise SkillFailure(f"at {dock_id} but the driver does not report docked")
