"""``voice_node``: speech in, a command out; asks again instead of acting on a shaky transcript.

Audio comes from a WAV file (``wav_path`` parameter: transcribe it once, then idle) or from the
``/voice/audio`` topic (std_msgs/UInt8MultiArray, one utterance per message, 16 kHz mono 16-bit
little-endian PCM). The decoder is pocketsphinx with a JSGF grammar built from the home's scene graph
(``/scene_graph``), so it only has to choose between the things a person can ask for in this home.

A transcript whose confidence reaches ``min_confidence`` is published on ``/voice/transcript``
({"text", "confidence", "source": "voice", "language": "en"}), which the executive turns into a
Command for the planner; below it the node publishes ``/voice/ask_again`` and says so on
``/executive/say`` rather than letting a robot act on a guess.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String, UInt8MultiArray

from edge_agent.speech_grammar import build_grammar
from edge_agent.speech_recognizer import SpeechRecognizer, Transcript
from reflexarc.ros_executor import events_executor, spin_until_shutdown
from reflexarc.scene_graph import SceneGraph, SceneGraphError

__all__ = ["ASK_AGAIN_TEXT", "VoiceNode", "main"]

ASK_AGAIN_TEXT = "Sorry, I did not catch that. Could you say it again?"
_LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)


class VoiceNode(Node):
    """Transcribes utterances against the scene's grammar and forwards confident ones as commands."""

    def __init__(self) -> None:
        super().__init__("voice_node")
        self.declare_parameter("wav_path", "")
        self.declare_parameter("min_confidence", 0.5)
        self.declare_parameter("language", "en")
        self.declare_parameter("sample_rate", 16000)
        self.declare_parameter("subscriber_wait_s", 10.0)
        self.declare_parameter("min_listeners", 1)
        self._wav_path = str(self.get_parameter("wav_path").value)
        self._min_confidence = float(self.get_parameter("min_confidence").value)
        self._language = str(self.get_parameter("language").value)
        self._sample_rate = int(self.get_parameter("sample_rate").value)
        self._subscriber_wait_s = float(self.get_parameter("subscriber_wait_s").value)
        self._min_listeners = int(self.get_parameter("min_listeners").value)
        self._recognizer: SpeechRecognizer | None = None
        self._scene_hash = ""
        self._lock = threading.Lock()
        self._wav_done = False
        self.transcripts: list[Transcript] = []

        group = MutuallyExclusiveCallbackGroup()
        self._transcript_pub = self.create_publisher(String, "/voice/transcript", 10)
        self._ask_pub = self.create_publisher(String, "/voice/ask_again", 10)
        self._say_pub = self.create_publisher(String, "/executive/say", 10)
        self.create_subscription(String, "/scene_graph", self._on_scene, _LATCHED, callback_group=group)
        self.create_subscription(UInt8MultiArray, "/voice/audio", self._on_audio, 10, callback_group=group)
        self.get_logger().info("voice: waiting for /scene_graph to build the grammar")

    def _on_scene(self, msg: String) -> None:
        try:
            scene = SceneGraph.from_json(msg.data)
        except SceneGraphError as exc:
            self.get_logger().error(f"bad /scene_graph: {exc}")
            return
        digest = scene.content_hash()
        if digest == self._scene_hash:
            return
        grammar = build_grammar(scene)
        with self._lock:
            self._recognizer = SpeechRecognizer(grammar, sample_rate=self._sample_rate)
            self._scene_hash = digest
        self.get_logger().info("voice: grammar ready")
        if self._wav_path and not self._wav_done:
            self._wav_done = True
            self._process_wav(self._wav_path)

    def _process_wav(self, path: str) -> None:
        self._wait_for_listener()
        with self._lock:
            recognizer = self._recognizer
        assert recognizer is not None
        try:
            transcript = recognizer.transcribe_wav(path)
        except (OSError, ValueError) as exc:
            self.get_logger().error(f"cannot transcribe {path}: {exc}")
            return
        self._publish(transcript)

    def _on_audio(self, msg: UInt8MultiArray) -> None:
        with self._lock:
            recognizer = self._recognizer
        if recognizer is None:
            self.get_logger().warning("voice: audio before the grammar is ready; ignored")
            return
        pcm = np.frombuffer(bytes(msg.data), dtype="<i2")
        if pcm.size == 0:
            return
        self._publish(recognizer.transcribe(pcm))

    def _wait_for_listener(self) -> None:
        """A file is transcribed once: make sure its listeners (the executive, ...) are there to hear it.

        ``count_subscribers`` sees a subscription as soon as discovery announces it, slightly before
        the match is complete on the subscriber's side, hence the short settle afterwards.
        """
        deadline = time.monotonic() + self._subscriber_wait_s
        while self.count_subscribers("/voice/transcript") < self._min_listeners and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)

    def _publish(self, transcript: Transcript) -> None:
        self.transcripts.append(transcript)
        text = transcript.text.strip()
        if transcript.accepted(self._min_confidence):
            self.get_logger().info(f"heard {text!r} (confidence {transcript.confidence:.2f})")
            payload = {"text": text, "confidence": round(float(transcript.confidence), 4), "source": "voice",
                       "language": self._language}
            self._transcript_pub.publish(String(data=json.dumps(payload)))
            return
        self.get_logger().warning(f"low confidence {transcript.confidence:.2f} for {text!r}: asking again")
        self._ask_pub.publish(String(data=json.dumps(
            {"text": ASK_AGAIN_TEXT, "heard": text, "confidence": round(float(transcript.confidence), 4)})))
        self._say_pub.publish(String(data=json.dumps({"robot": "voice", "text": ASK_AGAIN_TEXT})))


def main(args: list[str] | None = None) -> None:
    """Run the voice node until Ctrl-C."""
    rclpy.init(args=args)
    node = None
    try:
        node = VoiceNode()
        spin_until_shutdown(events_executor(node), node.context)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
