"""The ONNX reflex policy runtime: clear load errors, validated metadata, bounded commands, and it drives."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent import observation as spec
from edge_agent.policy import DEFAULT_MODEL_PATH, PolicyInferenceError, PolicyLoadError, ReflexPolicy
from edge_agent.shield import SafetyShield
from edge_agent.training.evaluate import held_out_seeds, run_episode
from edge_agent.training.world2d import World2DEnv


@pytest.fixture(scope="module")
def policy() -> ReflexPolicy:
    return ReflexPolicy.load()


def test_missing_model_raises_a_clear_load_error(tmp_path):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(PolicyLoadError, match="not found: .*nope.onnx"):
        ReflexPolicy.load(missing)


def test_corrupt_model_raises_a_clear_load_error(tmp_path):
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07this is not a protobuf model" * 10)
    with pytest.raises(PolicyLoadError, match="not a loadable ONNX model"):
        ReflexPolicy.load(corrupt)


def test_truncated_model_raises_a_load_error(tmp_path):
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(DEFAULT_MODEL_PATH.read_bytes()[:5000])
    with pytest.raises(PolicyLoadError):
        ReflexPolicy.load(truncated)


def test_model_for_another_observation_spec_is_refused(tmp_path):
    data = DEFAULT_MODEL_PATH.read_bytes()
    # metadata_props entry: key "obs_spec_version", then value field (tag 0x12, length 1, "1").
    marker = b"obs_spec_version\x12\x01" + spec.OBS_SPEC_VERSION.encode()
    assert data.count(marker) == 1
    stale = tmp_path / "stale.onnx"
    stale.write_bytes(data.replace(marker, b"obs_spec_version\x12\x019"))
    with pytest.raises(PolicyLoadError, match="observation spec '9'"):
        ReflexPolicy.load(stale)


def test_model_with_the_wrong_input_shape_is_refused(tmp_path):
    pytest.importorskip("onnx")
    from edge_agent.training.distill import export_onnx

    weights = [(np.zeros((10, 2), np.float32), np.zeros(2, np.float32))]
    path = tmp_path / "small.onnx"
    export_onnx(weights, path, {"obs_spec_version": spec.OBS_SPEC_VERSION, "seed": "0", "metrics": "{}"})
    with pytest.raises(PolicyLoadError, match="input shape"):
        ReflexPolicy.load(path)


def test_shipped_model_is_small_and_carries_its_metadata(policy):
    assert DEFAULT_MODEL_PATH.stat().st_size < 1_000_000
    assert policy.metadata.obs_spec_version == spec.OBS_SPEC_VERSION
    assert policy.metadata.seed is not None
    assert 0.0 <= policy.metadata.metrics["val_success_rate"] <= 1.0


def test_act_returns_floats_within_the_limits(policy):
    rng = np.random.default_rng(0)
    for _ in range(50):
        obs = rng.uniform(-1.0, 1.0, spec.OBS_DIM).astype(np.float32)
        v, w = policy.act(obs)
        assert isinstance(v, float) and isinstance(w, float)
        assert spec.V_MIN <= v <= spec.V_MAX and -spec.W_MAX <= w <= spec.W_MAX


def test_non_finite_observation_raises_an_inference_error(policy):
    obs = np.zeros(spec.OBS_DIM, dtype=np.float32)
    obs[3] = np.nan
    with pytest.raises(PolicyInferenceError):
        policy.act(obs)


def test_wrong_observation_shape_raises_an_inference_error(policy):
    with pytest.raises(PolicyInferenceError):
        policy.act(np.zeros(12, dtype=np.float32))


def test_policy_turns_toward_a_goal_on_its_left(policy):
    sectors = np.ones(spec.N_SECTORS, dtype=np.float32)
    v, w = policy.act(spec.build_observation(sectors, (0.0, 2.0), (0.0, 0.0)))
    assert w > 0.3


@pytest.mark.parametrize("index", [0, 1, 2])
def test_shipped_model_drives_a_2d_episode_to_its_goal(policy, index):
    seed = held_out_seeds(99, 3)[index]
    result = run_episode(World2DEnv(), lambda obs, env: policy.act(obs), seed, SafetyShield())
    assert result.success and not result.collision
