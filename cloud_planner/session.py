"""One edge session as a state machine: edge messages in, cloud messages out, no gRPC in sight.

The servicer feeds every ``EdgeMessage`` of a Session stream to :meth:`PlannerSession.handle` and
sends back what it yields. The session keeps only what the edge could resend (the scene, the active
plan, the cursor), which is what makes replicas interchangeable: after a reconnect, ``Resume`` rebuilds
the same state on any replica by re-planning deterministically. Plans are validated completely before
their first step leaves, so no step of a plan that would be refused ever reaches a robot.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

from google.protobuf.message import Message

from cloud_planner import wire
from cloud_planner.backend import PlanEvent, PlannerBackend, plan_command, validated_events
from cloud_planner.errors import PlanRejected, RejectCode
from cloud_planner.intents import is_stop_command
from cloud_planner.lookahead import LookaheadWindow
from cloud_planner.plan import Command, CommandSource, Fact, Plan, PlanCost, PlanHeader, PlanStep, plan_digest
from cloud_planner.world import apply_facts, apply_steps, done_fact, observed_facts
from protos.reflexarc.v1 import plan_pb2, planner_pb2
from reflexarc.scene_graph import SceneGraph, SceneGraphError
from reflexarc.skills import SKILLS

__all__ = [
    "MAX_COMMAND_CHARS",
    "MAX_FIELD_CHARS",
    "ActivePlan",
    "MalformedMessage",
    "PlannerSession",
    "SessionConfig",
    "check_message_fields",
    "dangling_reference",
]

_log = logging.getLogger(__name__)

_ADVANCING = {
    planner_pb2.STEP_STATUS_SUCCEEDED,
    planner_pb2.STEP_STATUS_RECOVERED,
    planner_pb2.STEP_STATUS_SKIPPED,
}


# A command longer than this is refused with a spoken reason (a person does not say 1,000 characters).
MAX_COMMAND_CHARS = 1_000
# Any string field longer than this is a protocol violation (INVALID_ARGUMENT), whatever it holds.
MAX_FIELD_CHARS = 64 * 1024
_ROBOT_MESSAGE = "reflexarc.v1.Robot"


class MalformedMessage(ValueError):
    """An edge message that breaks the protocol (the servicer answers INVALID_ARGUMENT)."""


def _field_problem(message: Message, path: str) -> str | None:
    """The first field of ``message`` that no valid edge would send, as ``path: why``; None if fine."""
    for descriptor, value in message.ListFields():
        name = f"{path}.{descriptor.name}"
        if descriptor.message_type is not None and descriptor.message_type.GetOptions().map_entry:
            items = [(f"{name}[{key!r}]", item) for key, item in value.items()]
            for key in value:
                if isinstance(key, str) and len(key) > MAX_FIELD_CHARS:
                    return f"{name}: a key is {len(key)} characters long (at most {MAX_FIELD_CHARS})"
        elif descriptor.is_repeated:
            items = [(f"{name}[{i}]", item) for i, item in enumerate(value)]
        else:
            items = [(name, value)]
        for item_path, item in items:
            problem = _value_problem(item, item_path)
            if problem:
                return problem
        if descriptor.name == "capabilities" and message.DESCRIPTOR.full_name == _ROBOT_MESSAGE:
            unknown = [skill for skill in value if skill not in SKILLS]
            if unknown:
                return f"{name}: unknown skill {unknown[0]!r} (skills: {', '.join(SKILLS)})"
    return None


def _value_problem(value: object, path: str) -> str | None:
    if isinstance(value, Message):
        return _field_problem(value, path)
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path} is {value} (numbers must be finite)"
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        return f"{path} is {len(value)} characters long (at most {MAX_FIELD_CHARS})"
    return None


def dangling_reference(scene: SceneGraph) -> str | None:
    """The first reference (``on``, ``held_by``, ``dock``) naming no entity of ``scene``, described; else None."""
    for i, obj in enumerate(scene.objects):
        for name in ("on", "held_by"):
            target = getattr(obj, name)
            if target and target not in scene:
                return f"objects[{i}].{name}: {obj.id!r} refers to unknown entity {target!r}"
    for i, robot in enumerate(scene.robots):
        if robot.dock and robot.dock not in scene:
            return f"robots[{i}].dock: {robot.id!r} refers to unknown entity {robot.dock!r}"
    return None


def check_message_fields(message: Message, root: str | None = None) -> None:
    """Raise MalformedMessage naming the field when a message carries NaN/inf, huge text or unknown skills.

    Args:
        message: An EdgeMessage (its set member is checked under its own type name, e.g. ``Hello``)
            or any other request message.
        root: Name for the top of the path (default: the message type's name).
    """
    if root is None and message.DESCRIPTOR.oneofs_by_name.get("message") is not None:
        kind = message.WhichOneof("message")
        if kind is None:
            return
        message, root = getattr(message, kind), getattr(message, kind).DESCRIPTOR.name
    problem = _field_problem(message, root or message.DESCRIPTOR.name)
    if problem:
        raise MalformedMessage(problem)


@dataclass(frozen=True)
class SessionConfig:
    """Per-session behaviour.

    Attributes:
        lookahead: Default steps sent ahead of the cursor (None: the whole plan); Hello may override.
        max_revisions: Re-plans allowed per plan before giving up (Reject REPLAN_LIMIT + Cancel).
        server_id: Names this replica in acknowledgements.
    """

    lookahead: int | None = None
    max_revisions: int = 8
    server_id: str = ""


@dataclass
class ActivePlan:
    """The plan being executed, as the cloud tracks it (all of it reproducible from a Resume).

    Attributes:
        plan: The current revision's plan; its step indices start at ``from_index``.
        command: The original command.
        scene: The scene the current revision was planned against.
        facts: Facts the current revision was planned with.
        from_index: First index of the current revision.
        cursor: Next index the robot will execute.
        next_unsent: First index of the current revision not sent yet.
        command_id: The caller's correlation id.
        complete: Whether the last step was reported done.
    """

    plan: Plan
    command: Command
    scene: SceneGraph
    facts: tuple[Fact, ...]
    from_index: int
    cursor: int
    next_unsent: int
    command_id: str = ""
    complete: bool = False
    digest: str = ""

    @property
    def plan_id(self) -> str:
        """The plan's id (unchanged across revisions)."""
        return self.plan.plan_id

    @property
    def revision(self) -> int:
        """The current revision."""
        return self.plan.revision

    @property
    def total(self) -> int:
        """Number of steps of the whole task (all indices, this revision's included)."""
        return self.from_index + len(self.plan.steps)

    def step(self, index: int) -> PlanStep | None:
        """The current revision's step at ``index``."""
        offset = index - self.from_index
        return self.plan.steps[offset] if 0 <= offset < len(self.plan.steps) else None


def _reindexed(plan: Plan, from_index: int, revision: int, plan_id: str) -> Plan:
    steps = tuple(s.with_index(from_index + i) for i, s in enumerate(plan.steps))
    return Plan(plan_id, revision, plan.command, plan.language, plan.summary, steps, plan.backend, plan.cost,
                plan.scene_hash, plan.cancel)


def _cloud(**kwargs) -> planner_pb2.CloudMessage:
    return planner_pb2.CloudMessage(**kwargs)


class PlannerSession:
    """State of one Session stream (one robot or home edge)."""

    def __init__(self, backend: PlannerBackend, config: SessionConfig | None = None) -> None:
        self._backend = backend
        self._config = config or SessionConfig()
        self._window = LookaheadWindow.from_wire(self._config.lookahead)
        self._scene: SceneGraph | None = None
        self._robot_id = ""
        self._language = "en"
        self.active: ActivePlan | None = None

    @property
    def window(self) -> LookaheadWindow:
        """The effective lookahead window."""
        return self._window

    @property
    def scene(self) -> SceneGraph | None:
        """The latest scene the edge sent."""
        return self._scene

    def handle(self, message: planner_pb2.EdgeMessage) -> Iterator[planner_pb2.CloudMessage]:
        """Process one edge message; raises MalformedMessage for protocol violations."""
        check_message_fields(message)
        kind = message.WhichOneof("message")
        if kind == "hello":
            yield from self._on_hello(message.hello)
        elif kind == "command":
            yield from self._on_command(message.command)
        elif kind == "progress":
            yield from self._on_progress(message.progress)
        elif kind == "heartbeat":
            yield _cloud(ack=planner_pb2.Ack(
                kind=planner_pb2.ACK_KIND_HEARTBEAT, seq=message.heartbeat.seq, server_id=self._config.server_id,
                unix_ms=int(time.time() * 1000),
            ))
        elif kind == "resume":
            yield from self._on_resume(message.resume)
        else:
            raise MalformedMessage("EdgeMessage carries no message")

    # --- hello / command -----------------------------------------------------------------------------

    def _parse_scene(self, msg, what: str) -> SceneGraph:
        try:
            scene = wire.scene_from_proto(msg)
        except SceneGraphError as exc:
            raise MalformedMessage(f"{what}: {exc}") from exc
        dangling = dangling_reference(scene)
        if dangling:
            raise MalformedMessage(f"{what}.{dangling}")
        return scene

    def _on_hello(self, hello: planner_pb2.Hello) -> Iterator[planner_pb2.CloudMessage]:
        if not hello.robot_id.strip():
            raise MalformedMessage("Hello.robot_id is required")
        if not hello.HasField("scene"):
            raise MalformedMessage("Hello.scene is required")
        if hello.HasField("lookahead") and hello.lookahead < -1:
            raise MalformedMessage(f"Hello.lookahead is {hello.lookahead}; use -1 (whole plan), 0 or more")
        self._scene = self._parse_scene(hello.scene, "Hello.scene")
        self._robot_id = hello.robot_id
        if hello.HasField("lookahead"):
            self._window = LookaheadWindow.from_wire(hello.lookahead)
        _log.info("session hello from %s (%s), lookahead %s", hello.robot_id, hello.kind, self._window.describe())
        yield _cloud(ack=planner_pb2.Ack(
            kind=planner_pb2.ACK_KIND_HELLO, server_id=self._config.server_id, unix_ms=int(time.time() * 1000),
            detail=f"lookahead={'all' if self._window.unbounded else self._window.size}",
        ))

    def _on_command(self, msg: plan_pb2.Command) -> Iterator[planner_pb2.CloudMessage]:
        if not msg.text.strip():
            raise MalformedMessage("Command.text is empty")
        command = wire.command_from_proto(msg)
        scene = self._parse_scene(msg.scene, "Command.scene") if msg.HasField("scene") else self._scene
        if scene is None:
            raise MalformedMessage("send Hello (with the scene) before Command")
        if msg.HasField("scene"):
            self._scene = scene
        if len(command.text) > MAX_COMMAND_CHARS:
            yield from self._reject(PlanRejected(
                RejectCode.INVALID_ARGUMENT,
                f"the command is {len(command.text)} characters long; say it in at most {MAX_COMMAND_CHARS}",
            ), command_id=command.command_id, language=self._language_of(command))
            return
        if command.source != CommandSource.EVENT and is_stop_command(command.text):
            yield from self._cancel("stop requested")
            return
        if self.active is not None and not self.active.complete:
            yield from self._cancel("superseded by a new command")
        language = self._language_of(command)
        try:
            events = validated_events(self._backend, command, scene)
            header = next(events)
            if not header.total_steps and not header.cancel:
                yield from self._stream(header, events, command, scene)
                return
            plan = Plan.from_events([header, *events])
        except PlanRejected as exc:
            yield from self._reject(exc, command_id=command.command_id, language=language)
            return
        if plan.cancel:
            yield from self._cancel("stop requested")
            return
        self._language = plan.language
        self.active = ActivePlan(plan, command, scene, (), 0, 0, 0, command.command_id,
                                 digest=plan_digest(plan.steps))
        yield _cloud(header=wire.header_to_proto(
            plan.header, command_id=command.command_id, plan_digest=self.active.digest, total_steps=self.active.total,
        ))
        if not plan.steps:
            yield from self._complete()
            return
        yield from self._send_due()

    def _stream(self, header: PlanHeader, events: Iterator[PlanEvent], command: Command,
                scene: SceneGraph) -> Iterator[planner_pb2.CloudMessage]:
        """Forward a streaming backend's steps as they are validated, then close with a PlanTrailer."""
        self._language = header.language or self._language
        plan = Plan.from_events([header])
        self.active = ActivePlan(plan, command, scene, (), 0, 0, 0, command.command_id)
        yield _cloud(header=wire.header_to_proto(header, command_id=command.command_id, total_steps=0))
        steps: list[PlanStep] = []
        cost = header.cost
        try:
            for event in events:
                if isinstance(event, PlanCost):
                    cost = event
                    continue
                steps.append(event)
                self.active.plan = replace(plan, steps=tuple(steps))
                yield from self._send_due()
        except PlanRejected as exc:
            yield from self._reject(exc, command_id=command.command_id, plan_id=plan.plan_id)
            yield from self._cancel(f"planning failed after {len(steps)} steps: {exc.message}")
            return
        self.active.plan = replace(plan, steps=tuple(steps), cost=cost)
        self.active.digest = plan_digest(steps)
        yield _cloud(trailer=plan_pb2.PlanTrailer(
            plan_id=plan.plan_id, revision=plan.revision, total_steps=self.active.total,
            plan_digest=self.active.digest, cost=wire.cost_to_proto(cost),
        ))
        if not steps:
            yield from self._complete()

    def _language_of(self, command: Command) -> str:
        return command.language or ("ko" if any("\uac00" <= c <= "\ud7a3" for c in command.text) else "en")

    # --- progress and re-planning --------------------------------------------------------------------

    def _on_progress(self, msg: planner_pb2.Progress) -> Iterator[planner_pb2.CloudMessage]:
        active = self.active
        if active is None or msg.plan_id != active.plan_id:
            yield from self._reject(
                PlanRejected(RejectCode.UNKNOWN_PLAN,
                             f"no active plan {msg.plan_id!r} on this replica; send Resume to continue it"),
                plan_id=msg.plan_id,
            )
            return
        if msg.revision < active.revision or active.complete:
            _log.debug("ignoring progress for %s rev %d (current rev %d)", msg.plan_id, msg.revision, active.revision)
            return
        if msg.revision > active.revision:
            raise MalformedMessage(f"Progress for revision {msg.revision}, but the latest is {active.revision}")
        step = active.step(msg.index)
        if step is None:
            if msg.index < active.from_index:
                return  # a step of an earlier revision, already accounted for
            raise MalformedMessage(f"Progress for index {msg.index}, the plan has {active.total} steps")
        if msg.index < active.cursor:
            return
        facts = wire.facts_from_proto(msg.facts) + observed_facts(dict(msg.observed))
        scene = self._parse_scene(msg.scene, "Progress.scene") if msg.HasField("scene") else None
        if msg.status == planner_pb2.STEP_STATUS_FAILED:
            reason = f"step {msg.index} ({step.skill}) failed" + (f": {msg.observation}" if msg.observation else "")
            yield from self._replan(msg.index, facts, scene, reason)
            return
        if msg.status in _ADVANCING:
            diverged = {k: v for k, v in msg.observed.items() if k in step.expect and step.expect[k] != v}
            if diverged:
                reason = f"step {msg.index} ({step.skill}) diverged: " + ", ".join(
                    f"{k}={v!r} (expected {step.expect[k]!r})" for k, v in sorted(diverged.items()))
                # the step ran (the edge never runs an index twice): re-plan after it, from what it observed
                yield from self._replan(msg.index + 1, facts, scene, reason)
                return
            active.cursor = msg.index + 1
            if active.cursor >= active.total:
                yield from self._complete()
                return
            yield from self._send_due()

    def _replan(self, index: int, new_facts: tuple[Fact, ...], scene: SceneGraph | None,
                reason: str) -> Iterator[planner_pb2.CloudMessage]:
        """Re-plan the command from the current state, as revision + 1 starting at ``index``."""
        active = self.active
        if active is None:
            return
        revision = active.revision + 1
        if revision > self._config.max_revisions:
            yield from self._reject(
                PlanRejected(RejectCode.REPLAN_LIMIT, f"gave up after {self._config.max_revisions} re-plans: {reason}"),
                plan_id=active.plan_id,
            )
            yield from self._cancel(f"re-planning limit reached: {reason}")
            return
        finished = [active.step(i) for i in range(active.from_index, index)]
        finished = [s for s in finished if s is not None]
        current = scene if scene is not None else apply_steps(active.scene, finished)
        facts = tuple(sorted({*active.facts, *(done_fact(s) for s in finished), *new_facts}))
        current = apply_facts(current, new_facts)
        _log.info("re-planning %s from step %d (revision %d): %s", active.plan_id, index, revision, reason)
        try:
            replanned = plan_command(self._backend, active.command, current, facts)
        except PlanRejected as exc:
            yield from self._reject(exc, plan_id=active.plan_id)
            yield from self._cancel(f"cannot re-plan: {exc.message}")
            return
        plan = _reindexed(replanned, index, revision, active.plan_id)
        self.active = ActivePlan(plan, active.command, current, facts, index, index, index, active.command_id,
                                 digest=plan_digest(plan.steps))
        yield _cloud(revise=plan_pb2.Revise(
            plan_id=active.plan_id,
            revision=revision,
            from_index=index,
            reason=reason,
            total_steps=self.active.total,
            summary=plan.summary,
            scene=wire.scene_to_proto(current),
            facts=wire.facts_to_proto(facts),
            plan_digest=self.active.digest,
            scene_hash=current.content_hash(),
        ))
        if not plan.steps:
            yield from self._complete("nothing left to do")
            return
        yield from self._send_due()

    # --- resume --------------------------------------------------------------------------------------

    def _on_resume(self, msg: planner_pb2.Resume) -> Iterator[planner_pb2.CloudMessage]:
        if not msg.plan_id or not msg.command.text.strip() or not msg.HasField("scene"):
            raise MalformedMessage("Resume needs plan_id, command and the scene the revision was planned against")
        if msg.cursor < msg.from_index:
            raise MalformedMessage(f"Resume.cursor {msg.cursor} is before from_index {msg.from_index}")
        scene = self._parse_scene(msg.scene, "Resume.scene")
        if self._scene is None:
            self._scene = scene
        command = wire.command_from_proto(msg.command)
        facts = wire.facts_from_proto(msg.facts)
        try:
            replanned = plan_command(self._backend, command, scene, facts)
        except PlanRejected as exc:
            yield from self._reject(exc, plan_id=msg.plan_id)
            yield from self._cancel(f"cannot resume: {exc.message}")
            return
        plan = _reindexed(replanned, msg.from_index, msg.revision, msg.plan_id)
        digest = plan_digest(plan.steps)
        if msg.plan_digest and msg.plan_digest != digest:
            yield from self._reject(
                PlanRejected(RejectCode.UNKNOWN_PLAN,
                             f"cannot reproduce plan {msg.plan_id} revision {msg.revision} from the resent state "
                             f"(digest differs); send the command again"),
                plan_id=msg.plan_id,
            )
            yield from self._cancel("resume failed")
            return
        self._language = plan.language
        self.active = ActivePlan(plan, command, scene, facts, msg.from_index, msg.cursor, msg.cursor,
                                 command.command_id, digest=digest)
        _log.info("resumed %s revision %d at step %d of %d", msg.plan_id, msg.revision, msg.cursor, self.active.total)
        yield _cloud(header=wire.header_to_proto(
            plan.header, command_id=command.command_id, plan_digest=digest, resumed=True, from_index=msg.from_index,
            total_steps=self.active.total,
        ))
        if self.active.cursor >= self.active.total:
            yield from self._complete("every step was already done")
            return
        yield from self._send_due()

    # --- output helpers ------------------------------------------------------------------------------

    def _send_due(self) -> Iterator[planner_pb2.CloudMessage]:
        active = self.active
        if active is None:
            return
        for index in self._window.due(active.cursor, active.total, active.next_unsent):
            step = active.step(index)
            if step is None:
                continue
            yield _cloud(step=wire.step_to_proto(step, active.plan_id, active.revision))
            active.next_unsent = index + 1

    def _complete(self, detail: str = "") -> Iterator[planner_pb2.CloudMessage]:
        """Mark the active plan done and tell the edge."""
        if self.active is None:
            return
        self.active.complete = True
        yield _cloud(ack=planner_pb2.Ack(
            kind=planner_pb2.ACK_KIND_PLAN_COMPLETE, plan_id=self.active.plan_id, server_id=self._config.server_id,
            unix_ms=int(time.time() * 1000), detail=detail,
        ))

    def _cancel(self, reason: str) -> Iterator[planner_pb2.CloudMessage]:
        plan_id = self.active.plan_id if self.active is not None and not self.active.complete else ""
        self.active = None
        yield _cloud(cancel=plan_pb2.Cancel(plan_id=plan_id, reason=reason))

    def _reject(self, error: PlanRejected, *, command_id: str = "", plan_id: str = "",
                language: str = "") -> Iterator[planner_pb2.CloudMessage]:
        _log.info("rejected (%s): %s", error.code.value, error.message)
        yield _cloud(reject=wire.rejection_to_proto(error, command_id=command_id, plan_id=plan_id))
        yield _cloud(say=plan_pb2.Say(text=error.message, language=language or self._language))
