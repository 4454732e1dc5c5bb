"""``reflexarc bench policy``: student inference latency, teacher cost, and the three policies side by side.

Measures (single-threaded):

* student inference microseconds p50/p99 over >= 10000 ``ReflexPolicy.act`` calls on observations
  recorded in the 2D world (``--quick``: 2000 calls), on the wall clock and on the thread's CPU clock
  (the second is immune to other processes taking the core; the 1-minute load average is recorded);
* the arbitrated teacher's and the DWA baseline's cost per decision, and the teacher's one-off map
  analysis per episode;
* the 2D world's raw speed (steps/s, episodes/min);
* unless ``--quick``: success / collision / SPL of student, teacher and baseline on held-out seeds in
  2D (and PyBullet when ``sim.nav_env`` is importable), plus success versus clutter density.

When ``--json FILE`` is given, the plot goes next to it as ``policy_bench.png``.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import time
from pathlib import Path

import numpy as np

from edge_agent.baseline import DWABaseline
from edge_agent.policy import ReflexPolicy
from edge_agent.training.evaluate import POLICIES, held_out_seeds, run_policy, summarise
from edge_agent.training.teachers import ArbitratedTeacher
from edge_agent.training.world2d import World2DConfig, World2DEnv

_LOG = logging.getLogger(__name__)

CLUTTER_LEVELS = (0, 2, 4, 6, 8)


def _percentiles_us(samples_ns: list[int]) -> dict:
    arr = np.asarray(samples_ns, dtype=np.float64) / 1000.0
    return {"p50": float(np.percentile(arr, 50)), "p99": float(np.percentile(arr, 99)),
            "max": float(arr.max()), "n": int(arr.size)}


def _recorded_states(seed: int, episodes: int) -> tuple[list[np.ndarray], list[World2DEnv]]:
    """Observations from teacher-driven episodes, for realistic inference inputs."""
    observations = []
    env = World2DEnv()
    teacher = ArbitratedTeacher()
    for s in held_out_seeds(seed, episodes):
        obs, _ = env.reset(seed=s)
        done = False
        while not done:
            observations.append(obs)
            obs, _r, term, trunc, _info = env.step(teacher.act(env.privileged()))
            done = term or trunc
    return observations, [env]


def measure_inference(policy: ReflexPolicy, observations: list[np.ndarray], calls: int,
                      clock=time.perf_counter_ns) -> dict:
    """Latency of single-observation ``act`` calls (warm), in microseconds, on ``clock``.

    Wall clock (``perf_counter_ns``) includes any time the OS gives the core to other processes;
    ``thread_time_ns`` counts only this thread's CPU time, i.e. the policy's own cost.
    """
    for obs in observations[:500]:
        policy.act(obs)
    samples = []
    n_obs = len(observations)
    for i in range(calls):
        obs = observations[i % n_obs]
        t0 = clock()
        policy.act(obs)
        samples.append(clock() - t0)
    return _percentiles_us(samples)


def measure_decision_costs(seed: int, decisions: int) -> dict:
    """Teacher and baseline cost per decision (ms), and the teacher's per-map setup cost."""
    env = World2DEnv()
    teacher_ns, baseline_ns, setup_ns = [], [], []
    baseline = DWABaseline()
    episode = 0
    while len(teacher_ns) < decisions:
        obs, _ = env.reset(seed=held_out_seeds(seed + 1, 1000)[episode])
        episode += 1
        teacher = ArbitratedTeacher()
        state = env.privileged()
        t0 = time.perf_counter_ns()
        teacher.global_teacher.navmap(state)
        setup_ns.append(time.perf_counter_ns() - t0)
        done = False
        while not done and len(teacher_ns) < decisions:
            state = env.privileged()
            t0 = time.perf_counter_ns()
            action = teacher.act(state)
            teacher_ns.append(time.perf_counter_ns() - t0)
            t0 = time.perf_counter_ns()
            baseline.act(obs)
            baseline_ns.append(time.perf_counter_ns() - t0)
            obs, _r, term, trunc, _ = env.step(action)
            done = term or trunc
    to_ms = lambda d: {k: (v / 1000.0 if k != "n" else v) for k, v in _percentiles_us(d).items()}  # noqa: E731
    return {"teacher_ms": to_ms(teacher_ns), "baseline_ms": to_ms(baseline_ns),
            "teacher_map_setup_ms": to_ms(setup_ns)}


def measure_world_speed(seed: int, steps: int) -> dict:
    """Raw 2D world throughput with a fixed command (no policy cost)."""
    env = World2DEnv()
    resets, t_reset, t_step, n_steps = 0, 0.0, 0.0, 0
    seeds = iter(held_out_seeds(seed + 2, 100000))
    while n_steps < steps:
        t0 = time.perf_counter()
        env.reset(seed=next(seeds))
        t_reset += time.perf_counter() - t0
        resets += 1
        done = False
        t0 = time.perf_counter()
        while not done and n_steps < steps:
            _o, _r, term, trunc, _ = env.step((0.3, 0.3))
            n_steps += 1
            done = term or trunc
        t_step += time.perf_counter() - t0
    step_ms = 1000.0 * t_step / n_steps
    reset_ms = 1000.0 * t_reset / resets
    typical_steps = 150
    return {"step_ms": step_ms, "reset_ms": reset_ms,
            "episodes_per_min_per_core_150_steps": 60000.0 / (reset_ms + typical_steps * step_ms)}


def _side_by_side(sim: str, seed: int, episodes: int, world_config=None) -> dict:
    rows = {}
    for policy in POLICIES:
        t0 = time.monotonic()
        results = run_policy(policy, sim, held_out_seeds(seed, episodes), world_config=world_config)
        rows[policy] = {**summarise(results), "episodes": episodes, "wall_s": round(time.monotonic() - t0, 1)}
    teacher_spl = rows["teacher"]["spl"]
    for row in rows.values():
        row["teacher_spl"] = teacher_spl
    return rows


def _plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sweep = result.get("clutter_sweep", {})
    for policy in POLICIES:
        xs = [row["clutter_per_room"] for row in sweep.get(policy, [])]
        ys = [row["success_rate"] for row in sweep.get(policy, [])]
        axes[0].plot(xs, ys, marker="o", label=policy)
    axes[0].set_xlabel("floor clutter items per room")
    axes[0].set_ylabel("success rate")
    axes[0].set_ylim(0, 1.05)
    axes[0].set_title("success vs clutter density (2D, held-out seeds)")
    axes[0].legend()
    table = result.get("eval_2d", {})
    names = [p for p in POLICIES if p in table]
    x = np.arange(len(names))
    for k, metric in enumerate(("success_rate", "spl", "collision_rate")):
        axes[1].bar(x + (k - 1) * 0.25, [table[p][metric] for p in names], width=0.25, label=metric)
    axes[1].set_xticks(x, names)
    axes[1].set_ylim(0, 1.05)
    axes[1].set_title("2D held-out evaluation (behind the shield)")
    axes[1].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def bench_policy(args: argparse.Namespace) -> dict:
    """Run the policy benchmark (see module docstring)."""
    quick = bool(getattr(args, "quick", False))
    seed = int(getattr(args, "seed", 0) or 0)
    policy = ReflexPolicy.load()
    observations, _ = _recorded_states(seed + 7, 2 if quick else 6)
    result: dict = {
        "model": str(policy.path),
        "model_bytes": policy.path.stat().st_size,
        "inference_us": measure_inference(policy, observations, 2000 if quick else 20000),
        "inference_cpu_us": measure_inference(policy, observations, 2000 if quick else 20000,
                                              clock=time.thread_time_ns),
        "load_average_1min": os.getloadavg()[0],
        **measure_decision_costs(seed, 200 if quick else 2000),
        "world2d": measure_world_speed(seed, 500 if quick else 5000),
        "quick": quick,
    }
    if not quick:
        episodes = 100
        result["eval_2d"] = _side_by_side("2d", seed, episodes)
        if importlib.util.find_spec("sim.nav_env") is not None:
            try:
                result["eval_pybullet"] = _side_by_side("pybullet", seed, 30)
            except Exception as exc:  # report, do not hide, a broken PyBullet env
                _LOG.warning("PyBullet evaluation failed: %s", exc)
                result["eval_pybullet"] = {"error": str(exc)}
        sweep: dict[str, list] = {p: [] for p in POLICIES}
        for level in CLUTTER_LEVELS:
            config = World2DConfig(clutter_per_room=(level, level))
            rows = _side_by_side("2d", seed + 100 + level, 20, world_config=config)
            for p in POLICIES:
                sweep[p].append({"clutter_per_room": level, **rows[p]})
        result["clutter_sweep"] = sweep
    json_path = getattr(args, "json", None)
    if json_path and not quick:
        plot_path = Path(json_path).parent / "policy_bench.png"
        _plot(result, plot_path)
        result["plot"] = str(plot_path)
    return result
