"""The symbolic world model: what a step or an observed fact changes in the scene graph.

The validator simulates a plan with these effects to check every precondition in order, the embedded
planner plans compound commands over the simulated state, and the session re-plans "from the current
state" by applying the finished steps to the scene a revision was planned against. Effects are
symbolic (who holds what, which room a robot is in, device states); geometry is approximate (a robot
that navigated to a table is placed at the table's pose), enough for choosing the nearest of two cups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from cloud_planner.plan import Fact, PlanStep
from reflexarc.scene_graph import Device, Furniture, Person, Pose2D, Robot, Room, SceneGraph, SceneObject

__all__ = [
    "DID",
    "FOUND_IN",
    "FOUND_ON",
    "NOT_FOUND_IN",
    "NOT_FOUND_ON",
    "apply_facts",
    "apply_step",
    "apply_steps",
    "done_fact",
    "entity_kind",
    "entity_pose",
    "entity_room",
    "holding",
    "observed_facts",
]

NOT_FOUND_ON = "not_found_on"
NOT_FOUND_IN = "not_found_in"
FOUND_ON = "found_on"
FOUND_IN = "found_in"
DID = "did"


def entity_kind(scene: SceneGraph, entity_id: str) -> str:
    """``room``, ``furniture``, ``object``, ``device``, ``dock``, ``robot``, ``person`` or ``""``."""
    entity = scene.get(entity_id)
    if isinstance(entity, Room):
        return "room"
    if isinstance(entity, Furniture):
        return "furniture"
    if isinstance(entity, SceneObject):
        return "object"
    if isinstance(entity, Device):
        return "dock" if entity.kind == "dock" else "device"
    if isinstance(entity, Robot):
        return "robot"
    if isinstance(entity, Person):
        return "person"
    return ""


def _centroid(room: Room) -> Pose2D:
    if not room.polygon:
        return Pose2D(0.0, 0.0)
    xs = [p[0] for p in room.polygon]
    ys = [p[1] for p in room.polygon]
    return Pose2D(sum(xs) / len(xs), sum(ys) / len(ys))


def entity_pose(scene: SceneGraph, entity_id: str) -> Pose2D | None:
    """Where an entity is, in the plane (a room's centroid; an object at its holder)."""
    entity = scene.get(entity_id)
    if isinstance(entity, Room):
        return _centroid(entity)
    if isinstance(entity, (Furniture, Robot, Person)):
        return entity.pose
    if isinstance(entity, SceneObject):
        if entity.held_by and entity.held_by in scene:
            return entity_pose(scene, entity.held_by)
        return Pose2D(entity.position[0], entity.position[1])
    if isinstance(entity, Device):
        return Pose2D(entity.position[0], entity.position[1])
    return None


def entity_room(scene: SceneGraph, entity_id: str) -> str:
    """The room an entity is in (a room is in itself; a held object where its holder is)."""
    entity = scene.get(entity_id)
    if isinstance(entity, Room):
        return entity.id
    if isinstance(entity, SceneObject) and entity.held_by and entity.held_by in scene:
        return entity_room(scene, entity.held_by)
    return getattr(entity, "room", "") if entity is not None else ""


def holding(scene: SceneGraph, holder_id: str) -> str:
    """Id of the object ``holder_id`` holds, or ``""``."""
    return next((o.id for o in scene.objects if o.held_by == holder_id), "")


def _move_robot(scene: SceneGraph, robot_id: str, target_id: str) -> SceneGraph:
    robot = scene.get(robot_id)
    pose = entity_pose(scene, target_id)
    room = entity_room(scene, target_id)
    if not isinstance(robot, Robot) or pose is None:
        return scene
    moved = replace(robot, pose=Pose2D(pose.x, pose.y, robot.pose.yaw), room=room or robot.room)
    return replace(scene, robots=tuple(moved if r.id == robot_id else r for r in scene.robots))


def _put_object(scene: SceneGraph, object_id: str, place_id: str, held_by: str = "") -> SceneGraph:
    obj = scene.get(object_id)
    if not isinstance(obj, SceneObject):
        return scene
    place = scene.get(place_id)
    pose = entity_pose(scene, place_id)
    z = obj.position[2]
    if isinstance(place, Furniture):
        z = place.top_height + 0.05
    position = (pose.x, pose.y, z) if pose is not None and not held_by else obj.position
    moved = replace(
        obj,
        room=entity_room(scene, place_id) or obj.room,
        on=place_id if isinstance(place, Furniture) else "",
        held_by=held_by,
        position=position,
    )
    return scene.with_object(moved)


def _locate(scene: SceneGraph, object_id: str, robot_id: str) -> SceneGraph:
    """A successful look_for: the object is where the robot looked (its room, if it was elsewhere)."""
    obj = scene.get(object_id)
    robot = scene.get(robot_id)
    if not isinstance(obj, SceneObject) or not isinstance(robot, Robot) or obj.held_by or obj.room == robot.room:
        return scene
    return scene.with_object(replace(obj, room=robot.room, on="", position=(robot.pose.x, robot.pose.y, obj.position[2])))


def apply_step(scene: SceneGraph, step: PlanStep) -> SceneGraph:
    """The scene after ``step`` succeeded (steps with no symbolic effect return it unchanged)."""
    args = step.args
    skill = step.skill
    if skill == "navigate_to" and isinstance(args.get("target"), str):
        return _move_robot(scene, step.robot, args["target"])
    if skill == "look_for" and isinstance(args.get("object"), str):
        return _locate(scene, args["object"], step.robot)
    if skill == "pick" and isinstance(args.get("object"), str):
        return _put_object(scene, args["object"], step.robot, held_by=step.robot)
    if skill == "place" and isinstance(args.get("object"), str) and isinstance(args.get("on"), str):
        return _put_object(scene, args["object"], args["on"])
    if skill == "handover" and isinstance(args.get("object"), str) and isinstance(args.get("person"), str):
        return _put_object(scene, args["object"], args["person"], held_by=args["person"])
    if skill == "carry" and isinstance(args.get("object"), str) and isinstance(args.get("to"), str):
        return _move_robot(_put_object(scene, args["object"], args["to"]), step.robot, args["to"])
    if skill == "dock":
        robot = scene.get(step.robot)
        if isinstance(robot, Robot) and robot.dock in scene:
            return _move_robot(scene, step.robot, robot.dock)
        return scene
    if skill == "set_device" and isinstance(args.get("device"), str) and isinstance(args.get("state"), str):
        if args["device"] in scene:
            return scene.with_device_state(args["device"], args["state"])
    return scene


def apply_steps(scene: SceneGraph, steps: Iterable[PlanStep]) -> SceneGraph:
    """The scene after every step succeeded, in order."""
    for step in steps:
        scene = apply_step(scene, step)
    return scene


def apply_facts(scene: SceneGraph, facts: Iterable[Fact]) -> SceneGraph:
    """The scene corrected by observed facts that change it (found_on/in, held_by, on, room, state).

    Facts that only narrow a search (not_found_on/in) or record history (did) leave it unchanged;
    facts about unknown entities are ignored (the edge may know things the scene does not).
    """
    for fact in facts:
        obj = scene.get(fact.subject)
        if isinstance(obj, SceneObject):
            if fact.predicate in (FOUND_ON, "on") and isinstance(scene.get(fact.object), Furniture):
                scene = _put_object(scene, obj.id, fact.object)
            elif fact.predicate in (FOUND_IN, "room") and isinstance(scene.get(fact.object), Room):
                scene = scene.with_object(replace(obj, room=fact.object, on="", held_by=""))
            elif fact.predicate == "held_by" and (not fact.object or fact.object in scene):
                scene = scene.with_object(replace(obj, held_by=fact.object, on="" if fact.object else obj.on))
        elif isinstance(obj, Device) and fact.predicate == "state" and fact.object:
            scene = scene.with_device_state(obj.id, fact.object)
    return scene


def observed_facts(observed: dict[str, str] | Iterable[tuple[str, str]]) -> tuple[Fact, ...]:
    """``{"cup_red.held_by": ""}`` (a Progress's observed values) as facts."""
    items = observed.items() if isinstance(observed, dict) else observed
    facts = []
    for key, value in sorted(items):
        subject, _, prop = key.partition(".")
        if subject and prop:
            facts.append(Fact(subject, prop, value))
    return tuple(facts)


def done_fact(step: PlanStep) -> Fact:
    """A record that ``step`` was executed, so a re-plan does not repeat work the scene cannot show."""
    args = " ".join(str(step.args[k]) for k in sorted(step.args))
    return Fact(step.robot, DID, f"{step.skill} {args}".strip())
