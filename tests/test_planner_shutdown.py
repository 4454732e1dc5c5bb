"""Graceful shutdown of a real ``reflexarc serve`` process, and an edge failing over to another replica.

SIGTERM turns health NOT_SERVING at once and refuses new sessions; open sessions end with UNAVAILABLE
within the grace period (the edge's cue to fail over); the process exits cleanly. A client given two
replica addresses then reaches the second one and resumes its plan there without repeating a step.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from cloud_planner.client import PlannerClient, SessionClosed, SessionStream
from cloud_planner.plan import Command
from cloud_planner.server import PlannerConfig, PlannerServer, serve
from cloud_planner.servicer import DRAINING_DETAIL
from protos.reflexarc.v1 import planner_pb2
from reflexarc.scene_graph import SceneGraph
from sim.home_layout import load_home_layout

TIMEOUT = 10.0
GRACE_S = 4.0
FETCH = "bring me the red cup from the kitchen"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scene() -> SceneGraph:
    return load_home_layout().scene_graph()


class ServeProcess:
    """``reflexarc serve`` in a child process, on a free port."""

    def __init__(self, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reflexarc.cli", "serve", "--port", "0", "--grace", str(GRACE_S), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        line = self.process.stdout.readline()
        if not line.startswith("listening on"):
            self.process.kill()
            raise RuntimeError(f"serve did not start: {line}{self.process.stderr.read()}")
        self.address = line.split()[-1]
        # Keep reading stderr so the child never blocks on a full pipe.
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def replica_a() -> Iterator[ServeProcess]:
    process = ServeProcess("--lookahead", "1")
    yield process
    process.close()


@pytest.fixture
def replica_b() -> Iterator[PlannerServer]:
    running = serve(PlannerConfig(port=0, lookahead=1, server_id="replica-b"))
    yield running
    running.stop(grace=0)


def open_session(client: PlannerClient, scene: SceneGraph) -> SessionStream:
    session = client.session()
    session.hello("robot1", scene)
    assert session.receive(TIMEOUT).ack.kind == planner_pb2.ACK_KIND_HELLO
    return session


def wait_for_health(client: PlannerClient, status: str, within_s: float) -> str:
    deadline = time.monotonic() + within_s
    seen = ""
    while time.monotonic() < deadline:
        try:
            seen = client.health(timeout=1.0)
        except grpc.RpcError as exc:
            seen = exc.code().name
        if seen == status:
            return seen
        time.sleep(0.05)
    return seen


def test_sigterm_turns_health_not_serving_and_refuses_new_sessions(replica_a, scene):
    with PlannerClient(replica_a.address, timeout_s=TIMEOUT) as client:
        in_flight = open_session(client, scene)  # keeps the drain window open
        replica_a.terminate()
        assert wait_for_health(client, "NOT_SERVING", within_s=2.0) == "NOT_SERVING"
        late = client.session()
        late.hello("robot2", scene)
        with pytest.raises(SessionClosed) as refused:
            late.receive(TIMEOUT)
        assert refused.value.code == grpc.StatusCode.UNAVAILABLE and DRAINING_DETAIL in str(refused.value)
        in_flight.close()
    assert replica_a.process.wait(timeout=GRACE_S + 5) == 0


def test_an_idle_session_ends_with_unavailable_within_the_grace_period(replica_a, scene):
    with PlannerClient(replica_a.address, timeout_s=TIMEOUT) as client:
        session = open_session(client, scene)
        replica_a.terminate()
        with pytest.raises(SessionClosed) as closed:
            session.receive(timeout=GRACE_S + 2)
        assert closed.value.code == grpc.StatusCode.UNAVAILABLE
    assert replica_a.process.wait(timeout=GRACE_S + 5) == 0


def test_an_active_session_gets_its_answer_then_unavailable_while_draining(scene):
    running = serve(PlannerConfig(port=0, lookahead=1))
    try:
        with PlannerClient(running.address, timeout_s=TIMEOUT) as client:
            session = open_session(client, scene)
            running.drain()  # what stop() does first, without its clock
            running.servicer.begin_drain()
            assert client.health() == "NOT_SERVING"
            session.command(FETCH)
            answer = [session.receive(TIMEOUT) for _ in range(3)]
            assert [m.WhichOneof("message") for m in answer] == ["header", "step", "step"]
            with pytest.raises(SessionClosed) as closed:
                session.receive(TIMEOUT)
            assert closed.value.code == grpc.StatusCode.UNAVAILABLE and DRAINING_DETAIL in str(closed.value)
        assert running.active_sessions == 0
    finally:
        running.stop(grace=0)


def test_a_client_with_two_addresses_fails_over_and_resumes_without_repeating_a_step(replica_a, replica_b, scene):
    with PlannerClient([replica_a.address, replica_b.address], timeout_s=TIMEOUT) as client:
        session = open_session(client, scene)
        session.command(FETCH)
        header = session.receive(TIMEOUT).header
        executed = []
        for _ in range(2):  # steps 0 and 1 done on replica A
            step = session.receive(TIMEOUT).step
            executed.append(step.index)
        session.progress(header.plan_id, 0, 0, planner_pb2.STEP_STATUS_SUCCEEDED)
        executed.append(session.receive(TIMEOUT).step.index)  # step 2 arrives inside the window
        session.progress(header.plan_id, 0, 1, planner_pb2.STEP_STATUS_SUCCEEDED)
        assert session.receive(TIMEOUT).step.index == 3
        replica_a.terminate()
        with pytest.raises(SessionClosed) as closed:
            while True:
                session.receive(GRACE_S + 2)
        assert closed.value.code == grpc.StatusCode.UNAVAILABLE

        assert client.failover(timeout=2.0) == replica_b.address
        resumed = open_session(client, scene)
        resumed.resume(plan_id=header.plan_id, revision=0, cursor=2, command=Command(FETCH), scene=scene,
                       plan_digest=header.plan_digest)
        again = resumed.receive(TIMEOUT).header
        assert again.resumed and again.plan_id == header.plan_id and again.plan_digest == header.plan_digest
        indices = [resumed.receive(TIMEOUT).step.index for _ in range(2)]
        resumed.progress(header.plan_id, 0, 2, planner_pb2.STEP_STATUS_SUCCEEDED)
        resumed.progress(header.plan_id, 0, 3, planner_pb2.STEP_STATUS_SUCCEEDED)
        indices.append(resumed.receive(TIMEOUT).step.index)
        resumed.progress(header.plan_id, 0, 4, planner_pb2.STEP_STATUS_SUCCEEDED)
        assert resumed.receive(TIMEOUT).ack.kind == planner_pb2.ACK_KIND_PLAN_COMPLETE
        resumed.close()
    assert indices == [2, 3, 4]  # nothing before the cursor is sent again, nothing skipped
    assert replica_a.process.wait(timeout=GRACE_S + 5) == 0
