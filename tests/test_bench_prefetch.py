"""The prefetch benchmark: stall accounting, recorded step durations, and the quick replay grid.

The quick bench runs the real planner process behind the real netem proxy with the real CloudSession
and StepScheduler (fixture step durations, capped), at RTT 0 and 200 ms with lookahead 0 and the whole
plan: about 20 s on a loaded 2-core machine. Its assertions are orders of magnitude, not timings.
"""

from __future__ import annotations

import argparse

import pytest

from edge_agent.bench_prefetch import FIXTURE_PATH, StepDurations, bench_prefetch, step_cap_s
from edge_agent.stall_meter import StallMeter


# ------------------------------------------------------------------------------------ StallMeter
def test_stall_meter_charges_each_interval_to_the_state_at_its_start() -> None:
    meter = StallMeter()
    meter.update(10.0, True)
    meter.update(11.5, False)  # 1.5 s stalled
    meter.update(14.0, True)  # 2.5 s busy
    meter.update(14.25, True)  # 0.25 s stalled
    meter.update(15.0, False)  # 0.75 s stalled
    assert meter.total_s == pytest.approx(2.5)
    assert meter.total_ms == pytest.approx(2500.0)


def test_stall_meter_never_stalled_counts_nothing() -> None:
    meter = StallMeter()
    for t in (0.0, 1.0, 5.0):
        meter.update(t, False)
    assert meter.total_s == 0.0
    assert meter.episodes == 0


def test_stall_meter_counts_episodes_on_rising_edges_only() -> None:
    meter = StallMeter()
    for t, stalled in ((0.0, True), (1.0, True), (2.0, False), (3.0, True), (4.0, False)):
        meter.update(t, stalled)
    assert meter.episodes == 2
    assert not meter.stalled


def test_stall_meter_ignores_a_clock_that_goes_backwards() -> None:
    meter = StallMeter()
    meter.update(5.0, True)
    meter.update(4.0, True)
    meter.update(6.0, False)
    assert meter.total_s == pytest.approx(1.0)


# --------------------------------------------------------------------------------- step durations
def test_fixture_durations_are_the_recorded_fetch_cup_steps_in_wall_seconds() -> None:
    durations = StepDurations.from_fixture(FIXTURE_PATH)
    assert [durations.skill_by_index[i] for i in range(5)] == [
        "navigate_to", "look_for", "pick", "navigate_to", "handover"]
    assert durations.wall_s(2, "pick") == pytest.approx(durations.sim_s_by_index[2] / durations.speed)


def test_a_step_the_recording_lacks_takes_the_same_skills_recorded_time() -> None:
    durations = StepDurations({0: 10.0, 1: 2.0, 2: 30.0}, {0: "navigate_to", 1: "look_for", 2: "navigate_to"}, 2.0, "t")
    assert durations.wall_s(7, "look_for") == pytest.approx(1.0)
    assert durations.wall_s(1, "navigate_to") == pytest.approx(10.0)  # median of 10 and 30, halved
    assert durations.wall_s(9, "dock") == pytest.approx(5.0)  # median of every step, halved


def test_step_cap_outlasts_the_rows_rtt_by_half_a_second() -> None:
    assert step_cap_s(400) == pytest.approx(0.9)
    assert step_cap_s(0) == pytest.approx(0.5)


# ---------------------------------------------------------------------------------- quick bench
@pytest.fixture(scope="module")
def quick_result() -> dict:
    return bench_prefetch(argparse.Namespace(quick=True, rtts=None, lookaheads=None, seed=0))


def _row(result: dict, rtt_ms: int, lookahead: int) -> dict:
    (row,) = [r for r in result["rows"] if r["rtt_ms"] == rtt_ms and r["lookahead"] == lookahead]
    return row


def test_quick_bench_replays_the_whole_fetch_cup_plan_in_every_cell(quick_result: dict) -> None:
    assert {(r["rtt_ms"], r["lookahead"]) for r in quick_result["rows"]} == {(0, 0), (200, 0), (0, -1), (200, -1)}
    for row in quick_result["rows"]:
        assert row["mode"] == "replay"
        assert row["complete"], row["error"]
        assert row["skills"] == ["navigate_to", "look_for", "pick", "navigate_to", "handover"]
        assert row["replayed_step_time_s"] <= row["recorded_step_time_s"]
    assert quick_result["durations_source"].startswith("fixture")


def test_asking_per_step_costs_a_round_trip_per_step_and_the_whole_plan_one(quick_result: dict) -> None:
    assert _row(quick_result, 200, 0)["round_trips"] == 5
    assert _row(quick_result, 200, -1)["round_trips"] == 1


def test_stall_at_lookahead_0_grows_with_rtt(quick_result: dict) -> None:
    # Four mid-plan round trips of 200 ms: well over half a second more than on a zero-delay link.
    slow, fast = _row(quick_result, 200, 0), _row(quick_result, 0, 0)
    assert slow["stall_ms_mid_plan"] > fast["stall_ms_mid_plan"] + 500.0
    assert slow["stall_ms_total"] > fast["stall_ms_total"] + 500.0


def test_whole_plan_stall_at_200ms_is_far_below_lookahead_0(quick_result: dict) -> None:
    per_step, whole = _row(quick_result, 200, 0), _row(quick_result, 200, -1)
    assert whole["stall_ms_mid_plan"] < 0.1 * per_step["stall_ms_mid_plan"]
    assert whole["stall_ms_total"] < 0.5 * per_step["stall_ms_total"]
    assert quick_result["stall_reduction_at_200ms"]["replay"] > 0.5
