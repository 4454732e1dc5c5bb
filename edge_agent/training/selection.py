"""Which training iteration ships: the 2D validation's best few, re-checked in the PyBullet home.

The 2D world is where the student learns (thousands of episodes a minute); the PyBullet home is where
the stack drives it. The two disagree most at goals right beside furniture: ``navigate_to`` stands a
robot ``FURNITURE_STANDOFF_M`` from the kitchen counter, and a student that keeps a wider berth stalls
short of it. One retrain (Nov 2026) scored 100% in 2D validation and still stalled short of the counter
and the car in every full-stack run. So the iterations with the best 2D validation scores are driven
once more, in the home, the way ``drive_to`` drives to furniture (``HomeNavConfig.goal_at_furniture``:
``navigate_to``'s standing pose for a random piece of furniture, object or device, the last leg straight
at it, the reflex's goal a little past the pose), succeeding only within ``FINAL_TOLERANCE_M`` of the
pose (not the evaluation's 0.2 m); every other episode is of the evaluation's own kind. All on seeds of
their own (``SELECTION_SEED_BASE``: in the validation range, never an evaluation seed), and the best of
them there is the one exported.

Numpy + PyBullet only (worker processes never load torch): the student runs as :class:`NumpyMLP`, the
exact computation of the exported graph, behind the shield, with the stack's A* route as local goal, on
every base it ships for (the manipulator, the dog and the vacuum).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from edge_agent.shield import SafetyShield
from edge_agent.skills.navigation import FINAL_TOLERANCE_M
from edge_agent.training.evaluate import run_episode
from edge_agent.training.rollouts import NumpyMLP

__all__ = ["SELECTION_ROBOTS", "SELECTION_SEED_BASE", "Candidate", "choose", "home_episodes", "selection_seeds"]

SELECTION_SEED_BASE = 2**31 + 1_000_000
"""Home episodes for model selection: above the 2D validation seeds, below evaluation (2**32)."""

Weights = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Candidate:
    """One iteration's scores: 2D validation and the home check (rates in [0, 1])."""

    iteration: int
    val_success_rate: float
    val_spl: float
    home_success_rate: float
    home_collision_rate: float
    home_spl: float

    def rank(self) -> tuple[float, ...]:
        """Higher is better: home success, then no collisions, home SPL, 2D validation, the later iteration."""
        return (self.home_success_rate, -self.home_collision_rate, self.home_spl,
                self.val_success_rate, self.val_spl, float(self.iteration))

    def to_dict(self) -> dict:
        """JSON-ready (for the model's metadata and the training log)."""
        return asdict(self)


def choose(candidates: list[Candidate]) -> Candidate:
    """The candidate that ships (see :meth:`Candidate.rank`)."""
    if not candidates:
        raise ValueError("no candidates to choose from")
    return max(candidates, key=Candidate.rank)


def selection_seeds(episodes: int) -> list[int]:
    """The home episodes every candidate drives."""
    return [SELECTION_SEED_BASE + i for i in range(episodes)]


SELECTION_ROBOTS = ("robot1", "dog1", "vacuum1")
"""Every base the shipped policy drives (radii 0.25, 0.30, 0.17 m): one network serves them all."""


def home_episodes(seeds: list[int], weights: Weights) -> list[tuple[bool, bool, float]]:
    """(success, collision, SPL) of the student on each home episode.

    Even seeds go to furniture, odd ones anywhere; the robot turns over every two seeds. Half the
    episodes are the furniture approaches the 2D validation misses; the other half are the evaluation's
    own kind of episode (any free goal, 0.2 m success radius) on seeds of their own, so a candidate
    cannot win the first half by getting worse at the second.
    """
    from sim.nav_env import HomeNavConfig, HomeNavEnv  # PyBullet only where it runs

    envs: dict[tuple[str, bool], HomeNavEnv] = {}
    student = NumpyMLP(weights)
    shield = SafetyShield()

    def controller(obs: np.ndarray, _env: object) -> tuple[float, float]:
        v, w = student(obs)[0]
        return float(v), float(w)

    def env_for(seed: int) -> HomeNavEnv:
        key = (SELECTION_ROBOTS[(seed // 2) % len(SELECTION_ROBOTS)], seed % 2 == 0)
        if key not in envs:
            robot, furniture = key
            config = (HomeNavConfig(robot_id=robot, success_radius=FINAL_TOLERANCE_M, goal_at_furniture=True)
                      if furniture else HomeNavConfig(robot_id=robot))
            envs[key] = HomeNavEnv(config)
        return envs[key]

    try:
        results = [run_episode(env_for(seed), controller, seed, shield) for seed in seeds]
    finally:
        for env in envs.values():
            env.close()
    return [(r.success, r.collision, r.spl) for r in results]
