"""Utterance audio: espeak-ng + sox synthesis, noise mixing and WAV reading for the speech tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave

import numpy as np
import pytest

from reflexarc.utterance_audio import (
    AudioToolMissingError,
    add_noise,
    load_wav,
    synthesize,
    write_noise,
    write_wav,
)


@pytest.fixture(scope="module")
def stop_wav(tmp_path_factory):
    return synthesize("stop", tmp_path_factory.mktemp("audio") / "stop.wav")


def test_synthesis_writes_16_khz_mono_16_bit_speech(stop_wav):
    with wave.open(str(stop_wav)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert 0.2 < wav.getnframes() / wav.getframerate() < 2.0
    assert np.abs(load_wav(stop_wav)).max() > 3000


def test_synthesis_of_the_same_text_is_byte_for_byte_repeatable(stop_wav, tmp_path):
    again = synthesize("stop", tmp_path / "again.wav")
    assert again.read_bytes() == stop_wav.read_bytes()


def test_synthesis_without_espeak_ng_names_the_missing_tool(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AudioToolMissingError, match="espeak-ng"):
        synthesize("stop", tmp_path / "x.wav")


def test_synthesis_without_sox_names_the_missing_tool(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(shutil.which("espeak-ng"), bin_dir / "espeak-ng")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(AudioToolMissingError, match="sox"):
        synthesize("stop", tmp_path / "x.wav")


def test_synthesis_of_empty_text_is_refused(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        synthesize("   ", tmp_path / "x.wav")


def test_noise_is_mixed_at_the_requested_snr_over_the_speech(stop_wav, tmp_path):
    clean = load_wav(stop_wav).astype(np.float64)
    noisy = load_wav(add_noise(stop_wav, snr_db=10.0, out=tmp_path / "noisy.wav", seed=3)).astype(np.float64)
    noise = noisy - clean
    frames = clean[: clean.size // 320 * 320].reshape(-1, 320)
    powers = np.sort((frames**2).mean(axis=1))
    speech_power = powers[powers.size // 2:].mean()
    assert 10 * np.log10(speech_power / np.mean(noise**2)) == pytest.approx(10.0, abs=0.5)


def test_noise_file_has_the_requested_level_and_silence_is_digital_zero(tmp_path):
    noise = load_wav(write_noise(tmp_path / "n.wav", duration_s=1.0, level_dbfs=-20.0)).astype(np.float64)
    assert 20 * np.log10(np.sqrt(np.mean(noise**2)) / 32768.0) == pytest.approx(-20.0, abs=0.2)
    silence = load_wav(write_noise(tmp_path / "s.wav", duration_s=1.0, level_dbfs=float("-inf")))
    assert silence.size == 16000 and not silence.any()


def test_eight_bit_wav_at_another_rate_reads_back_as_the_same_signal(stop_wav, tmp_path):
    eight_bit = tmp_path / "stop_8k_u8.wav"
    subprocess.run(["sox", "-R", str(stop_wav), "-r", "8000", "-b", "8", "-e", "unsigned-integer", str(eight_bit)],
                   check=True)
    original = load_wav(stop_wav, sample_rate=8000).astype(np.float64)
    converted = load_wav(eight_bit, sample_rate=8000).astype(np.float64)
    n = min(original.size, converted.size)
    assert abs(original.size - converted.size) <= 2
    assert np.corrcoef(original[:n], converted[:n])[0, 1] > 0.98


def test_written_samples_read_back_unchanged(tmp_path):
    samples = (np.arange(1600) % 200 * 100 - 10000).astype(np.int16)
    assert np.array_equal(load_wav(write_wav(tmp_path / "ramp.wav", samples)), samples)
