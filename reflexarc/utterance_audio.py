"""Utterance audio: synthesised spoken commands and the WAV plumbing around them.

Tests, the demo and the speech benchmark need a person saying "bring me the red cup from the
kitchen" without a microphone or a recording checked into the repo. ``synthesize`` makes that WAV with
espeak-ng (speech) and sox (resampling to the recogniser's 16 kHz mono 16-bit), ``add_noise`` and
``write_noise`` make the harder cases (a noisy room, no speech at all), and ``load_wav`` turns any
common PCM WAV into the 16 kHz mono int16 samples the recogniser consumes, with a clear error for a
file that is not one.
"""

from __future__ import annotations

import io
import logging
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

__all__ = [
    "AudioFileError",
    "AudioToolMissingError",
    "DEFAULT_SAMPLE_RATE",
    "add_noise",
    "load_wav",
    "resample",
    "synthesize",
    "write_noise",
    "write_wav",
]

_log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 16000
_SYNTH_TIMEOUT_S = 60.0
_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


class AudioToolMissingError(RuntimeError):
    """A command-line audio tool (espeak-ng or sox) that synthesis needs is not installed."""


class AudioFileError(ValueError):
    """A file that cannot be used as utterance audio: missing, empty, truncated or not a PCM WAV."""


def _require_tool(name: str, package: str) -> str:
    """The absolute path of ``name``, or an error that says which package provides it."""
    path = shutil.which(name)
    if path is None:
        raise AudioToolMissingError(
            f"{name} is not installed or not on PATH; install it (e.g. `apt-get install {package}`)"
        )
    return path


def synthesize(
    text: str,
    path: str | Path,
    voice: str = "en-us",
    rate: int = 150,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
) -> Path:
    """Speak ``text`` with espeak-ng into a mono 16-bit WAV at ``sample_rate`` and return its path.

    Args:
        text: what to say.
        path: the WAV file to write (parent directories are created).
        voice: an espeak-ng voice, e.g. ``en-us`` or ``en-us+f3`` (a variant changes the speaker).
        rate: speaking rate in words per minute (espeak-ng ``-s``; 80-450).
        sample_rate: output sample rate in Hz (sox resamples espeak's native 22.05 kHz).

    Raises:
        AudioToolMissingError: espeak-ng or sox is not installed.
        ValueError: ``text`` is empty.
        RuntimeError: a tool failed (its stderr is included).
    """
    if not text.strip():
        raise ValueError("nothing to synthesise: text is empty")
    espeak = _require_tool("espeak-ng", "espeak-ng")
    sox = _require_tool("sox", "sox")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reflexarc-tts-") as tmp:
        raw = Path(tmp) / "espeak.wav"
        _run([espeak, "-v", voice, "-s", str(int(rate)), "-w", str(raw), "--", text], "espeak-ng")
        # -R: repeatable dither, so the same text always gives the same file (tests rely on it).
        _run([sox, "-R", "-q", str(raw), "-r", str(int(sample_rate)), "-c", "1", "-b", "16", "-e", "signed-integer",
              str(out)], "sox")
    _log.debug("synthesised %r (%s, %d wpm) -> %s", text, voice, rate, out)
    return out


def _run(argv: list[str], tool: str) -> None:
    """Run a tool to completion; raise with its stderr when it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=_SYNTH_TIMEOUT_S, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()}")


def load_wav(path: str | Path, sample_rate: int = DEFAULT_SAMPLE_RATE) -> np.ndarray:
    """Read a PCM WAV as mono int16 samples at ``sample_rate`` (channels averaged, resampled if needed).

    Supports 8-, 16-, 24- and 32-bit integer PCM at any rate and channel count.

    Raises:
        AudioFileError: the file is missing, empty, not a WAV, not integer PCM, holds no samples, or is
            shorter than its header declares (truncated).
    """
    wav_path = Path(path)
    if not wav_path.is_file():
        raise AudioFileError(f"{wav_path}: no such file")
    if wav_path.stat().st_size == 0:
        raise AudioFileError(f"{wav_path}: file is empty")
    try:
        with wave.open(_as_plain_pcm(wav_path.read_bytes()), "rb") as wav:
            channels, width, rate, declared = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(),
                                               wav.getnframes())
            data = wav.readframes(declared)
    except (wave.Error, EOFError) as exc:
        reason = str(exc) or "the header is cut short"
        if reason.startswith("unknown format"):
            reason += "; only integer PCM is supported, convert with `sox IN -b 16 -e signed-integer OUT`"
        raise AudioFileError(f"{wav_path}: not a readable PCM WAV file ({reason})") from exc
    frames = len(data) // (channels * width) if channels and width else 0
    if frames < declared:
        raise AudioFileError(f"{wav_path}: truncated: header declares {declared} frames, file holds {frames}")
    if frames == 0:
        raise AudioFileError(f"{wav_path}: WAV holds no audio samples")
    samples = _pcm_to_float(data[: frames * channels * width], width).reshape(frames, channels).mean(axis=1)
    if rate != sample_rate:
        samples = resample(samples, rate, sample_rate)
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def _as_plain_pcm(data: bytes) -> io.BytesIO:
    """The WAV bytes, with a WAVE_FORMAT_EXTENSIBLE integer-PCM header relabelled as plain PCM.

    Recorders and sox write multichannel or 24-bit audio as "extensible" WAV, which the stdlib ``wave``
    module (before Python 3.12) refuses although the samples are ordinary PCM. Float or compressed
    subformats are left alone, so ``wave`` still rejects them with its own message.
    """
    buffer = bytearray(data)
    if buffer[:4] == b"RIFF" and buffer[8:12] == b"WAVE":
        pos = 12
        while pos + 8 <= len(buffer):
            chunk_id, size = bytes(buffer[pos:pos + 4]), struct.unpack_from("<I", buffer, pos + 4)[0]
            if chunk_id == b"fmt ":
                tag = struct.unpack_from("<H", buffer, pos + 8)[0] if size >= 2 else 0
                # The subformat GUID starts 24 bytes into an extensible fmt chunk; PCM is 0x0001.
                if tag == _WAVE_FORMAT_EXTENSIBLE and size >= 40 and pos + 34 <= len(buffer):
                    if struct.unpack_from("<H", buffer, pos + 8 + 24)[0] == _WAVE_FORMAT_PCM:
                        struct.pack_into("<H", buffer, pos + 8, _WAVE_FORMAT_PCM)
                break
            pos += 8 + size + (size & 1)
    return io.BytesIO(bytes(buffer))


def _pcm_to_float(data: bytes, width: int) -> np.ndarray:
    """Integer PCM bytes (little-endian, WAV conventions) as floats in [-1, 1)."""
    if width == 1:
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0
    if width == 3:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        return ints.astype(np.float64) / float(1 << 23)
    if width == 4:
        return np.frombuffer(data, dtype="<i4").astype(np.float64) / float(1 << 31)
    raise AudioFileError(f"unsupported sample width: {width} bytes")


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample a mono float signal (windowed-sinc low-pass before decimation, then linear interpolation).

    Good enough for speech recognition at 16 kHz; not meant for hi-fi audio.
    """
    if rate_in == rate_out or samples.size == 0:
        return samples.astype(np.float64)
    x = samples.astype(np.float64)
    if rate_out < rate_in:
        cutoff = 0.45 * rate_out / rate_in  # cycles per input sample, a little below the new Nyquist
        taps = np.arange(-32, 33)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(taps.size)
        x = np.convolve(x, kernel / kernel.sum(), mode="same")
    n_out = max(1, int(round(x.size * rate_out / rate_in)))
    t_out = np.arange(n_out) * (rate_in / rate_out)
    return np.interp(t_out, np.arange(x.size), x)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = DEFAULT_SAMPLE_RATE) -> Path:
    """Write mono int16 samples (or floats in [-1, 1]) as a 16-bit PCM WAV and return its path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if np.issubdtype(samples.dtype, np.floating):
        samples = np.clip(np.round(samples * 32768.0), -32768, 32767)
    pcm = np.asarray(samples, dtype="<i2")
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(pcm.tobytes())
    return out


def add_noise(
    path: str | Path,
    snr_db: float,
    out: str | Path | None = None,
    seed: int = 0,
) -> Path:
    """Mix white Gaussian noise into a WAV at a signal-to-noise ratio and write the result.

    The signal power is measured over the louder half of the 20 ms frames (where the speech is), so
    leading and trailing silence does not make the noise quieter than ``snr_db`` promises.

    Args:
        path: the clean WAV.
        snr_db: speech-to-noise power ratio in dB (lower is noisier).
        out: where to write; default ``<stem>_snr<N>db.wav`` beside ``path``.
        seed: noise generator seed (same seed, same noise).
    """
    src = Path(path)
    with wave.open(str(src), "rb") as wav:
        rate = wav.getframerate()
    samples = load_wav(src, sample_rate=rate).astype(np.float64)
    frame = max(1, rate // 50)
    usable = samples[: samples.size - samples.size % frame] if samples.size >= frame else samples
    powers = np.sort((usable.reshape(-1, frame) ** 2).mean(axis=1)) if usable.size >= frame else np.array(
        [np.mean(samples**2)])
    signal_power = float(powers[powers.size // 2:].mean()) or 1.0
    noise_power = signal_power / (10.0 ** (snr_db / 10.0))
    noise = np.random.default_rng(seed).normal(0.0, np.sqrt(noise_power), samples.size)
    target = Path(out) if out is not None else src.with_name(f"{src.stem}_snr{snr_db:g}db.wav")
    return write_wav(target, np.clip(np.round(samples + noise), -32768, 32767).astype(np.int16), rate)


def write_noise(
    path: str | Path,
    duration_s: float = 2.0,
    level_dbfs: float = -20.0,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    seed: int = 0,
) -> Path:
    """Write a WAV of white Gaussian noise (no speech at all) at an RMS level in dB full scale.

    ``level_dbfs=-inf`` writes digital silence.
    """
    n = max(1, int(round(duration_s * sample_rate)))
    rms = 32768.0 * 10.0 ** (level_dbfs / 20.0)
    noise = np.random.default_rng(seed).normal(0.0, rms, n) if np.isfinite(rms) and rms > 0 else np.zeros(n)
    return write_wav(path, np.clip(np.round(noise), -32768, 32767).astype(np.int16), sample_rate)
