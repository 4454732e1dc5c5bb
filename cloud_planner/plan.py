"""The plan model: commands in, validated steps out, as plain dataclasses shared by every backend.

Backends, the validator, the session and the CLI work on these types; ``cloud_planner.wire`` is the
only place they meet protobuf. ``plan_to_json`` is the stable ``reflexarc plan --json`` shape of
DESIGN.md, and plan ids/digests are content hashes so that any replica re-planning the same command
over the same scene names the plan the same way (what makes resuming on another replica possible).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

__all__ = [
    "ArgValue",
    "Command",
    "CommandSource",
    "Fact",
    "Plan",
    "PlanCost",
    "PlanHeader",
    "PlanStep",
    "make_plan_id",
    "plan_digest",
    "plan_to_json",
    "step_to_json",
]

ArgValue = str | float


class CommandSource(str, Enum):
    """Where a command came from."""

    TEXT = "text"
    VOICE = "voice"
    EVENT = "event"


@dataclass(frozen=True)
class Command:
    """What a person (or the home, for events) asked for.

    Attributes:
        text: The utterance verbatim, or the event name (e.g. ``car_arrived``) for events.
        language: ``en``/``ko``; empty lets the planner detect it.
        source: Typed text, voice (then ``asr_confidence`` matters) or a home event.
        asr_confidence: Speech recogniser confidence in [0, 1].
        command_id: The caller's correlation id, echoed back.
    """

    text: str
    language: str = ""
    source: CommandSource = CommandSource.TEXT
    asr_confidence: float = 1.0
    command_id: str = ""


@dataclass(frozen=True, order=True)
class Fact:
    """An observation as a triple, e.g. ``Fact("cup_red", "not_found_on", "kitchen_counter")``."""

    subject: str
    predicate: str
    object: str = ""

    @classmethod
    def parse(cls, text: str) -> Fact:
        """Read ``"subject predicate [object]"``; raises ValueError for anything else."""
        parts = text.split()
        if len(parts) not in (2, 3):
            raise ValueError(f"a fact is 'subject predicate [object]', got {text!r}")
        return cls(*parts)

    def __str__(self) -> str:
        return " ".join(p for p in (self.subject, self.predicate, self.object) if p)


@dataclass(frozen=True)
class PlanStep:
    """One action for one robot.

    Attributes:
        index: Position in the plan (inside ``on_failure``: position in that list).
        robot: Id of the executing robot.
        skill: A skill name of ``reflexarc.skills.SKILLS``.
        args: Parameter name -> entity id / text literal (str) or number (float).
        expect: ``"<entity>.<property>" -> value`` that should hold after success.
        on_failure: Contingency steps run in order when this step fails; each may carry its own.
        summary: Short description for people.
    """

    index: int
    robot: str
    skill: str
    args: Mapping[str, ArgValue] = field(default_factory=dict)
    expect: Mapping[str, str] = field(default_factory=dict)
    on_failure: tuple[PlanStep, ...] = ()
    summary: str = ""

    def with_index(self, index: int) -> PlanStep:
        """A copy at another position (contingencies keep theirs)."""
        return replace(self, index=index)


@dataclass(frozen=True)
class PlanCost:
    """What producing a plan cost (LLM backends fill it; zero for the embedded planner)."""

    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0
    latency_ms: float = 0.0


@dataclass(frozen=True)
class PlanHeader:
    """The first event a backend yields: what the plan is before its steps arrive.

    ``total_steps`` is 0 when a streaming backend does not know it yet.
    """

    plan_id: str
    command: str
    language: str
    summary: str
    total_steps: int
    backend: str
    revision: int = 0
    cost: PlanCost = PlanCost()
    scene_hash: str = ""
    cancel: bool = False


@dataclass(frozen=True)
class Plan:
    """A complete plan (one revision): header fields plus every step in index order."""

    plan_id: str
    revision: int
    command: str
    language: str
    summary: str
    steps: tuple[PlanStep, ...]
    backend: str
    cost: PlanCost = PlanCost()
    scene_hash: str = ""
    cancel: bool = False

    @classmethod
    def from_events(cls, events: Iterable[PlanHeader | PlanStep | PlanCost]) -> Plan:
        """Collect a backend's event stream into a plan: a header, steps, optionally a trailing cost."""
        iterator = iter(events)
        header = next(iterator, None)
        if not isinstance(header, PlanHeader):
            raise ValueError("a plan event stream must start with a PlanHeader")
        steps: list[PlanStep] = []
        cost = header.cost
        for event in iterator:
            if isinstance(event, PlanStep):
                steps.append(event)
            elif isinstance(event, PlanCost):
                cost = event
            else:
                raise ValueError(f"a plan event stream holds steps and a cost after its header, not {event!r}")
        return cls(
            plan_id=header.plan_id,
            revision=header.revision,
            command=header.command,
            language=header.language,
            summary=header.summary,
            steps=tuple(steps),
            backend=header.backend,
            cost=cost,
            scene_hash=header.scene_hash,
            cancel=header.cancel,
        )

    @property
    def header(self) -> PlanHeader:
        """This plan's header event."""
        return PlanHeader(
            plan_id=self.plan_id,
            command=self.command,
            language=self.language,
            summary=self.summary,
            total_steps=len(self.steps),
            backend=self.backend,
            revision=self.revision,
            cost=self.cost,
            scene_hash=self.scene_hash,
            cancel=self.cancel,
        )

    def events(self) -> tuple[PlanHeader | PlanStep, ...]:
        """Header then steps, the shape backends yield."""
        return (self.header, *self.steps)


def _arg_json(value: ArgValue) -> ArgValue:
    return value if isinstance(value, str) else float(value)


def step_to_json(step: PlanStep) -> dict[str, Any]:
    """One step in the ``plan --json`` shape (contingencies nested the same way)."""
    return {
        "index": step.index,
        "robot": step.robot,
        "skill": step.skill,
        "args": {k: _arg_json(v) for k, v in step.args.items()},
        "expect": dict(step.expect),
        "on_failure": [step_to_json(s) for s in step.on_failure],
        "summary": step.summary,
    }


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The DESIGN.md ``reflexarc plan --json`` shape (plus revision, language, summary, cancel, cost)."""
    return {
        "plan_id": plan.plan_id,
        "command": plan.command,
        "backend": plan.backend,
        "revision": plan.revision,
        "language": plan.language,
        "summary": plan.summary,
        "cancel": plan.cancel,
        "cost": {
            "tokens_in": plan.cost.tokens_in,
            "tokens_out": plan.cost.tokens_out,
            "usd": plan.cost.usd,
            "latency_ms": round(plan.cost.latency_ms, 3),
        },
        "steps": [step_to_json(s) for s in plan.steps],
    }


def plan_digest(steps: Iterable[PlanStep]) -> str:
    """SHA-256 of the steps' canonical JSON: two replicas planned the same steps iff digests match."""
    text = json.dumps([step_to_json(s) for s in steps], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_plan_id(backend: str, command_text: str, scene_hash: str, facts: Iterable[Fact] = ()) -> str:
    """A deterministic plan id: the same command over the same scene and facts gets the same id."""
    key = "\n".join((backend, " ".join(command_text.split()), scene_hash, *sorted(str(f) for f in facts)))
    return "p-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
