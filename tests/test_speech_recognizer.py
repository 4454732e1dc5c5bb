"""Speech recognition on real synthesised speech: espeak-ng utterances through pocketsphinx."""

from __future__ import annotations

import shutil
import subprocess
import wave

import numpy as np
import pytest

from edge_agent.speech_grammar import build_grammar
from edge_agent.speech_recognizer import ConfidenceCalibration, SpeechRecognizer, Transcript
from reflexarc.utterance_audio import AudioFileError, add_noise, load_wav, synthesize, write_noise
from sim.home_layout import load_home_layout

HIGH_CONFIDENCE = 0.7
LOW_CONFIDENCE = 0.2
SEED_UTTERANCES = (
    "bring me the red cup from the kitchen",
    "clean the living room",
    "turn on the kitchen light",
    "i'm home",
)


@pytest.fixture(scope="module")
def recognizer() -> SpeechRecognizer:
    return SpeechRecognizer(build_grammar(load_home_layout().scene_graph()))


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="module")
def red_cup_wav(speech_dir):
    return synthesize(SEED_UTTERANCES[0], speech_dir / "red_cup.wav")


@pytest.mark.parametrize("utterance", SEED_UTTERANCES)
def test_seed_utterance_is_transcribed_exactly_with_high_confidence(recognizer, speech_dir, utterance):
    wav = synthesize(utterance, speech_dir / f"{utterance.replace(' ', '_')}.wav")
    transcript = recognizer.transcribe_wav(wav)
    assert transcript.text == utterance
    assert transcript.complete
    assert transcript.confidence >= HIGH_CONFIDENCE
    assert recognizer.accepts(transcript)


def test_second_voice_and_faster_speech_is_transcribed_exactly(recognizer, speech_dir):
    wav = synthesize("turn off the air purifier", speech_dir / "purifier_f3.wav", voice="en-us+f3", rate=175)
    transcript = recognizer.transcribe_wav(wav)
    assert transcript.text == "turn off the air purifier"
    assert recognizer.accepts(transcript)


def test_speech_with_background_noise_at_10_db_snr_is_still_understood(recognizer, red_cup_wav, speech_dir):
    noisy = add_noise(red_cup_wav, snr_db=10, out=speech_dir / "red_cup_snr10.wav", seed=1)
    transcript = recognizer.transcribe_wav(noisy)
    assert transcript.text == SEED_UTTERANCES[0]
    assert recognizer.accepts(transcript)


def test_white_noise_gets_low_confidence_and_is_not_acted_on(recognizer, speech_dir):
    transcript = recognizer.transcribe_wav(write_noise(speech_dir / "noise.wav", duration_s=2.0, level_dbfs=-20))
    assert transcript.confidence < LOW_CONFIDENCE
    assert not recognizer.accepts(transcript)


def test_silence_gets_zero_confidence_and_no_text(recognizer, speech_dir):
    transcript = recognizer.transcribe_wav(
        write_noise(speech_dir / "silence.wav", duration_s=2.0, level_dbfs=float("-inf")))
    assert transcript == Transcript("", 0.0, 2.0, transcript.decode_ms)
    assert not recognizer.accepts(transcript)


def test_speech_outside_the_grammar_is_not_acted_on(recognizer, speech_dir):
    wav = synthesize("what is the weather like today", speech_dir / "weather.wav")
    transcript = recognizer.transcribe_wav(wav)
    assert transcript.confidence < 0.5
    assert not recognizer.accepts(transcript)


def test_transcript_reports_the_audio_duration_and_decode_time(recognizer, red_cup_wav):
    with wave.open(str(red_cup_wav)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    transcript = recognizer.transcribe_wav(red_cup_wav)
    assert transcript.duration_s == pytest.approx(seconds)
    assert transcript.decode_ms > 0.0


def test_raw_pcm_bytes_and_sample_arrays_give_the_same_transcript(recognizer, red_cup_wav):
    samples = load_wav(red_cup_wav)
    from_bytes = recognizer.transcribe(samples.tobytes())
    from_array = recognizer.transcribe(samples)
    assert from_bytes.text == from_array.text == SEED_UTTERANCES[0]
    assert from_bytes.confidence == pytest.approx(from_array.confidence)


def test_a_quiet_recording_gives_the_same_transcript_as_a_loud_one(recognizer, red_cup_wav):
    loud = load_wav(red_cup_wav)
    quiet = (loud.astype(np.float64) * 0.1).astype(np.int16)  # 20 dB quieter
    transcript = recognizer.transcribe(quiet)
    assert transcript.text == SEED_UTTERANCES[0]
    assert recognizer.accepts(transcript)


def test_pcm_at_48_khz_is_resampled_for_the_16_khz_model(red_cup_wav):
    recognizer_48k = SpeechRecognizer(build_grammar(load_home_layout().scene_graph()), sample_rate=48000)
    samples = load_wav(red_cup_wav, sample_rate=48000)
    transcript = recognizer_48k.transcribe(samples)
    assert transcript.text == SEED_UTTERANCES[0]
    assert transcript.duration_s == pytest.approx(samples.size / 48000)
    assert recognizer_48k.accepts(transcript)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox makes the 44.1 kHz stereo 24-bit file")
def test_wav_at_another_rate_width_and_channel_count_is_converted(recognizer, red_cup_wav, speech_dir):
    converted = speech_dir / "red_cup_44k_stereo_24bit.wav"
    subprocess.run(["sox", str(red_cup_wav), "-r", "44100", "-c", "2", "-b", "24", str(converted)], check=True)
    transcript = recognizer.transcribe_wav(converted)
    assert transcript.text == SEED_UTTERANCES[0]
    assert recognizer.accepts(transcript)


def test_truncated_wav_is_a_clear_error(recognizer, red_cup_wav, speech_dir):
    cut = speech_dir / "cut.wav"
    cut.write_bytes(red_cup_wav.read_bytes()[:20000])
    with pytest.raises(AudioFileError, match="truncated"):
        recognizer.transcribe_wav(cut)


def test_wav_with_a_cut_header_is_a_clear_error(recognizer, red_cup_wav, speech_dir):
    cut = speech_dir / "header_only.wav"
    cut.write_bytes(red_cup_wav.read_bytes()[:30])
    with pytest.raises(AudioFileError, match="not a readable PCM WAV"):
        recognizer.transcribe_wav(cut)


def test_non_wav_file_is_a_clear_error(recognizer, speech_dir):
    text = speech_dir / "notes.wav"
    text.write_text("bring me the red cup from the kitchen\n" * 10, encoding="utf-8")
    with pytest.raises(AudioFileError, match="RIFF"):
        recognizer.transcribe_wav(text)


def test_empty_and_missing_files_are_clear_errors(recognizer, speech_dir):
    empty = speech_dir / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioFileError, match="empty"):
        recognizer.transcribe_wav(empty)
    with pytest.raises(AudioFileError, match="no such file"):
        recognizer.transcribe_wav(speech_dir / "missing.wav")


def test_a_grammar_pocketsphinx_cannot_parse_is_refused():
    with pytest.raises(ValueError, match="grammar"):
        SpeechRecognizer("#JSGF V1.0;\ngrammar broken;\npublic <command> = (open | ;\n")


def test_confidence_is_one_half_at_the_calibration_center_and_rises_with_the_margin():
    calibration = ConfidenceCalibration(center=-8.0, width=2.0)
    assert calibration.confidence(-8.0) == pytest.approx(0.5)
    assert calibration.confidence(-20.0) < 0.01 < calibration.confidence(-12.0) < 0.5
    assert 0.5 < calibration.confidence(-4.0) < calibration.confidence(0.0) < 1.0
    assert calibration.confidence(float(np.finfo(float).min)) == 0.0


def test_a_transcript_below_the_threshold_or_incomplete_is_not_accepted():
    assert Transcript("stop", 0.9, 1.0, 10.0, complete=True).accepted(0.5)
    assert not Transcript("stop", 0.4, 1.0, 10.0, complete=True).accepted(0.5)
    assert not Transcript("bring me the", 0.9, 1.0, 10.0, complete=False).accepted(0.5)
