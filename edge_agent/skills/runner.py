"""Run one plan step on one robot, including its contingency steps, and summarise the outcome.

Contingencies ship with the step (``on_failure``) so the robot never waits for the cloud to decide what
to do when, say, the cup is not on the counter: the alternatives run in order right here; if they all
succeed the step counts as RECOVERED, if one fails with nothing left to try the step FAILED and the
cloud re-plans from the facts gathered on the way (e.g. ``cup_red not_found_on kitchen_counter``).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from edge_agent.skills.base import Skill, SkillContext, SkillFailure, SkillResult, StepLike
from edge_agent.skills.basic import Say, Wait
from edge_agent.skills.carry import Carry
from edge_agent.skills.cleaning import CleanArea
from edge_agent.skills.devices import SetDevice
from edge_agent.skills.manipulation import Handover, Pick, Place
from edge_agent.skills.navigation import Dock, NavigateTo
from edge_agent.skills.perception import LookFor

__all__ = ["SKILL_LIBRARY", "SkillRunner", "StepOutcome", "StepStatus", "default_skills"]

_log = logging.getLogger(__name__)


class StepStatus(str, enum.Enum):
    """How a step ended (the values are the wire's StepStatus names without the prefix)."""

    SUCCEEDED = "succeeded"
    RECOVERED = "recovered"
    FAILED = "failed"


@dataclass(frozen=True)
class StepOutcome:
    """The result of a step with its contingencies: status, message, facts learned, observed values."""

    status: StepStatus
    message: str = ""
    facts: tuple[tuple[str, str, str], ...] = ()
    observed: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the cursor may move past the step."""
        return self.status is not StepStatus.FAILED


def default_skills() -> dict[str, Skill]:
    """One instance of every skill of the library, by name."""
    skills: list[Skill] = [NavigateTo(), LookFor(), Pick(), Place(), Handover(), CleanArea(), Dock(),
                           SetDevice(), Carry(), Say(), Wait()]
    return {skill.name: skill for skill in skills}


SKILL_LIBRARY: tuple[str, ...] = tuple(sorted(default_skills()))


class SkillRunner:
    """Executes steps for one robot; keeps the robot's :class:`SkillContext` between steps."""

    def __init__(self, ctx: SkillContext, skills: Mapping[str, Skill] | None = None,
                 capabilities: tuple[str, ...] | None = None) -> None:
        self.ctx = ctx
        self.skills = dict(skills) if skills is not None else default_skills()
        self.capabilities = capabilities

    def run_step(self, step: StepLike) -> StepOutcome:
        """Run the step; on failure run its ``on_failure`` steps in order (recursively)."""
        facts: list[tuple[str, str, str]] = []
        observed: dict[str, str] = {}
        messages: list[str] = []
        ok = self._run_one(step, facts, observed, messages)
        if ok and len(messages) == 1:
            status = StepStatus.SUCCEEDED
        elif ok:
            status = StepStatus.RECOVERED
        else:
            status = StepStatus.FAILED
        return StepOutcome(status, "; ".join(messages), tuple(facts), observed)

    def _run_one(self, step: StepLike, facts: list, observed: dict, messages: list[str]) -> bool:
        result = self._attempt(step)
        facts.extend(result.facts)
        observed.update(result.observed)
        messages.append(f"{step.skill}: {result.message}" if result.message else step.skill)
        if result.success:
            return True
        if not step.on_failure or self.ctx.robot.cancelled():
            return False
        _log.info("%s: %s failed (%s); trying %d contingency step(s)", self.ctx.robot.robot_id, step.skill,
                  result.message, len(step.on_failure))
        return all(self._run_one(alt, facts, observed, messages) for alt in step.on_failure)

    def _attempt(self, step: StepLike) -> SkillResult:
        skill = self.skills.get(step.skill)
        if skill is None:
            return SkillResult(False, f"unknown skill {step.skill!r}")
        if self.capabilities is not None and step.skill not in self.capabilities:
            return SkillResult(False, f"{self.ctx.robot.robot_id} cannot {step.skill}")
        try:
            return skill.run(self.ctx, step.args)
        except SkillFailure as exc:
            self.ctx.robot.hold()
            return SkillResult(False, str(exc), facts=exc.facts)
        except Exception as exc:  # a bug or a driver error must fail the step, not kill the executor
            _log.exception("%s: %s raised", self.ctx.robot.robot_id, step.skill)
            self.ctx.robot.hold()
            return SkillResult(False, f"{type(exc).__name__}: {exc}")
