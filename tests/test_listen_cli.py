"""``reflexarc listen WAV``: a spoken command file becomes a plan, or the person is asked to repeat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reflexarc.utterance_audio import synthesize, write_noise
from sim.home_layout import load_home_layout

ASK_AGAIN = "did not understand, please repeat"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _listen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reflexarc.cli", "listen", *args],
        capture_output=True, text=True, timeout=120, cwd=REPO_ROOT, check=False,
    )


@pytest.fixture(scope="module")
def red_cup_wav(tmp_path_factory):
    return synthesize("bring me the red cup from the kitchen", tmp_path_factory.mktemp("listen") / "red_cup.wav")


def test_spoken_fetch_command_becomes_a_plan_that_picks_the_red_cup(red_cup_wav):
    result = _listen(str(red_cup_wav), "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["transcript"]["text"] == "bring me the red cup from the kitchen"
    assert plan["transcript"]["confidence"] >= 0.5
    assert plan["command"] == "bring me the red cup from the kitchen"
    picks = [step["args"]["object"] for step in plan["steps"] if step["skill"] == "pick"]
    assert picks == ["cup_red"]
    assert [s["skill"] for s in plan["steps"]][-1] == "handover"


def test_plan_is_made_over_the_scene_given_with_scene(red_cup_wav, tmp_path):
    scene_file = tmp_path / "home.json"
    scene_file.write_text(load_home_layout().scene_graph().to_json(), encoding="utf-8")
    result = _listen(str(red_cup_wav), "--scene", str(scene_file))
    assert result.returncode == 0, result.stderr
    assert "heard: 'bring me the red cup from the kitchen'" in result.stdout
    assert "pick(object=cup_red)" in result.stdout


def test_noise_is_not_planned_and_the_person_is_asked_to_repeat(tmp_path):
    noise = write_noise(tmp_path / "noise.wav", duration_s=2.0, level_dbfs=-20)
    result = _listen(str(noise), "--json")
    assert result.returncode == 2
    assert ASK_AGAIN in result.stderr
    refusal = json.loads(result.stdout)
    assert refusal["error"]["code"] == "not_understood"
    assert refusal["transcript"]["confidence"] < 0.5


def test_a_file_that_is_not_a_wav_is_an_error_naming_it(tmp_path):
    not_wav = tmp_path / "command.wav"
    not_wav.write_text("bring me the red cup", encoding="utf-8")
    result = _listen(str(not_wav))
    assert result.returncode == 1
    assert "command.wav" in result.stderr and "not a readable PCM WAV" in result.stderr
