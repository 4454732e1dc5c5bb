"""Speech to text on the robot: pocketsphinx constrained by the scene's command grammar.

``SpeechRecognizer`` turns one utterance (mono 16-bit PCM, or a WAV file) into a
``Transcript``: the words of the best-matching command of the JSGF grammar plus a confidence that
says whether to act on them or to ask the person to repeat.

Decoding against a grammar always yields *some* command, even for a cough or "what's the weather",
so the confidence cannot come from the grammar search alone. It is a likelihood-ratio test: the same
audio is decoded a second time by a free phone loop (any sequence of English phones), which explains
speech about as well as the audio allows whatever was said. When the person said a command of the
grammar, the grammar path scores close to the phone loop (sometimes better, since the phone loop pays
for its freedom); when they said something else, the grammar path is forced through the wrong
sounds and falls far behind. The per-frame score margin (grammar minus phone loop, over the
trimmed utterance) is mapped through a logistic curve calibrated on synthesised speech (see
``ConfidenceCalibration``). The confidence is 0 when there is no speech at all (silence, or noise
with no phone-like frames), when the grammar search found no complete command, or when the search
ended inside a command (a partial hypothesis). It is a score for deciding, not a probability.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reflexarc.utterance_audio import DEFAULT_SAMPLE_RATE, load_wav, resample

__all__ = [
    "ConfidenceCalibration",
    "DEFAULT_MIN_CONFIDENCE",
    "SpeechRecognizer",
    "Transcript",
]

_log = logging.getLogger(__name__)

DEFAULT_MIN_CONFIDENCE = 0.5

_MODEL_RATE = 16000  # the en-us acoustic model's sample rate
_GRAMMAR_SEARCH = "commands"
_PHONE_SEARCH = "phones"
_FRAME_S = 0.01  # pocketsphinx: 100 frames per second
_FILLERS = frozenset({"<s>", "</s>", "<sil>", "SIL", "[NOISE]", "+NSN+", "+SPN+", "(NULL)"})


@dataclass(frozen=True)
class ConfidenceCalibration:
    """How the grammar-vs-phone-loop score margin maps to a confidence in [0, 1].

    ``confidence = 1 / (1 + exp(-(margin - center) / width))``; at ``margin == center`` it is 0.5.
    The defaults were fitted on espeak-ng speech (the 20 commands and 10 unrelated sentences of
    ``edge_agent.bench_speech`` in four voices: en-us@150, en-us+f3@175, en-gb@160, en-us+m3@140 wpm).
    Correctly recognised commands scored margins from -7.8 up to +14, except two "cancel"s (-11.0,
    -8.3); unrelated sentences scored from -27 up to -9.5, except "bring me a sandwich" heard as
    "bring user the toy" (-8.0, -6.3). The center sits in that gap, and the width maps -9.5 and -6.5
    to about 0.27 and 0.73. Margins are in pocketsphinx log-score units per 10 ms frame.

    Attributes:
        center: the margin that maps to confidence 0.5.
        width: how many margin units move the confidence from 0.5 to 0.73.
        min_speech_s: less phone-loop speech than this (seconds) is "no speech": confidence 0.
    """

    center: float = -8.0
    width: float = 1.5
    min_speech_s: float = 0.1

    def confidence(self, margin: float) -> float:
        """The confidence for a per-frame score margin."""
        z = (margin - self.center) / self.width
        return 1.0 / (1.0 + math.exp(-z)) if z > -50 else 0.0


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard in one utterance.

    Attributes:
        text: the words of the recognised command, lower case ("bring me the red cup from the
            kitchen"); empty when nothing was recognised.
        confidence: in [0, 1]; act when it reaches the policy's ``min_confidence``, otherwise ask the
            person to repeat. See the module docstring for what it measures.
        duration_s: length of the audio that was given.
        decode_ms: wall time spent decoding (both searches), in milliseconds.
        complete: whether the words form a whole command of the grammar (False for a partial
            hypothesis, which always has confidence 0).
        margin: grammar-minus-phone-loop score per frame (None when there was nothing to compare).
        speech_s: seconds of speech the phone loop found.
    """

    text: str
    confidence: float
    duration_s: float
    decode_ms: float
    complete: bool = False
    margin: float | None = None
    speech_s: float = 0.0

    def accepted(self, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> bool:
        """Whether to act on this transcript ("act") rather than ask again."""
        return bool(self.text) and self.complete and self.confidence >= min_confidence


@dataclass(frozen=True)
class _Decode:
    """One search over one utterance: its words, path score and per-word frames."""

    text: str
    score: float | None
    words: tuple[tuple[str, int, int], ...] = field(default=())


class SpeechRecognizer:
    """Recognise spoken commands of one JSGF grammar (and score how sure it is) with pocketsphinx.

    Not thread-safe: one decoder, one utterance at a time. Construction loads the en-us acoustic
    model (about 0.2 s); reuse the instance.

    Args:
        grammar: JSGF text, normally ``edge_agent.speech_grammar.build_grammar(scene)``.
        sample_rate: the rate of PCM passed to ``transcribe``. The en-us acoustic model is 16 kHz, so
            audio at any other rate is resampled to 16 kHz before decoding.
        calibration: how score margins map to confidence.
        min_confidence: the default threshold of ``accepts``.

    Raises:
        ValueError: the grammar does not parse or uses words missing from the dictionary.
    """

    def __init__(
        self,
        grammar: str,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        calibration: ConfidenceCalibration | None = None,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        from pocketsphinx import Decoder, get_model_path

        self.sample_rate = int(sample_rate)
        self.calibration = calibration if calibration is not None else ConfidenceCalibration()
        self.min_confidence = float(min_confidence)
        # Batch CMN (the utterance is complete) and no bestpath rescoring: on an FSG, bestpath picks
        # lattice paths that end outside the grammar's final state. Beams wider than the defaults keep
        # the right command alive through long utterances.
        self._decoder = Decoder(
            lm=None,
            samprate=float(_MODEL_RATE),
            cmn="batch",
            bestpath=False,
            beam=1e-60,
            wbeam=1e-48,
            pbeam=1e-60,
            loglevel="FATAL",
        )
        try:
            self._decoder.add_jsgf_string(_GRAMMAR_SEARCH, grammar)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"the speech grammar was rejected by pocketsphinx: {exc}") from exc
        self._decoder.add_allphone_file(_PHONE_SEARCH, get_model_path("en-us/en-us-phone.lm.bin"))
        self._fsg = self._decoder.get_fsg(_GRAMMAR_SEARCH)
        self._logmath = self._decoder.get_logmath()

    def accepts(self, transcript: Transcript) -> bool:
        """The act-or-ask-again policy: act only on a complete command at ``min_confidence`` or more."""
        return transcript.accepted(self.min_confidence)

    def transcribe_wav(self, path: str | Path) -> Transcript:
        """Transcribe a WAV file (any integer PCM rate, width or channel count; converted to 16 kHz mono).

        Raises:
            reflexarc.utterance_audio.AudioFileError: missing, empty, truncated or non-WAV file.
        """
        samples = load_wav(path, sample_rate=_MODEL_RATE)
        return self._transcribe_model_rate(samples, samples.size / _MODEL_RATE)

    def transcribe(self, pcm: bytes | np.ndarray) -> Transcript:
        """Transcribe one complete utterance of mono 16-bit PCM at ``sample_rate``.

        ``pcm`` is raw little-endian int16 bytes or an int16 (or float in [-1, 1]) array.
        """
        samples = _as_int16(pcm)
        duration_s = samples.size / self.sample_rate
        if self.sample_rate != _MODEL_RATE:
            resampled = resample(samples.astype(np.float64) / 32768.0, self.sample_rate, _MODEL_RATE)
            samples = np.clip(np.round(resampled * 32768.0), -32768, 32767).astype(np.int16)
        return self._transcribe_model_rate(samples, duration_s)

    def _transcribe_model_rate(self, samples: np.ndarray, duration_s: float) -> Transcript:
        """Decode 16 kHz int16 samples with both searches and score the result."""
        started = time.perf_counter()
        speech = _trim_silence(samples, _MODEL_RATE)
        if speech is None:
            return Transcript("", 0.0, duration_s, (time.perf_counter() - started) * 1e3)
        speech = _normalise_level(speech, _MODEL_RATE)
        padded = _dither(np.concatenate([_pad(_MODEL_RATE), speech, _pad(_MODEL_RATE)])).tobytes()
        heard = self._decode(_GRAMMAR_SEARCH, padded)
        phones = self._decode(_PHONE_SEARCH, padded)
        decode_ms = (time.perf_counter() - started) * 1e3
        n_frames = max(1, self._decoder.n_frames())
        speech_s = _FRAME_S * sum(end - start + 1 for word, start, end in phones.words if word not in _FILLERS)
        complete = bool(heard.text) and bool(self._fsg.accept(heard.text))
        margin = None
        if heard.score is not None and phones.score is not None:
            margin = (heard.score - phones.score) / n_frames
        confidence = 0.0
        if complete and margin is not None and speech_s >= self.calibration.min_speech_s:
            confidence = self.calibration.confidence(margin)
        transcript = Transcript(heard.text, confidence, duration_s, decode_ms, complete, margin, speech_s)
        _log.debug("heard %r confidence %.2f margin %s speech %.2fs in %.0f ms", transcript.text,
                   confidence, None if margin is None else f"{margin:.1f}", speech_s, decode_ms)
        return transcript

    def _decode(self, search: str, pcm: bytes) -> _Decode:
        """Run one search over the whole utterance."""
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None:
            return _Decode("", None)
        words = tuple((seg.word, seg.start_frame, seg.end_frame) for seg in (decoder.seg() or ()))
        score = self._logmath.log(hyp.score) if hyp.score > 0 else None
        return _Decode(" ".join(hyp.hypstr.split()), score, words)


def _as_int16(pcm: bytes | np.ndarray) -> np.ndarray:
    """Raw int16 bytes, an int16 array or a float array in [-1, 1] as a flat int16 array."""
    if isinstance(pcm, (bytes, bytearray, memoryview)):
        raw = bytes(pcm)
        if len(raw) % 2:
            raise ValueError("16-bit PCM must have an even number of bytes")
        return np.frombuffer(raw, dtype="<i2").astype(np.int16)
    array = np.asarray(pcm)
    if array.ndim != 1:
        raise ValueError(f"expected mono PCM (1-D samples), got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.round(array * 32768.0), -32768, 32767).astype(np.int16)
    if array.dtype != np.int16:
        raise ValueError(f"expected int16 or float samples, got {array.dtype}")
    return array


def _pad(sample_rate: int) -> np.ndarray:
    """0.3 s of silence: the decoder needs silence around speech to place word boundaries."""
    return np.zeros(int(0.3 * sample_rate), dtype=np.int16)


def _normalise_level(samples: np.ndarray, sample_rate: int, target_dbfs: float = -20.0) -> np.ndarray:
    """Scale speech so its louder half of 10 ms frames has ``target_dbfs`` RMS (peaks never clip).

    The decoder pads speech with digital silence; without a fixed speech level, a quiet microphone
    changes the contrast between speech and that silence, and with it the transcript and confidence.
    """
    frame = max(1, sample_rate // 100)
    n = samples.size // frame
    if n == 0:
        return samples
    power = np.sort(np.mean(samples[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    loud_rms = math.sqrt(float(power[n // 2:].mean()))
    peak = float(np.abs(samples.astype(np.float64)).max())
    if loud_rms <= 0.0 or peak <= 0.0:
        return samples
    gain = min(32768.0 * 10.0 ** (target_dbfs / 20.0) / loud_rms, 32000.0 / peak)
    return np.clip(np.round(samples.astype(np.float64) * gain), -32768, 32767).astype(np.int16)


def _dither(samples: np.ndarray, rms: float = 2.0) -> np.ndarray:
    """Add a fixed, tiny noise floor (about -84 dBFS) so digital silence looks like a real microphone.

    Stretches of exact zeros (padding, or pauses in synthesised or gated audio) give degenerate
    log-energy features whose effect on the decode depends on how the audio was produced; a
    seeded floor makes the same samples always decode the same way.
    """
    noise = np.random.default_rng(0).normal(0.0, rms, samples.size)
    return np.clip(np.round(samples.astype(np.float64) + noise), -32768, 32767).astype(np.int16)


def _trim_silence(samples: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """The stretch from the first to the last loud 10 ms frame (with 0.2 s margins); None if all quiet.

    "Loud" is within 35 dB of the loudest frame and above an absolute floor (-60 dBFS), so leading and
    trailing silence of any length does not dilute the per-frame score margin.
    """
    frame = max(1, sample_rate // 100)
    n = samples.size // frame
    if n == 0:
        return None
    frames = samples[: n * frame].astype(np.float64).reshape(n, frame)
    energy_db = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-9) - 20.0 * math.log10(32768.0)
    loud = np.flatnonzero((energy_db > energy_db.max() - 35.0) & (energy_db > -60.0))
    if loud.size == 0:
        return None
    margin = int(0.2 * sample_rate)
    start = max(0, loud[0] * frame - margin)
    end = min(samples.size, (loud[-1] + 1) * frame + margin)
    return samples[start:end]
