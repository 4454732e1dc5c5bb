"""A userspace TCP proxy that adds network latency, loss and partitions between the edge and the cloud.

``tc netem`` needs root and a kernel qdisc; the demo, the prefetch benchmark and the fault tests only
need the robot's gRPC connection to see a slow or broken network, so a small asyncio proxy on loopback
does it: every chunk read from one side is written to the other side ``delay`` later (order kept, so
TCP semantics hold), ``drop_probability`` kills a connection mid-stream (what a lossy link looks like
to an application once TCP gives up), ``stall_probability`` freezes a chunk for ``stall_s``, and
``partition(True)`` cuts every open connection and refuses new ones until ``partition(False)``.

The proxy runs its event loop in a background thread so synchronous code (tests, the orchestrator)
can start it, reconfigure it and stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from dataclasses import dataclass

__all__ = ["NetemConfig", "NetemProxy"]

_log = logging.getLogger(__name__)
_CHUNK = 65536


@dataclass
class NetemConfig:
    """Impairments applied per direction ("up" = client to upstream, "down" = upstream to client).

    Attributes:
        delay_up_ms: one-way delay added to every chunk sent by the client.
        delay_down_ms: one-way delay added to every chunk sent by the upstream server.
        drop_probability: per chunk, the chance that the whole connection is cut (both sides closed).
        stall_probability: per chunk, the chance that delivery pauses for ``stall_s`` extra seconds.
        stall_s: length of one stall.
    """

    delay_up_ms: float = 0.0
    delay_down_ms: float = 0.0
    drop_probability: float = 0.0
    stall_probability: float = 0.0
    stall_s: float = 1.0

    @classmethod
    def from_rtt(cls, rtt_ms: float) -> NetemConfig:
        """Split a round-trip time evenly over the two directions."""
        return cls(delay_up_ms=rtt_ms / 2.0, delay_down_ms=rtt_ms / 2.0)


class NetemProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream`` with configurable impairments.

    Example:
        with NetemProxy(("127.0.0.1", 50051), NetemConfig.from_rtt(100)) as proxy:
            channel = grpc.insecure_channel(f"127.0.0.1:{proxy.port}")
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        config: NetemConfig | None = None,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        seed: int = 0,
    ) -> None:
        self.upstream = upstream
        self.config = config if config is not None else NetemConfig()
        self._listen = (listen_host, listen_port)
        self._rng = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._partitioned = False
        self._ready = threading.Event()
        self._port = 0
        self.connections_total = 0
        self.connections_dropped = 0

    # ------------------------------------------------------------------------------------- control
    @property
    def port(self) -> int:
        """The local port clients connect to (valid after ``start``)."""
        return self._port

    @property
    def address(self) -> str:
        """``host:port`` for a gRPC channel target."""
        return f"{self._listen[0]}:{self._port}"

    def start(self) -> int:
        """Start the proxy thread and return the bound port."""
        if self._thread is not None:
            return self._port
        self._thread = threading.Thread(target=self._run, name="netem-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10.0):
            raise RuntimeError("netem proxy did not start within 10 s")
        if not self._port:
            raise RuntimeError(f"netem proxy could not listen on {self._listen}")
        return self._port

    def stop(self) -> None:
        """Close every connection and stop the thread."""
        loop = self._loop
        if loop is None or self._thread is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        with contextlib.suppress(Exception):
            fut.result(5.0)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(5.0)
        self._thread = None

    def partition(self, on: bool) -> None:
        """Cut the link (close open connections, refuse new ones) or restore it."""
        self._partitioned = on
        if on and self._loop is not None:
            self._loop.call_soon_threadsafe(self._close_all)

    @property
    def partitioned(self) -> bool:
        """Whether the link is currently cut."""
        return self._partitioned

    def set_rtt(self, rtt_ms: float) -> None:
        """Change the round-trip delay for new chunks (split evenly over both directions)."""
        self.config.delay_up_ms = rtt_ms / 2.0
        self.config.delay_down_ms = rtt_ms / 2.0

    def __enter__(self) -> NetemProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------ internals
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, self._listen[0], self._listen[1])
            )
            self._port = int(self._server.sockets[0].getsockname()[1])
        except OSError:
            _log.exception("netem proxy failed to listen on %s", self._listen)
        finally:
            self._ready.set()
        if self._server is None:
            return
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        self._close_all()
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _close_all(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections_total += 1
        if self._partitioned:
            client_writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update((client_writer, up_writer))
        dropped = asyncio.Event()
        tasks = [
            asyncio.create_task(self._pipe(client_reader, up_writer, "up", dropped)),
            asyncio.create_task(self._pipe(up_reader, client_writer, "down", dropped)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass  # the proxy is stopping with this connection open: close it below, quietly
        if dropped.is_set():
            self.connections_dropped += 1
        for task in tasks:
            task.cancel()
        for writer in (client_writer, up_writer):
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str, dropped: asyncio.Event
    ) -> None:
        """Read chunks and deliver each one ``delay`` after it arrived, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    with contextlib.suppress(Exception):
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        deliverer = asyncio.create_task(deliver())
        try:
            while True:
                data = await reader.read(_CHUNK)
                cfg = self.config
                delay_ms = cfg.delay_up_ms if direction == "up" else cfg.delay_down_ms
                due = time.monotonic() + delay_ms / 1000.0
                if data and cfg.stall_probability > 0 and self._rng.random() < cfg.stall_probability:
                    due += cfg.stall_s
                if data and cfg.drop_probability > 0 and self._rng.random() < cfg.drop_probability:
                    dropped.set()
                    return
                await queue.put((due, data))
                if not data:
                    await deliverer
                    return
        except (ConnectionError, OSError):
            return
        finally:
            deliverer.cancel()
