"""The executive's local step queue: revisions, duplicates, failures, cancel and resume (edge_agent.step_queue)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.step_queue import Cancel, PlanHeader, QueuedStep, Revise, StepQueue, StepStatus

PLAN = "plan-a"


def step(index: int, revision: int = 0, *, plan: str = PLAN, skill: str = "", robot: str = "robot1") -> QueuedStep:
    return QueuedStep(plan, revision, index, robot, skill or f"skill{index}", {"sent_rev": float(revision)})


def opened(total: int = 0, revision: int = 0, robot: str | None = None) -> StepQueue:
    queue = StepQueue(robot=robot)
    queue.accept_header(PlanHeader(PLAN, revision, total_steps=total, plan_digest="d0"))
    return queue


def run_next(queue: StepQueue, status: StepStatus = StepStatus.SUCCEEDED) -> QueuedStep | None:
    nxt = queue.next_step()
    if nxt is None:
        return None
    assert queue.mark_started(nxt)
    return queue.mark_done(status)


def test_steps_run_in_index_order_whatever_order_they_arrive_in():
    queue = opened(total=3)
    for i in (2, 0, 1):
        queue.accept_step(step(i))

    executed = [run_next(queue).index for _ in range(3)]

    assert executed == [0, 1, 2]
    assert queue.finished and queue.cursor == 3


def test_queue_waits_for_the_step_at_the_cursor_before_running_later_ones():
    queue = opened()
    queue.accept_step(step(1))

    assert queue.next_step() is None
    queue.accept_step(step(0))
    assert queue.next_step().index == 0


def test_nothing_new_is_handed_out_while_a_step_runs():
    queue = opened()
    queue.accept_step(step(0))
    queue.accept_step(step(1))
    queue.mark_started(queue.next_step())

    assert queue.next_step() is None
    assert queue.current.index == 0


def test_late_step_of_an_older_revision_is_dropped_after_revise():
    queue = opened()
    queue.accept_step(step(0))
    queue.accept_revise(Revise(PLAN, 2, from_index=1))

    assert not queue.accept_step(step(1, revision=1))
    assert [s.index for s in queue.queued] == [0]


def test_revise_drops_older_steps_from_its_index_and_carries_the_prefix_into_the_new_revision():
    queue = opened()
    for i in range(4):
        queue.accept_step(step(i))

    queue.accept_revise(Revise(PLAN, 1, from_index=2))

    assert [(s.index, s.revision) for s in queue.queued] == [(0, 1), (1, 1)]
    assert queue.accept_step(step(2, revision=1, skill="look_for"))
    assert [s.skill for s in queue.queued] == ["skill0", "skill1", "look_for"]


def test_a_finished_index_is_never_executed_again_even_when_resent():
    queue = opened()
    queue.accept_step(step(0))
    run_next(queue)

    assert not queue.accept_step(step(0))
    assert not queue.accept_step(step(0, revision=0, skill="other"))
    queue.accept_revise(Revise(PLAN, 1, from_index=0))
    assert not queue.accept_step(step(0, revision=1))
    assert queue.next_step() is None


def test_duplicate_steps_are_queued_once():
    queue = opened()

    assert queue.accept_step(step(0))
    assert not queue.accept_step(step(0))
    assert len(queue.queued) == 1


def test_steps_for_other_robots_or_plans_are_ignored():
    queue = opened(robot="robot1")

    assert not queue.accept_step(step(0, robot="vacuum1"))
    assert not queue.accept_step(step(0, plan="plan-b"))
    assert queue.queued == ()


def test_a_failure_holds_the_queue_until_a_revision_replaces_the_failed_step():
    queue = opened()
    queue.accept_step(step(0))
    queue.accept_step(step(1))
    run_next(queue, StepStatus.FAILED)

    assert queue.awaiting_revision
    assert queue.next_step() is None
    queue.accept_revise(Revise(PLAN, 1, from_index=0))
    queue.accept_step(step(0, revision=1, skill="look_for_elsewhere"))
    retry = run_next(queue)
    assert (retry.index, retry.revision, retry.skill) == (0, 1, "look_for_elsewhere")


def test_recovered_and_skipped_steps_move_the_cursor_like_successes():
    queue = opened()
    for i in range(3):
        queue.accept_step(step(i))

    run_next(queue, StepStatus.RECOVERED)
    run_next(queue, StepStatus.SKIPPED)

    assert queue.cursor == 2 and queue.completed == {0, 1}


def test_steps_of_a_revision_not_announced_yet_wait_for_their_revise():
    queue = opened()
    queue.accept_step(step(0, revision=1))

    assert queue.next_step() is None
    queue.accept_revise(Revise(PLAN, 1, from_index=0))
    assert queue.next_step() == step(0, revision=1)


def test_cancel_empties_the_queue_and_makes_late_steps_inert():
    queue = opened()
    queue.accept_step(step(0))
    queue.accept_step(step(1))

    assert queue.accept_cancel(Cancel(PLAN, "user said stop"))
    assert queue.queued == () and queue.plan_id is None
    assert not queue.accept_step(step(2))
    assert not queue.accept_header(PlanHeader(PLAN, 0))
    assert queue.next_step() is None and queue.resume_state() is None


def test_cancel_while_running_flags_the_running_step_and_its_result_is_not_recorded():
    queue = opened()
    queue.accept_step(step(0))
    queue.mark_started(queue.next_step())

    queue.accept_cancel(Cancel())

    assert queue.current_superseded
    assert queue.mark_done(StepStatus.SUCCEEDED).index == 0
    assert queue.completed == frozenset()


def test_revise_covering_the_running_step_flags_it_and_a_failure_then_does_not_block():
    queue = opened()
    queue.accept_step(step(0))
    queue.mark_started(queue.next_step())

    queue.accept_revise(Revise(PLAN, 1, from_index=0))
    assert queue.current_superseded
    queue.accept_step(step(0, revision=1, skill="replacement"))
    queue.mark_done(StepStatus.FAILED)

    assert not queue.awaiting_revision
    assert queue.next_step().skill == "replacement"


def test_a_new_plan_replaces_the_old_one_with_a_fresh_history():
    queue = opened()
    queue.accept_step(step(0))
    run_next(queue)

    queue.accept_header(PlanHeader("plan-b", 0))

    assert queue.plan_id == "plan-b" and queue.cursor == 0 and queue.queued == ()
    assert queue.accept_step(step(0, plan="plan-b"))


def test_stale_headers_and_revises_are_ignored():
    queue = opened(revision=2)

    assert not queue.accept_revise(Revise(PLAN, 2, from_index=0))
    assert not queue.accept_revise(Revise(PLAN, 1, from_index=0))
    assert not queue.accept_header(PlanHeader(PLAN, 1))
    assert queue.revision == 2


def test_resume_state_reports_plan_revision_cursor_and_completed_indices_across_a_reconnect():
    queue = opened(total=4)
    for i in range(4):
        queue.accept_step(step(i))
    run_next(queue)
    run_next(queue)
    queue.accept_revise(Revise(PLAN, 1, from_index=2, plan_digest="d1"))

    state = queue.resume_state()

    assert (state.plan_id, state.revision, state.cursor, state.completed) == (PLAN, 1, 2, (0, 1))
    assert (state.from_index, state.plan_digest) == (2, "d1")
    # The cloud re-opens the plan and resends from the start: nothing finished runs again.
    queue.accept_header(PlanHeader(PLAN, 1))
    for i in range(4):
        queue.accept_step(step(i, revision=1))
    assert [run_next(queue).index for _ in range(2)] == [2, 3]


def test_mark_started_refuses_a_step_that_is_no_longer_next():
    queue = opened()
    queue.accept_step(step(0))
    peeked = queue.next_step()

    queue.accept_revise(Revise(PLAN, 1, from_index=0))

    assert not queue.mark_started(peeked)
    assert queue.current is None


# ----------------------------------------------------------------------------- property tests
_revisions = st.integers(0, 3)
_indices = st.integers(0, 3)
_steps = st.tuples(st.just("step"), _revisions, _indices)
_starts = st.tuples(st.just("start"))
_finishes = st.tuples(st.just("finish"), st.sampled_from(list(StepStatus)))
_events = st.one_of(
    _steps,
    _steps,
    _starts,
    _finishes,
    st.tuples(st.just("header"), _revisions),
    st.tuples(st.just("foreign"), _revisions, _indices),
    st.tuples(st.just("revise"), _revisions, _indices),
    st.tuples(st.just("reconnect")),
    st.tuples(st.just("cancel")),
)


@settings(max_examples=1500, deadline=None)
@given(events=st.lists(_events, max_size=50))
def test_any_interleaving_executes_no_index_twice_and_no_stale_revision(events):
    queue = StepQueue(robot="robot1")
    queue.accept_header(PlanHeader(PLAN, 0))
    newest = 0
    replacements: list[tuple[int, int]] = []  # (revision, from_index) of every accepted revision change
    sent: list[QueuedStep] = []
    finished: set[int] = set()
    attempted: set[tuple[int, int]] = set()
    cancelled = False

    for event in events:
        kind = event[0]
        if kind == "header":
            if event[1] > newest and not cancelled:
                replacements.append((event[1], 0))
                newest = event[1]
            queue.accept_header(PlanHeader(PLAN, event[1]))
        elif kind == "step":
            sent.append(step(event[2], event[1]))
            queue.accept_step(sent[-1])
        elif kind == "foreign":
            queue.accept_step(step(event[2], event[1], plan="plan-b"))
            queue.accept_step(step(event[2], event[1], robot="dog1"))
        elif kind == "revise":
            if event[1] > newest and not cancelled:
                replacements.append((event[1], event[2]))
                newest = event[1]
            queue.accept_revise(Revise(PLAN, event[1], from_index=event[2]))
        elif kind == "start":
            nxt = queue.next_step()
            if nxt is None or not queue.mark_started(nxt):
                continue
            assert not cancelled, "nothing runs after a cancel"
            assert nxt.index not in finished, "an index ran again after it finished"
            assert (nxt.revision, nxt.index) not in attempted, "a step of one revision ran twice"
            assert nxt.revision == newest, "a step of a stale revision ran"
            assert nxt.index == min(set(range(5)) - finished), "steps run in index order"
            sent_rev = int(nxt.args["sent_rev"])
            assert sent_rev <= newest
            for revision, from_index in replacements:
                if revision > sent_rev:
                    assert nxt.index < from_index, "a step replaced by a newer revision ran"
            attempted.add((nxt.revision, nxt.index))
        elif kind == "finish":
            done = queue.mark_done(event[1])
            if done is not None and event[1].finishes and not cancelled:
                finished.add(done.index)
        elif kind == "reconnect":
            state = queue.resume_state()
            if state is not None:
                assert state.completed == tuple(sorted(finished))
                assert state.cursor == min(set(range(5)) - finished)
                queue.accept_header(PlanHeader(state.plan_id, state.revision))
                for resent in list(sent):
                    queue.accept_step(resent)
        elif kind == "cancel":
            queue.accept_cancel(Cancel(PLAN))
            cancelled = True
