"""Helpers for tests that talk to real ROS 2 processes: a probe participant and launch-file runs.

:class:`RosProbe` is the test's own ROS 2 participant, in its own ``rclpy.Context`` on the test's
isolated domain, spinning in a background thread: it records topics (:class:`Inbox`), publishes, calls
services and waits for conditions with a deadline. :func:`launched` starts a project launch file
through the launch runner (``reflexarc.launch_runner``) with the test's environment and guarantees
shutdown.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

REPO_ROOT = Path(__file__).resolve().parent.parent
LAUNCH_DIR = REPO_ROOT / "launch"

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


_module_domains = itertools.count(50)


def module_domain_id() -> int:
    """A ROS domain id for a module-scoped fixture (offset from the per-test ids of ``conftest.py``)."""
    return 1 + (os.getpid() * 7 + next(_module_domains)) % 100


def ros_environment(domain_id: int) -> dict[str, str]:
    """Environment for child processes on ``domain_id``, localhost discovery, Fast DDS (as ``ros_env``)."""
    env = dict(os.environ)
    env.update(ROS_DOMAIN_ID=str(domain_id), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
               RMW_IMPLEMENTATION="rmw_fastrtps_cpp", PYTHONUNBUFFERED="1")
    return env


class Inbox:
    """Messages received on one topic, in arrival order, with the wall time each one arrived."""

    def __init__(self, topic: str) -> None:
        """An empty inbox for ``topic``."""
        self.topic = topic
        self._items: list[tuple[float, Any]] = []
        self._cond = threading.Condition()

    def put(self, msg: Any) -> None:
        """Record one message (subscription callback)."""
        with self._cond:
            self._items.append((time.monotonic(), msg))
            self._cond.notify_all()

    @property
    def messages(self) -> list[Any]:
        """A snapshot of every message so far."""
        with self._cond:
            return [m for _, m in self._items]

    @property
    def timed(self) -> list[tuple[float, Any]]:
        """A snapshot of (monotonic arrival time, message) pairs."""
        with self._cond:
            return list(self._items)

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def clear(self) -> None:
        """Forget everything received so far."""
        with self._cond:
            self._items.clear()

    def wait(self, predicate: Callable[[Any], bool] | None = None, timeout: float = 10.0,
             after: int = 0) -> Any:
        """The first message (at index >= ``after``) matching ``predicate``; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            index = after
            while True:
                while index < len(self._items):
                    msg = self._items[index][1]
                    index += 1
                    if predicate is None or predicate(msg):
                        return msg
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching message on {self.topic} within {timeout:g} s "
                                         f"({len(self._items)} received)")
                self._cond.wait(min(remaining, 0.1))

    def latest(self, timeout: float = 10.0) -> Any:
        """The newest message, waiting for a first one if needed."""
        self.wait(timeout=timeout)
        with self._cond:
            return self._items[-1][1]


class RosProbe:
    """The test's ROS 2 participant: its own context on the test's domain, spun in a background thread."""

    def __init__(self, domain_id: int, name: str = "test_probe", use_sim_time: bool = False) -> None:
        """Configure; the context starts in ``__enter__``."""
        self.domain_id = domain_id
        self.name = name
        self.use_sim_time = use_sim_time
        self.context: rclpy.Context | None = None
        self.node: Any = None
        self._executor: SingleThreadedExecutor | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RosProbe:
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=self.domain_id)
        overrides = [Parameter("use_sim_time", value=True)] if self.use_sim_time else []
        self.node = rclpy.create_node(self.name, context=self.context, parameter_overrides=overrides)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, name=f"{self.name}-spin", daemon=True)
        self._thread.start()
        return self

    def _spin(self) -> None:
        executor = self._executor
        assert executor is not None
        with contextlib.suppress(Exception):  # context shut down under us at exit
            while self.context is not None and self.context.ok():
                executor.spin_once(timeout_sec=0.05)

    def __exit__(self, *_exc: object) -> None:
        context, self.context = self.context, None
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self._executor is not None:
            self._executor.shutdown(timeout_sec=1.0)
        if self.node is not None:
            self.node.destroy_node()
        if context is not None:
            rclpy.try_shutdown(context=context)

    def listen(self, msg_type: Any, topic: str, qos: QoSProfile | int = RELIABLE) -> Inbox:
        """Record every message on ``topic`` into a new :class:`Inbox`."""
        inbox = Inbox(topic)
        self.node.create_subscription(msg_type, topic, inbox.put, qos)
        return inbox

    def publisher(self, msg_type: Any, topic: str, qos: QoSProfile | int = 10) -> Any:
        """A publisher on ``topic``."""
        return self.node.create_publisher(msg_type, topic, qos)

    def wait_for_subscribers(self, publisher: Any, count: int = 1, timeout: float = 20.0,
                             launch: Any = None) -> None:
        """Block until ``publisher`` has matched ``count`` subscriptions (discovery done).

        With ``launch`` (a launch handle), fail at once if the launch ended meanwhile.
        """
        def matched() -> bool:
            if launch is not None and launch.returncode is not None:
                raise AssertionError(f"the launch ended with status {launch.returncode} while waiting for "
                                     f"a subscriber of {publisher.topic_name}")
            return publisher.get_subscription_count() >= count

        wait_until(matched, timeout, f"{publisher.topic_name} has no subscriber")

    def call(self, srv_type: Any, name: str, request: Any, timeout: float = 30.0) -> Any:
        """Call a service and return its response (AssertionError if unavailable or late)."""
        client = self.node.create_client(srv_type, name)
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                raise AssertionError(f"service {name} not available within {timeout:g} s")
            future = client.call_async(request)
            wait_until(future.done, timeout, f"service {name} did not answer")
            return future.result()
        finally:
            self.node.destroy_client(client)

    def now(self) -> float:
        """The probe node's clock in seconds (sim time when ``use_sim_time``)."""
        return self.node.get_clock().now().nanoseconds * 1e-9


def shipped_policy() -> Path:
    """The shipped reflex policy: the integration tests drive with the model the robot really runs."""
    from edge_agent.policy import DEFAULT_MODEL_PATH

    assert DEFAULT_MODEL_PATH.is_file(), f"the shipped policy {DEFAULT_MODEL_PATH} is missing"
    return DEFAULT_MODEL_PATH


def wait_until(condition: Callable[[], bool], timeout: float, message: str = "condition not met",
               poll: float = 0.02) -> None:
    """Poll ``condition`` until it holds; AssertionError with ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} (after {timeout:g} s)")
        time.sleep(poll)


@contextlib.contextmanager
def launched(launch_file: str, args: Mapping[str, str], env: Mapping[str, str],
             log_dir: Path | None = None) -> Iterator[Any]:
    """Run ``launch/<launch_file>`` with ``args`` in ``env`` through the project's launch runner; stop it at exit.

    Process output goes to ``log_dir`` (one file per process) when given, and is echoed with
    ``[name]`` prefixes to standard output, which pytest shows for a failing test.
    """
    from reflexarc.launch_runner import launch_file as start_launch

    handle = start_launch(LAUNCH_DIR / launch_file, dict(args), log_dir=log_dir, echo=True, environ=dict(env))
    try:
        yield handle
    finally:
        handle.shutdown(timeout=30.0)


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago (for a planner replica or a proxy)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_planner(port: int, env: Mapping[str, str], log: Path, lookahead: int | None = None,
                  timeout: float = 60.0) -> Any:
    """Start ``reflexarc serve`` on ``port`` as its own process group; return the Popen once it listens.

    ``lookahead`` None keeps the planner's default window; -1 streams the whole plan; K >= 0 streams K
    steps ahead. Output is appended to ``log``.
    """
    import socket
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "reflexarc.cli", "serve", "--port", str(port)]
    if lookahead is not None:
        cmd += ["--lookahead", str(lookahead)]
    proc = subprocess.Popen(cmd, env=dict(env), stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"planner exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    stop_process(proc)
    raise AssertionError(f"planner did not listen on {port} within {timeout:g} s: {log.read_text()[-2000:]}")


def stop_process(proc: Any, kill: bool = False, timeout: float = 10.0) -> None:
    """Stop a process started with ``start_new_session``: SIGINT (or SIGKILL with ``kill``) to its group."""
    import signal
    import subprocess

    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5.0)
