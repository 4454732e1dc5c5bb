"""``reflexarc listen WAV``: a spoken command file to a transcript, then to a plan (embedded planner).

The same path a voice_node takes on the robot, without ROS: the grammar is built from the scene the
plan is made for, so what can be heard is exactly what can be planned. A transcript below the
confidence threshold is not planned at all: the person is asked to repeat instead.

Exit codes: 0 planned; 2 not understood (low confidence) or rejected by the planner; 1 the WAV or
the scene could not be read.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

__all__ = ["ASK_AGAIN_MESSAGE", "register"]

_log = logging.getLogger(__name__)

ASK_AGAIN_MESSAGE = "did not understand, please repeat"

EXIT_PLANNED = 0
EXIT_ERROR = 1
EXIT_NOT_PLANNED = 2


def _transcript_json(transcript) -> dict[str, Any]:
    """The transcript part of ``listen --json`` output."""
    return {
        "text": transcript.text,
        "confidence": round(float(transcript.confidence), 4),
        "complete": transcript.complete,
        "duration_s": round(float(transcript.duration_s), 3),
        "decode_ms": round(float(transcript.decode_ms), 1),
    }


def _write_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


def _handle_listen(args: argparse.Namespace) -> int:
    from cloud_planner.backend import create_backend, plan_command
    from cloud_planner.cli import load_scene
    from cloud_planner.errors import PlanRejected, RejectCode
    from cloud_planner.plan import Command, CommandSource, plan_to_json
    from edge_agent.speech_grammar import build_grammar
    from edge_agent.speech_recognizer import SpeechRecognizer
    from reflexarc.scene_graph import SceneGraphError
    from reflexarc.utterance_audio import AudioFileError

    try:
        scene = load_scene(args.scene)
    except (OSError, SceneGraphError, ValueError) as exc:
        sys.stderr.write(f"error: cannot load scene {args.scene}: {exc}\n")
        return EXIT_ERROR
    recognizer = SpeechRecognizer(build_grammar(scene), min_confidence=args.min_confidence)
    try:
        transcript = recognizer.transcribe_wav(args.wav)
    except AudioFileError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_ERROR
    heard = _transcript_json(transcript)

    if not recognizer.accepts(transcript):
        sys.stderr.write(f"{ASK_AGAIN_MESSAGE} (heard {transcript.text!r}, confidence "
                         f"{transcript.confidence:.2f} < {args.min_confidence:.2f})\n")
        if args.json:
            _write_json({"error": {"code": RejectCode.NOT_UNDERSTOOD.value, "message": ASK_AGAIN_MESSAGE,
                                   "candidates": []}, "transcript": heard})
        return EXIT_NOT_PLANNED

    command = Command(transcript.text, "en", CommandSource.VOICE, asr_confidence=float(transcript.confidence))
    try:
        plan = plan_command(create_backend("embedded"), command, scene)
    except PlanRejected as exc:
        sys.stderr.write(f"heard {transcript.text!r}; rejected ({exc.code.value}): {exc.message}\n")
        if args.json:
            _write_json({**exc.to_json(), "transcript": heard})
        return EXIT_NOT_PLANNED

    if args.json:
        _write_json({**plan_to_json(plan), "transcript": heard})
    else:
        out = sys.stdout
        out.write(f"heard: {transcript.text!r} (confidence {transcript.confidence:.2f}, "
                  f"{transcript.decode_ms:.0f} ms)\n")
        out.write(f"plan {plan.plan_id}: {plan.summary}\n")
        for step in plan.steps:
            step_args = ", ".join(f"{k}={v}" for k, v in step.args.items())
            out.write(f"  {step.index:2d} {step.robot}: {step.skill}({step_args})\n")
    return EXIT_PLANNED


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``listen``."""
    from edge_agent.speech_recognizer import DEFAULT_MIN_CONFIDENCE

    parser = subparsers.add_parser("listen", help="transcribe a spoken command (WAV) and print its plan")
    parser.add_argument("wav", metavar="WAV", help="the utterance: a PCM WAV file (any rate, mono or stereo)")
    parser.add_argument("--scene", metavar="FILE", help="scene graph JSON or home layout YAML (default: seed home)")
    parser.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE, metavar="C",
                        help=f"ask again below this transcript confidence (default {DEFAULT_MIN_CONFIDENCE})")
    parser.add_argument("--json", action="store_true", help="print the plan (or the refusal) and transcript as JSON")
    parser.set_defaults(func=_handle_listen)
