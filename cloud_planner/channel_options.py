"""gRPC channel arguments shared by the planner server and its clients, so both sides agree.

Keepalive only works when the two ends match: a client that pings more often than the server permits
is sent GOAWAY ("too_many_pings") and loses its session, and a server that never pings keeps a dead
robot's stream (and its handler thread) forever. Keeping every value here, derived from one setting,
means a dead peer (a crashed or frozen robot, a planner host that stopped answering) is noticed within
``KEEPALIVE_TIME_MS + KEEPALIVE_TIMEOUT_MS`` on either side — a few seconds — and the edge fails over.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "KEEPALIVE_TIMEOUT_MS",
    "KEEPALIVE_TIME_MS",
    "MAX_MESSAGE_BYTES",
    "Keepalive",
    "client_channel_options",
    "dead_peer_detection_s",
    "server_channel_options",
]

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
KEEPALIVE_TIME_MS = 3_000
KEEPALIVE_TIMEOUT_MS = 3_000


@dataclass(frozen=True)
class Keepalive:
    """Keepalive timing of one deployment (both sides must use the same instance).

    Attributes:
        time_ms: Send a ping after this long without one (with or without calls in flight).
        timeout_ms: Close the connection when a ping is not acknowledged within this time.
    """

    time_ms: int = KEEPALIVE_TIME_MS
    timeout_ms: int = KEEPALIVE_TIMEOUT_MS

    @property
    def min_ping_interval_ms(self) -> int:
        """Shortest ping interval the server accepts: half the client's period, for timer jitter."""
        return max(1, self.time_ms // 2)


def _keepalive_options(keepalive: Keepalive) -> list[tuple[str, int]]:
    return [
        ("grpc.keepalive_time_ms", keepalive.time_ms),
        ("grpc.keepalive_timeout_ms", keepalive.timeout_ms),
        ("grpc.keepalive_permit_without_calls", 1),
        # 0 = no limit: keep pinging an idle session stream (the default stops after two pings).
        ("grpc.http2.max_pings_without_data", 0),
        # Newer gRPC cores time out an unanswered ping with this argument (default one minute), not
        # with keepalive_timeout_ms alone: set both so a frozen peer is dropped after timeout_ms.
        ("grpc.http2.ping_timeout_ms", keepalive.timeout_ms),
    ]


def client_channel_options(
    max_message_bytes: int = MAX_MESSAGE_BYTES, keepalive: Keepalive | None = None
) -> list[tuple[str, int]]:
    """Arguments of a client channel to the planner: message limits and keepalive."""
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        *_keepalive_options(keepalive or Keepalive()),
    ]


def server_channel_options(
    max_receive_bytes: int = MAX_MESSAGE_BYTES,
    max_send_bytes: int = MAX_MESSAGE_BYTES,
    keepalive: Keepalive | None = None,
) -> list[tuple[str, int]]:
    """Arguments of the planner server: limits, keepalive, and a ping policy that admits the clients'."""
    keepalive = keepalive or Keepalive()
    return [
        ("grpc.max_receive_message_length", max_receive_bytes),
        ("grpc.max_send_message_length", max_send_bytes),
        *_keepalive_options(keepalive),
        ("grpc.http2.min_ping_interval_without_data_ms", keepalive.min_ping_interval_ms),
        ("grpc.http2.max_ping_strikes", 2),
        ("grpc.so_reuseport", 0),
    ]


def dead_peer_detection_s(keepalive: Keepalive | None = None) -> float:
    """Upper bound on how long a silent peer goes unnoticed (one ping period plus its timeout)."""
    keepalive = keepalive or Keepalive()
    return (keepalive.time_ms + keepalive.timeout_ms) / 1000.0
