"""Wiring of the planner gRPC server: servicer, health, limits, keepalive, TLS, token, shutdown.

``serve(config)`` returns a running :class:`PlannerServer`. Limits are explicit (4 MiB messages both
ways, so an oversize request fails with RESOURCE_EXHAUSTED instead of eating memory), keepalive pings
detect dead robots' streams, the standard ``grpc.health.v1`` service reports SERVING, and ``stop``
first turns health NOT_SERVING (load balancers stop sending new sessions) before draining the calls.
"""

from __future__ import annotations

import hmac
import logging
import os
import socket
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from cloud_planner.backend import BackendOptions, create_backend
from cloud_planner.servicer import PlannerServicer
from cloud_planner.session import SessionConfig
from protos.reflexarc.v1 import planner_pb2, planner_pb2_grpc
from reflexarc.scene_graph import SceneGraph

__all__ = ["MiB", "PLANNER_SERVICE", "PlannerConfig", "PlannerServer", "main", "serve", "server_options"]

_log = logging.getLogger(__name__)

MiB = 1024 * 1024
PLANNER_SERVICE = planner_pb2.DESCRIPTOR.services_by_name["Planner"].full_name  # "reflexarc.v1.Planner"


@dataclass(frozen=True)
class PlannerConfig:
    """How to run the planner server.

    Attributes:
        host: Interface to bind (``127.0.0.1`` loopback; ``0.0.0.0``/``[::]`` for all).
        port: TCP port; 0 picks a free one (read it from ``PlannerServer.port``).
        backend: Registered backend name.
        backend_options: Settings for that backend.
        lookahead: Steps streamed ahead of the robot's cursor; None = the whole plan.
        max_revisions: Re-plans per plan before giving up.
        max_workers: Handler threads; each open Session stream holds one.
        max_receive_bytes: Largest accepted message (larger: RESOURCE_EXHAUSTED).
        max_send_bytes: Largest sent message.
        keepalive_time_ms: Ping idle connections this often.
        keepalive_timeout_ms: Drop a connection whose ping is not answered in time.
        tls_cert: PEM certificate chain; with ``tls_key`` the server speaks TLS only.
        tls_key: PEM private key.
        token: Bearer token clients must send (``authorization: Bearer ...``); empty = no auth.
        server_id: Replica name in acknowledgements (default host:pid).
        default_scene: Scene for Plan requests without one.
    """

    host: str = "127.0.0.1"
    port: int = 50051
    backend: str = "embedded"
    backend_options: BackendOptions = field(default_factory=BackendOptions)
    lookahead: int | None = None
    max_revisions: int = 8
    max_workers: int = 128
    max_receive_bytes: int = 4 * MiB
    max_send_bytes: int = 4 * MiB
    keepalive_time_ms: int = 20_000
    keepalive_timeout_ms: int = 10_000
    tls_cert: Path | None = None
    tls_key: Path | None = None
    token: str = ""
    server_id: str = ""
    default_scene: SceneGraph | None = None


def server_options(config: PlannerConfig) -> list[tuple[str, int]]:
    """gRPC channel arguments: message limits and keepalive."""
    return [
        ("grpc.max_receive_message_length", config.max_receive_bytes),
        ("grpc.max_send_message_length", config.max_send_bytes),
        ("grpc.keepalive_time_ms", config.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", config.keepalive_timeout_ms),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.so_reuseport", 0),
    ]


class _TokenInterceptor(grpc.ServerInterceptor):
    """Refuses calls without the bearer token (health checks stay open for load balancers)."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith("/grpc.health.v1.Health/"):
            return handler
        metadata = dict(handler_call_details.invocation_metadata or ())
        if hmac.compare_digest(str(metadata.get("authorization", "")).encode(), self._expected):
            return handler

        def deny(_request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")

        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(deny)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(deny)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(deny)
        return grpc.stream_stream_rpc_method_handler(deny)


class PlannerServer:
    """A running planner: the grpc.Server, its bound port and its health status."""

    def __init__(self, grpc_server: grpc.Server, port: int, host: str, health_servicer: health.HealthServicer,
                 server_id: str) -> None:
        self.grpc_server = grpc_server
        self.port = port
        self.host = host
        self.health = health_servicer
        self.server_id = server_id

    @property
    def address(self) -> str:
        """``host:port`` to dial (loopback when bound to all interfaces)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "[::]", "::", "") else self.host
        return f"{host}:{self.port}"

    def _set_status(self, status: int) -> None:
        for service in ("", PLANNER_SERVICE):
            self.health.set(service, status)

    def drain(self) -> None:
        """Report NOT_SERVING (new clients go elsewhere) while open calls continue."""
        self._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)

    def stop(self, grace: float | None = 1.0) -> None:
        """Graceful shutdown: NOT_SERVING first, then let calls finish for ``grace`` seconds."""
        self.drain()
        self.grpc_server.stop(grace).wait()
        _log.info("planner %s stopped", self.server_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server terminates (True) or ``timeout`` passes (False)."""
        return self.grpc_server.wait_for_termination(timeout)

    def __enter__(self) -> PlannerServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop(grace=0.5)


def serve(config: PlannerConfig) -> PlannerServer:
    """Start the planner server; raises RuntimeError when the port cannot be bound."""
    backend = create_backend(config.backend, config.backend_options)
    server_id = config.server_id or f"{socket.gethostname()}:{os.getpid()}"
    interceptors = [_TokenInterceptor(config.token)] if config.token else []
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="planner"),
        options=server_options(config),
        interceptors=interceptors,
        maximum_concurrent_rpcs=config.max_workers,
    )
    session_config = SessionConfig(lookahead=config.lookahead, max_revisions=config.max_revisions,
                                   server_id=server_id)
    planner_pb2_grpc.add_PlannerServicer_to_server(
        PlannerServicer(backend, session_config, config.default_scene), server
    )
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = f"{config.host}:{config.port}"
    if config.tls_cert or config.tls_key:
        if not (config.tls_cert and config.tls_key):
            raise ValueError("TLS needs both a certificate and a key")
        credentials = grpc.ssl_server_credentials(
            [(Path(config.tls_key).read_bytes(), Path(config.tls_cert).read_bytes())]
        )
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    if not port:
        raise RuntimeError(f"cannot bind the planner to {address}")
    server.start()
    running = PlannerServer(server, port, config.host, health_servicer, server_id)
    running._set_status(health_pb2.HealthCheckResponse.SERVING)
    _log.info("planner %s listening on %s (backend %s)", server_id, running.address, config.backend)
    return running


def _ros_params_to_options(ros_args: list[str]) -> list[str]:
    """``-p port:=50051 -p lookahead:=2`` (as a launch file passes them) -> ``--port 50051 --lookahead 2``."""
    options: list[str] = []
    i = 0
    while i < len(ros_args):
        if ros_args[i] in ("-p", "--param") and i + 1 < len(ros_args):
            name, _, value = ros_args[i + 1].partition(":=")
            if name and value != "":
                options += [f"--{name.replace('_', '-')}", value]
            i += 2
        elif ros_args[i] in ("-r", "--remap", "--params-file", "--log-level"):
            i += 2  # remaps and node names mean nothing to a gRPC server
        else:
            i += 1
    return options


def main(argv: list[str] | None = None) -> int:
    """``planner_server`` / ``python -m cloud_planner.server``: ``reflexarc serve``, also under a launch file."""
    import argparse
    import sys

    from cloud_planner.cli import add_serve_arguments, run_serve
    from reflexarc.log import configure_logging

    args = list(sys.argv[1:] if argv is None else argv)
    if "--ros-args" in args:
        cut = args.index("--ros-args")
        args = args[:cut] + _ros_params_to_options(args[cut + 1 :])
    parser = argparse.ArgumentParser(prog="planner_server", description="ReflexArc cloud planner gRPC server")
    add_serve_arguments(parser)
    configure_logging(1)
    return run_serve(parser.parse_args(args))


if __name__ == "__main__":
    raise SystemExit(main())
