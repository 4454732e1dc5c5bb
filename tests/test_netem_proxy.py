"""The userspace netem proxy: bytes pass in order, delay is added, partitions and drops cut the link."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from reflexarc.netem_proxy import NetemConfig, NetemProxy


@pytest.fixture
def echo_server():
    """A TCP echo server on a free port (one thread per connection)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    server.close()


def _roundtrip(port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_bytes_pass_through_in_order(echo_server):
    payload = bytes(range(256)) * 400
    with NetemProxy(("127.0.0.1", echo_server)) as proxy:
        assert _roundtrip(proxy.port, payload) == payload


def test_the_round_trip_takes_at_least_the_configured_delay(echo_server):
    with NetemProxy(("127.0.0.1", echo_server), NetemConfig.from_rtt(200)) as proxy:
        start = time.monotonic()
        assert _roundtrip(proxy.port, b"ping") == b"ping"
        assert time.monotonic() - start >= 0.2


def test_a_partition_refuses_new_connections_until_it_heals(echo_server):
    with NetemProxy(("127.0.0.1", echo_server)) as proxy:
        proxy.partition(True)
        with pytest.raises(OSError):
            if not _roundtrip(proxy.port, b"lost", timeout=2.0):
                raise ConnectionResetError("closed by the partition")
        proxy.partition(False)
        assert _roundtrip(proxy.port, b"back") == b"back"


def test_drop_probability_one_cuts_every_connection(echo_server):
    with NetemProxy(("127.0.0.1", echo_server), NetemConfig(drop_probability=1.0)) as proxy:
        try:
            received = _roundtrip(proxy.port, b"hello", timeout=2.0)
        except OSError:
            received = b""
        assert received == b""
        assert proxy.connections_dropped == 1
