"""The cloud planner ("brain"): commands in English or Korean to validated plans, streamed to robots.

Import the gRPC side from its modules (``cloud_planner.server.serve``, ``cloud_planner.client``) so that
using the plan model or the validator does not load gRPC.
"""

from cloud_planner.backend import (
    BackendOptions,
    PlannerBackend,
    create_backend,
    plan_command,
    validated_events,
)
from cloud_planner.errors import PlanRejected, RejectCode, ValidationError
from cloud_planner.lookahead import LookaheadWindow
from cloud_planner.plan import (
    Command,
    CommandSource,
    Fact,
    Plan,
    PlanCost,
    PlanHeader,
    PlanStep,
    plan_digest,
    plan_to_json,
)
from cloud_planner.validator import Validator, validate_plan

__all__ = [
    "BackendOptions",
    "Command",
    "CommandSource",
    "Fact",
    "LookaheadWindow",
    "Plan",
    "PlanCost",
    "PlanHeader",
    "PlanRejected",
    "PlanStep",
    "PlannerBackend",
    "RejectCode",
    "ValidationError",
    "Validator",
    "create_backend",
    "plan_command",
    "plan_digest",
    "plan_to_json",
    "validate_plan",
    "validated_events",
]
