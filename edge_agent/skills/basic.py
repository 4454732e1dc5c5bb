"""``say(text)`` and ``wait(seconds)``: the skills that move nothing."""

from __future__ import annotations

from collections.abc import Mapping

from edge_agent.skills.base import ArgValue, SkillContext, SkillFailure, SkillResult, arg_float, arg_str

__all__ = ["Say", "Wait"]

MAX_WAIT_S = 600.0


class Say:
    """``say(text)``: speak to the person."""

    name = "say"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Hand the text to the robot's speaker."""
        text = arg_str(args, "text")
        ctx.robot.say(text)
        return SkillResult(True, f"said {text!r}")


class Wait:
    """``wait(seconds)``: hold still for a while (sim time)."""

    name = "wait"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Hold, then sleep; cancelling ends the wait early and fails the step."""
        seconds = arg_float(args, "seconds")
        if not 0.0 <= seconds <= MAX_WAIT_S:
            raise SkillFailure(f"wait of {seconds} s is outside [0, {MAX_WAIT_S:.0f}]")
        ctx.robot.hold()
        if not ctx.robot.sleep(seconds):
            raise SkillFailure("cancelled")
        return SkillResult(True, f"waited {seconds:g} s")
