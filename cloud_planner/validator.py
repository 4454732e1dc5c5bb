"""THE plan validator: every backend's steps pass here before any of them reaches a robot.

It simulates the plan's symbolic effects over the scene graph and refuses the first step that breaks a
rule: a skill outside the library, an argument that is not an existing entity of the right kind (or
a literal of the right type), a robot without the skill, an unmet precondition (placing without
holding, picking the luggage), a device state the device does not allow (the front door lock accepts
only "locked", so no plan can unlock it), a number out of bounds. Contingency steps are checked from
the state before their parent. The incremental API (``Validator(scene).check_step(step)``) lets a
streaming backend validate each step as it is produced.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from cloud_planner.errors import RejectCode, ValidationError
from cloud_planner.plan import Plan, PlanStep
from cloud_planner.world import apply_step, entity_kind, entity_room, holding
from reflexarc.scene_graph import Device, Robot, SceneGraph, SceneObject
from reflexarc.skills import PLACE_KINDS, SAY_TEXT_MAX_CHARS, SKILLS, WAIT_SECONDS_MAX, ParamKind

__all__ = ["MAX_CONTINGENCY_DEPTH", "MAX_STEPS", "ValidationError", "Validator", "check_step_static", "validate_plan"]

MAX_STEPS = 200
MAX_CONTINGENCY_DEPTH = 4
# Device states no plan may ever set, whatever a device's allowed list says.
_FORBIDDEN_STATES = frozenset({"unlocked", "unlock", "open", "opened", "disarmed"})
_ENTITY_KIND_FOR_PARAM = {
    ParamKind.ROOM: ("room",),
    ParamKind.OBJECT: ("object",),
    ParamKind.FURNITURE: ("furniture",),
    ParamKind.PERSON: ("person",),
    ParamKind.DEVICE: ("device", "dock"),
    ParamKind.PLACE: PLACE_KINDS,
}


def _ids_of_kind(scene: SceneGraph, kinds: Iterable[str]) -> list[str]:
    kinds = set(kinds)
    return sorted(i for i in scene.entity_ids if entity_kind(scene, i) in kinds)


class Validator:
    """Checks steps in order against a simulated scene; raises ValidationError on the first bad one.

    Args:
        scene: The scene the plan starts from.
        start_index: Index the first checked step must have (a revision starts mid-plan).
    """

    def __init__(self, scene: SceneGraph, start_index: int = 0) -> None:
        self._scene = scene
        self._next_index = start_index
        self._count = 0

    @property
    def state(self) -> SceneGraph:
        """The simulated scene after every step checked so far."""
        return self._scene

    def check_step(self, step: PlanStep) -> None:
        """Validate ``step`` (and its contingencies) and advance the simulated state past it."""
        if step.index != self._next_index:
            raise ValidationError(
                RejectCode.INVALID_ARGUMENT,
                f"step index {step.index} out of order: expected {self._next_index}",
                step_index=step.index,
            )
        self._count += 1
        if self._count > MAX_STEPS:
            raise ValidationError(
                RejectCode.INVALID_ARGUMENT, f"a plan may have at most {MAX_STEPS} steps", step_index=step.index
            )
        self._scene = self._check(step, self._scene, step.index, depth=0)
        self._next_index += 1

    def _check(self, step: PlanStep, scene: SceneGraph, top_index: int, depth: int) -> SceneGraph:
        """Validate one step in ``scene`` and return the scene after it; contingencies from ``scene``."""
        self._check_static(step, scene, top_index)
        self._check_preconditions(step, scene, top_index)
        if step.on_failure:
            if depth >= MAX_CONTINGENCY_DEPTH:
                raise ValidationError(
                    RejectCode.INVALID_ARGUMENT,
                    f"contingencies nested deeper than {MAX_CONTINGENCY_DEPTH}",
                    step_index=top_index,
                )
            branch = scene
            for contingency in step.on_failure:
                branch = self._check(contingency, branch, top_index, depth + 1)
        return apply_step(scene, step)

    def _fail(self, code: RejectCode, message: str, index: int, candidates: Iterable[str] = ()) -> ValidationError:
        return ValidationError(code, message, tuple(candidates), step_index=index)

    def _check_static(self, step: PlanStep, scene: SceneGraph, index: int) -> None:
        """Skill allowlisted, robot exists and is capable, arguments complete and well typed."""
        spec = SKILLS.get(step.skill)
        if spec is None:
            raise self._fail(
                RejectCode.UNSUPPORTED_ACTION,
                f"step {index}: {step.skill!r} is not a skill; allowed: {', '.join(SKILLS)}",
                index,
                SKILLS,
            )
        robot = scene.get(step.robot)
        if not isinstance(robot, Robot):
            raise self._fail(
                RejectCode.UNKNOWN_ENTITY, f"step {index}: no robot {step.robot!r}", index, [r.id for r in scene.robots]
            )
        if step.skill not in robot.capabilities:
            capable = [r.id for r in scene.robots if step.skill in r.capabilities]
            raise self._fail(
                RejectCode.NO_CAPABLE_ROBOT,
                f"step {index}: {robot.id} ({robot.kind}) cannot {step.skill}"
                + (f"; robots that can: {', '.join(capable)}" if capable else "; no robot here can"),
                index,
                capable,
            )
        missing = [p.name for p in spec.params if p.name not in step.args]
        extra = sorted(set(step.args) - set(spec.param_names))
        if missing or extra:
            raise self._fail(
                RejectCode.INVALID_ARGUMENT,
                f"step {index}: {spec.signature()} got "
                + ", ".join(filter(None, (missing and f"missing {missing}", extra and f"unexpected {extra}"))),
                index,
            )
        for param in spec.params:
            self._check_arg(step, param.name, param.kind, step.args[param.name], scene, index)

    def _check_arg(self, step: PlanStep, name: str, kind: ParamKind, value: object, scene: SceneGraph,
                   index: int) -> None:
        if kind.is_entity:
            allowed = _ENTITY_KIND_FOR_PARAM[kind]
            if not isinstance(value, str) or value not in scene:
                code = RejectCode.UNKNOWN_OBJECT if kind is ParamKind.OBJECT else RejectCode.UNKNOWN_ENTITY
                what = "object" if kind is ParamKind.OBJECT else kind.value
                raise self._fail(
                    code,
                    f"step {index}: {step.skill}.{name}: there is no {what} {value!r} in the scene",
                    index,
                    _ids_of_kind(scene, allowed),
                )
            actual = entity_kind(scene, value)
            if actual not in allowed:
                raise self._fail(
                    RejectCode.INVALID_ARGUMENT,
                    f"step {index}: {step.skill}.{name} must be a {' or '.join(allowed)}, {value!r} is a {actual}",
                    index,
                    _ids_of_kind(scene, allowed),
                )
            return
        if kind is ParamKind.SECONDS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise self._fail(RejectCode.INVALID_ARGUMENT, f"step {index}: wait.seconds must be a number", index)
            if not 0.0 <= float(value) <= WAIT_SECONDS_MAX:
                raise self._fail(
                    RejectCode.OUT_OF_RANGE,
                    f"step {index}: wait of {value:g} s is outside 0-{WAIT_SECONDS_MAX:g} s",
                    index,
                )
            return
        if not isinstance(value, str):
            raise self._fail(RejectCode.INVALID_ARGUMENT, f"step {index}: {step.skill}.{name} must be text", index)
        if kind is ParamKind.TEXT and not 0 < len(value.strip()) <= SAY_TEXT_MAX_CHARS:
            raise self._fail(
                RejectCode.INVALID_ARGUMENT,
                f"step {index}: {step.skill}.{name} must be 1-{SAY_TEXT_MAX_CHARS} characters",
                index,
            )

    def _check_preconditions(self, step: PlanStep, scene: SceneGraph, index: int) -> None:
        """What must hold in the simulated scene right before the step."""
        args = step.args
        robot: Robot = scene.get(step.robot)
        held = holding(scene, robot.id)
        if step.skill == "set_device":
            self._check_device_state(scene.get(args["device"]), args["state"], index)
        elif step.skill in ("pick", "carry"):
            obj: SceneObject = scene.get(args["object"])
            if step.skill == "pick" and not obj.graspable:
                carriers = [r.id for r in scene.robots if "carry" in r.capabilities]
                raise self._fail(
                    RejectCode.PRECONDITION_FAILED,
                    f"step {index}: {obj.id} cannot be grasped"
                    + (f"; it can be carried by {', '.join(carriers)}" if carriers else ""),
                    index,
                    carriers,
                )
            if obj.held_by:
                raise self._fail(
                    RejectCode.PRECONDITION_FAILED, f"step {index}: {obj.id} is held by {obj.held_by}", index
                )
            if held:
                raise self._fail(
                    RejectCode.PRECONDITION_FAILED, f"step {index}: {robot.id} already holds {held}", index
                )
            if robot.room != obj.room:
                raise self._fail(
                    RejectCode.PRECONDITION_FAILED,
                    f"step {index}: {robot.id} is in {robot.room or 'no room'}, {obj.id} is in {obj.room}; "
                    f"navigate there first",
                    index,
                )
        elif step.skill in ("place", "handover"):
            obj = scene.get(args["object"])
            if obj.held_by != robot.id:
                raise self._fail(
                    RejectCode.PRECONDITION_FAILED,
                    f"step {index}: {robot.id} must hold {obj.id} before {step.skill}",
                    index,
                )
            target = args["on"] if step.skill == "place" else args["person"]
            target_room = entity_room(scene, target)
            if robot.room != target_room:
                raise self._fail(
                    RejectCode.PRECONDITION_FAILED,
                    f"step {index}: {robot.id} is in {robot.room}, {target} is in {target_room}; navigate there first",
                    index,
                )
        elif step.skill == "clean_area" and robot.room != args["room"]:
            raise self._fail(
                RejectCode.PRECONDITION_FAILED,
                f"step {index}: {robot.id} must be in {args['room']} to clean it (it is in {robot.room})",
                index,
            )
        elif step.skill == "dock" and not isinstance(scene.get(robot.dock), Device):
            raise self._fail(RejectCode.PRECONDITION_FAILED, f"step {index}: {robot.id} has no dock", index)

    def _check_device_state(self, device: Device, state: str, index: int) -> None:
        if device.kind == "dock":
            raise self._fail(
                RejectCode.FORBIDDEN_STATE, f"step {index}: {device.id} is a dock, not a controllable device", index
            )
        if state.strip().lower() in _FORBIDDEN_STATES or (device.kind == "lock" and not device.accepts(state)):
            raise self._fail(
                RejectCode.FORBIDDEN_STATE,
                f"step {index}: {device.id} may never be set to {state!r} by a plan"
                f" (allowed: {', '.join(device.allowed_states) or 'nothing'})",
                index,
                device.allowed_states,
            )
        if device.accepts(state):
            return
        if device.value_range is not None:
            low, high = device.value_range
            try:
                float(state)
            except ValueError:
                raise self._fail(
                    RejectCode.INVALID_ARGUMENT, f"step {index}: {device.id} takes a number, not {state!r}", index
                ) from None
            raise self._fail(
                RejectCode.OUT_OF_RANGE,
                f"step {index}: {device.id} accepts {low:g} to {high:g}, not {state}",
                index,
            )
        raise self._fail(
            RejectCode.INVALID_ARGUMENT,
            f"step {index}: {device.id} has no state {state!r} (allowed: {', '.join(device.allowed_states)})",
            index,
            device.allowed_states,
        )


def validate_plan(plan: Plan, scene: SceneGraph, start_index: int | None = None) -> SceneGraph:
    """Validate a whole plan; returns the simulated final scene, raises ValidationError otherwise."""
    first = plan.steps[0].index if plan.steps and start_index is None else (start_index or 0)
    validator = Validator(scene, start_index=first)
    for step in plan.steps:
        validator.check_step(step)
    return validator.state


def check_step_static(step: PlanStep, scene: SceneGraph, depth: int = 0) -> None:
    """The checks that need no plan history: allowlisted skill, capable robot of the scene, typed arguments
    naming entities of the scene, no forbidden device state; the same for every contingency.

    The edge runs this on every step it receives, so even a compromised or buggy cloud cannot queue an
    action outside the skill library or one naming something that is not in the robot's own home.
    Raises ValidationError like :class:`Validator`.
    """
    if depth > MAX_CONTINGENCY_DEPTH:
        raise ValidationError(RejectCode.INVALID_ARGUMENT, f"contingencies nested deeper than {MAX_CONTINGENCY_DEPTH}",
                              step_index=step.index)
    validator = Validator(scene, start_index=step.index)
    validator._check_static(step, scene, step.index)
    if step.skill == "set_device":
        device = scene.get(str(step.args["device"]))
        if isinstance(device, Device):
            validator._check_device_state(device, str(step.args["state"]), step.index)
    for contingency in step.on_failure:
        check_step_static(contingency, scene, depth + 1)

