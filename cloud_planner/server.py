"""Wiring of the planner gRPC server: servicer, health, limits, keepalive, TLS, tokens, shutdown.

``serve(config)`` returns a running :class:`PlannerServer`. Limits are explicit (4 MiB messages both
ways, so an oversize request fails with RESOURCE_EXHAUSTED instead of eating memory), keepalive pings
(``cloud_planner.channel_options``, the same values the clients use) detect dead robots' streams within
seconds, the standard ``grpc.health.v1`` service reports SERVING, and ``stop`` first turns health
NOT_SERVING and refuses new sessions (load balancers and edges go to another replica), then ends the
open sessions with UNAVAILABLE so their edges fail over and Resume, then stops.

Security is refused rather than weakened: tokens travel only over TLS, except on a loopback address in
an explicitly requested development mode (``insecure_loopback``); mutual TLS (``tls_client_ca``) makes
every client prove its certificate; server reflection is off unless asked for, and its module is not
even imported then.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from cloud_planner.auth import TokenAuthInterceptor, TokenTable, is_loopback_host
from cloud_planner.backend import BackendOptions, create_backend
from cloud_planner.channel_options import (
    KEEPALIVE_TIME_MS,
    KEEPALIVE_TIMEOUT_MS,
    MAX_MESSAGE_BYTES,
    Keepalive,
    server_channel_options,
)
from cloud_planner.servicer import PlannerServicer, add_planner_servicer
from cloud_planner.session import SessionConfig
from protos.reflexarc.v1 import planner_pb2
from reflexarc.scene_graph import SceneGraph

__all__ = [
    "MiB",
    "PLANNER_SERVICE",
    "InsecureConfiguration",
    "PlannerConfig",
    "PlannerServer",
    "is_loopback_host",
    "main",
    "serve",
    "server_options",
]

_log = logging.getLogger(__name__)

MiB = 1024 * 1024
PLANNER_SERVICE = planner_pb2.DESCRIPTOR.services_by_name["Planner"].full_name  # "reflexarc.v1.Planner"


class InsecureConfiguration(ValueError):
    """A configuration that would expose tokens or the service; the server refuses to start."""


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
        planning_workers: Threads that plan for all calls (None: 2 per CPU for the CPU-bound embedded
            backend, ``max_workers`` for backends that wait on a model server).
        max_receive_bytes: Largest accepted message (larger: RESOURCE_EXHAUSTED).
        max_send_bytes: Largest sent message.
        keepalive_time_ms: Ping every connection this often (clients use the same value).
        keepalive_timeout_ms: Drop a connection whose ping is not answered in time.
        tls_cert: PEM certificate chain; with ``tls_key`` the server speaks TLS only.
        tls_key: PEM private key.
        tls_client_ca: PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS).
        token: Shared bearer token clients must send (``authorization: Bearer ...``); empty = none.
        tokens: Per-robot tokens (from a token file); takes precedence over ``token``.
        insecure_loopback: Development mode: allow tokens over plaintext, on a loopback address only.
        reflection: Serve gRPC server reflection (off by default).
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
    planning_workers: int | None = None
    max_receive_bytes: int = MAX_MESSAGE_BYTES
    max_send_bytes: int = MAX_MESSAGE_BYTES
    keepalive_time_ms: int = KEEPALIVE_TIME_MS
    keepalive_timeout_ms: int = KEEPALIVE_TIMEOUT_MS
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    token: str = ""
    tokens: TokenTable | None = None
    insecure_loopback: bool = False
    reflection: bool = False
    server_id: str = ""
    default_scene: SceneGraph | None = None

    @property
    def keepalive(self) -> Keepalive:
        """The keepalive timing (clients must use the same)."""
        return Keepalive(self.keepalive_time_ms, self.keepalive_timeout_ms)

    @property
    def token_table(self) -> TokenTable | None:
        """The tokens the server accepts (None: no authentication)."""
        if self.tokens is not None:
            return self.tokens
        return TokenTable.shared(self.token) if self.token else None

    @property
    def uses_tls(self) -> bool:
        """Whether the server speaks TLS."""
        return bool(self.tls_cert or self.tls_key)


def server_options(config: PlannerConfig) -> list[tuple[str, int]]:
    """gRPC channel arguments: message limits and keepalive (see ``channel_options``)."""
    return server_channel_options(config.max_receive_bytes, config.max_send_bytes, config.keepalive)


def _check_security(config: PlannerConfig) -> None:
    """Refuse configurations that would leak tokens or half-configure TLS."""
    if config.uses_tls and not (config.tls_cert and config.tls_key):
        raise InsecureConfiguration("TLS needs both a certificate and a key (--tls-cert and --tls-key)")
    if config.tls_client_ca and not config.uses_tls:
        raise InsecureConfiguration("mutual TLS (--tls-client-ca) needs a server certificate and key")
    if config.insecure_loopback and not is_loopback_host(config.host):
        raise InsecureConfiguration(
            f"--insecure-loopback binds to a loopback address only, not {config.host!r}")
    if config.token_table is not None and not config.uses_tls and not config.insecure_loopback:
        raise InsecureConfiguration(
            "refusing to accept bearer tokens over plaintext: configure --tls-cert/--tls-key, or for local "
            "development bind 127.0.0.1 with --insecure-loopback")


class PlannerServer:
    """A running planner: the grpc.Server, its bound port, its health status and its sessions."""

    def __init__(self, grpc_server: grpc.Server, port: int, host: str, health_servicer: health.HealthServicer,
                 server_id: str, servicer: PlannerServicer | None = None) -> None:
        self.grpc_server = grpc_server
        self.port = port
        self.host = host
        self.health = health_servicer
        self.server_id = server_id
        self.servicer = servicer

    @property
    def address(self) -> str:
        """``host:port`` to dial (loopback when bound to all interfaces)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "[::]", "::", "") else self.host
        return f"{host}:{self.port}"

    @property
    def active_sessions(self) -> int:
        """Session streams currently open."""
        return self.servicer.active_sessions if self.servicer is not None else 0

    def _set_status(self, status: int) -> None:
        for service in ("", PLANNER_SERVICE):
            self.health.set(service, status)

    def drain(self) -> None:
        """Report NOT_SERVING (new clients go elsewhere) while open calls continue."""
        self._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)

    def stop(self, grace: float | None = 1.0) -> None:
        """Graceful shutdown within ``grace`` seconds.

        Health turns NOT_SERVING and new sessions are refused with UNAVAILABLE at once; open sessions
        end with UNAVAILABLE after answering their next message (their edges fail over and Resume);
        half-way through the grace period the server stops, and calls still open at its end are
        cancelled (UNAVAILABLE on the client).
        """
        self.drain()
        if self.servicer is not None:
            self.servicer.begin_drain()
            if grace:
                deadline = time.monotonic() + grace / 2
                while self.servicer.active_sessions and time.monotonic() < deadline:
                    time.sleep(0.02)
        remaining = None if grace is None else (grace / 2 if grace else 0)
        self.grpc_server.stop(remaining).wait()
        if self.servicer is not None:
            self.servicer.close()
        _log.info("planner %s stopped", self.server_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server terminates (True) or ``timeout`` passes (False)."""
        timed_out = self.grpc_server.wait_for_termination(timeout)  # grpc returns True on timeout
        return not timed_out

    def __enter__(self) -> PlannerServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop(grace=0.5)


def _enable_reflection(server: grpc.Server) -> None:
    try:
        from grpc_reflection.v1alpha import reflection  # imported only when asked for
    except ImportError as exc:
        raise RuntimeError("--reflection needs the grpcio-reflection package") from exc
    reflection.enable_server_reflection((PLANNER_SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server)


def serve(config: PlannerConfig) -> PlannerServer:
    """Start the planner server.

    Raises:
        InsecureConfiguration: tokens without TLS outside loopback development mode, half-set TLS.
        RuntimeError: the port cannot be bound, or reflection was asked for but is not installed.
    """
    _check_security(config)
    backend = create_backend(config.backend, config.backend_options)
    server_id = config.server_id or f"{socket.gethostname()}:{os.getpid()}"
    table = config.token_table
    interceptors = [TokenAuthInterceptor(table)] if table is not None else []
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="planner"),
        options=server_options(config),
        interceptors=interceptors,
        maximum_concurrent_rpcs=config.max_workers,
    )
    session_config = SessionConfig(lookahead=config.lookahead, max_revisions=config.max_revisions,
                                   server_id=server_id)
    planning_workers = config.planning_workers or (
        2 * (os.cpu_count() or 1) if config.backend == "embedded" else config.max_workers)
    servicer = PlannerServicer(backend, session_config, config.default_scene, planning_workers)
    add_planner_servicer(servicer, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if config.reflection:
        _enable_reflection(server)
    address = f"{config.host}:{config.port}"
    if config.uses_tls:
        client_ca = Path(config.tls_client_ca).read_bytes() if config.tls_client_ca else None
        credentials = grpc.ssl_server_credentials(
            [(Path(config.tls_key).read_bytes(), Path(config.tls_cert).read_bytes())],
            root_certificates=client_ca,
            require_client_auth=client_ca is not None,
        )
        port = server.add_secure_port(address, credentials)
    else:
        if table is not None:
            _log.warning("development mode: bearer tokens accepted over plaintext on loopback %s", address)
        port = server.add_insecure_port(address)
    if not port:
        raise RuntimeError(f"cannot bind the planner to {address}")
    server.start()
    running = PlannerServer(server, port, config.host, health_servicer, server_id, servicer)
    running._set_status(health_pb2.HealthCheckResponse.SERVING)
    _log.info("planner %s listening on %s (backend %s%s%s)", server_id, running.address, config.backend,
              ", TLS" if config.uses_tls else "", ", mutual TLS" if config.tls_client_ca else "")
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
