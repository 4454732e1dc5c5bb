"""Client side of the planner service, for the edge, tools, tests and benchmarks.

``PlannerClient`` wraps a channel with the same message limits and keepalive as the server
(``cloud_planner.channel_options``), a deadline on every unary and server-streaming call, the bearer
token when one is configured, TLS or mutual TLS, and a list of replica addresses to fail over to. ``SessionStream`` is
one bidirectional Session: ``send`` never blocks on the network and ``receive(timeout)`` waits for the
next cloud message, so an edge executive can keep executing while messages arrive.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cloud_planner import wire
from cloud_planner.auth import bearer_metadata, target_is_loopback
from cloud_planner.channel_options import MAX_MESSAGE_BYTES, Keepalive, client_channel_options
from cloud_planner.errors import PlanRejected
from cloud_planner.plan import Command, CommandSource, Fact, Plan, PlanStep
from protos.reflexarc.v1 import planner_pb2, planner_pb2_grpc
from reflexarc.scene_graph import SceneGraph

__all__ = ["DEFAULT_TIMEOUT_S", "NoReplicaAvailable", "PlannerClient", "SessionClosed", "SessionStream",
           "channel_options"]

DEFAULT_TIMEOUT_S = 5.0
_CLOSE = object()


def channel_options(max_message_bytes: int = MAX_MESSAGE_BYTES) -> list[tuple[str, int]]:
    """Client channel arguments matching the server's limits and keepalive."""
    return client_channel_options(max_message_bytes)


class NoReplicaAvailable(ConnectionError):
    """None of the client's planner addresses reports SERVING."""


class SessionClosed(RuntimeError):
    """The session stream ended (server stopped, deadline, or an error status)."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class _Ended:
    error: grpc.RpcError | None


class SessionStream:
    """One Session call: queue edge messages out, read cloud messages in (a reader thread buffers)."""

    def __init__(self, stub: planner_pb2_grpc.PlannerStub, metadata: Sequence[tuple[str, str]],
                 timeout: float | None) -> None:
        self._outbox: queue.Queue = queue.Queue()
        self._inbox: queue.Queue = queue.Queue()
        self._call = stub.Session(iter(self._outbox.get, _CLOSE), metadata=metadata, timeout=timeout)
        self._reader = threading.Thread(target=self._read, name="planner-session-reader", daemon=True)
        self._reader.start()
        self._ended: _Ended | None = None

    def _read(self) -> None:
        try:
            for message in self._call:
                self._inbox.put(message)
            self._inbox.put(_Ended(None))
        except grpc.RpcError as exc:
            self._inbox.put(_Ended(exc))

    def send(self, message: planner_pb2.EdgeMessage) -> None:
        """Queue one edge message (returns at once)."""
        self._outbox.put(message)

    def receive(self, timeout: float | None = DEFAULT_TIMEOUT_S) -> planner_pb2.CloudMessage:
        """The next cloud message; raises TimeoutError, or SessionClosed when the stream ended."""
        if self._ended is not None:
            raise self._closed_error()
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no cloud message within {timeout} s") from None
        if isinstance(item, _Ended):
            self._ended = item
            raise self._closed_error()
        return item

    def receive_until(self, kind: str, timeout: float | None = DEFAULT_TIMEOUT_S) -> list[planner_pb2.CloudMessage]:
        """Messages up to and including the first whose oneof is ``kind`` (e.g. ``"header"``)."""
        received = []
        while True:
            message = self.receive(timeout)
            received.append(message)
            if message.WhichOneof("message") == kind:
                return received

    def _closed_error(self) -> SessionClosed:
        error = self._ended.error if self._ended else None
        if error is None:
            return SessionClosed("session ended")
        return SessionClosed(f"session ended: {error.code().name}: {error.details()}", error.code())

    # --- message helpers -----------------------------------------------------------------------------

    def hello(self, robot_id: str, scene: SceneGraph, kind: str = "home", lookahead: int | None = None,
              capabilities: Iterable[str] = ()) -> None:
        """Send Hello (``lookahead``: None = server default, -1 = whole plan, K = K steps ahead)."""
        hello = planner_pb2.Hello(robot_id=robot_id, kind=kind, scene=wire.scene_to_proto(scene),
                                  capabilities=list(capabilities))
        if lookahead is not None:
            hello.lookahead = lookahead
        self.send(planner_pb2.EdgeMessage(hello=hello))

    def command(self, text: str, *, language: str = "", source: CommandSource = CommandSource.TEXT,
                asr_confidence: float = 1.0, command_id: str = "", scene: SceneGraph | None = None) -> None:
        """Send a Command."""
        command = Command(text, language, source, asr_confidence, command_id)
        self.send(planner_pb2.EdgeMessage(command=wire.command_to_proto(command, scene)))

    def progress(self, plan_id: str, revision: int, index: int, status: int, *, facts: Iterable[Fact] = (),
                 observed: dict[str, str] | None = None, observation: str = "", robot: str = "",
                 scene: SceneGraph | None = None) -> None:
        """Send Progress (``status`` is a ``planner_pb2.STEP_STATUS_*`` value)."""
        progress = planner_pb2.Progress(plan_id=plan_id, revision=revision, index=index, status=status,
                                        facts=wire.facts_to_proto(facts), observed=observed or {},
                                        observation=observation, robot=robot)
        if scene is not None:
            progress.scene.CopyFrom(wire.scene_to_proto(scene))
        self.send(planner_pb2.EdgeMessage(progress=progress))

    def heartbeat(self, seq: int, unix_ms: int = 0) -> None:
        """Send a Heartbeat."""
        self.send(planner_pb2.EdgeMessage(heartbeat=planner_pb2.Heartbeat(seq=seq, unix_ms=unix_ms)))

    def resume(self, *, plan_id: str, revision: int, cursor: int, command: Command, scene: SceneGraph,
               facts: Iterable[Fact] = (), from_index: int = 0, plan_digest: str = "") -> None:
        """Send Resume: continue a plan on this (possibly different) replica."""
        self.send(planner_pb2.EdgeMessage(resume=planner_pb2.Resume(
            plan_id=plan_id, revision=revision, cursor=cursor, command=wire.command_to_proto(command),
            scene=wire.scene_to_proto(scene), facts=wire.facts_to_proto(facts), from_index=from_index,
            plan_digest=plan_digest,
        )))

    def close(self) -> None:
        """Half-close the stream and cancel the call."""
        self._outbox.put(_CLOSE)
        self._call.cancel()

    def __enter__(self) -> SessionStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PlannerClient:
    """A channel to one planner replica, with the others to fail over to.

    Args:
        target: ``host:port``, or several replicas' addresses in order of preference.
        token: Bearer token, if the server requires one (sent over TLS only, or plaintext to loopback).
        root_certificates: PEM CA bundle to use TLS (None: plaintext).
        client_certificate: PEM certificate chain proving this client (mutual TLS; with ``client_key``).
        client_key: PEM private key of ``client_certificate``.
        timeout_s: Deadline for unary and server-streaming calls.
        keepalive: Keepalive timing; must match the server's (default: the shared settings).
    """

    def __init__(self, target: str | Sequence[str], *, token: str = "",
                 root_certificates: bytes | Path | None = None, client_certificate: bytes | Path | None = None,
                 client_key: bytes | Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 keepalive: Keepalive | None = None) -> None:
        self.targets: tuple[str, ...] = (target,) if isinstance(target, str) else tuple(target)
        if not self.targets:
            raise ValueError("PlannerClient needs at least one address")
        plaintext = root_certificates is None and client_certificate is None
        if token and plaintext and not all(target_is_loopback(t) for t in self.targets):
            raise ValueError("refusing to send a bearer token over plaintext to a non-loopback address; "
                             "pass root_certificates (TLS)")
        self._credentials = None
        if root_certificates is not None or client_certificate is not None:
            if (client_certificate is None) != (client_key is None):
                raise ValueError("a client certificate needs its key (and the key its certificate)")
            self._credentials = grpc.ssl_channel_credentials(
                _pem(root_certificates), _pem(client_key), _pem(client_certificate))
        self._options = client_channel_options(keepalive=keepalive)
        self._metadata: tuple[tuple[str, str], ...] = bearer_metadata(token)
        self.timeout_s = timeout_s
        self._index = 0
        self._connect(0)

    @property
    def target(self) -> str:
        """The address of the replica this client talks to now."""
        return self.targets[self._index]

    def _connect(self, index: int) -> None:
        self._index = index
        if self._credentials is not None:
            self.channel = grpc.secure_channel(self.target, self._credentials, options=self._options)
        else:
            self.channel = grpc.insecure_channel(self.target, options=self._options)
        self.stub = planner_pb2_grpc.PlannerStub(self.channel)
        self._health = health_pb2_grpc.HealthStub(self.channel)

    def failover(self, timeout: float | None = None) -> str:
        """Switch to the next replica (in list order, wrapping) whose health is SERVING; its address.

        Raises:
            NoReplicaAvailable: no other address answers SERVING within ``timeout`` each.
        """
        for step in range(1, len(self.targets) + 1):
            candidate = (self._index + step) % len(self.targets)
            self.channel.close()
            self._connect(candidate)
            try:
                if self.health(timeout=timeout) == "SERVING":
                    return self.target
            except grpc.RpcError:
                continue
        raise NoReplicaAvailable(f"no planner replica is serving among {', '.join(self.targets)}")

    def plan_events(self, command: Command | str, scene: SceneGraph | None, facts: Iterable[Fact] = (),
                    timeout: float | None = None) -> Iterator[planner_pb2.PlanEvent]:
        """The raw PlanEvent stream of one Plan call."""
        if isinstance(command, str):
            command = Command(command)
        request = planner_pb2.PlanRequest(command=wire.command_to_proto(command), facts=wire.facts_to_proto(facts))
        if scene is not None:
            request.scene.CopyFrom(wire.scene_to_proto(scene))
        return self.stub.Plan(request, metadata=self._metadata, timeout=timeout or self.timeout_s)

    def plan(self, command: Command | str, scene: SceneGraph | None, facts: Iterable[Fact] = (),
             timeout: float | None = None) -> Plan:
        """Plan once; raises PlanRejected when refused, grpc.RpcError on transport errors."""
        header = None
        steps: list[PlanStep] = []
        for event in self.plan_events(command, scene, facts, timeout):
            kind = event.WhichOneof("event")
            if kind == "reject":
                raise wire.rejection_from_proto(event.reject)
            if kind == "header":
                header = wire.header_from_proto(event.header)
            elif kind == "step":
                steps.append(wire.step_from_proto(event.step))
        if header is None:
            raise PlanRejected(wire.reject_code_from_proto(0), "the planner sent no plan")
        return Plan.from_events([header, *steps])

    def health(self, service: str = "reflexarc.v1.Planner", timeout: float | None = None) -> str:
        """The health status name (``SERVING``, ``NOT_SERVING``, ...)."""
        response = self._health.Check(health_pb2.HealthCheckRequest(service=service),
                                      timeout=timeout or self.timeout_s)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def session(self, timeout: float | None = None) -> SessionStream:
        """Open a Session stream (``timeout``: overall deadline; None for a long-lived session)."""
        return SessionStream(self.stub, self._metadata, timeout)

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()

    def __enter__(self) -> PlannerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pem(value: bytes | Path | str | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()
