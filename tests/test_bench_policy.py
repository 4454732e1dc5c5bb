"""``reflexarc bench policy``: the result shapes the report renders, the job split, the latency probe."""

from __future__ import annotations

import numpy as np

from edge_agent import observation as spec
from edge_agent.policy import ReflexPolicy
from edge_agent.training import bench_policy as bench
from edge_agent.training.evaluate import POLICIES, EpisodeResult, held_out_seeds


def _episodes(successes: list[bool]) -> list[EpisodeResult]:
    return [EpisodeResult(seed=i, success=ok, collision=False, path_length=5.0, shortest_path_length=4.0, time_s=12.0)
            for i, ok in enumerate(successes)]


def test_clutter_sweep_is_a_list_of_policy_clutter_success_rows():
    results = {f"clutter/{p}/{level}": _episodes([True, level < 4]) for p in POLICIES for level in bench.CLUTTER_LEVELS}
    rows = bench._clutter_rows(results)
    assert len(rows) == len(POLICIES) * len(bench.CLUTTER_LEVELS)
    assert all({"policy", "clutter", "success_rate", "episodes"} <= set(row) for row in rows)
    by_key = {(r["policy"], r["clutter"]): r["success_rate"] for r in rows}
    assert by_key[("student", 0)] == 1.0 and by_key[("student", 8)] == 0.5


def test_navigation_rows_state_episodes_and_the_spl_ratio_to_the_teacher():
    results = {"2d/student": _episodes([True, False]), "2d/teacher": _episodes([True, True]),
               "2d/baseline": _episodes([False])}
    rows = bench._navigation_rows(results, {key: 1.0 for key in results})
    student = next(r for r in rows if r["policy"] == "student")
    assert student["episodes"] == 2 and student["failed_seeds"] == [1]
    assert student["spl_ratio_to_teacher"] == 0.5
    assert [r["sim"] for r in rows] == ["2d"] * 3


def test_jobs_cover_every_evaluation_in_chunks_of_the_held_out_seeds():
    jobs = bench._jobs(seed=0, with_pybullet=True)
    groups: dict[str, list[int]] = {}
    for group, sim, _policy, seeds, _clutter in jobs:
        assert len(seeds) <= bench.CHUNK_EPISODES[sim]
        groups.setdefault(group, []).extend(seeds)
    for policy in POLICIES:
        assert sorted(groups[f"pybullet/{policy}"]) == held_out_seeds(0, bench.EVAL_PYBULLET_EPISODES[policy])
        assert sorted(groups[f"2d/{policy}"]) == held_out_seeds(0, bench.EVAL_2D_EPISODES[policy])
        for level in bench.CLUTTER_LEVELS:
            assert len(groups[f"clutter/{policy}/{level}"]) == bench.CLUTTER_EPISODES[policy]
    assert jobs[0][0] == "pybullet/student"
    assert not any(job[1] == "pybullet" for job in bench._jobs(seed=0, with_pybullet=False))


def test_inference_latency_is_measured_over_the_requested_number_of_calls():
    policy = ReflexPolicy.load()
    observations = [np.zeros(spec.OBS_DIM, dtype=np.float32), np.full(spec.OBS_DIM, 0.5, dtype=np.float32)]
    stats = bench.measure_inference(policy, observations, 300)
    assert stats["n"] == 300
    assert 0.0 < stats["p50"] <= stats["p99"] <= stats["max"]
