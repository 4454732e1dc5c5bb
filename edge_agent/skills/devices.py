"""``set_device(device, state)``: ask the home's device bus for a state and wait for the confirmation."""

from __future__ import annotations

from collections.abc import Mapping

from edge_agent.skills.base import ArgValue, SkillContext, SkillFailure, SkillResult, arg_str
from reflexarc.scene_graph import Device

__all__ = ["SetDevice"]


def _normalise_state(device: Device, state: str) -> str:
    """Numeric set-points as the device shows them ("22.0" -> "22")."""
    if device.value_range is None:
        return state
    try:
        value = float(state)
    except ValueError:
        return state
    return str(int(value)) if value.is_integer() else str(value)


class SetDevice:
    """``set_device(device, state)``: request the state; success when the device confirms it."""

    name = "set_device"

    def run(self, ctx: SkillContext, args: Mapping[str, ArgValue]) -> SkillResult:
        """Validate against the device's allowed states, send, and wait for the result."""
        device_id = arg_str(args, "device")
        device = ctx.robot.scene().get(device_id)
        if not isinstance(device, Device):
            raise SkillFailure(f"{device_id!r} is not a device")
        state = _normalise_state(device, arg_str(args, "state"))
        if not device.accepts(state):
            raise SkillFailure(f"{device_id} cannot be set to {state!r}")
        ok, error = ctx.robot.set_device(device_id, state)
        if not ok:
            raise SkillFailure(f"{device_id} did not switch to {state}: {error or 'no confirmation'}")
        return SkillResult(True, f"{device_id} is {state}", facts=[(device_id, "state", state)],
                           observed={f"{device_id}.state": state})
