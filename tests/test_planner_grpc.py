"""The planner service over real gRPC on loopback: servers on port 0, real clients, status codes asserted."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from cloud_planner.client import PlannerClient, SessionClosed, SessionStream
from cloud_planner.errors import PlanRejected
from cloud_planner.plan import Command, Fact
from cloud_planner.server import MiB, PlannerConfig, PlannerServer, serve
from cloud_planner.wire import facts_from_proto, scene_from_proto, scene_to_proto, step_from_proto
from protos.reflexarc.v1 import plan_pb2, planner_pb2, planner_pb2_grpc
from reflexarc.scene_graph import Room, SceneGraph
from sim.home_layout import load_home_layout

TIMEOUT = 10.0
FETCH = "bring me the red cup from the kitchen"


@pytest.fixture(scope="module")
def scene() -> SceneGraph:
    return load_home_layout().scene_graph()


@pytest.fixture(scope="module")
def server() -> Iterator[PlannerServer]:
    running = serve(PlannerConfig(port=0, server_id="replica-a"))
    yield running
    running.stop(grace=0)


@pytest.fixture
def client(server: PlannerServer) -> Iterator[PlannerClient]:
    with PlannerClient(server.address, timeout_s=TIMEOUT) as c:
        yield c


def open_session(client: PlannerClient, scene: SceneGraph, lookahead: int | None = None) -> SessionStream:
    session = client.session()
    session.hello("edge1", scene, lookahead=lookahead)
    ack = session.receive(TIMEOUT)
    assert ack.ack.kind == planner_pb2.ACK_KIND_HELLO
    return session


def receive(session: SessionStream, n: int) -> list[planner_pb2.CloudMessage]:
    return [session.receive(TIMEOUT) for _ in range(n)]


def kinds(messages) -> list[str]:
    return [m.WhichOneof("message") for m in messages]


def test_health_reports_serving_for_the_planner_and_the_server(client):
    assert client.health() == "SERVING"
    assert client.health(service="") == "SERVING"


def test_health_turns_not_serving_when_a_server_drains_and_open_sessions_continue(scene):
    running = serve(PlannerConfig(port=0))
    try:
        with PlannerClient(running.address, timeout_s=TIMEOUT) as c:
            session = open_session(c, scene)
            running.drain()
            assert c.health() == "NOT_SERVING"
            session.command(FETCH)
            assert kinds(receive(session, 2)) == ["header", "step"]
            session.close()
    finally:
        running.stop(grace=0)


def test_one_shot_plan_streams_the_header_then_the_steps_in_order(client, scene):
    events = list(client.plan_events(FETCH, scene))
    assert [e.WhichOneof("event") for e in events] == ["header"] + ["step"] * 5
    assert events[0].header.total_steps == 5 and events[0].header.backend == "embedded"
    assert [e.step.index for e in events[1:]] == [0, 1, 2, 3, 4]
    assert {e.step.plan_id for e in events[1:]} == {events[0].header.plan_id}


def test_one_shot_plan_of_an_unknown_object_is_a_reject_event(client, scene):
    with pytest.raises(PlanRejected) as caught:
        client.plan("bring me the purple cup", scene)
    assert caught.value.code.value == "unknown_object" and "cup_red" in caught.value.candidates


def test_a_session_streams_the_header_and_the_whole_plan_by_default(client, scene):
    with open_session(client, scene) as session:
        session.command(FETCH, command_id="c1")
        out = receive(session, 6)
        assert kinds(out) == ["header"] + ["step"] * 5
        assert out[0].header.command_id == "c1" and out[0].header.plan_digest
        assert [m.step.index for m in out[1:]] == [0, 1, 2, 3, 4]
        assert step_from_proto(out[2].step).on_failure[0].args["target"] == "dining_table"


def test_a_lookahead_window_holds_back_steps_until_progress_arrives(client, scene):
    with open_session(client, scene, lookahead=1) as session:
        session.command(FETCH)
        out = receive(session, 3)
        plan_id = out[0].header.plan_id
        assert [m.step.index for m in out[1:]] == [0, 1]
        session.progress(plan_id, 0, 0, planner_pb2.STEP_STATUS_SUCCEEDED)
        assert session.receive(TIMEOUT).step.index == 2
        with pytest.raises(TimeoutError):
            session.receive(0.3)


def test_a_server_configured_for_one_step_at_a_time_waits_for_each_step(scene):
    running = serve(PlannerConfig(port=0, lookahead=0))
    try:
        with PlannerClient(running.address) as c, open_session(c, scene) as session:
            session.command("clean the living room")
            header, first = receive(session, 2)
            assert first.step.index == 0
            session.progress(header.header.plan_id, 0, 0, planner_pb2.STEP_STATUS_SUCCEEDED)
            assert session.receive(TIMEOUT).step.index == 1
    finally:
        running.stop(grace=0)


def test_an_injected_failure_revises_the_plan_and_the_new_steps_follow(client, scene):
    with open_session(client, scene) as session:
        session.command(FETCH)
        plan_id = receive(session, 6)[0].header.plan_id
        session.progress(plan_id, 0, 0, planner_pb2.STEP_STATUS_SUCCEEDED)
        searched = [Fact("cup_red", "not_found_on", spot) for spot in ("kitchen_counter", "dining_table", "sink")]
        session.progress(plan_id, 0, 1, planner_pb2.STEP_STATUS_FAILED, facts=searched,
                         observation="not on the counter, the table or by the sink")
        revise = session.receive(TIMEOUT)
        assert revise.WhichOneof("message") == "revise"
        assert (revise.revise.plan_id, revise.revise.revision, revise.revise.from_index) == (plan_id, 1, 1)
        new_steps = [m.step for m in receive(session, revise.revise.total_steps - 1)]
        assert [(s.revision, s.index) for s in new_steps] == [(1, i) for i in range(1, revise.revise.total_steps)]
        assert new_steps[0].skill == "navigate_to" and new_steps[0].args["target"].entity == "coffee_table"
        assert scene_from_proto(revise.revise.scene).get("robot1").room == "kitchen"  # after step 0


def test_a_diverging_observation_also_triggers_a_revision(client, scene):
    with open_session(client, scene) as session:
        session.command(FETCH)
        plan_id = receive(session, 6)[0].header.plan_id
        for index in (0, 1):
            session.progress(plan_id, 0, index, planner_pb2.STEP_STATUS_SUCCEEDED)
        session.progress(plan_id, 0, 2, planner_pb2.STEP_STATUS_SUCCEEDED, observed={"cup_red.held_by": ""})
        revise = session.receive(TIMEOUT).revise
        assert (revise.revision, revise.from_index) == (1, 3) and "diverged" in revise.reason
        assert scene_from_proto(revise.scene).get("cup_red").held_by in ("", None)  # as observed, not as planned
        new_steps = [m.step for m in receive(session, revise.total_steps - 3)]
        assert [(s.revision, s.index) for s in new_steps] == [(1, i) for i in range(3, revise.total_steps)]
        assert "pick" in [s.skill for s in new_steps]  # the pick that did not hold is tried again


def test_re_planning_gives_up_after_the_revision_limit_and_cancels(scene):
    running = serve(PlannerConfig(port=0, max_revisions=1))
    try:
        with PlannerClient(running.address) as c, open_session(c, scene) as session:
            session.command(FETCH)
            plan_id = receive(session, 6)[0].header.plan_id
            session.progress(plan_id, 0, 0, planner_pb2.STEP_STATUS_FAILED)
            revise = session.receive(TIMEOUT).revise
            receive(session, revise.total_steps)
            session.progress(plan_id, 1, 0, planner_pb2.STEP_STATUS_FAILED)
            reject, _say, cancel = receive(session, 3)
            assert reject.reject.code == plan_pb2.REJECT_CODE_REPLAN_LIMIT
            assert cancel.cancel.plan_id == plan_id
    finally:
        running.stop(grace=0)


def test_stop_cancels_the_running_plan(client, scene):
    with open_session(client, scene) as session:
        session.command(FETCH)
        plan_id = receive(session, 6)[0].header.plan_id
        session.command("stop")
        cancel = session.receive(TIMEOUT)
        assert cancel.WhichOneof("message") == "cancel" and cancel.cancel.plan_id == plan_id


def test_a_rejected_command_gets_a_reject_and_a_spoken_reason(client, scene):
    with open_session(client, scene) as session:
        session.command("unlock the front door", command_id="c9")
        reject, say = receive(session, 2)
        assert reject.reject.code == plan_pb2.REJECT_CODE_FORBIDDEN_STATE and reject.reject.command_id == "c9"
        assert "front_door_lock" in say.say.text


def test_heartbeats_are_acknowledged_with_their_sequence_number(client, scene):
    with open_session(client, scene) as session:
        session.heartbeat(41)
        ack = session.receive(TIMEOUT).ack
        assert (ack.kind, ack.seq, ack.server_id) == (planner_pb2.ACK_KIND_HEARTBEAT, 41, "replica-a")


def test_a_second_replica_resumes_after_the_first_stops_without_repeating_a_finished_step(scene):
    first = serve(PlannerConfig(port=0, lookahead=1, server_id="replica-1"))
    with PlannerClient(first.address) as c1:
        session = open_session(c1, scene)
        session.command(FETCH)
        header, *_ = receive(session, 3)
        plan_id, digest = header.header.plan_id, header.header.plan_digest
        for index in (0, 1):
            session.progress(plan_id, 0, index, planner_pb2.STEP_STATUS_SUCCEEDED)
            session.receive(TIMEOUT)
        first.stop(grace=0)
        with pytest.raises(SessionClosed):
            while True:
                session.receive(TIMEOUT)
    second = serve(PlannerConfig(port=0, lookahead=1, server_id="replica-2"))
    try:
        with PlannerClient(second.address) as c2, open_session(c2, scene) as resumed:
            resumed.resume(plan_id=plan_id, revision=0, cursor=2, command=Command(FETCH), scene=scene,
                           plan_digest=digest)
            out = receive(resumed, 3)
            assert kinds(out) == ["header", "step", "step"]
            assert out[0].header.resumed and out[0].header.plan_id == plan_id
            assert [m.step.index for m in out[1:]] == [2, 3]
            resumed.progress(plan_id, 0, 2, planner_pb2.STEP_STATUS_SUCCEEDED)
            assert resumed.receive(TIMEOUT).step.index == 4
    finally:
        second.stop(grace=0)


def test_a_revision_resumes_on_another_replica_from_what_the_revise_message_carried(server, scene):
    with PlannerClient(server.address) as c, open_session(c, scene) as session:
        session.command(FETCH)
        plan_id = receive(session, 6)[0].header.plan_id
        session.progress(plan_id, 0, 0, planner_pb2.STEP_STATUS_SUCCEEDED)
        session.progress(plan_id, 0, 1, planner_pb2.STEP_STATUS_FAILED,
                         facts=[Fact("cup_red", "not_found_on", "kitchen_counter")])
        revise = session.receive(TIMEOUT).revise
        original = [m.step for m in receive(session, revise.total_steps - revise.from_index)]
    other = serve(PlannerConfig(port=0, server_id="replica-b"))
    try:
        with PlannerClient(other.address) as c2, open_session(c2, scene) as resumed:
            resumed.resume(plan_id=plan_id, revision=revise.revision, cursor=2, command=Command(FETCH),
                           scene=scene_from_proto(revise.scene), facts=facts_from_proto(revise.facts),
                           from_index=revise.from_index, plan_digest=revise.plan_digest)
            header = resumed.receive(TIMEOUT).header
            again = [m.step for m in receive(resumed, header.total_steps - 2)]
            assert header.resumed and header.revision == 1
            assert again == original[1:]
    finally:
        other.stop(grace=0)


def test_a_resume_that_cannot_be_reproduced_is_refused(client, scene):
    with open_session(client, scene) as session:
        session.resume(plan_id="p-elsewhere", revision=0, cursor=1, command=Command(FETCH), scene=scene,
                       plan_digest="0" * 64)
        reject = session.receive(TIMEOUT).reject
        assert reject.code == plan_pb2.REJECT_CODE_UNKNOWN_PLAN


def test_an_oversize_message_is_refused_by_the_server_with_resource_exhausted(server, scene):
    attic = Room("attic", "attic", ((0, 0), (1, 0), (1, 1)), aliases=("x" * (5 * MiB),))
    huge = replace(scene, rooms=(*scene.rooms, attic))
    # A client willing to send 16 MiB, so the refusal is the server's 4 MiB limit, not the client's.
    channel = grpc.insecure_channel(server.address, options=[("grpc.max_send_message_length", 16 * MiB)])
    try:
        stub = planner_pb2_grpc.PlannerStub(channel)
        request = planner_pb2.PlanRequest(command=plan_pb2.Command(text=FETCH), scene=scene_to_proto(huge))
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.Plan(request, timeout=TIMEOUT))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "4194304" in caught.value.details()
    finally:
        channel.close()


def test_a_command_before_hello_ends_the_session_with_invalid_argument(client):
    session = client.session()
    session.command(FETCH)
    with pytest.raises(SessionClosed) as caught:
        session.receive(TIMEOUT)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_hello_without_a_robot_id_ends_the_session_with_invalid_argument(client, scene):
    session = client.session()
    session.hello("", scene)
    with pytest.raises(SessionClosed) as caught:
        session.receive(TIMEOUT)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_plan_request_without_text_is_invalid_argument(client, scene):
    with pytest.raises(grpc.RpcError) as caught:
        list(client.plan_events(Command(""), scene))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_server_with_a_token_refuses_calls_without_it_but_keeps_health_open(scene):
    running = serve(PlannerConfig(port=0, token="s3cret", insecure_loopback=True))
    try:
        with PlannerClient(running.address) as anonymous:
            assert anonymous.health() == "SERVING"
            with pytest.raises(grpc.RpcError) as caught:
                anonymous.plan(FETCH, scene)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with PlannerClient(running.address, token="s3cret") as trusted:
            assert len(trusted.plan(FETCH, scene).steps) == 5
    finally:
        running.stop(grace=0)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool to make a test certificate")
def test_a_tls_server_talks_only_to_clients_that_trust_its_certificate(tmp_path: Path, scene):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    running = serve(PlannerConfig(port=0, tls_cert=cert, tls_key=key))
    try:
        with PlannerClient(running.address, root_certificates=cert) as trusted:
            assert trusted.health() == "SERVING"
            assert len(trusted.plan(FETCH, scene).steps) == 5
        with PlannerClient(running.address, timeout_s=2.0) as plaintext:
            with pytest.raises(grpc.RpcError) as caught:
                plaintext.health()
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        running.stop(grace=0)


def test_a_plan_request_without_a_scene_needs_a_server_default_scene(client, scene):
    with pytest.raises(grpc.RpcError) as caught:
        list(client.plan_events(FETCH, None))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    running = serve(PlannerConfig(port=0, default_scene=scene))
    try:
        channel = grpc.insecure_channel(running.address)
        stub = planner_pb2_grpc.PlannerStub(channel)
        events = list(stub.Plan(planner_pb2.PlanRequest(command=plan_pb2.Command(text="go to the kitchen")),
                                timeout=TIMEOUT))
        assert [e.WhichOneof("event") for e in events] == ["header", "step"]
        channel.close()
    finally:
        running.stop(grace=0)
