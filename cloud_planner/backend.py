"""Planning backends: the small protocol every planner implements, the registry, and the one gate.

A backend turns a command and a scene into a header followed by steps, as an iterator so that an LLM
backend can stream steps as it produces them (the embedded planner yields them all at once).
Whatever the backend, its output goes through :func:`validated_events`, which runs every step through
the validator before anyone sees it: that is the guarantee that nothing outside the skill library
or the scene ever reaches a robot. New backends register with one line in ``_BACKENDS``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cloud_planner.errors import PlanRejected, RejectCode, ValidationError
from cloud_planner.plan import Command, Fact, Plan, PlanCost, PlanHeader, PlanStep
from cloud_planner.validator import Validator
from reflexarc.scene_graph import SceneGraph

__all__ = [
    "BackendOptions",
    "PlanEvent",
    "PlannerBackend",
    "backend_names",
    "create_backend",
    "plan_command",
    "validated_events",
]

_log = logging.getLogger(__name__)

PlanEvent = PlanHeader | PlanStep | PlanCost

# name -> "module:factory"; the factory takes a BackendOptions and returns a PlannerBackend.
_BACKENDS: dict[str, str] = {
    "embedded": "cloud_planner.embedded:EmbeddedBackend",
    "openai": "cloud_planner.llm_backend:LLMBackend",
}


@dataclass(frozen=True)
class BackendOptions:
    """Settings a backend may need (the embedded planner needs none).

    Attributes:
        base_url: Endpoint of a remote model (LLM backends).
        model: Model name (LLM backends).
        api_key_env: Environment variable holding the API key, read when the backend is created.
        timeout_s: Deadline for one planning call.
    """

    base_url: str = ""
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 30.0


@runtime_checkable
class PlannerBackend(Protocol):
    """Turns a command over a scene into a PlanHeader followed by PlanSteps (indices from 0).

    A backend that knows its plan before yielding (the embedded planner) sets the header's
    ``total_steps``; a streaming one (an LLM) yields the header with ``total_steps=0`` and each step as
    it is produced, and may end with a PlanCost once the cost is known. Sessions forward a streaming
    backend's steps as they come and close the revision with a PlanTrailer.

    ``facts`` are observations the scene does not show (``cup_red not_found_on kitchen_counter``,
    ``vacuum1 did clean_area living_room``); a re-plan passes them so the backend neither looks in the
    same place twice nor repeats finished work. Raise PlanRejected to refuse the command.
    """

    name: str

    def plan(self, command: Command, scene: SceneGraph, *, facts: tuple[Fact, ...] = ()) -> Iterator[PlanEvent]:
        """Yield the header, then the steps."""
        ...


def backend_names() -> tuple[str, ...]:
    """Names accepted by ``create_backend`` (and ``--backend``)."""
    return tuple(_BACKENDS)


def create_backend(name: str, options: BackendOptions | None = None) -> PlannerBackend:
    """Instantiate a registered backend; raises ValueError for an unknown name."""
    if name not in _BACKENDS:
        raise ValueError(f"unknown planner backend {name!r}; choose one of {', '.join(_BACKENDS)}")
    module_name, _, factory_name = _BACKENDS[name].partition(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    return factory(options or BackendOptions())


def validated_events(
    backend: PlannerBackend,
    command: Command,
    scene: SceneGraph,
    facts: tuple[Fact, ...] = (),
) -> Iterator[PlanEvent]:
    """The backend's events, each step validated before it is yielded.

    Raises PlanRejected (ValidationError for a bad step, BACKEND_ERROR when the backend breaks).
    """
    try:
        events = iter(backend.plan(command, scene, facts=facts))
        header = next(events, None)
    except PlanRejected:
        raise
    except Exception as exc:  # a backend failure must become a rejection, not a dead session
        _log.exception("planner backend %s failed", backend.name)
        raise PlanRejected(RejectCode.BACKEND_ERROR, f"the {backend.name} planner failed: {exc}") from exc
    if not isinstance(header, PlanHeader):
        raise PlanRejected(RejectCode.BACKEND_ERROR, f"the {backend.name} planner produced no plan header")
    yield header
    validator = Validator(scene)
    count = 0
    while True:
        try:
            step = next(events, None)
        except PlanRejected:
            raise
        except Exception as exc:
            _log.exception("planner backend %s failed mid-plan", backend.name)
            raise PlanRejected(RejectCode.BACKEND_ERROR, f"the {backend.name} planner failed: {exc}") from exc
        if step is None:
            break
        if isinstance(step, PlanCost):
            yield step
            continue
        if not isinstance(step, PlanStep):
            raise PlanRejected(RejectCode.BACKEND_ERROR, f"the {backend.name} planner yielded {type(step).__name__}")
        validator.check_step(step)
        count += 1
        yield step
    if header.total_steps and header.total_steps != count:
        raise ValidationError(
            RejectCode.INVALID_ARGUMENT, f"plan header announced {header.total_steps} steps, got {count}"
        )


def plan_command(
    backend: PlannerBackend, command: Command, scene: SceneGraph, facts: tuple[Fact, ...] = ()
) -> Plan:
    """Plan and validate a command completely (the CLI and one-shot RPC use this)."""
    return Plan.from_events(validated_events(backend, command, scene, facts))
