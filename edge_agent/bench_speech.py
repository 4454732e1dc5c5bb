"""``reflexarc bench speech``: accuracy, confidence and decode time of on-robot speech recognition.

Twenty spoken commands covering every template of the grammar are synthesised with espeak-ng in two
voices at two speaking rates, then transcribed against the seed home's grammar. Reported: exact
transcript accuracy, how many correct transcripts the act-or-ask-again policy acts on, how often it
acts on a wrong one, how often out-of-grammar sentences, noise or silence would be acted on, and the
decode time per utterance (wall and CPU). Speech with white noise at 10 dB SNR is measured too unless
``--quick``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["COMMANDS", "OUT_OF_GRAMMAR", "VOICES", "bench_speech"]

COMMANDS: tuple[str, ...] = (
    "bring me the red cup from the kitchen",
    "clean the living room",
    "turn on the kitchen light",
    "i'm home",
    "go to the bedroom",
    "set the thermostat to twenty two degrees",
    "turn off the air purifier",
    "put the blue cup on the coffee table",
    "carry the luggage inside",
    "stop",
    "cancel",
    "clean the living room and then bring me the red cup",
    "fetch me the green mug",
    "turn off the bedroom light",
    "get me the yellow toy from the living room",
    "go to the kitchen and then turn on the kitchen light",
    "turn on the air purifier",
    "bring me the white bowl",
    "clean the bedroom",
    "set the thermostat to eighteen degrees",
)

OUT_OF_GRAMMAR: tuple[str, ...] = (
    "what is the weather like today",
    "open the window please",
    "call my mother on the phone",
    "play some music",
    "how old are you",
    "the quick brown fox jumps over the lazy dog",
    "bring me a sandwich",
    "red",
    "turn up the volume",
    "where did i leave my keys",
)

# (espeak-ng voice, words per minute): the default male voice at a calm pace, a female variant faster.
VOICES: tuple[tuple[str, int], ...] = (("en-us", 150), ("en-us+f3", 175))


def _percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else 0.0


def bench_speech(args: argparse.Namespace) -> dict[str, Any]:
    """Synthesise, transcribe and score; returns the JSON-able result."""
    from cloud_planner import Command, CommandSource, PlanRejected, create_backend, plan_command, plan_digest
    from edge_agent.speech_grammar import build_grammar
    from edge_agent.speech_recognizer import SpeechRecognizer
    from reflexarc.utterance_audio import add_noise, synthesize, write_noise
    from sim.home_layout import load_home_layout

    quick = bool(getattr(args, "quick", False))
    seed = int(getattr(args, "seed", 0) or 0)
    scene = load_home_layout().scene_graph()
    recognizer = SpeechRecognizer(build_grammar(scene))
    planner = create_backend("embedded")

    def plan_of(text: str) -> str | None:
        """The digest of the plan for ``text`` (None when nothing was heard or the plan is refused)."""
        if not text:
            return None
        try:
            return plan_digest(plan_command(planner, Command(text, "en", CommandSource.VOICE), scene).steps)
        except PlanRejected:
            return None

    commands = COMMANDS[:6] if quick else COMMANDS
    rows: list[dict[str, Any]] = []

    def measure(kind: str, voice: str, said: str, wav: Path) -> None:
        cpu = time.process_time()
        transcript = recognizer.transcribe_wav(wav)
        cpu_ms = (time.process_time() - cpu) * 1e3
        rows.append({
            "kind": kind, "voice": voice, "said": said, "heard": transcript.text,
            "confidence": round(transcript.confidence, 3),
            "margin": None if transcript.margin is None else round(transcript.margin, 2),
            "accepted": recognizer.accepts(transcript),
            "same_plan": kind != "noise" and plan_of(transcript.text) is not None
            and plan_of(transcript.text) == plan_of(said),
            "decode_ms": round(transcript.decode_ms, 1), "cpu_ms": round(cpu_ms, 1),
            "duration_s": round(transcript.duration_s, 2),
        })

    with tempfile.TemporaryDirectory(prefix="reflexarc-bench-speech-") as tmp:
        out = Path(tmp)
        for voice, rate in VOICES:
            label = f"{voice}@{rate}"
            for i, text in enumerate(commands):
                wav = synthesize(text, out / f"{voice}_{rate}_cmd{i}.wav", voice=voice, rate=rate)
                measure("command", label, text, wav)
                if not quick and voice == VOICES[0][0]:
                    measure("command_snr10", label, text, add_noise(wav, 10.0, seed=seed + i))
            for i, text in enumerate(OUT_OF_GRAMMAR[: 3 if quick else None]):
                measure("out_of_grammar", label, text,
                        synthesize(text, out / f"{voice}_{rate}_oog{i}.wav", voice=voice, rate=rate))
        for i, level in enumerate((-40.0, -30.0, -20.0, -10.0)):
            measure("noise", "-", f"white noise {level:g} dBFS",
                    write_noise(out / f"noise{i}.wav", 2.0, level, seed=seed + i))
        measure("noise", "-", "silence", write_noise(out / "silence.wav", 2.0, float("-inf")))

    def summary(kind: str) -> dict[str, Any]:
        selected = [r for r in rows if r["kind"] == kind]
        n = len(selected)
        exact = [r for r in selected if r["heard"] == r["said"]]
        return {
            "n": n,
            "exact_accuracy": round(len(exact) / n, 3) if n else 0.0,
            "same_plan_accuracy": round(sum(r["same_plan"] for r in selected) / n, 3) if n else 0.0,
            "acted_on_same_plan_rate": round(sum(r["same_plan"] and r["accepted"] for r in selected) / n, 3)
            if n else 0.0,
            "acted_on_different_plan_rate": round(
                sum(r["accepted"] and not r["same_plan"] for r in selected) / n, 3) if n else 0.0,
            "acted_on_correct_rate": round(sum(r["accepted"] for r in exact) / n, 3) if n else 0.0,
            "acted_on_wrong_rate": round(sum(r["accepted"] for r in selected if r not in exact) / n, 3) if n else 0.0,
        }

    commands_rows = [r for r in rows if r["kind"] == "command"]
    decode = [r["decode_ms"] for r in commands_rows]
    cpu = [r["cpu_ms"] for r in commands_rows]
    rtf = [r["decode_ms"] / 1e3 / r["duration_s"] for r in commands_rows if r["duration_s"]]
    per_voice = {}
    for voice, rate in VOICES:
        label = f"{voice}@{rate}"
        mine = [r for r in commands_rows if r["voice"] == label]
        per_voice[label] = round(sum(r["heard"] == r["said"] for r in mine) / len(mine), 3) if mine else 0.0
    non_speech = [r for r in rows if r["kind"] in ("out_of_grammar", "noise")]
    return {
        "grammar": "seed home",
        "voices": [f"{v}@{r}" for v, r in VOICES],
        "min_confidence": recognizer.min_confidence,
        "commands": summary("command"),
        "commands_snr10": summary("command_snr10") if not quick else None,
        "exact_accuracy_per_voice": per_voice,
        "out_of_grammar_acted_on_rate": round(
            sum(r["accepted"] for r in rows if r["kind"] == "out_of_grammar")
            / max(1, sum(r["kind"] == "out_of_grammar" for r in rows)), 3),
        "noise_acted_on": sum(r["accepted"] for r in rows if r["kind"] == "noise"),
        "non_speech_max_confidence": max((r["confidence"] for r in non_speech), default=0.0),
        "decode_ms_p50": _percentile(decode, 50),
        "decode_ms_p95": _percentile(decode, 95),
        "decode_ms_max": round(max(decode), 1) if decode else 0.0,
        "decode_cpu_ms_p50": _percentile(cpu, 50),
        "real_time_factor_p50": round(float(np.median(rtf)), 3) if rtf else 0.0,
        "utterance_s_p50": round(float(np.median([r["duration_s"] for r in commands_rows])), 2),
        "errors": [r for r in rows if r["kind"].startswith("command") and r["heard"] != r["said"]],
        "rows": rows,
    }
