"""A reduced fleet load run: 50 robot sessions for 5 s on one planner process, with zero errors.

The full figures (10, 100 and 1000 sessions, 60 s soak) come from ``reflexarc bench fleet``; this
test checks the same machinery end to end — a real planner subprocess, real gRPC streams doing
Command/Progress/Heartbeat cycles — and that nothing fails, not how fast it is.
"""

from __future__ import annotations

from cloud_planner.bench_fleet import run_fleet


def test_fifty_sessions_for_five_seconds_run_plan_cycles_with_zero_errors():
    result = run_fleet(sessions=(50,), soak_s=5.0, step_s=0.5)
    (row,) = result["rows"]
    assert result["errors"] == 0, row["error_kinds"]
    assert row["sessions"] == 50 and row["plans"] >= 50  # every edge finished at least one plan
    assert row["directives"] > row["plans"]  # first steps and progress answers were all measured
    assert row["heartbeats"] == row["plans"]
    assert 0 < row["rss_idle_mb"] <= row["rss_mb"]
