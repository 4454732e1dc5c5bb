"""Runtime of the distilled reflex policy: onnxruntime on one thread, numpy in and out, no torch.

The ONNX model maps the 77-element observation (see :mod:`edge_agent.observation`) to (v, omega) in
physical units. Its metadata records the observation spec version it was trained for; loading refuses a
model built for another spec or input shape, so a stale model can never silently drive the robot.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_agent import observation as spec

_LOG = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models" / "reflex_policy.onnx"
"""The shipped model, reproducible with ``reflexarc train-policy``."""

META_OBS_SPEC_VERSION = "obs_spec_version"
META_SEED = "seed"
META_METRICS = "metrics"


class PolicyLoadError(RuntimeError):
    """The model file is missing, unreadable, not ONNX, or built for another observation spec."""


class PolicyInferenceError(RuntimeError):
    """Inference failed or produced a non-finite command; the caller must stop the robot."""


@dataclass(frozen=True)
class PolicyMetadata:
    """What the model says about itself."""

    obs_spec_version: str
    seed: int | None
    metrics: dict = field(default_factory=dict)


class ReflexPolicy:
    """A loaded ONNX reflex policy; create with :meth:`load`."""

    def __init__(self, session, metadata: PolicyMetadata, path: Path) -> None:
        """Wrap an onnxruntime session (use :meth:`load` instead of calling this directly)."""
        self._session = session
        self._input_name = session.get_inputs()[0].name
        self._output_names = [session.get_outputs()[0].name]
        self._buffer = np.zeros((1, spec.OBS_DIM), dtype=np.float32)
        self.metadata = metadata
        self.path = path

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH) -> ReflexPolicy:
        """Load and validate a model: single-threaded sequential CPU inference.

        Raises:
            PolicyLoadError: missing or corrupt file, wrong observation spec version or input shape.
        """
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise PolicyLoadError(f"policy model not found: {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several unrelated types for bad files
            raise PolicyLoadError(f"policy model {path} is not a loadable ONNX model: {exc}") from exc
        meta = session.get_modelmeta().custom_metadata_map
        version = meta.get(META_OBS_SPEC_VERSION)
        if version != spec.OBS_SPEC_VERSION:
            raise PolicyLoadError(
                f"policy model {path} was built for observation spec {version!r}, "
                f"this runtime uses {spec.OBS_SPEC_VERSION!r}; retrain with `reflexarc train-policy`"
            )
        inputs = session.get_inputs()
        shape = inputs[0].shape if len(inputs) == 1 else None
        if shape is None or len(shape) != 2 or shape[1] != spec.OBS_DIM:
            raise PolicyLoadError(
                f"policy model {path} expects input shape {shape}, need [batch, {spec.OBS_DIM}]")
        outputs = session.get_outputs()
        if len(outputs) != 1 or len(outputs[0].shape) != 2 or outputs[0].shape[1] != 2:
            raise PolicyLoadError(f"policy model {path} must have one output of shape [batch, 2]")
        try:
            seed = int(meta[META_SEED]) if META_SEED in meta else None
            metrics = json.loads(meta.get(META_METRICS, "{}"))
        except (ValueError, TypeError) as exc:
            raise PolicyLoadError(f"policy model {path} has malformed metadata: {exc}") from exc
        _LOG.info("loaded reflex policy %s (obs spec %s, seed %s)", path, version, seed)
        return cls(session, PolicyMetadata(version, seed, metrics), path)

    def act(self, obs: np.ndarray) -> tuple[float, float]:
        """(v, omega) for one observation, clipped to the action limits.

        Raises:
            PolicyInferenceError: wrong observation shape, non-finite input or output, runtime failure.
        """
        try:
            np.copyto(self._buffer[0], obs, casting="same_kind")
        except (ValueError, TypeError) as exc:
            raise PolicyInferenceError(f"observation must have shape ({spec.OBS_DIM},): {exc}") from exc
        try:
            out = self._session.run(self._output_names, {self._input_name: self._buffer})[0]
        except Exception as exc:  # any runtime failure must become a stop, never a crash of the node
            raise PolicyInferenceError(f"policy inference failed: {exc}") from exc
        v, w = float(out[0, 0]), float(out[0, 1])
        if not (math.isfinite(v) and math.isfinite(w)):
            raise PolicyInferenceError(f"policy produced a non-finite command ({v}, {w})")
        return spec.clip_action(v, w)

    def act_batch(self, obs: np.ndarray) -> np.ndarray:
        """(N, 2) commands for (N, 77) observations (evaluation and data collection)."""
        x = np.ascontiguousarray(obs, dtype=np.float32).reshape(-1, spec.OBS_DIM)
        out = self._session.run(self._output_names, {self._input_name: x})[0]
        out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
        return np.stack([np.clip(out[:, 0], spec.V_MIN, spec.V_MAX), np.clip(out[:, 1], -spec.W_MAX, spec.W_MAX)], 1)
