"""The skill library as executable classes; each talks to the robot only through ``RobotInterface``."""

from edge_agent.skills.base import (
    ArmResult,
    CameraView,
    Detection,
    RobotInterface,
    Skill,
    SkillContext,
    SkillFailure,
    SkillResult,
)
from edge_agent.skills.basic import Say, Wait
from edge_agent.skills.carry import Carry
from edge_agent.skills.cleaning import CleanArea
from edge_agent.skills.devices import SetDevice
from edge_agent.skills.manipulation import Handover, Pick, Place
from edge_agent.skills.navigation import Dock, NavigateTo, navigation_goal
from edge_agent.skills.perception import LookFor
from edge_agent.skills.runner import SKILL_LIBRARY, SkillRunner, StepOutcome, StepStatus, default_skills

__all__ = [
    "SKILL_LIBRARY",
    "ArmResult",
    "CameraView",
    "Carry",
    "CleanArea",
    "Detection",
    "Dock",
    "Handover",
    "LookFor",
    "NavigateTo",
    "Pick",
    "Place",
    "RobotInterface",
    "Say",
    "SetDevice",
    "Skill",
    "SkillContext",
    "SkillFailure",
    "SkillResult",
    "SkillRunner",
    "StepOutcome",
    "StepStatus",
    "Wait",
    "default_skills",
    "navigation_goal",
]
