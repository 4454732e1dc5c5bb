"""Why a command or a plan is refused: one structured error every planning stage raises.

Grounding (unknown object), the validator (skill not allowlisted, forbidden state) and backends all
raise :class:`PlanRejected`; the CLI turns it into exit 2 plus the DESIGN.md rejection JSON and the
session into a ``Reject`` message, so the person always hears the same reason whichever part refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

__all__ = ["PlanRejected", "RejectCode", "ValidationError"]


class RejectCode(str, Enum):
    """Stable rejection codes; the wire enum is ``REJECT_CODE_<NAME>`` for each lower-case value."""

    NOT_UNDERSTOOD = "not_understood"
    UNKNOWN_OBJECT = "unknown_object"
    UNKNOWN_ENTITY = "unknown_entity"
    UNSUPPORTED_ACTION = "unsupported_action"
    NO_CAPABLE_ROBOT = "no_capable_robot"
    PRECONDITION_FAILED = "precondition_failed"
    FORBIDDEN_STATE = "forbidden_state"
    OUT_OF_RANGE = "out_of_range"
    INVALID_ARGUMENT = "invalid_argument"
    OBJECT_NOT_FOUND = "object_not_found"
    REPLAN_LIMIT = "replan_limit"
    UNKNOWN_PLAN = "unknown_plan"
    BACKEND_ERROR = "backend_error"


class PlanRejected(Exception):
    """A command or plan that will not be executed, with the reason and what exists instead.

    Attributes:
        code: Machine-readable reason.
        message: One sentence for the person, naming what was wrong.
        candidates: Entity ids (or skill names) that exist and fit best.
        step_index: The offending step for validation errors, else None.
    """

    def __init__(
        self,
        code: RejectCode,
        message: str,
        candidates: Sequence[str] = (),
        step_index: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = RejectCode(code)
        self.message = message
        self.candidates = tuple(candidates)
        self.step_index = step_index

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md rejection shape: ``{"error": {"code", "message", "candidates"}}``."""
        error: dict[str, Any] = {"code": self.code.value, "message": self.message, "candidates": list(self.candidates)}
        if self.step_index is not None:
            error["step_index"] = self.step_index
        return {"error": error}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r}, candidates={self.candidates!r})"


class ValidationError(PlanRejected):
    """A plan step the validator refused (``step_index`` names it)."""
