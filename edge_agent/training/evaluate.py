"""Navigation evaluation of the student, the teacher and the baseline on held-out seeds (no torch).

Metrics follow Anderson et al. 2018, "On Evaluation of Embodied Navigation Agents":

* success: the robot is within 0.2 m of the goal before the time limit, with no collision;
* SPL = (1/N) sum_i S_i * l_i / max(p_i, l_i), with l_i the shortest path length (any-angle path for
  the robot's centre on the full map) and p_i the length the robot actually drove;
* collision rate: episodes that ended in contact with anything, the person included.

Every policy runs behind the :class:`SafetyShield`, as deployed (``shield=False`` measures the bare
policy). Evaluation seeds start at ``HELD_OUT_SEED_BASE`` = 2**32; training never draws a seed there.

The local goal in the observation is the one the deployed stack hands the reflex
(``EVALUATION_LOCAL_GOAL = "route"``, in both worlds): the waypoint follower's current waypoint on
an A* route over the robot's map (``edge_agent.training.nav_episode.StackLocalGoal``). Figures before
2026-11 were measured with the next doorway, then the final goal (``local_goal="doorways"``, which the
2D world still uses for training); the episodes themselves (seeds, starts, goals, limits) are unchanged.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edge_agent.shield import SafetyShield

_LOG = logging.getLogger(__name__)

HELD_OUT_SEED_BASE = 2**32
EVALUATION_LOCAL_GOAL = "route"
POLICIES = ("student", "teacher", "baseline")
SIMS = ("2d", "pybullet")


@dataclass(frozen=True)
class EpisodeResult:
    """Outcome of one episode."""

    seed: int
    success: bool
    collision: bool
    path_length: float
    shortest_path_length: float
    time_s: float

    @property
    def spl(self) -> float:
        """This episode's success weighted by (normalised inverse) path length."""
        if not self.success:
            return 0.0
        return self.shortest_path_length / max(self.path_length, self.shortest_path_length, 1e-9)


def held_out_seeds(seed: int, episodes: int) -> list[int]:
    """The evaluation episode seeds for run seed ``seed`` (disjoint from every training seed)."""
    return [HELD_OUT_SEED_BASE + seed * 1_000_000 + i for i in range(episodes)]


def make_env(sim: str, world_config=None, local_goal: str = EVALUATION_LOCAL_GOAL):
    """A fresh evaluation environment; PyBullet is imported only when asked for.

    ``world_config`` (a ``World2DConfig`` or ``HomeNavConfig``) wins over ``local_goal`` when given.
    """
    if sim == "2d":
        from edge_agent.training.world2d import World2DConfig, World2DEnv

        return World2DEnv(world_config or World2DConfig(local_goal=local_goal))
    if sim == "pybullet":
        module = importlib.import_module("sim.nav_env")
        return module.HomeNavEnv(world_config or module.HomeNavConfig(local_goal=local_goal))
    raise ValueError(f"unknown sim {sim!r}; choose from {SIMS}")


Controller = Callable[[np.ndarray, object], tuple[float, float]]


def make_controller(policy: str, model_path: str | Path | None = None) -> Callable[[], Controller]:
    """A factory of per-episode controllers ``(obs, env) -> (v, omega)`` for ``policy``."""
    if policy == "student":
        from edge_agent.policy import DEFAULT_MODEL_PATH, ReflexPolicy

        student = ReflexPolicy.load(model_path or DEFAULT_MODEL_PATH)
        return lambda: (lambda obs, env: student.act(obs))
    if policy == "teacher":
        from edge_agent.training.teachers import ArbitratedTeacher

        def teacher_factory() -> Controller:
            teacher = ArbitratedTeacher()
            return lambda obs, env: teacher.act(env.privileged())

        return teacher_factory
    if policy == "baseline":
        from edge_agent.baseline import DWABaseline

        baseline = DWABaseline()
        return lambda: (lambda obs, env: baseline.act(obs))
    raise ValueError(f"unknown policy {policy!r}; choose from {POLICIES}")


def _raw_scan(env):
    scan = getattr(env, "scan", None)
    return scan() if callable(scan) else env.privileged().scan


def run_episode(env, controller: Controller, seed: int, shield: SafetyShield | None) -> EpisodeResult:
    """Drive one episode to its end and report it."""
    obs, info = env.reset(seed=seed)
    radius = getattr(env, "robot_radius", None)
    if shield is not None and radius is not None and abs(radius - shield.config.robot_radius) > 1e-9:
        # The shield's footprint must be the robot's own (the PyBullet home's robots differ in size).
        shield = SafetyShield(replace(shield.config, robot_radius=float(radius)))
    while True:
        v, w = controller(obs, env)
        if shield is not None:
            scan = _raw_scan(env)
            decision = shield.filter(v, w, scan.ranges, scan.angle_min, scan.angle_increment,
                                     scan.range_min, scan.range_max)
            v, w = decision.v, decision.w
        obs, _reward, terminated, truncated, info = env.step(np.array([v, w], dtype=np.float32))
        if terminated or truncated:
            break
    return EpisodeResult(
        seed=seed,
        success=bool(info["success"]),
        collision=bool(info["collision"]),
        path_length=float(info["path_length"]),
        shortest_path_length=float(info["shortest_path_length"]),
        time_s=float(info.get("time_s", 0.0)),
    )


def run_policy(policy: str, sim: str, seeds: list[int], *, shield: bool = True,
               model_path: str | Path | None = None, world_config=None,
               local_goal: str = EVALUATION_LOCAL_GOAL) -> list[EpisodeResult]:
    """Run ``policy`` on every seed in ``sim``."""
    factory = make_controller(policy, model_path)
    env = make_env(sim, world_config, local_goal)
    guard = SafetyShield() if shield else None
    results = []
    for s in seeds:
        results.append(run_episode(env, factory(), s, guard))
    close = getattr(env, "close", None)
    if callable(close):
        close()
    return results


def summarise(results: list[EpisodeResult]) -> dict:
    """Success rate, collision rate, SPL and mean time to goal (over successful episodes)."""
    n = max(len(results), 1)
    times = [r.time_s for r in results if r.success]
    return {
        "success_rate": sum(r.success for r in results) / n,
        "collision_rate": sum(r.collision for r in results) / n,
        "spl": float(np.mean([r.spl for r in results])) if results else 0.0,
        "mean_time_s": float(np.mean(times)) if times else float("nan"),
    }


def evaluate(policy: str = "student", sim: str = "2d", episodes: int = 100, seed: int = 0, *,
             shield: bool = True, model_path: str | Path | None = None, world_config=None,
             with_teacher: bool = True, local_goal: str = EVALUATION_LOCAL_GOAL) -> dict:
    """The ``eval-policy`` result (DESIGN.md shape) for one policy, with the teacher's SPL beside it."""
    seeds = held_out_seeds(seed, episodes)
    results = run_policy(policy, sim, seeds, shield=shield, model_path=model_path, world_config=world_config,
                         local_goal=local_goal)
    summary = summarise(results)
    if policy == "teacher":
        teacher_spl = summary["spl"]
    elif with_teacher:
        teacher_spl = summarise(run_policy("teacher", sim, seeds, shield=shield, world_config=world_config,
                                           local_goal=local_goal))["spl"]
    else:
        teacher_spl = float("nan")
    _LOG.info("%s in %s: %s", policy, sim, summary)
    return {
        "policy": policy,
        "sim": sim,
        "episodes": episodes,
        "seed": seed,
        "success_rate": summary["success_rate"],
        "collision_rate": summary["collision_rate"],
        "spl": summary["spl"],
        "teacher_spl": teacher_spl,
        "mean_time_s": summary["mean_time_s"],
        "shield": shield,
        "local_goal": local_goal if world_config is None else world_config.local_goal,
        "failed_seeds": [r.seed for r in results if not r.success],
    }
