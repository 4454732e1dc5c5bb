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
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

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


# --- EdgeMessages from the descriptors ----------------------------------------------------------------

_INTS = {
    FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
}
_STRINGS = st.one_of(st.sampled_from(IDS), st.text(max_size=24), st.sampled_from(["", " ", "*", "on", "locked"]))


def _scalar(field: FieldDescriptor) -> st.SearchStrategy:
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=64 if field.type == FieldDescriptor.TYPE_DOUBLE
                         else 32)
    if field.type in _INTS:
        return _INTS[field.type]
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values]) | st.integers(-3, 50)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=16)
    return _STRINGS


def _field_value(field: FieldDescriptor, depth: int) -> st.SearchStrategy:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key = field.message_type.fields_by_name["key"]
        value = field.message_type.fields_by_name["value"]
        return st.dictionaries(_scalar(key), _field_value(value, depth), max_size=3)
    single = message_strategy(field.message_type, depth + 1) if field.message_type is not None else _scalar(field)
    return st.lists(single, max_size=3) if field.is_repeated else single


@st.composite
def _message(draw, descriptor: Descriptor, depth: int):
    message = _CLASSES[descriptor.full_name]()
    oneof_members = {f.name for o in descriptor.oneofs if not o.name.startswith("_") for f in o.fields}
    chosen_oneof = {o.name: draw(st.sampled_from([None, *[f.name for f in o.fields]]))
                    for o in descriptor.oneofs if not o.name.startswith("_")}
    for field in descriptor.fields:
        if field.name in oneof_members and field.name not in chosen_oneof.values():
            continue
        if field.message_type is not None and not field.message_type.GetOptions().map_entry and depth >= 4:
            continue
        if field.name not in oneof_members and not draw(st.booleans()):
            continue
        value = draw(_field_value(field, depth))
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            getattr(message, field.name).update(value)
        elif field.is_repeated:
            if field.message_type is not None:
                for item in value:
                    getattr(message, field.name).add().CopyFrom(item)
            else:
                getattr(message, field.name).extend(value)
        elif field.message_type is not None:
            getattr(message, field.name).CopyFrom(value)
        else:
            setattr(message, field.name, value)
    return message


def message_strategy(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy:
    """Arbitrary messages of ``descriptor``'s type, nested up to a few levels."""
    return _message(descriptor, depth)


def _message_classes() -> dict[str, type]:
    from google.protobuf import message_factory

    classes = {}
    for module in (planner_pb2, plan_pb2):
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            stack = [descriptor]
            while stack:
                d = stack.pop()
                classes[d.full_name] = message_factory.GetMessageClass(d)
                stack.extend(d.nested_types)
    from protos.reflexarc.v1 import scene_pb2

    for descriptor in scene_pb2.DESCRIPTOR.message_types_by_name.values():
        classes[descriptor.full_name] = message_factory.GetMessageClass(descriptor)
    return classes


_CLASSES = _message_classes()
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
