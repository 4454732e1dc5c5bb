"""voice_node as a process: an espeak-ng WAV becomes /voice/transcript, and the executive turns it into a plan.

Real parts throughout: espeak-ng + sox synthesise the utterance, pocketsphinx decodes it in the
voice_node process, Fast DDS carries the transcript, and a real planner server plans it for a real
executive_node (which commands no robot here, so the plan is received but not executed).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from sim.home_layout import load_home_layout

pytestmark = pytest.mark.slow

_LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)


class _Home:
    """Publishes the seed home's scene graph (latched) and records what the voice and executive say."""

    def __init__(self, domain_id: int) -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = Node("voice_test_home", context=self.context)
        self.transcripts: list[dict] = []
        self.ask_again: list[dict] = []
        self.status: dict = {}
        scene_pub = self.node.create_publisher(String, "/scene_graph", _LATCHED)
        scene_pub.publish(String(data=load_home_layout().scene_graph().to_json()))
        self._keep = scene_pub
        self.node.create_subscription(String, "/voice/transcript",
                                      lambda m: self.transcripts.append(json.loads(m.data)), 10)
        self.node.create_subscription(String, "/voice/ask_again", lambda m: self.ask_again.append(json.loads(m.data)), 10)
        self.node.create_subscription(String, "/executive/status", self._on_status, _LATCHED)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def _on_status(self, msg: String) -> None:
        self.status = json.loads(msg.data)

    def wait_for(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return False

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=2)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _voice_node(wav: Path, env: dict[str, str], log: Path, listeners: int = 1) -> subprocess.Popen:
    return _spawn([sys.executable, "-m", "edge_agent.voice_node", "--ros-args", "-p", f"wav_path:={wav}",
                   "-p", f"min_listeners:={listeners}"], env, log)


@pytest.fixture
def home(ros_domain_id):
    home = _Home(ros_domain_id)
    yield home
    home.close()


def test_a_spoken_command_becomes_a_confident_transcript(tmp_path, ros_env, home):
    from reflexarc.utterance_audio import synthesize

    wav = synthesize("bring me the red cup from the kitchen", tmp_path / "cup.wav")
    voice = _voice_node(wav, ros_env, tmp_path / "voice.log")
    try:
        assert home.wait_for(lambda: home.transcripts or home.ask_again, 60), (tmp_path / "voice.log").read_text()
    finally:
        _stop(voice)
    assert home.transcripts[0]["text"] == "bring me the red cup from the kitchen"
    assert home.transcripts[0]["confidence"] >= 0.5
    assert home.transcripts[0]["source"] == "voice"


def test_noise_makes_the_robot_ask_again_instead_of_acting(tmp_path, ros_env, home):
    import wave

    rng = np.random.default_rng(0)
    noise = (rng.normal(0, 3000, 16000 * 2)).clip(-32768, 32767).astype("<i2")
    wav = tmp_path / "noise.wav"
    with wave.open(str(wav), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(16000)
        fh.writeframes(noise.tobytes())
    voice = _voice_node(wav, ros_env, tmp_path / "voice.log")
    try:
        assert home.wait_for(lambda: home.transcripts or home.ask_again, 60), (tmp_path / "voice.log").read_text()
    finally:
        _stop(voice)
    assert home.ask_again and not home.transcripts


def test_a_spoken_command_becomes_a_plan(tmp_path, ros_env, home):
    from reflexarc.utterance_audio import synthesize

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    planner = _spawn([sys.executable, "-m", "reflexarc.cli", "serve", "--port", str(port)], ros_env,
                     tmp_path / "planner.log")
    executive = _spawn([sys.executable, "-m", "edge_agent.executive_node", "--ros-args",
                        "-p", f"planner_addresses:=['127.0.0.1:{port}']", "-p", "robots:=['nobody']"],
                       ros_env, tmp_path / "executive.log")
    voice = None
    try:
        assert home.wait_for(lambda: home.status.get("connected"), 60), (tmp_path / "executive.log").read_text()
        wav = synthesize("bring me the red cup from the kitchen", tmp_path / "cup.wav")
        voice = _voice_node(wav, ros_env, tmp_path / "voice.log", listeners=2)  # this test and the executive
        assert home.wait_for(lambda: home.status.get("total_steps", 0) > 0 and home.status.get("steps"), 60), (
            (tmp_path / "executive.log").read_text()[-3000:])
    finally:
        for proc in (voice, executive, planner):
            if proc is not None:
                _stop(proc)
    skills = [step["skill"] for step in home.status["steps"]]
    assert {"pick", "handover"} <= set(skills)
    assert any(step["args"].get("object") == "cup_red" for step in home.status["steps"])
