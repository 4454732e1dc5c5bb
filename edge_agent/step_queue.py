"""The executive's local queue of prefetched plan steps, and the rules that keep execution safe.

The cloud streams steps ahead of the robot (``reflexarc.v1`` Session), revises plans and cancels them,
and the link can drop and come back at any time. The queue is the one place that decides what the
robot may run next, so it holds the rules in plain code, free of gRPC and ROS:

* Only the current plan's steps are kept; a header with a new ``plan_id`` replaces the plan.
* A step from a revision older than the newest seen is never executed: late steps of revision 1 that
  arrive after ``Revise(2)`` are dropped. ``Revise(from_index)`` drops queued older-revision steps at
  or after ``from_index``; the ones before it are still part of the plan and are carried into the new
  revision (relabelled, so progress is reported against the revision the cloud now holds). Steps of a
  revision whose Header/Revise has not arrived yet wait aside until it does.
* An index finishes at most once: once SUCCEEDED, RECOVERED or SKIPPED it is never executed again,
  whatever is resent after a reconnect. A FAILED index is retried only as the step of a newer revision
  that replaces it, and until that revision arrives the queue hands out nothing (the plan diverged).
* ``Cancel`` empties the queue and makes late steps of the cancelled plan inert.

The mirrored wire messages are plain dataclasses here (``PlanHeader``, ``QueuedStep``, ``Revise``,
``Cancel``); the executive node converts from the protobuf messages.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "Cancel",
    "PlanHeader",
    "QueuedStep",
    "ResumeState",
    "Revise",
    "StepQueue",
    "StepStatus",
]

_LOG = logging.getLogger(__name__)


class StepStatus(enum.Enum):
    """How a step ended (mirrors ``reflexarc.v1.StepStatus`` minus STARTED/UNSPECIFIED)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RECOVERED = "recovered"
    SKIPPED = "skipped"

    @property
    def finishes(self) -> bool:
        """Whether the cursor moves past a step that ended this way."""
        return self is not StepStatus.FAILED


@dataclass(frozen=True)
class PlanHeader:
    """Opens (or, after a Resume, re-opens) a plan revision; mirrors ``reflexarc.v1.PlanHeader``."""

    plan_id: str
    revision: int
    command: str = ""
    total_steps: int = 0
    summary: str = ""
    plan_digest: str = ""


@dataclass(frozen=True)
class QueuedStep:
    """One step of a plan as the queue holds it; mirrors ``reflexarc.v1.Step``.

    Attributes:
        plan_id: the plan it belongs to.
        revision: the plan revision it belongs to (relabelled when carried into a newer revision).
        index: position in the plan.
        robot: id of the robot that executes it.
        skill: skill name from the library.
        args: parameter name -> entity id, text or number.
        expect: expected effects, ``"<entity>.<property>" -> value``.
        on_failure: contingency steps to run in order when this one fails.
        summary: short human description.
    """

    plan_id: str
    revision: int
    index: int
    robot: str
    skill: str
    args: Mapping[str, str | float] = field(default_factory=dict)
    expect: Mapping[str, str] = field(default_factory=dict)
    on_failure: tuple[QueuedStep, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Revise:
    """A new revision replacing the plan from ``from_index`` on; mirrors ``reflexarc.v1.Revise``."""

    plan_id: str
    revision: int
    from_index: int
    reason: str = ""
    total_steps: int = 0
    plan_digest: str = ""


@dataclass(frozen=True)
class Cancel:
    """Stop the plan now; an empty ``plan_id`` means whatever is running. Mirrors ``reflexarc.v1.Cancel``."""

    plan_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ResumeState:
    """What a ``Resume`` message needs from the queue after a reconnect.

    Attributes:
        plan_id: the current plan.
        revision: the newest revision seen.
        cursor: index of the next step to execute (the lowest index not finished).
        completed: every finished index, ascending (may run ahead of the cursor after a gap).
        from_index: ``from_index`` of the current revision's Revise (0 for the first revision).
        plan_digest: digest from the current revision's Header/Revise.
    """

    plan_id: str
    revision: int
    cursor: int
    completed: tuple[int, ...]
    from_index: int
    plan_digest: str


class StepQueue:
    """The prefetched steps of the current plan and what has been executed of it.

    Feed it with ``accept_header``/``accept_step``/``accept_revise``/``accept_cancel`` (each returns
    whether the message changed anything), drive execution with ``next_step`` -> ``mark_started`` ->
    ``mark_done``, and after a reconnect send ``resume_state()``.

    Args:
        robot: when given, steps addressed to another robot are ignored.
    """

    def __init__(self, robot: str | None = None) -> None:
        self.robot = robot
        self._plan_id: str | None = None
        self._revision = -1
        self._from_index = 0
        self._digest = ""
        self._total_steps = 0
        self._queued: dict[int, QueuedStep] = {}
        self._future: dict[tuple[int, int], QueuedStep] = {}
        self._completed: set[int] = set()
        self._started: set[tuple[int, int]] = set()
        self._failed_index: int | None = None
        self._current: QueuedStep | None = None
        self._current_superseded = False
        self._cancelled_plans: set[str] = set()

    # --------------------------------------------------------------------------------- properties
    @property
    def plan_id(self) -> str | None:
        """The current plan, or None when idle (never started, cancelled)."""
        return self._plan_id

    @property
    def revision(self) -> int:
        """The newest revision seen of the current plan (-1 when idle)."""
        return self._revision

    @property
    def cursor(self) -> int:
        """Index of the next step to execute: the lowest index not finished yet."""
        cursor = 0
        while cursor in self._completed:
            cursor += 1
        return cursor

    @property
    def completed(self) -> frozenset[int]:
        """Indices finished (succeeded, recovered or skipped) in the current plan."""
        return frozenset(self._completed)

    @property
    def current(self) -> QueuedStep | None:
        """The step being executed (between ``mark_started`` and ``mark_done``), if any."""
        return self._current

    @property
    def current_superseded(self) -> bool:
        """Whether a Revise or Cancel replaced the step being executed (the executive should stop it)."""
        return self._current is not None and self._current_superseded

    @property
    def awaiting_revision(self) -> bool:
        """A step failed and the queue holds back until a revision replaces it."""
        return self._failed_index is not None

    @property
    def queued(self) -> tuple[QueuedStep, ...]:
        """The steps waiting to run, by index."""
        return tuple(self._queued[i] for i in sorted(self._queued))

    @property
    def total_steps(self) -> int:
        """The plan's announced length (0 when not known)."""
        return self._total_steps

    @property
    def finished(self) -> bool:
        """Whether every index of a plan of known length has finished."""
        return self._total_steps > 0 and all(i in self._completed for i in range(self._total_steps))

    # ---------------------------------------------------------------------------------- messages
    def accept_header(self, header: PlanHeader) -> bool:
        """Open a plan (a new ``plan_id`` replaces the current one) or re-open it after a Resume."""
        if header.plan_id in self._cancelled_plans:
            return self._drop("header of cancelled plan %s", header.plan_id)
        if header.plan_id != self._plan_id:
            self._start_plan(header.plan_id)
        if header.revision < self._revision:
            return self._drop("stale header r%d < r%d", header.revision, self._revision)
        if header.revision > self._revision:
            # A header that jumps revisions without a Revise: nothing older can be trusted.
            self._advance(header.revision, from_index=0)
            self._from_index = 0
        if header.total_steps:
            self._total_steps = header.total_steps
        if header.plan_digest:
            self._digest = header.plan_digest
        self._adopt_future()
        return True

    def accept_step(self, step: QueuedStep) -> bool:
        """Queue a step if it is for this robot and plan, current, new, and not finished already."""
        if self.robot is not None and step.robot and step.robot != self.robot:
            return self._drop("step for robot %s", step.robot)
        if step.plan_id != self._plan_id or self._plan_id is None:
            return self._drop("step of plan %s (current %s)", step.plan_id, self._plan_id)
        if step.revision < self._revision:
            return self._drop("late step %d of r%d after r%d", step.index, step.revision, self._revision)
        if step.revision > self._revision:
            self._future.setdefault((step.revision, step.index), step)
            return True
        return self._enqueue(step)

    def accept_revise(self, revise: Revise) -> bool:
        """Move to a newer revision: drop older queued steps from ``from_index`` on, carry the rest."""
        if revise.plan_id != self._plan_id or self._plan_id is None:
            return self._drop("revise of plan %s (current %s)", revise.plan_id, self._plan_id)
        if revise.revision <= self._revision:
            return self._drop("stale revise r%d <= r%d", revise.revision, self._revision)
        self._advance(revise.revision, from_index=revise.from_index)
        self._from_index = revise.from_index
        if revise.total_steps:
            self._total_steps = revise.total_steps
        if revise.plan_digest:
            self._digest = revise.plan_digest
        self._adopt_future()
        return True

    def accept_cancel(self, cancel: Cancel) -> bool:
        """Empty the queue and forget the plan (``plan_id`` empty = whatever is current)."""
        if self._plan_id is None or (cancel.plan_id and cancel.plan_id != self._plan_id):
            if cancel.plan_id:
                self._cancelled_plans.add(cancel.plan_id)
            return self._drop("cancel of plan %s (current %s)", cancel.plan_id, self._plan_id)
        self._cancelled_plans.add(self._plan_id)
        self._plan_id = None
        self._revision = -1
        self._queued.clear()
        self._future.clear()
        self._failed_index = None
        self._current_superseded = self._current is not None
        return True

    # --------------------------------------------------------------------------------- execution
    def next_step(self) -> QueuedStep | None:
        """The step to run now: the one at the cursor, if it has arrived and nothing blocks it.

        None while a step is running, while waiting for a revision after a failure, when the step at
        the cursor has not arrived yet, or when there is no plan.
        """
        if self._plan_id is None or self._current is not None or self._failed_index is not None:
            return None
        step = self._queued.get(self.cursor)
        if step is None or (step.revision, step.index) in self._started:
            return None
        return step

    def mark_started(self, step: QueuedStep) -> bool:
        """Record that ``step`` began; False (and nothing recorded) if it is no longer the one to run."""
        if step != self.next_step():
            return False
        self._started.add((step.revision, step.index))
        del self._queued[step.index]
        self._current = step
        self._current_superseded = False
        return True

    def mark_done(self, status: StepStatus) -> QueuedStep | None:
        """Record how the running step ended and return it (None if nothing was running).

        A finished index never runs again. A failure holds the queue until a Revise replaces that
        index, unless a Revise or Cancel already superseded the step while it ran.
        """
        step = self._current
        if step is None:
            return None
        self._current = None
        superseded = self._current_superseded
        self._current_superseded = False
        if step.plan_id != self._plan_id:
            return step  # the plan was cancelled or replaced meanwhile
        if status.finishes:
            self._completed.add(step.index)
            self._queued.pop(step.index, None)
        elif not superseded:
            self._failed_index = step.index
        return step

    def resume_state(self) -> ResumeState | None:
        """What to send in ``Resume`` after a reconnect (None when there is no plan to resume)."""
        if self._plan_id is None:
            return None
        return ResumeState(
            plan_id=self._plan_id,
            revision=self._revision,
            cursor=self.cursor,
            completed=tuple(sorted(self._completed)),
            from_index=self._from_index,
            plan_digest=self._digest,
        )

    # --------------------------------------------------------------------------------- internals
    def _start_plan(self, plan_id: str) -> None:
        if self._plan_id is not None:
            _LOG.info("plan %s replaces plan %s", plan_id, self._plan_id)
        self._plan_id = plan_id
        self._revision = -1
        self._from_index = 0
        self._digest = ""
        self._total_steps = 0
        self._queued.clear()
        self._future.clear()
        self._completed.clear()
        self._started.clear()
        self._failed_index = None
        self._current_superseded = self._current is not None

    def _advance(self, revision: int, *, from_index: int) -> None:
        """Make ``revision`` the newest: drop replaced steps, relabel the carried prefix."""
        self._revision = revision
        self._queued = {
            i: dataclasses.replace(s, revision=revision) for i, s in self._queued.items() if i < from_index
        }
        self._future = {k: s for k, s in self._future.items() if k[0] >= revision}
        if self._failed_index is not None and self._failed_index >= from_index:
            self._failed_index = None
        if self._current is not None and self._current.index >= from_index:
            self._current_superseded = True

    def _adopt_future(self) -> None:
        """Queue the steps of the now-current revision that arrived before their Header/Revise."""
        for key in sorted(k for k in self._future if k[0] == self._revision):
            self._enqueue(self._future.pop(key))

    def _enqueue(self, step: QueuedStep) -> bool:
        if step.index in self._completed:
            return self._drop("step %d already finished", step.index)
        if (step.revision, step.index) in self._started:
            return self._drop("step %d of r%d already started", step.index, step.revision)
        if self._current is not None and self._current.index == step.index and not self._current_superseded:
            return self._drop("step %d is running", step.index)
        existing = self._queued.get(step.index)
        if existing == step:
            return False
        if existing is not None and existing.revision == step.revision:
            return self._drop("duplicate index %d in r%d", step.index, step.revision)
        self._queued[step.index] = step
        return True

    @staticmethod
    def _drop(message: str, *args: object) -> bool:
        _LOG.debug("queue ignored: " + message, *args)
        return False
