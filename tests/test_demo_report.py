"""The demo's verdicts and report, from hand-built ground truth in sim_node's /sim/ground_truth shape.

The end-to-end runs (test_scenarios.py) show the stack achieves the outcomes; these fast tests pin down
that the evaluator judges the world state correctly: a cup that is not near the person fails, a touched
toy fails, a device in the wrong state fails, and report.json carries exactly DESIGN.md's fields.
"""

from __future__ import annotations

import json

import pytest

from edge_agent.coverage import plan_coverage
from edge_agent.skills.navigation import planning_grid
from reflexarc.demo.report import (
    REPORT_FIELDS,
    build_report,
    decision_summary,
    latency_summary,
    summary_table,
    write_report,
)
from reflexarc.demo.scenarios import GroundTruthLog, get_scenario
from sim.home_layout import load_home_layout

DESIGN_FIELDS = ("scenario", "command", "transcript", "success", "task_time_s", "steps", "collisions",
                 "min_clearance_m", "reflex_latency_ms", "cloud_stall_ms_total", "cloud_stall_ms_mid_plan", "round_trips", "checks",
                 "reflex_decisions")


@pytest.fixture(scope="module")
def home():
    layout = load_home_layout()
    return layout.scene_graph(), layout.occupancy_grid()


def _truth(**overrides) -> dict:
    sample = {
        "time": 10.0,
        "robots": {"robot1": {"pose": [6.0, 4.1, 0.0], "docked": False},
                   "vacuum1": {"pose": [4.9, 0.45, 1.57], "docked": True},
                   "dog1": {"pose": [6.2, 0.6, 0.0], "docked": False}},
        "objects": {"cup_red": [1.7, 8.45, 0.95], "luggage": [14.35, 1.7, 0.83], "toy_duck": [7.0, 5.6, 0.05]},
        "people": {"user": [10.25, 8.25, -1.57]},
        "devices": {"light_entrance": "off", "light_living_room": "on", "thermostat": "20", "air_purifier": "off"},
        "collisions": [],
    }
    sample.update(overrides)
    return sample


def _log(*samples: dict) -> GroundTruthLog:
    log = GroundTruthLog()
    for sample in samples:
        log.add(sample)
    return log


def test_fetch_cup_passes_only_with_the_cup_next_to_the_person(home):
    scene, grid = home
    scenario = get_scenario("fetch-cup")
    near = scenario.evaluate(_log(_truth(objects={"cup_red": [10.2, 7.9, 0.05]})), scene, grid)
    far = scenario.evaluate(_log(_truth()), scene, grid)
    assert near["cup_near_person"].passed and near["no_collision"].passed
    assert not far["cup_near_person"].passed


def test_fetch_cup_fails_on_any_collision(home):
    scene, grid = home
    hit = {"time": 3.0, "robot": "robot1", "other": "sofa", "position": [7.5, 8.0, 0.1]}
    checks = get_scenario("fetch-cup").evaluate(
        _log(_truth(objects={"cup_red": [10.2, 7.9, 0.05]}, collisions=[hit])), scene, grid)
    assert not checks["no_collision"].passed


def test_arrive_home_needs_the_luggage_inside_and_every_device_set(home):
    scene, grid = home
    scenario = get_scenario("arrive-home")
    done = _truth(objects={"luggage": [8.0, 1.5, 0.12]},
                  devices={"light_entrance": "on", "light_living_room": "on", "thermostat": "22", "air_purifier": "on"})
    checks = scenario.evaluate(_log(done), scene, grid)
    assert all(check.passed for check in checks.values())
    cold = dict(done, devices=dict(done["devices"], thermostat="20"))
    assert not scenario.evaluate(_log(cold), scene, grid)["thermostat"].passed
    outside = scenario.evaluate(_log(_truth()), scene, grid)
    assert not outside["luggage_inside"].passed


def test_clean_living_room_judges_coverage_toys_and_dock(home):
    scene, grid = home
    room = scene.get("living_room")
    route = plan_coverage(planning_grid(grid, scene), room.polygon, 0.17, start_xy=(6.5, 5.0)).waypoints
    samples = [_truth(robots={"vacuum1": {"pose": [x, y, 0.0], "docked": False}}) for x, y in route]
    samples.append(_truth())
    checks = get_scenario("clean-living-room").evaluate(_log(*samples), scene, grid)
    assert checks["coverage"].passed and checks["toy_untouched"].passed and checks["docked"].passed
    half = samples[: len(samples) // 3] + [_truth()]
    assert not get_scenario("clean-living-room").evaluate(_log(*half), scene, grid)["coverage"].passed
    bump = {"time": 5.0, "robot": "vacuum1", "other": "toy_dropped", "position": [8.0, 5.0, 0.05]}
    touched = get_scenario("clean-living-room").evaluate(_log(*samples[:-1], _truth(collisions=[bump])), scene, grid)
    assert not touched["toy_untouched"].passed


def test_report_json_has_exactly_the_design_fields_and_the_checks(home, tmp_path):
    scene, grid = home
    checks = get_scenario("fetch-cup").evaluate(_log(_truth(objects={"cup_red": [10.2, 7.9, 0.05]})), scene, grid)
    report = build_report(
        scenario="fetch-cup", command="주방에 가서 빨간 컵 가져와", transcript=None, success=True, task_time_s=71.234,
        steps=[{"index": 0, "skill": "navigate_to", "status": "succeeded", "t_start": 1.0, "t_end": 20.0,
                "robot": "robot1"}],
        collisions=0, min_clearance_m=0.07, reflex_latency_ms=latency_summary([1.0, 2.0, 3.0]),
        cloud_stall_ms_total=12.34, round_trips=1, checks={k: c.to_dict() for k, c in checks.items()},
    )
    path = write_report(tmp_path / "report.json", report)
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert tuple(loaded) == DESIGN_FIELDS == REPORT_FIELDS
    assert loaded["command"] == "주방에 가서 빨간 컵 가져와"
    assert set(loaded["steps"][0]) == {"index", "skill", "status", "t_start", "t_end"}
    assert set(loaded["reflex_latency_ms"]) == {"p50", "p99", "max", "n"}
    assert loaded["checks"]["cup_near_person"]["passed"] is True
    assert "cup_near_person" in summary_table(loaded)


def test_latency_prefers_the_reflex_own_statistics():
    reported = {"robot1": {"n": 100, "p50_ms": 1.0, "p99_ms": 3.0, "max_ms": 5.0},
                "dog1": {"n": 300, "p50_ms": 2.0, "p99_ms": 4.0, "max_ms": 4.5}}
    summary = latency_summary([50.0] * 10, reported)
    assert summary == {"p50": 1.75, "p99": 4.0, "max": 5.0, "n": 400}


def test_decision_counts_are_reported_per_robot_and_robots_without_them_are_left_out():
    reported = {
        "vacuum1": {"n": 10, "p50_ms": 1.0, "p99_ms": 2.0, "max_ms": 3.0,
                    "decisions": {"tracking": 7, "policy": 2, "holding": 1}, "shield": {"clear": 8, "slowdown": 1}},
        "robot1": {"n": 5, "p50_ms": 1.0, "p99_ms": 2.0, "max_ms": 3.0},
    }
    summary = decision_summary(reported)
    assert summary == {"vacuum1": {"decisions": {"tracking": 7, "policy": 2, "holding": 1},
                                   "shield": {"clear": 8, "slowdown": 1}}}
