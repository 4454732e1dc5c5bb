"""Conversion between the domain dataclasses and the ``reflexarc.v1`` protobuf messages.

Both sides of the wire import this module (the cloud's session and the edge's executive), so it holds
no server state and no gRPC: only pure functions from one representation to the other. Which step
argument travels as an entity id and which as a literal comes from the skill library, so a plan
round-trips through protobuf unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from cloud_planner.errors import PlanRejected, RejectCode
from cloud_planner.plan import ArgValue, Command, CommandSource, Fact, PlanCost, PlanHeader, PlanStep
from protos.reflexarc.v1 import plan_pb2, scene_pb2
from reflexarc.scene_graph import (
    Device,
    Furniture,
    Person,
    Pose2D,
    Robot,
    Room,
    SceneGraph,
    SceneGraphError,
    SceneObject,
)
from reflexarc.skills import SKILLS, ParamKind

__all__ = [
    "command_from_proto",
    "command_to_proto",
    "cost_to_proto",
    "facts_from_proto",
    "facts_to_proto",
    "header_from_proto",
    "header_to_proto",
    "reject_code_from_proto",
    "reject_code_to_proto",
    "rejection_from_proto",
    "rejection_to_proto",
    "scene_from_proto",
    "scene_to_proto",
    "step_from_proto",
    "step_to_proto",
]

_SOURCE_TO_PROTO = {
    CommandSource.TEXT: plan_pb2.COMMAND_SOURCE_TEXT,
    CommandSource.VOICE: plan_pb2.COMMAND_SOURCE_VOICE,
    CommandSource.EVENT: plan_pb2.COMMAND_SOURCE_EVENT,
}
_SOURCE_FROM_PROTO = {v: k for k, v in _SOURCE_TO_PROTO.items()}


# --- scene graph -------------------------------------------------------------------------------------


def _pose_to_proto(pose: Pose2D) -> scene_pb2.Pose2D:
    return scene_pb2.Pose2D(x=pose.x, y=pose.y, yaw=pose.yaw)


def _pose_from_proto(msg: scene_pb2.Pose2D) -> Pose2D:
    return Pose2D(msg.x, msg.y, msg.yaw)


def _vec3_to_proto(v: tuple[float, float, float]) -> scene_pb2.Vec3:
    return scene_pb2.Vec3(x=v[0], y=v[1], z=v[2])


def _vec3_from_proto(msg: scene_pb2.Vec3) -> tuple[float, float, float]:
    return (msg.x, msg.y, msg.z)


def scene_to_proto(scene: SceneGraph) -> scene_pb2.SceneGraph:
    """The wire form of a scene graph."""
    msg = scene_pb2.SceneGraph(version=scene.version)
    for room in scene.rooms:
        msg.rooms.add(
            id=room.id,
            name=room.name,
            polygon=[scene_pb2.Point2D(x=x, y=y) for x, y in room.polygon],
            aliases=room.aliases,
        )
    for f in scene.furniture:
        msg.furniture.add(
            id=f.id, cls=f.cls, room=f.room, pose=_pose_to_proto(f.pose), size=_vec3_to_proto(f.size),
            colour=f.colour, top_height=f.top_height,
        )
    for o in scene.objects:
        msg.objects.add(
            id=o.id, cls=o.cls, colour=o.colour, position=_vec3_to_proto(o.position), room=o.room, on=o.on,
            graspable=o.graspable, held_by=o.held_by,
        )
    for d in scene.devices:
        device = msg.devices.add(
            id=d.id, kind=d.kind, room=d.room, state=d.state, allowed_states=d.allowed_states,
            position=_vec3_to_proto(d.position),
        )
        if d.value_range is not None:
            device.value_range.min, device.value_range.max = d.value_range
    for r in scene.robots:
        msg.robots.add(
            id=r.id, kind=r.kind, capabilities=r.capabilities, pose=_pose_to_proto(r.pose), room=r.room, dock=r.dock
        )
    for p in scene.people:
        msg.people.add(id=p.id, name=p.name, pose=_pose_to_proto(p.pose), room=p.room)
    return msg


def scene_from_proto(msg: scene_pb2.SceneGraph) -> SceneGraph:
    """The scene graph a message describes; raises SceneGraphError if it is inconsistent."""
    try:
        return SceneGraph(
            version=msg.version or "1",
            rooms=tuple(
                Room(id=r.id, name=r.name, polygon=tuple((p.x, p.y) for p in r.polygon), aliases=tuple(r.aliases))
                for r in msg.rooms
            ),
            furniture=tuple(
                Furniture(
                    id=f.id, cls=f.cls, room=f.room, pose=_pose_from_proto(f.pose), size=_vec3_from_proto(f.size),
                    colour=f.colour, top_height=f.top_height,
                )
                for f in msg.furniture
            ),
            objects=tuple(
                SceneObject(
                    id=o.id, cls=o.cls, colour=o.colour, position=_vec3_from_proto(o.position), room=o.room, on=o.on,
                    graspable=o.graspable if o.HasField("graspable") else True, held_by=o.held_by,
                )
                for o in msg.objects
            ),
            devices=tuple(
                Device(
                    id=d.id, kind=d.kind, room=d.room, state=d.state, allowed_states=tuple(d.allowed_states),
                    value_range=(d.value_range.min, d.value_range.max) if d.HasField("value_range") else None,
                    position=_vec3_from_proto(d.position),
                )
                for d in msg.devices
            ),
            robots=tuple(
                Robot(
                    id=r.id, kind=r.kind, capabilities=tuple(r.capabilities), pose=_pose_from_proto(r.pose),
                    room=r.room, dock=r.dock,
                )
                for r in msg.robots
            ),
            people=tuple(
                Person(id=p.id, name=p.name or p.id, pose=_pose_from_proto(p.pose), room=p.room) for p in msg.people
            ),
        )
    except SceneGraphError:
        raise
    except (TypeError, ValueError) as exc:
        raise SceneGraphError(f"malformed scene graph message: {exc}") from exc


# --- commands and facts ------------------------------------------------------------------------------


def command_to_proto(command: Command, scene: SceneGraph | None = None) -> plan_pb2.Command:
    """The wire form of a command, optionally with the scene to plan it against."""
    msg = plan_pb2.Command(
        text=command.text,
        language=command.language,
        source=_SOURCE_TO_PROTO[CommandSource(command.source)],
        asr_confidence=command.asr_confidence,
        command_id=command.command_id,
    )
    if scene is not None:
        msg.scene.CopyFrom(scene_to_proto(scene))
    return msg


def command_from_proto(msg: plan_pb2.Command) -> Command:
    """The command a message carries (its optional scene is read separately)."""
    return Command(
        text=msg.text,
        language=msg.language,
        source=_SOURCE_FROM_PROTO.get(msg.source, CommandSource.TEXT),
        asr_confidence=msg.asr_confidence if msg.source == plan_pb2.COMMAND_SOURCE_VOICE else 1.0,
        command_id=msg.command_id,
    )


def facts_to_proto(facts: Iterable[Fact]) -> list[plan_pb2.Fact]:
    """Wire form of facts."""
    return [plan_pb2.Fact(subject=f.subject, predicate=f.predicate, object=f.object) for f in facts]


def facts_from_proto(msgs: Iterable[plan_pb2.Fact]) -> tuple[Fact, ...]:
    """Facts from their wire form (empty triples are dropped)."""
    return tuple(Fact(m.subject, m.predicate, m.object) for m in msgs if m.subject and m.predicate)


# --- steps and headers -------------------------------------------------------------------------------


def _param_kind(skill: str, name: str) -> ParamKind | None:
    spec = SKILLS.get(skill)
    param = spec.param(name) if spec else None
    return param.kind if param else None


def _arg_to_proto(skill: str, name: str, value: ArgValue) -> plan_pb2.ArgValue:
    kind = _param_kind(skill, name)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return plan_pb2.ArgValue(text=str(value))
    if (kind is not None and kind.is_number) or (kind is None and not isinstance(value, str)):
        try:
            return plan_pb2.ArgValue(number=float(value))
        except ValueError:
            return plan_pb2.ArgValue(text=str(value))
    if kind is not None and kind.is_entity:
        return plan_pb2.ArgValue(entity=str(value))
    return plan_pb2.ArgValue(text=str(value))


def _arg_from_proto(msg: plan_pb2.ArgValue) -> ArgValue:
    which = msg.WhichOneof("value")
    if which == "number":
        return float(msg.number)
    if which == "entity":
        return msg.entity
    return msg.text


def step_to_proto(step: PlanStep, plan_id: str = "", revision: int = 0) -> plan_pb2.Step:
    """The wire form of a step; contingency steps carry no plan id or revision of their own."""
    return plan_pb2.Step(
        plan_id=plan_id,
        revision=revision,
        index=step.index,
        robot=step.robot,
        skill=step.skill,
        args={name: _arg_to_proto(step.skill, name, value) for name, value in step.args.items()},
        expect=dict(step.expect),
        on_failure=[step_to_proto(s) for s in step.on_failure],
        summary=step.summary,
    )


def step_from_proto(msg: plan_pb2.Step) -> PlanStep:
    """The step a message carries (its plan id and revision are on the message itself)."""
    return PlanStep(
        index=msg.index,
        robot=msg.robot,
        skill=msg.skill,
        args={name: _arg_from_proto(value) for name, value in sorted(msg.args.items())},
        expect=dict(sorted(msg.expect.items())),
        on_failure=tuple(step_from_proto(s) for s in msg.on_failure),
        summary=msg.summary,
    )


def cost_to_proto(cost: PlanCost) -> plan_pb2.PlanCost:
    """The wire form of a plan's cost."""
    return plan_pb2.PlanCost(tokens_in=cost.tokens_in, tokens_out=cost.tokens_out, usd=cost.usd,
                             latency_ms=cost.latency_ms)


def header_to_proto(
    header: PlanHeader,
    *,
    command_id: str = "",
    plan_digest: str = "",
    resumed: bool = False,
    from_index: int = 0,
    total_steps: int | None = None,
) -> plan_pb2.PlanHeader:
    """The wire form of a plan header (``total_steps`` overrides the header's for revisions)."""
    return plan_pb2.PlanHeader(
        plan_id=header.plan_id,
        revision=header.revision,
        command=header.command,
        language=header.language,
        summary=header.summary,
        total_steps=header.total_steps if total_steps is None else total_steps,
        backend=header.backend,
        cost=cost_to_proto(header.cost),
        command_id=command_id,
        scene_hash=header.scene_hash,
        plan_digest=plan_digest,
        resumed=resumed,
        cancel=header.cancel,
        from_index=from_index,
    )


def header_from_proto(msg: plan_pb2.PlanHeader) -> PlanHeader:
    """The plan header a message carries."""
    return PlanHeader(
        plan_id=msg.plan_id,
        command=msg.command,
        language=msg.language,
        summary=msg.summary,
        total_steps=msg.total_steps,
        backend=msg.backend,
        revision=msg.revision,
        cost=PlanCost(msg.cost.tokens_in, msg.cost.tokens_out, msg.cost.usd, msg.cost.latency_ms),
        scene_hash=msg.scene_hash,
        cancel=msg.cancel,
    )


# --- rejections --------------------------------------------------------------------------------------


def reject_code_to_proto(code: RejectCode) -> int:
    """``RejectCode.UNKNOWN_OBJECT`` -> ``plan_pb2.REJECT_CODE_UNKNOWN_OBJECT``."""
    return plan_pb2.RejectCode.Value("REJECT_CODE_" + RejectCode(code).value.upper())


def reject_code_from_proto(value: int) -> RejectCode:
    """The domain code of a wire enum value (unknown values read as BACKEND_ERROR)."""
    try:
        name = plan_pb2.RejectCode.Name(value)
    except ValueError:
        return RejectCode.BACKEND_ERROR
    try:
        return RejectCode(name.removeprefix("REJECT_CODE_").lower())
    except ValueError:
        return RejectCode.BACKEND_ERROR


def rejection_to_proto(error: PlanRejected, *, command_id: str = "", plan_id: str = "") -> plan_pb2.Reject:
    """The wire form of a rejection."""
    msg = plan_pb2.Reject(
        code=reject_code_to_proto(error.code),
        message=error.message,
        candidates=error.candidates,
        command_id=command_id,
        plan_id=plan_id,
    )
    if error.step_index is not None:
        msg.step_index = error.step_index
    return msg


def rejection_from_proto(msg: plan_pb2.Reject) -> PlanRejected:
    """The rejection a message carries."""
    return PlanRejected(
        reject_code_from_proto(msg.code),
        msg.message,
        tuple(msg.candidates),
        msg.step_index if msg.HasField("step_index") else None,
    )

