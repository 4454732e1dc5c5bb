"""``reflexarc bench policy``: student inference latency, teacher cost, and the three policies side by side.

Measures, in this order:

* student inference microseconds p50/p99 over ``INFERENCE_CALLS`` (>= 10000; ``--quick``: 2000)
  single-observation ``ReflexPolicy.act`` calls on observations recorded in the 2D world, on the wall
  clock and on the thread's CPU clock (the second is immune to other processes taking the core; the
  1-minute load average is recorded beside it);
* the arbitrated teacher's and the DWA baseline's cost per decision, and the teacher's one-off map
  analysis per episode;
* the 2D world's raw speed (steps/s, episodes/min);
* unless ``--quick``: success / collision / SPL of student, teacher and baseline on held-out seeds in
  2D and in the PyBullet home (``sim.nav_env``, local goal from the stack's A* route and waypoint
  follower), and success versus floor clutter density in 2D.

The timing parts run first, alone in this process; the evaluations then run as seed chunks on a pool
of ``workers`` processes (default 2, one per core of the target machine). Episode counts are per
policy and recorded with every row (``episodes``): the DWA baseline costs about ten times the student
per decision and is evaluated on fewer seeds (always a prefix of the same held-out seed list).

Result shapes (rendered by ``reflexarc.bench_report``): flat scalars at the top level, ``navigation``
as rows ``{"sim", "policy", "episodes", "success_rate", "collision_rate", "spl", "teacher_spl",
"spl_ratio_to_teacher", "mean_time_s"}`` and ``clutter_sweep`` as rows ``{"policy", "clutter",
"episodes", "success_rate", "collision_rate", "spl"}``. With ``--json FILE`` the plot goes next to it
as ``policy_bench.png``.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from edge_agent.baseline import DWABaseline
from edge_agent.policy import ReflexPolicy
from edge_agent.training.evaluate import (
    EVALUATION_LOCAL_GOAL,
    POLICIES,
    EpisodeResult,
    held_out_seeds,
    run_policy,
    summarise,
)
from edge_agent.training.teachers import ArbitratedTeacher
from edge_agent.training.world2d import World2DConfig, World2DEnv

_LOG = logging.getLogger(__name__)

INFERENCE_CALLS = 10_000
DECISIONS = 1000
WORLD_STEPS = 3000
CLUTTER_LEVELS = (0, 2, 4, 6, 8)
EVAL_2D_EPISODES = {"student": 100, "teacher": 100, "baseline": 40}
EVAL_PYBULLET_EPISODES = {"student": 50, "teacher": 50, "baseline": 20}
CLUTTER_EPISODES = {"student": 20, "teacher": 20, "baseline": 10}
CHUNK_EPISODES = {"2d": 20, "pybullet": 5}
"""Seeds per pool job: small enough to balance the workers, large enough to amortise env start-up."""


def _percentiles_us(samples_ns: list[int]) -> dict:
    arr = np.asarray(samples_ns, dtype=np.float64) / 1000.0
    return {"p50": float(np.percentile(arr, 50)), "p99": float(np.percentile(arr, 99)),
            "max": float(arr.max()), "n": int(arr.size)}


def _recorded_states(seed: int, episodes: int) -> list[np.ndarray]:
    """Observations from teacher-driven 2D episodes, for realistic inference inputs."""
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
    return observations


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
    """Teacher and baseline cost per decision (ms, thread CPU time), and the teacher's per-map setup cost."""
    env = World2DEnv()
    teacher_ns, baseline_ns, setup_ns = [], [], []
    baseline = DWABaseline()
    clock = time.thread_time_ns
    episode = 0
    while len(teacher_ns) < decisions:
        obs, _ = env.reset(seed=held_out_seeds(seed + 1, 1000)[episode])
        episode += 1
        teacher = ArbitratedTeacher()
        state = env.privileged()
        t0 = clock()
        teacher.global_teacher.navmap(state)
        setup_ns.append(clock() - t0)
        done = False
        while not done and len(teacher_ns) < decisions:
            state = env.privileged()
            t0 = clock()
            action = teacher.act(state)
            teacher_ns.append(clock() - t0)
            t0 = clock()
            baseline.act(obs)
            baseline_ns.append(clock() - t0)
            obs, _r, term, trunc, _ = env.step(action)
            done = term or trunc

    def to_ms(samples: list[int]) -> dict:
        return {k: (v / 1000.0 if k != "n" else v) for k, v in _percentiles_us(samples).items()}

    return {"teacher_ms": to_ms(teacher_ns), "baseline_ms": to_ms(baseline_ns),
            "teacher_map_setup_ms": to_ms(setup_ns)}


def measure_world_speed(seed: int, steps: int) -> dict:
    """Raw 2D world throughput with a fixed command (no policy cost), on the thread's CPU clock."""
    env = World2DEnv()
    resets, t_reset, t_step, n_steps = 0, 0.0, 0.0, 0
    seeds = iter(held_out_seeds(seed + 2, 100000))
    while n_steps < steps:
        t0 = time.thread_time()
        env.reset(seed=next(seeds))
        t_reset += time.thread_time() - t0
        resets += 1
        done = False
        t0 = time.thread_time()
        while not done and n_steps < steps:
            _o, _r, term, trunc, _ = env.step((0.3, 0.3))
            n_steps += 1
            done = term or trunc
        t_step += time.thread_time() - t0
    step_ms = 1000.0 * t_step / n_steps
    reset_ms = 1000.0 * t_reset / resets
    typical_steps = 150
    return {"step_ms": step_ms, "reset_ms": reset_ms,
            "episodes_per_min_per_core_150_steps": 60000.0 / (reset_ms + typical_steps * step_ms)}


# ------------------------------------------------------------------------------------ evaluations
def _run_chunk(sim: str, policy: str, seeds: list[int], clutter: int | None) -> tuple[list[EpisodeResult], float]:
    """One pool job: ``policy`` on ``seeds`` (2D clutter fixed at ``clutter`` per room when given)."""
    config = World2DConfig(clutter_per_room=(clutter, clutter), local_goal=EVALUATION_LOCAL_GOAL) if clutter is not None else None
    t0 = time.process_time()
    results = run_policy(policy, sim, seeds, world_config=config)
    return results, time.process_time() - t0


def _worker_init() -> None:
    """Send a worker's stdout to stderr: PyBullet's C banner must not mix into the JSON on stdout."""
    os.dup2(2, 1)


def _jobs(seed: int, with_pybullet: bool) -> list[tuple[str, str, str, list[int], int | None]]:
    """(group key, sim, policy, seeds, clutter) jobs: PyBullet first (the headline), then the costliest first."""
    jobs = []

    def add(group: str, sim: str, policy: str, seeds: list[int], clutter: int | None) -> None:
        size = CHUNK_EPISODES[sim]
        jobs.extend((group, sim, policy, seeds[i:i + size], clutter) for i in range(0, len(seeds), size))

    for policy in POLICIES:
        if with_pybullet:
            add(f"pybullet/{policy}", "pybullet", policy, held_out_seeds(seed, EVAL_PYBULLET_EPISODES[policy]), None)
        add(f"2d/{policy}", "2d", policy, held_out_seeds(seed, EVAL_2D_EPISODES[policy]), None)
        for level in CLUTTER_LEVELS:
            add(f"clutter/{policy}/{level}", "2d", policy,
                held_out_seeds(seed + 100 + level, CLUTTER_EPISODES[policy]), level)
    cost = {"pybullet": 10.0, "2d": 1.0}
    weight = {"baseline": 10.0, "teacher": 1.5, "student": 1.0}
    jobs.sort(key=lambda j: (j[1] != "pybullet", POLICIES.index(j[2]) if j[1] == "pybullet" else 0,
                             -cost[j[1]] * weight[j[2]] * len(j[3])))
    return jobs


def run_evaluations(seed: int, workers: int, *, with_pybullet: bool = True) -> tuple[dict[str, list[EpisodeResult]], dict[str, float]]:
    """Every evaluation of the benchmark on a process pool; results and CPU seconds per group."""
    jobs = _jobs(seed, with_pybullet)
    results: dict[str, list[EpisodeResult]] = {}
    cpu: dict[str, float] = {}
    context = multiprocessing.get_context("spawn")  # no PyBullet or onnxruntime state shared by fork
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init) as pool:
        futures = [(job[0], pool.submit(_run_chunk, *job[1:])) for job in jobs]
        for group, future in futures:
            chunk, seconds = future.result()
            results.setdefault(group, []).extend(chunk)
            cpu[group] = cpu.get(group, 0.0) + seconds
            _LOG.info("%s: %d episodes so far, %s", group, len(results[group]), summarise(results[group]))
    for group in results:
        results[group].sort(key=lambda r: r.seed)
    return results, cpu


def _navigation_rows(results: dict[str, list[EpisodeResult]], cpu: dict[str, float]) -> list[dict]:
    rows = []
    for sim in ("2d", "pybullet"):
        if f"{sim}/teacher" not in results:
            continue
        teacher_spl = summarise(results[f"{sim}/teacher"])["spl"]
        for policy in POLICIES:
            episodes = results[f"{sim}/{policy}"]
            summary = summarise(episodes)
            rows.append({
                "sim": sim, "policy": policy, "episodes": len(episodes), **summary,
                "teacher_spl": teacher_spl,
                "spl_ratio_to_teacher": summary["spl"] / teacher_spl if teacher_spl > 0 else float("nan"),
                "cpu_s": round(cpu[f"{sim}/{policy}"], 1),
                "failed_seeds": [r.seed for r in episodes if not r.success],
            })
    return rows


def _clutter_rows(results: dict[str, list[EpisodeResult]]) -> list[dict]:
    rows = []
    for policy in POLICIES:
        for level in CLUTTER_LEVELS:
            episodes = results[f"clutter/{policy}/{level}"]
            summary = summarise(episodes)
            rows.append({"policy": policy, "clutter": level, "episodes": len(episodes),
                         "success_rate": summary["success_rate"], "collision_rate": summary["collision_rate"],
                         "spl": summary["spl"]})
    return rows


def _plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sweep = result.get("clutter_sweep", [])
    for policy in POLICIES:
        rows = sorted((r for r in sweep if r["policy"] == policy), key=lambda r: r["clutter"])
        axes[0].plot([r["clutter"] for r in rows], [r["success_rate"] for r in rows], marker="o", label=policy)
    axes[0].set_xlabel("floor clutter items per room")
    axes[0].set_ylabel("success rate")
    axes[0].set_ylim(0, 1.05)
    axes[0].set_title("success vs clutter density (2D, held-out seeds)")
    axes[0].legend()
    rows = result.get("navigation", [])
    labels = [f"{r['sim']}\n{r['policy']}" for r in rows]
    x = np.arange(len(rows))
    for k, metric in enumerate(("success_rate", "spl", "collision_rate")):
        axes[1].bar(x + (k - 1) * 0.25, [r[metric] for r in rows], width=0.25, label=metric)
    axes[1].set_xticks(x, labels, fontsize=8)
    axes[1].set_ylim(0, 1.2)
    axes[1].set_title("held-out evaluation (behind the shield)")
    axes[1].legend(loc="upper center", ncol=3, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _flat_figures(result: dict) -> dict:
    """The headline numbers as top-level scalars (the report renders those as one table row)."""
    flat = {
        "inference_p50_us": result["inference_us"]["p50"],
        "inference_p99_us": result["inference_us"]["p99"],
        "inference_cpu_p50_us": result["inference_cpu_us"]["p50"],
        "inference_cpu_p99_us": result["inference_cpu_us"]["p99"],
        "inference_calls": result["inference_us"]["n"],
        "teacher_ms_p50": result["teacher_ms"]["p50"],
        "baseline_ms_p50": result["baseline_ms"]["p50"],
    }
    for row in result.get("navigation", []):
        if row["policy"] == "student":
            flat[f"{row['sim']}_student_success"] = row["success_rate"]
            flat[f"{row['sim']}_student_spl_ratio"] = row["spl_ratio_to_teacher"]
    return flat


def bench_policy(args: argparse.Namespace) -> dict:
    """Run the policy benchmark (see module docstring)."""
    quick = bool(getattr(args, "quick", False))
    seed = int(getattr(args, "seed", 0) or 0)
    workers = int(getattr(args, "workers", 0) or min(2, os.cpu_count() or 1))
    t_start = time.monotonic()
    policy = ReflexPolicy.load()
    observations = _recorded_states(seed + 7, 2 if quick else 4)
    calls = 2000 if quick else INFERENCE_CALLS
    result: dict = {
        "model": str(policy.path),
        "model_bytes": policy.path.stat().st_size,
        "inference_us": measure_inference(policy, observations, calls),
        "inference_cpu_us": measure_inference(policy, observations, calls, clock=time.thread_time_ns),
        "load_average_1min": os.getloadavg()[0],
        **measure_decision_costs(seed, 200 if quick else DECISIONS),
        "world2d": measure_world_speed(seed, 500 if quick else WORLD_STEPS),
        "quick": quick,
        "workers": workers,
    }
    if not quick:
        with_pybullet = importlib.util.find_spec("sim.nav_env") is not None
        results, cpu = run_evaluations(seed, workers, with_pybullet=with_pybullet)
        result["navigation"] = _navigation_rows(results, cpu)
        result["clutter_sweep"] = _clutter_rows(results)
        result["evaluation_cpu_s"] = round(sum(cpu.values()), 1)
    result.update(_flat_figures(result))
    result["bench_wall_s"] = round(time.monotonic() - t_start, 1)
    json_path = getattr(args, "json", None)
    if json_path and not quick:
        plot_path = Path(json_path).parent / "policy_bench.png"
        _plot(result, plot_path)
        result["plot"] = str(plot_path)
    return result
