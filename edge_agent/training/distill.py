"""Distil the privileged teachers into the small reflex network: behaviour cloning, then DAgger.

Torch is imported here and only here (training code; the ``train`` extra). The recipe:

1. **Behaviour cloning** on episodes driven by the arbitrated teacher, half of them with Gaussian noise
   on the executed command (DART, Laskey et al. 2017) so the data already shows recoveries.
2. **DAgger** (Ross et al. 2011): the student drives (behind the safety shield, as deployed), with the
   teacher taking over a decaying fraction ``beta`` of steps; the teacher labels every visited state;
   the data is aggregated and the student retrained (warm start) on all of it.

The network: 147 inputs (72 sectors, the 3 goal values, and a proximity feature exp(-r / 0.5 m) per
sector that makes the last half metre stand out; the measured velocity is left out to avoid the copycat
failure), two tanh layers of 256, and a tanh-squashed output rescaled to the action limits (about
350 KB as ONNX).

Each iteration logs one JSON line (dataset size, loss, success/collision of the student-driven episodes,
validation success/collision/SPL). The ``selection_candidates`` iterations with the best 2D validation
(success, then SPL; the later one on ties) are then driven in the PyBullet home to goals beside
furniture (``edge_agent.training.selection``), and the best of them there is exported to ONNX with its
metadata (observation spec version, seed, metrics) by building the graph directly with ``onnx.helper``
(deterministic bytes, no exporter dependency). Determinism: every episode is seeded from (seed,
iteration, index) and results are gathered in order; torch uses ``manual_seed``, deterministic algorithms
and one thread (with two, the order of its floating-point sums varied between runs and so did the model).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edge_agent import observation as spec
from edge_agent.policy import META_METRICS, META_OBS_SPEC_VERSION, META_SEED
from edge_agent.training.rollouts import (
    ACTION_OFFSET,
    ACTION_SCALE,
    FEATURE_DIM,
    PROXIMITY_GAIN,
    USED_OBS,
    EpisodeSpec,
    collect_episode,
    input_features,
    validate_student,
)
from edge_agent.training.selection import Candidate, choose, home_episodes, selection_seeds
from edge_agent.training.world2d import World2DConfig

_LOG = logging.getLogger(__name__)

VALIDATION_SEED_BASE = 2**31
"""Validation episodes during training; training seeds are below, evaluation seeds (2**32+) above."""


@dataclass(frozen=True)
class DistillConfig:
    """Everything that determines the trained model besides the seed."""

    world: World2DConfig = World2DConfig(beside_obstacle_goals=0.3, beside_obstacle_clearance_m=0.03,
                                         success_radius=0.1)
    """The training world. Trained only on goals with a wide berth, reached once within 0.2 m, a student
    stalls 0.35 m short of the kitchen counter: ``navigate_to`` stands a robot 0.1 m from furniture (the
    vacuum, smaller than the 0.25 m body the policy is trained for, closer still) and ``drive_path`` hands
    the reflex a goal 0.09 m past that pose. So 30% of the goals stand 3-10 cm from an obstacle (nearer,
    the shield's 0.12 m stop zone would keep a head-on approach out of reach), and an episode only ends
    within 0.1 m of its goal, so the teacher labels the last decimetres too."""
    hidden: tuple[int, ...] = (256, 256)
    proximity_features: bool = True
    bc_episodes: int = 300
    dagger_iterations: int = 8
    dagger_episodes: int = 160
    betas: tuple[float, ...] = (0.5, 0.25, 0.1, 0.0)
    noisy_fraction: float = 0.5
    noise_v: float = 0.08
    noise_w: float = 0.35
    student_noise_fraction: float = 0.3
    student_noise_v: float = 0.04
    student_noise_w: float = 0.2
    validation_episodes: int = 50
    selection_candidates: int = 4
    selection_episodes: int = 60
    epochs_bc: int = 30
    epochs_dagger: int = 16
    batch_size: int = 512
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    workers: int = 2
    torch_threads: int = 1
    extra_metrics: dict = field(default_factory=dict)


def _episode_specs(seed: int, iteration: int, count: int, beta: float, cfg: DistillConfig,
                   teacher_only: bool) -> list[EpisodeSpec]:
    rng = np.random.default_rng([seed, iteration, 1])
    specs = []
    for i in range(count):
        world_seed = int(rng.integers(0, VALIDATION_SEED_BASE))
        if teacher_only:
            noisy = rng.random() < cfg.noisy_fraction
            nv, nw = (cfg.noise_v, cfg.noise_w) if noisy else (0.0, 0.0)
        else:
            noisy = rng.random() < cfg.student_noise_fraction
            nv, nw = (cfg.student_noise_v, cfg.student_noise_w) if noisy else (0.0, 0.0)
        specs.append(EpisodeSpec(seed=world_seed, beta=1.0 if teacher_only else beta, noise_v=nv, noise_w=nw,
                                 noise_seed=int(rng.integers(0, 2**63 - 1)) ^ i))
    return specs


def _build_model(hidden: tuple[int, ...], proximity_features: bool):
    import torch

    layers: list = []
    width = FEATURE_DIM if proximity_features else spec.OBS_DIM
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.Tanh()]
        width = h
    layers.append(torch.nn.Linear(width, 2))
    return torch.nn.Sequential(*layers)


def _weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W (in, out), b) per linear layer as float32 numpy arrays."""
    import torch

    return [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy())
            for m in model if isinstance(m, torch.nn.Linear)]


def _train(model, obs: np.ndarray, labels: np.ndarray, epochs: int, cfg: DistillConfig, seed: int) -> float:
    """Fit the model to normalised teacher labels with MSE; returns the last epoch's mean loss."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    first = next(m for m in model if isinstance(m, torch.nn.Linear))
    x = torch.from_numpy(input_features(obs) if first.in_features == FEATURE_DIM else obs)
    target = torch.from_numpy(np.clip((labels - ACTION_OFFSET) / ACTION_SCALE, -0.999, 0.999).astype(np.float32))
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(epochs, 1))
    n = x.shape[0]
    last = float("nan")
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        total, batches = 0.0, 0
        for start in range(0, n, cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            pred = torch.tanh(model(x[idx]))
            loss = torch.mean((pred - target[idx]) ** 2)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
            batches += 1
        schedule.step()
        last = total / max(batches, 1)
    return last


def export_onnx(weights: list[tuple[np.ndarray, np.ndarray]], path: str | Path, metadata: dict[str, str]) -> None:
    """Write the MLP as an ONNX graph: Gemm/Tanh layers, tanh squash, scale and offset to (v, omega)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initialisers = [], []
    current = "obs"
    first_in = np.asarray(weights[0][0]).shape[0]
    input_dim = spec.OBS_DIM if first_in == FEATURE_DIM else first_in
    if first_in == FEATURE_DIM:
        # concat(obs[:, :75], exp(-gain * obs[:, :72])), exactly as rollouts.input_features.
        initialisers += [numpy_helper.from_array(np.array([0], np.int64), "start"),
                         numpy_helper.from_array(np.array([spec.N_SECTORS], np.int64), "sect_end"),
                         numpy_helper.from_array(np.array([USED_OBS], np.int64), "used_end"),
                         numpy_helper.from_array(np.array([1], np.int64), "axis1"),
                         numpy_helper.from_array(np.array(-PROXIMITY_GAIN, np.float32), "neg_gain")]
        nodes += [helper.make_node("Slice", ["obs", "start", "used_end", "axis1"], ["used"]),
                  helper.make_node("Slice", ["obs", "start", "sect_end", "axis1"], ["sectors"]),
                  helper.make_node("Mul", ["sectors", "neg_gain"], ["scaled_sectors"]),
                  helper.make_node("Exp", ["scaled_sectors"], ["proximity"]),
                  helper.make_node("Concat", ["used", "proximity"], ["features"], axis=1)]
        current = "features"
    for i, (w, b) in enumerate(weights):
        initialisers += [numpy_helper.from_array(np.asarray(w, np.float32), f"W{i}"),
                         numpy_helper.from_array(np.asarray(b, np.float32), f"b{i}")]
        nodes.append(helper.make_node("Gemm", [current, f"W{i}", f"b{i}"], [f"z{i}"]))
        nodes.append(helper.make_node("Tanh", [f"z{i}"], [f"h{i}"]))
        current = f"h{i}"
    initialisers += [numpy_helper.from_array(ACTION_SCALE.reshape(1, 2), "scale"),
                     numpy_helper.from_array(ACTION_OFFSET.reshape(1, 2), "offset")]
    nodes.append(helper.make_node("Mul", [current, "scale"], ["scaled"]))
    nodes.append(helper.make_node("Add", ["scaled", "offset"], ["cmd"]))
    graph = helper.make_graph(
        nodes, "reflex_policy",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", input_dim])],
        [helper.make_tensor_value_info("cmd", TensorProto.FLOAT, ["batch", 2])],
        initialisers,
    )
    model = helper.make_model(graph, producer_name="reflexarc", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model.doc_string = "ReflexArc reflex policy: 77-element observation -> (v m/s, omega rad/s)."
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def _run_all(executor, fn, items: list, *args) -> list:
    if executor is None:
        return [fn(item, *args) for item in items]
    return list(executor.map(fn, items, *([a] * len(items) for a in args), chunksize=4))


def _select_in_home(executor, kept: list[tuple[tuple, int, list]], history: list[dict],
                    cfg: DistillConfig) -> tuple[Candidate, list[Candidate]]:
    """Drive the kept iterations in the PyBullet home (episodes spread over the workers); the winner and all."""
    episodes = [[seed] for seed in selection_seeds(cfg.selection_episodes)]
    candidates = []
    for _score, iteration, weights in kept:
        results = [r for rows in _run_all(executor, home_episodes, episodes, weights) for r in rows]
        record = history[iteration]
        candidate = Candidate(
            iteration=iteration,
            val_success_rate=record["val_success_rate"],
            val_spl=record["val_spl"],
            home_success_rate=float(np.mean([r[0] for r in results])),
            home_collision_rate=float(np.mean([r[1] for r in results])),
            home_spl=float(np.mean([r[2] for r in results])),
        )
        _LOG.info("selection %s", json.dumps(candidate.to_dict()))
        candidates.append(candidate)
    return choose(candidates), candidates


def train_policy(seed: int, out: str | Path, cfg: DistillConfig | None = None,
                 log_path: str | Path | None = None, checkpoint_dir: str | Path | None = None) -> dict:
    """Train the reflex policy for ``seed`` and write the ONNX model to ``out``; returns the final metrics.

    ``checkpoint_dir``, when given, receives the student's weights after every iteration (``iterN.npz``).
    """
    import torch

    cfg = cfg or DistillConfig()
    torch.manual_seed(seed)
    torch.set_num_threads(cfg.torch_threads)
    torch.use_deterministic_algorithms(True)
    started = time.monotonic()
    model = _build_model(cfg.hidden, cfg.proximity_features)
    log_file = open(log_path, "w", encoding="utf-8") if log_path else None  # noqa: SIM115 - closed below
    obs_parts: list[np.ndarray] = []
    label_parts: list[np.ndarray] = []
    history: list[dict] = []
    kept: list[tuple[tuple, int, list]] = []  # (validation score, iteration, weights), best first
    selection: list[Candidate] = []
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(max_workers=cfg.workers, mp_context=context) if cfg.workers > 1 else None
    val_seeds = [VALIDATION_SEED_BASE + i for i in range(cfg.validation_episodes)]
    try:
        for iteration in range(cfg.dagger_iterations + 1):
            teacher_only = iteration == 0
            beta = 1.0 if teacher_only else cfg.betas[min(iteration - 1, len(cfg.betas) - 1)]
            count = cfg.bc_episodes if teacher_only else cfg.dagger_episodes
            specs = _episode_specs(seed, iteration, count, beta, cfg, teacher_only)
            weights = None if teacher_only else _weights(model)
            episodes = _run_all(executor, collect_episode, specs, weights, cfg.world)
            obs_parts += [e.obs for e in episodes]
            label_parts += [e.labels for e in episodes]
            obs = np.concatenate(obs_parts)
            labels = np.concatenate(label_parts)
            loss = _train(model, obs, labels, cfg.epochs_bc if teacher_only else cfg.epochs_dagger, cfg,
                          seed * 1000 + iteration)
            val = _run_all(executor, validate_student, val_seeds, _weights(model), cfg.world)
            record = {
                "iteration": iteration,
                "phase": "bc" if teacher_only else "dagger",
                "beta": beta,
                "episodes": len(episodes),
                "dataset_size": int(obs.shape[0]),
                "train_loss": loss,
                "rollout_success_rate": float(np.mean([e.success for e in episodes])),
                "rollout_collision_rate": float(np.mean([e.collision for e in episodes])),
                "val_success_rate": float(np.mean([v[0] for v in val])),
                "val_collision_rate": float(np.mean([v[1] for v in val])),
                "val_spl": float(np.mean([v[2] for v in val])),
                "elapsed_s": round(time.monotonic() - started, 1),
            }
            history.append(record)
            score = (record["val_success_rate"], record["val_spl"], iteration)
            kept = sorted([*kept, (score, iteration, _weights(model))], key=lambda k: k[0], reverse=True)
            kept = kept[:max(cfg.selection_candidates, 1)]
            if checkpoint_dir is not None:
                Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
                arrays = {f"{kind}{i}": a for i, (w, b) in enumerate(_weights(model)) for kind, a in (("W", w), ("b", b))}
                np.savez(Path(checkpoint_dir) / f"iter{iteration}.npz", **arrays)
                np.savez_compressed(Path(checkpoint_dir) / "dataset.npz", obs=obs, labels=labels)
            _LOG.info("distill %s", json.dumps(record))
            if log_file:
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
        if cfg.selection_candidates > 0 and cfg.selection_episodes > 0:
            winner, selection = _select_in_home(executor, kept, history, cfg)
            chosen = next(k for k in kept if k[1] == winner.iteration)
            if log_file:
                for candidate in selection:
                    log_file.write(json.dumps({"selection": candidate.to_dict()}) + "\n")
        else:
            chosen = kept[0]
    finally:
        if executor is not None:
            executor.shutdown()
        if log_file:
            log_file.close()
    final = history[chosen[1]]
    metrics = {
        "selected_iteration": chosen[1],
        "val_success_rate": final["val_success_rate"],
        "val_collision_rate": final["val_collision_rate"],
        "val_spl": final["val_spl"],
        "home_selection": [c.to_dict() for c in selection],
        "dataset_size": final["dataset_size"],
        "train_loss": final["train_loss"],
        "config": {k: v for k, v in asdict(cfg).items() if k not in ("workers", "torch_threads", "extra_metrics")},
        **cfg.extra_metrics,
    }
    export_onnx(chosen[2], out, {
        META_OBS_SPEC_VERSION: spec.OBS_SPEC_VERSION,
        META_SEED: str(seed),
        META_METRICS: json.dumps(metrics, sort_keys=True),
    })
    return {"history": history, "metrics": metrics}
