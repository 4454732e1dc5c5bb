"""Data collection for distillation: episodes driven by teacher, student or a mix, labelled by the teacher.

Numpy only, so worker processes never load torch. The student is evaluated here from its weights with
:class:`NumpyMLP`, the exact computation the exported ONNX graph performs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_agent import observation as spec
from edge_agent.shield import SafetyShield
from edge_agent.training.teachers import ArbitratedTeacher
from edge_agent.training.world2d import World2DConfig, World2DEnv

STUCK_STEPS = 60
ACTION_SCALE = np.array([(spec.V_MAX - spec.V_MIN) / 2.0, spec.W_MAX], dtype=np.float32)
ACTION_OFFSET = np.array([(spec.V_MAX + spec.V_MIN) / 2.0, 0.0], dtype=np.float32)


PROXIMITY_GAIN = np.float32(2.0 * spec.SECTOR_CLIP_M)
"""Proximity feature exp(-r / 0.5 m) of each sector (r = 4 m * sector value): sharp near obstacles."""
USED_OBS = spec.N_SECTORS + 3
"""The network reads sectors and goal only. The measured velocity stays in the observation (the spec is
shared) but is not an input: with it, a cloned policy learns to copy its own speed and, once stopped,
stays stopped (the "copycat" failure of behaviour cloning, Wen et al. 2020)."""
FEATURE_DIM = USED_OBS + spec.N_SECTORS


def input_features(obs: np.ndarray) -> np.ndarray:
    """The network's input: sectors and goal plus one proximity feature per sector, (N, 147)."""
    x = np.asarray(obs, dtype=np.float32).reshape(-1, spec.OBS_DIM)
    return np.concatenate([x[:, :USED_OBS], np.exp(-PROXIMITY_GAIN * x[:, :spec.N_SECTORS])], axis=1)


class NumpyMLP:
    """tanh MLP over :func:`input_features` with a tanh-squashed, rescaled output: obs (N, 77) -> (N, 2)."""

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """``weights`` are (W, b) per layer with W of shape (in, out)."""
        self.weights = [(np.asarray(w, dtype=np.float32), np.asarray(b, dtype=np.float32)) for w, b in weights]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Commands for a batch of observations."""
        h = np.asarray(obs, dtype=np.float32).reshape(-1, spec.OBS_DIM)
        if self.weights[0][0].shape[0] == FEATURE_DIM:
            h = input_features(h)
        for w, b in self.weights[:-1]:
            h = np.tanh(h @ w + b)
        w, b = self.weights[-1]
        return np.tanh(h @ w + b) * ACTION_SCALE + ACTION_OFFSET


@dataclass(frozen=True)
class EpisodeSpec:
    """How to drive one data-collection episode.

    Attributes:
        seed: world seed (< 2**31 for training).
        beta: probability that the teacher, not the student, drives a given step (1.0 = teacher only).
        noise_v: std of Gaussian noise added to the executed v (DART-style perturbation).
        noise_w: std of Gaussian noise added to the executed omega.
        noise_seed: seed of the driver's own randomness (mixing and noise).
    """

    seed: int
    beta: float
    noise_v: float
    noise_w: float
    noise_seed: int


@dataclass(frozen=True)
class EpisodeData:
    """Visited observations, the teacher's labels for them, and how the episode ended."""

    obs: np.ndarray
    labels: np.ndarray
    success: bool
    collision: bool
    spl: float
    steps: int


def collect_episode(episode: EpisodeSpec, weights: list[tuple[np.ndarray, np.ndarray]] | None,
                    world_config: World2DConfig | None = None) -> EpisodeData:
    """Run one episode and label every visited state with the arbitrated teacher's command."""
    env = World2DEnv(world_config)
    teacher = ArbitratedTeacher()
    shield = SafetyShield()
    student = NumpyMLP(weights) if weights is not None else None
    rng = np.random.default_rng(episode.noise_seed)
    obs, info = env.reset(seed=episode.seed)
    teacher.reuse_navmap(env.grid, env.navmap)
    obs_list, label_list = [], []
    recent: list[np.ndarray] = []
    while True:
        label = teacher.act(env.privileged())
        obs_list.append(obs)
        label_list.append(label)
        if student is None or rng.random() < episode.beta:
            v, w = label
        else:
            v, w = (float(c) for c in student(obs)[0])
        v += rng.normal(0.0, episode.noise_v) if episode.noise_v > 0 else 0.0
        w += rng.normal(0.0, episode.noise_w) if episode.noise_w > 0 else 0.0
        scan = env.scan()
        decision = shield.filter(v, w, scan.ranges, scan.angle_min, scan.angle_increment,
                                 scan.range_min, scan.range_max)
        obs, _r, terminated, truncated, info = env.step((decision.v, decision.w))
        if terminated or truncated:
            break
        # A driver stuck in place for STUCK_STEPS has shown its mistake often enough: stop collecting.
        recent.append(env.pose[:2].copy())
        if len(recent) > STUCK_STEPS:
            recent.pop(0)
            if float(np.hypot(*(recent[-1] - recent[0]))) < 0.05:
                break
    spl = info["shortest_path_length"] / max(info["path_length"], info["shortest_path_length"]) if info["success"] else 0.0
    return EpisodeData(
        obs=np.asarray(obs_list, dtype=np.float32),
        labels=np.asarray(label_list, dtype=np.float32),
        success=bool(info["success"]),
        collision=bool(info["collision"]),
        spl=float(spl),
        steps=len(obs_list),
    )


def validate_student(seed: int, weights: list[tuple[np.ndarray, np.ndarray]],
                     world_config: World2DConfig | None = None) -> tuple[bool, bool, float]:
    """One student-only episode behind the shield: (success, collision, SPL)."""
    env = World2DEnv(world_config)
    shield = SafetyShield()
    student = NumpyMLP(weights)
    obs, info = env.reset(seed=seed)
    while True:
        v, w = (float(c) for c in student(obs)[0])
        scan = env.scan()
        d = shield.filter(v, w, scan.ranges, scan.angle_min, scan.angle_increment, scan.range_min, scan.range_max)
        obs, _r, terminated, truncated, info = env.step((d.v, d.w))
        if terminated or truncated:
            break
    spl = info["shortest_path_length"] / max(info["path_length"], info["shortest_path_length"]) if info["success"] else 0.0
    return bool(info["success"]), bool(info["collision"]), float(spl)
