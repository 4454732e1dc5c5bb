"""The gRPC servicer of ``reflexarc.v1.Planner``: handlers only, all logic lives in the session.

As in grpc's route_guide example, the servicer translates between the wire and the logic and nothing
else: ``Plan`` runs the backend through the validator once, ``Session`` feeds each incoming edge
message to a fresh :class:`~cloud_planner.session.PlannerSession` and streams back what it yields.
Protocol violations end the call with INVALID_ARGUMENT.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc

from cloud_planner import wire
from cloud_planner.backend import PlannerBackend, plan_command
from cloud_planner.errors import PlanRejected
from cloud_planner.plan import plan_digest
from cloud_planner.session import MalformedMessage, PlannerSession, SessionConfig
from protos.reflexarc.v1 import planner_pb2, planner_pb2_grpc
from reflexarc.scene_graph import SceneGraph, SceneGraphError

__all__ = ["PlannerServicer"]

_log = logging.getLogger(__name__)


class PlannerServicer(planner_pb2_grpc.PlannerServicer):
    """Handlers of the Planner service.

    Args:
        backend: The planning backend (shared; backends are thread-safe).
        config: Session behaviour (lookahead, re-plan limit, replica id).
        default_scene: Scene for Plan requests that carry none (None: such requests are invalid).
    """

    def __init__(self, backend: PlannerBackend, config: SessionConfig, default_scene: SceneGraph | None = None):
        self._backend = backend
        self._config = config
        self._default_scene = default_scene

    def Plan(self, request: planner_pb2.PlanRequest, context: grpc.ServicerContext) -> Iterator[planner_pb2.PlanEvent]:
        """One-shot planning: header and steps, or one Reject event."""
        if not request.command.text.strip():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "PlanRequest.command.text is empty")
        try:
            if request.HasField("scene"):
                scene = wire.scene_from_proto(request.scene)
            elif request.command.HasField("scene"):
                scene = wire.scene_from_proto(request.command.scene)
            elif self._default_scene is not None:
                scene = self._default_scene
            else:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "PlanRequest.scene is required")
        except SceneGraphError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"PlanRequest.scene: {exc}")
        command = wire.command_from_proto(request.command)
        try:
            plan = plan_command(self._backend, command, scene, wire.facts_from_proto(request.facts))
        except PlanRejected as exc:
            yield planner_pb2.PlanEvent(reject=wire.rejection_to_proto(exc, command_id=command.command_id))
            return
        yield planner_pb2.PlanEvent(header=wire.header_to_proto(
            plan.header, command_id=command.command_id, plan_digest=plan_digest(plan.steps)))
        for step in plan.steps:
            yield planner_pb2.PlanEvent(step=wire.step_to_proto(step, plan.plan_id, plan.revision))

    def Session(
        self, request_iterator: Iterator[planner_pb2.EdgeMessage], context: grpc.ServicerContext
    ) -> Iterator[planner_pb2.CloudMessage]:
        """One edge session: every edge message answered in order."""
        session = PlannerSession(self._backend, self._config)
        for message in request_iterator:
            try:
                replies = list(session.handle(message))
            except MalformedMessage as exc:
                _log.info("session from %s: malformed message: %s", context.peer(), exc)
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            yield from replies
