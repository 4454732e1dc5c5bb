"""Property-based fuzzing (hypothesis) of the command parser and of the Edge/Cloud session protocol.

- Any text (Korean, mixed scripts, control characters, fragments of real commands) planned by the
  embedded backend gives a PlanRejected or a plan the validator accepts; nothing else escapes.
- Any sequence of EdgeMessages, built field by field from the proto descriptors (NaN, huge numbers,
  unknown enum values, dangling ids, empty oneofs...), sent to a real server's Session gets only
  well-formed CloudMessages and then either a clean end or INVALID_ARGUMENT — never UNKNOWN/INTERNAL
  (an exception in the server) — and the server stays healthy for another robot afterwards.

Example counts are bounded so the file runs in well under a minute on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from proto_strategies import message_strategy

from cloud_planner.backend import create_backend, plan_command
from cloud_planner.client import PlannerClient
from cloud_planner.errors import PlanRejected
from cloud_planner.plan import Command
from cloud_planner.server import PlannerConfig, PlannerServer, serve
from cloud_planner.validator import validate_plan
from cloud_planner.wire import scene_to_proto
from protos.reflexarc.v1 import plan_pb2, planner_pb2, planner_pb2_grpc
from reflexarc.skills import SKILLS
from sim.home_layout import load_home_layout

TIMEOUT = 10.0
SCENE = load_home_layout().scene_graph()
IDS = sorted(SCENE.entity_ids)
WORDS = [
    "bring", "me", "the", "red", "cup", "from", "kitchen", "clean", "living", "room", "turn", "on", "off", "light",
    "lock", "unlock", "front", "door", "put", "on", "table", "go", "to", "stop", "and", "then", "wait", "5",
    "seconds", "say", "hello", "dock", "carry", "luggage", "주방에", "가서", "빨간", "컵", "가져와", "거실", "청소해",
    "불", "켜", "꺼", "문", "잠가", "그리고", "멈춰", "please", "not", "all", "every", "twice", "-3", "1e309",
    *IDS,
]
TEXT = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3) | st.sampled_from(" ,.?!"),
            max_size=40),
    st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=14).map(" ".join),
)


@pytest.fixture(scope="module")
def backend():
    return create_backend("embedded")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_any_text_is_a_rejection_or_a_plan_the_validator_accepts(backend, text):
    try:
        plan = plan_command(backend, Command(text), SCENE)
    except PlanRejected as exc:
        assert exc.code is not None and exc.message
        return
    validate_plan(plan, SCENE)
    assert all(step.skill in SKILLS for step in plan.steps)


_VALID_HELLO = planner_pb2.EdgeMessage(hello=planner_pb2.Hello(robot_id="fuzz", scene=scene_to_proto(SCENE)))
_VALID_COMMAND = planner_pb2.EdgeMessage(command=plan_pb2.Command(text="bring me the red cup from the kitchen"))
EDGE_SEQUENCES = st.tuples(
    st.sampled_from([(), (_VALID_HELLO,), (_VALID_HELLO, _VALID_COMMAND)]),
    st.lists(message_strategy(planner_pb2.EdgeMessage.DESCRIPTOR), min_size=1, max_size=4),
).map(lambda parts: [*parts[0], *parts[1]])


@pytest.fixture(scope="module")
def server() -> Iterator[PlannerServer]:
    running = serve(PlannerConfig(port=0, server_id="fuzz", lookahead=1))
    yield running
    running.stop(grace=0)


@pytest.fixture(scope="module")
def stub(server) -> Iterator[planner_pb2_grpc.PlannerStub]:
    channel = grpc.insecure_channel(server.address)
    yield planner_pb2_grpc.PlannerStub(channel)
    channel.close()


def assert_well_formed(message: planner_pb2.CloudMessage) -> None:
    kind = message.WhichOneof("message")
    assert kind is not None
    if kind == "step":
        assert message.step.skill in SKILLS and message.step.plan_id
    elif kind == "reject":
        assert message.reject.code != plan_pb2.REJECT_CODE_UNSPECIFIED and message.reject.message
    elif kind == "header":
        assert message.header.plan_id


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(messages=EDGE_SEQUENCES)
def test_any_edge_messages_get_well_formed_answers_or_a_clean_status(stub, messages):
    kinds = set()
    try:
        for reply in stub.Session(iter(messages), timeout=TIMEOUT):
            assert_well_formed(reply)
            kinds.add(reply.WhichOneof("message"))
        event("session ended cleanly")
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, (exc.code(), exc.details())
        assert exc.details()
        event(f"INVALID_ARGUMENT: {exc.details().split(' ')[0]}")
    for kind in kinds:
        event(f"answered with {kind}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(request=message_strategy(planner_pb2.PlanRequest.DESCRIPTOR))
def test_any_plan_request_gets_a_plan_a_reject_or_invalid_argument(stub, request):
    try:
        for event in stub.Plan(request, timeout=TIMEOUT):
            assert event.WhichOneof("event") is not None
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, (exc.code(), exc.details())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(frames=st.lists(st.binary(max_size=64) | message_strategy(planner_pb2.EdgeMessage.DESCRIPTOR).map(
    lambda m: m.SerializeToString() + b"\x0a\x02\xff\xfe"), min_size=1, max_size=3))
def test_any_bytes_on_a_session_get_well_formed_answers_or_invalid_argument(server, frames):
    channel = grpc.insecure_channel(server.address)
    try:
        raw = channel.stream_stream("/reflexarc.v1.Planner/Session", request_serializer=None,
                                    response_deserializer=planner_pb2.CloudMessage.FromString)
        for reply in raw(iter(frames), timeout=TIMEOUT):
            assert_well_formed(reply)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, (exc.code(), exc.details())
    finally:
        channel.close()


def test_the_server_is_healthy_and_plans_after_the_fuzzing(server):
    with PlannerClient(server.address, timeout_s=TIMEOUT) as client:
        assert client.health() == "SERVING"
        assert len(client.plan("bring me the red cup from the kitchen", SCENE).steps) == 5
        assert server.active_sessions == 0
