"""The skill library as data: the only actions a plan may contain, with typed parameters.

DESIGN.md fixes the eleven skills. Keeping them as data (not as code in the planner) lets the cloud's
validator, the wire conversion (which argument is an entity id and which a literal) and the edge's
executive agree on one definition, and lets an LLM backend be shown exactly what it may emit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

__all__ = [
    "ENTITY_PARAM_KINDS",
    "PLACE_KINDS",
    "SAY_TEXT_MAX_CHARS",
    "SKILLS",
    "WAIT_SECONDS_MAX",
    "ParamKind",
    "ParamSpec",
    "SkillSpec",
    "skill_names",
]

WAIT_SECONDS_MAX = 600.0
SAY_TEXT_MAX_CHARS = 500


class ParamKind(str, Enum):
    """What a skill parameter must name: an entity of a given kind, or a typed literal."""

    ROOM = "room"
    OBJECT = "object"
    FURNITURE = "furniture"
    PERSON = "person"
    DEVICE = "device"
    DEVICE_STATE = "device_state"  # literal text: one of the device's allowed states or a number in range
    PLACE = "place"  # an entity a robot can go to: room | furniture | person | dock
    TEXT = "text"  # literal text
    SECONDS = "seconds"  # literal number

    @property
    def is_entity(self) -> bool:
        """Whether the argument is an entity id of the scene graph (else a literal)."""
        return self in ENTITY_PARAM_KINDS

    @property
    def is_number(self) -> bool:
        """Whether the literal is a number (else text)."""
        return self is ParamKind.SECONDS


ENTITY_PARAM_KINDS = frozenset(
    {ParamKind.ROOM, ParamKind.OBJECT, ParamKind.FURNITURE, ParamKind.PERSON, ParamKind.DEVICE, ParamKind.PLACE}
)
# Entity kinds a PLACE parameter accepts ("dock" = a device of kind dock).
PLACE_KINDS = ("room", "furniture", "person", "dock")


@dataclass(frozen=True)
class ParamSpec:
    """One named, typed parameter of a skill."""

    name: str
    kind: ParamKind


@dataclass(frozen=True)
class SkillSpec:
    """A skill: its parameters and, in words, what must hold before and what is true after.

    Attributes:
        name: The skill name used in plans and on the wire.
        params: Parameters in call order.
        description: One line for people and LLM prompts.
        preconditions: What the validator checks before the step (in words).
        effects: What the validator assumes afterwards (in words).
        can_fail: Whether execution may fail for reasons the plan cannot rule out (perception,
            grasping), so the planner should ship a contingency with it.
    """

    name: str
    params: tuple[ParamSpec, ...]
    description: str
    preconditions: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    can_fail: bool = False

    @property
    def param_names(self) -> tuple[str, ...]:
        """The parameter names in call order."""
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> ParamSpec | None:
        """The parameter called ``name``, or None."""
        return next((p for p in self.params if p.name == name), None)

    def signature(self) -> str:
        """``name(param: kind, ...)``, as shown to people and LLM prompts."""
        inner = ", ".join(f"{p.name}: {p.kind.value}" for p in self.params)
        return f"{self.name}({inner})"


def _skill(name: str, params: tuple[tuple[str, ParamKind], ...], description: str, **kwargs) -> SkillSpec:
    return SkillSpec(name, tuple(ParamSpec(n, k) for n, k in params), description, **kwargs)


SKILLS: Mapping[str, SkillSpec] = MappingProxyType({
    spec.name: spec
    for spec in (
        _skill(
            "navigate_to", (("target", ParamKind.PLACE),), "drive to a room, furniture, person or dock",
            preconditions=("target exists and is a room, furniture, person or dock",),
            effects=("robot is at target and in target's room",),
            can_fail=True,
        ),
        _skill(
            "look_for", (("object", ParamKind.OBJECT),), "search for an object around the robot's position",
            preconditions=("object exists",),
            effects=("object is located",),
            can_fail=True,
        ),
        _skill(
            "pick", (("object", ParamKind.OBJECT),), "grasp an object and lift it",
            preconditions=("object is graspable", "object is not held", "robot holds nothing",
                           "robot is in the object's room"),
            effects=("robot holds object",),
            can_fail=True,
        ),
        _skill(
            "place", (("object", ParamKind.OBJECT), ("on", ParamKind.FURNITURE)), "put a held object on furniture",
            preconditions=("robot holds object", "robot is in the furniture's room"),
            effects=("object rests on furniture", "robot holds nothing"),
        ),
        _skill(
            "handover", (("object", ParamKind.OBJECT), ("person", ParamKind.PERSON)), "give a held object to a person",
            preconditions=("robot holds object", "robot is in the person's room"),
            effects=("person holds object", "robot holds nothing"),
        ),
        _skill(
            "clean_area", (("room", ParamKind.ROOM),), "vacuum the floor of a room",
            preconditions=("robot is in room",),
            effects=("room is clean",),
        ),
        _skill(
            "dock", (), "return to the robot's own dock and charge",
            preconditions=("robot has a dock",),
            effects=("robot is at its dock",),
        ),
        _skill(
            "set_device", (("device", ParamKind.DEVICE), ("state", ParamKind.DEVICE_STATE)),
            "switch a device (light, thermostat, air purifier, lock) to a state",
            preconditions=("device is controllable (not a dock)", "state is allowed for the device"),
            effects=("device is in state",),
        ),
        _skill(
            "carry", (("object", ParamKind.OBJECT), ("to", ParamKind.PLACE)),
            "load a (possibly heavy) object in the cargo bay, take it to a place and unload it",
            preconditions=("object is not held", "robot holds nothing", "robot is in the object's room"),
            effects=("object is at the place", "robot is at the place"),
            can_fail=True,
        ),
        _skill(
            "say", (("text", ParamKind.TEXT),), "speak a sentence to the people nearby",
            preconditions=(f"text is 1..{SAY_TEXT_MAX_CHARS} characters",),
        ),
        _skill(
            "wait", (("seconds", ParamKind.SECONDS),), "pause",
            preconditions=(f"0 <= seconds <= {WAIT_SECONDS_MAX:g}",),
        ),
    )
})


def skill_names() -> tuple[str, ...]:
    """Every allowlisted skill name, in library order."""
    return tuple(SKILLS)
