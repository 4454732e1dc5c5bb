"""The gRPC servicer of ``reflexarc.v1.Planner``: handlers only, all logic lives in the session.

As in grpc's route_guide example, the servicer translates between the wire and the logic and nothing
else: ``Plan`` runs the backend through the validator once, ``Session`` feeds each incoming edge
message to a fresh :class:`~cloud_planner.session.PlannerSession` and streams back what it yields.
Protocol violations end the call with INVALID_ARGUMENT, naming the field. While the server drains
(shutting down), new sessions are refused and open ones end with UNAVAILABLE after their next answer,
which tells an edge to reconnect to another replica and Resume.

Each open Session holds a gRPC handler thread while it waits for the robot's next message; the
planning itself runs on a small shared pool (``planning_workers``), so only those few threads ever
grow deep stacks and the server's memory stays flat with a thousand robots connected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import grpc
from google.protobuf.message import DecodeError

from cloud_planner import wire
from cloud_planner.backend import PlannerBackend, plan_command
from cloud_planner.errors import PlanRejected
from cloud_planner.plan import plan_digest
from cloud_planner.session import (
    MAX_COMMAND_CHARS,
    MalformedMessage,
    PlannerSession,
    SessionConfig,
    check_message_fields,
    dangling_reference,
)
from protos.reflexarc.v1 import planner_pb2, planner_pb2_grpc
from reflexarc.scene_graph import SceneGraph, SceneGraphError

__all__ = ["DRAINING_DETAIL", "PlannerServicer", "UndecodableMessage", "add_planner_servicer"]

_log = logging.getLogger(__name__)

_T = TypeVar("_T")

DRAINING_DETAIL = "planner replica is shutting down: reconnect to another replica and Resume"


@dataclass(frozen=True)
class UndecodableMessage:
    """Request bytes that do not parse as their message type (e.g. invalid UTF-8 in a string field).

    gRPC's own deserialisation failure on a request stream leaves the handler waiting forever (and the
    server unable to stop), so requests are parsed leniently and the handler ends the call itself.
    """

    type_name: str
    error: str

    def detail(self) -> str:
        """The INVALID_ARGUMENT message."""
        return f"{self.type_name} cannot be decoded: {self.error}"


def _lenient(message_class: type) -> Callable[[bytes], object]:
    def deserialize(data: bytes) -> object:
        try:
            return message_class.FromString(data)
        except DecodeError as exc:
            return UndecodableMessage(message_class.DESCRIPTOR.name, str(exc) or "malformed protobuf")

    return deserialize


def add_planner_servicer(servicer: planner_pb2_grpc.PlannerServicer, server: grpc.Server) -> None:
    """Register ``reflexarc.v1.Planner`` like the generated function, with lenient request parsing."""
    handlers = {
        "Plan": grpc.unary_stream_rpc_method_handler(
            servicer.Plan, request_deserializer=_lenient(planner_pb2.PlanRequest),
            response_serializer=planner_pb2.PlanEvent.SerializeToString),
        "Session": grpc.stream_stream_rpc_method_handler(
            servicer.Session, request_deserializer=_lenient(planner_pb2.EdgeMessage),
            response_serializer=planner_pb2.CloudMessage.SerializeToString),
    }
    service = planner_pb2.DESCRIPTOR.services_by_name["Planner"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    server.add_registered_method_handlers(service, handlers)


class PlannerServicer(planner_pb2_grpc.PlannerServicer):
    """Handlers of the Planner service.

    Args:
        backend: The planning backend (shared; backends are thread-safe).
        config: Session behaviour (lookahead, re-plan limit, replica id).
        default_scene: Scene for Plan requests that carry none (None: such requests are invalid).
        planning_workers: Threads that run the planning of every call (None: each call's own thread).
    """

    def __init__(self, backend: PlannerBackend, config: SessionConfig, default_scene: SceneGraph | None = None,
                 planning_workers: int | None = None):
        self._backend = backend
        self._planning = (ThreadPoolExecutor(max_workers=planning_workers, thread_name_prefix="planning")
                          if planning_workers else None)
        self._config = config
        self._default_scene = default_scene
        self._draining = threading.Event()
        self._lock = threading.Lock()
        self._active_sessions = 0

    @property
    def active_sessions(self) -> int:
        """Session streams currently open."""
        with self._lock:
            return self._active_sessions

    def _run(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` on the planning pool (or inline without one) and return its result."""
        return work() if self._planning is None else self._planning.submit(work).result()

    def close(self) -> None:
        """Release the planning pool (after the server stopped)."""
        if self._planning is not None:
            self._planning.shutdown(wait=False, cancel_futures=True)

    def begin_drain(self) -> None:
        """Refuse new sessions and end open ones (UNAVAILABLE) after their next answer."""
        self._draining.set()

    def Plan(self, request: planner_pb2.PlanRequest, context: grpc.ServicerContext) -> Iterator[planner_pb2.PlanEvent]:
        """One-shot planning: header and steps, or one Reject event."""
        if isinstance(request, UndecodableMessage):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.detail())
        if not request.command.text.strip():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "PlanRequest.command.text is empty")
        try:
            check_message_fields(request)
        except MalformedMessage as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if len(request.command.text) > MAX_COMMAND_CHARS:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"PlanRequest.command.text is {len(request.command.text)} characters long "
                          f"(at most {MAX_COMMAND_CHARS})")
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
        dangling = dangling_reference(scene)
        if dangling:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"PlanRequest.scene.{dangling}")
        command = wire.command_from_proto(request.command)
        try:
            facts = wire.facts_from_proto(request.facts)
            plan = self._run(lambda: plan_command(self._backend, command, scene, facts))
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
        if self._draining.is_set():
            context.abort(grpc.StatusCode.UNAVAILABLE, DRAINING_DETAIL)
        with self._lock:
            self._active_sessions += 1
        try:
            session = PlannerSession(self._backend, self._config)
            for message in request_iterator:
                last_answer = self._draining.is_set()  # a message received while draining gets the last answer
                if isinstance(message, UndecodableMessage):
                    _log.info("session from %s: %s", context.peer(), message.detail())
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, message.detail())
                try:
                    replies = self._run(lambda m=message: list(session.handle(m)))
                except MalformedMessage as exc:
                    _log.info("session from %s: malformed message: %s", context.peer(), exc)
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
                yield from replies
                if last_answer:
                    context.abort(grpc.StatusCode.UNAVAILABLE, DRAINING_DETAIL)
        finally:
            with self._lock:
                self._active_sessions -= 1
