"""Streaming ahead: which steps go out when, as a pure window and through the session state machine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cloud_planner import wire
from cloud_planner.backend import create_backend
from cloud_planner.lookahead import LookaheadWindow
from cloud_planner.plan import Command, Fact, PlanCost, plan_digest
from cloud_planner.session import MalformedMessage, PlannerSession, SessionConfig
from protos.reflexarc.v1 import plan_pb2, planner_pb2
from reflexarc.scene_graph import SceneGraph
from sim.home_layout import load_home_layout

# --- the pure window ---------------------------------------------------------------------------------


def test_the_default_window_sends_the_whole_plan_at_once():
    assert LookaheadWindow().due(cursor=0, total=5, next_unsent=0) == range(0, 5)


def test_window_zero_sends_only_the_step_at_the_cursor():
    window = LookaheadWindow(0)
    assert list(window.due(0, 5, 0)) == [0]
    assert list(window.due(0, 5, 1)) == []
    assert list(window.due(1, 5, 1)) == [1]


def test_window_k_keeps_k_steps_queued_beyond_the_cursor():
    window = LookaheadWindow(2)
    assert list(window.due(0, 6, 0)) == [0, 1, 2]
    assert list(window.due(1, 6, 3)) == [3]
    assert list(window.due(3, 6, 4)) == [4, 5]


def test_the_window_never_passes_the_end_of_the_plan():
    assert LookaheadWindow(10).due(2, 4, 0) == range(2, 4)
    assert LookaheadWindow(1).limit(cursor=9, total=4) == 4


def test_steps_before_the_cursor_are_never_sent_again():
    assert list(LookaheadWindow(1).due(cursor=3, total=6, next_unsent=0)) == [3, 4]


@pytest.mark.parametrize(("value", "size"), [(None, None), (-1, None), (0, 0), (3, 3)])
def test_wire_values_map_to_windows(value, size):
    assert LookaheadWindow.from_wire(value).size == size


# --- through the session -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scene() -> SceneGraph:
    return load_home_layout().scene_graph()


@pytest.fixture(scope="module")
def backend():
    return create_backend("embedded")


def edge(**kwargs) -> planner_pb2.EdgeMessage:
    return planner_pb2.EdgeMessage(**kwargs)


def hello(scene: SceneGraph, lookahead: int | None = None) -> planner_pb2.EdgeMessage:
    msg = planner_pb2.Hello(robot_id="edge1", kind="home", scene=wire.scene_to_proto(scene))
    if lookahead is not None:
        msg.lookahead = lookahead
    return edge(hello=msg)


def command(text: str) -> planner_pb2.EdgeMessage:
    return edge(command=wire.command_to_proto(Command(text)))


def progress(plan_id: str, index: int, status: int = planner_pb2.STEP_STATUS_SUCCEEDED, revision: int = 0,
             **kwargs) -> planner_pb2.EdgeMessage:
    return edge(progress=planner_pb2.Progress(plan_id=plan_id, revision=revision, index=index, status=status,
                                              **kwargs))


def kinds(messages) -> list[str]:
    return [m.WhichOneof("message") for m in messages]


def steps(messages) -> list[tuple[int, int]]:
    return [(m.step.revision, m.step.index) for m in messages if m.WhichOneof("message") == "step"]


def test_a_session_sends_the_header_then_every_step_in_order(backend, scene):
    session = PlannerSession(backend)
    assert kinds(session.handle(hello(scene))) == ["ack"]
    out = list(session.handle(command("bring me the red cup from the kitchen")))
    assert kinds(out) == ["header", "step", "step", "step", "step", "step"]
    assert out[0].header.total_steps == 5 and steps(out) == [(0, i) for i in range(5)]


def test_with_lookahead_one_each_finished_step_releases_the_next(backend, scene):
    session = PlannerSession(backend, SessionConfig(lookahead=1))
    list(session.handle(hello(scene)))
    out = list(session.handle(command("bring me the red cup")))
    plan_id = out[0].header.plan_id
    assert steps(out) == [(0, 0), (0, 1)]
    assert steps(session.handle(progress(plan_id, 0))) == [(0, 2)]
    assert steps(session.handle(progress(plan_id, 1, planner_pb2.STEP_STATUS_STARTED))) == []
    assert steps(session.handle(progress(plan_id, 1))) == [(0, 3)]


def test_hello_can_ask_for_one_step_at_a_time(backend, scene):
    session = PlannerSession(backend)
    list(session.handle(hello(scene, lookahead=0)))
    out = list(session.handle(command("clean the living room")))
    plan_id = out[0].header.plan_id
    assert steps(out) == [(0, 0)]
    assert steps(session.handle(progress(plan_id, 0))) == [(0, 1)]
    assert steps(session.handle(progress(plan_id, 1))) == [(0, 2)]
    done = list(session.handle(progress(plan_id, 2)))
    assert kinds(done) == ["ack"] and done[0].ack.kind == planner_pb2.ACK_KIND_PLAN_COMPLETE


def test_a_failure_revises_the_plan_from_the_failed_step(backend, scene):
    session = PlannerSession(backend, SessionConfig(lookahead=1))
    list(session.handle(hello(scene)))
    plan_id = next(iter(session.handle(command("bring me the red cup")))).header.plan_id
    list(session.handle(progress(plan_id, 0)))
    out = list(session.handle(progress(
        plan_id, 1, planner_pb2.STEP_STATUS_FAILED, observation="no red cup on the counter",
        facts=wire.facts_to_proto([Fact("cup_red", "not_found_on", "kitchen_counter")]),
    )))
    assert kinds(out) == ["revise", "step", "step"]
    revise = out[0].revise
    assert (revise.revision, revise.from_index) == (1, 1)
    assert steps(out) == [(1, 1), (1, 2)]
    assert out[1].step.args["target"].entity == "dining_table"
    assert "no red cup on the counter" in revise.reason


def test_progress_of_an_older_revision_is_ignored(backend, scene):
    session = PlannerSession(backend)
    list(session.handle(hello(scene)))
    plan_id = next(iter(session.handle(command("bring me the red cup")))).header.plan_id
    list(session.handle(progress(plan_id, 0, planner_pb2.STEP_STATUS_FAILED)))
    assert list(session.handle(progress(plan_id, 1, revision=0))) == []


def test_a_command_before_hello_is_malformed(backend):
    session = PlannerSession(backend)
    with pytest.raises(MalformedMessage):
        list(session.handle(command("bring me the red cup")))


class _StreamingBackend:
    """Yields like an LLM backend: header with an unknown size, steps one by one, then the cost."""

    name = "streaming"

    def __init__(self, inner, break_at: int | None = None) -> None:
        self.inner = inner
        self.break_at = break_at

    def plan(self, command, scene, *, facts=()):
        events = list(self.inner.plan(command, scene, facts=facts))
        header, steps = events[0], events[1:]
        yield replace(header, total_steps=0, backend=self.name)
        for step in steps:
            if step.index == self.break_at:
                yield replace(step, skill="teleport")
                return
            yield step
        yield PlanCost(tokens_in=812, tokens_out=96, usd=0.0001)


def test_a_streaming_backend_s_steps_go_out_as_they_come_and_a_trailer_closes_the_plan(backend, scene):
    session = PlannerSession(_StreamingBackend(backend))
    list(session.handle(hello(scene)))
    out = list(session.handle(command("bring me the red cup")))
    assert kinds(out) == ["header"] + ["step"] * 5 + ["trailer"]
    assert out[0].header.total_steps == 0 and out[0].header.backend == "streaming"
    trailer = out[-1].trailer
    sent = [wire.step_from_proto(m.step) for m in out[1:-1]]
    assert (trailer.total_steps, trailer.plan_digest) == (5, plan_digest(sent))
    assert (trailer.cost.tokens_in, trailer.cost.tokens_out) == (812, 96)


def test_a_streamed_plan_that_turns_invalid_is_rejected_and_cancelled_after_the_valid_steps(backend, scene):
    session = PlannerSession(_StreamingBackend(backend, break_at=2))
    list(session.handle(hello(scene)))
    out = list(session.handle(command("bring me the red cup")))
    assert kinds(out) == ["header", "step", "step", "reject", "say", "cancel"]
    assert out[3].reject.code == plan_pb2.REJECT_CODE_UNSUPPORTED_ACTION
    assert out[5].cancel.plan_id == out[0].header.plan_id
