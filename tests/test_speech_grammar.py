"""The spoken-command grammar: built from the scene, speakable by pocketsphinx, plannable by the planner."""

from __future__ import annotations

import re

import pytest
from pocketsphinx import Decoder

from cloud_planner.backend import create_backend, plan_command
from cloud_planner.plan import Command, CommandSource
from edge_agent.speech_grammar import build_grammar, dictionary_words, number_to_words, scene_vocabulary
from reflexarc.scene_graph import Device, Furniture, Pose2D, Room, SceneGraph, SceneObject
from sim.home_layout import load_home_layout

_SQUARE = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0))


@pytest.fixture(scope="module")
def seed_scene() -> SceneGraph:
    return load_home_layout().scene_graph()


@pytest.fixture(scope="module")
def seed_grammar(seed_scene) -> str:
    return build_grammar(seed_scene)


def _compile(grammar: str):
    """The grammar as pocketsphinx's finite-state grammar (raises if it does not compile)."""
    decoder = Decoder(lm=None, loglevel="FATAL")
    decoder.add_jsgf_string("commands", grammar)
    return decoder.get_fsg("commands")


@pytest.fixture(scope="module")
def seed_fsg(seed_grammar):
    return _compile(seed_grammar)


def _grammar_words(grammar: str) -> set[str]:
    """The terminal words of a JSGF grammar (rule names, keywords and punctuation removed)."""
    body = "\n".join(line.split("=", 1)[1] for line in grammar.splitlines() if "=" in line)
    body = re.sub(r"<[^>]+>", " ", body)
    return {token for token in re.split(r"[\s|()\[\];]+", body) if token}


def test_grammar_contains_every_english_room_name_and_alias_but_no_korean(seed_grammar):
    for phrase in ("kitchen", "living room", "lounge", "bedroom", "entrance", "hallway", "front door",
                   "driveway", "garage"):
        assert phrase in seed_grammar
    assert not any(ord(ch) > 127 for ch in seed_grammar)


def test_grammar_contains_the_scene_objects_furniture_devices_and_people(seed_grammar):
    for phrase in ("red cup", "green mug", "white bowl", "yellow toy", "black luggage", "coffee table",
                   "kitchen counter", "tv stand", "air purifier", "thermostat", "user"):
        assert phrase in seed_grammar


@pytest.mark.parametrize(
    "sentence",
    [
        "bring me the red cup from the kitchen",
        "clean the living room",
        "turn on the kitchen light",
        "i'm home",
        "set the thermostat to twenty two degrees",
        "turn off the air purifier",
        "put the blue cup on the coffee table",
        "carry the luggage inside",
        "stop",
        "cancel",
        "go to the bedroom and then turn off the bedroom light",
    ],
)
def test_planner_command_templates_are_sentences_of_the_grammar(seed_fsg, sentence):
    assert seed_fsg.accept(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "bring me the green bowl",  # no green bowl in the home: colour and class must match an object
        "set the thermostat to forty degrees",  # outside the thermostat's 16-30 range
        "turn on the driveway light",  # the driveway has no light
        "bring me the red cup from the",  # an unfinished command
        "open the front door",  # not a command the planner understands
    ],
)
def test_grammar_refuses_what_the_home_cannot_do(seed_fsg, sentence):
    assert not seed_fsg.accept(sentence)


def test_every_grammar_word_is_in_the_pronunciation_dictionary(seed_grammar):
    words = _grammar_words(seed_grammar)
    assert {"kitchen", "thermostat", "purifier", "i'm", "twenty"} <= words
    assert words <= dictionary_words()


def test_seed_scene_vocabulary_has_no_missing_words(seed_scene):
    assert scene_vocabulary(seed_scene).missing == ()


def test_words_missing_from_the_dictionary_are_reported_and_their_phrases_dropped():
    scene = SceneGraph(
        rooms=(Room("den", "den", _SQUARE, ("zorbulator room", "서재")),),
        furniture=(Furniture("table", "table", "den", Pose2D(1, 1), (1, 1, 1)),
                   Furniture("quuxframe", "quuxframe", "den", Pose2D(2, 2), (1, 1, 1))),
        objects=(SceneObject("cup_red", "cup", "red", (1, 1, 0.8), "den", "table"),),
    )
    vocab = scene_vocabulary(scene)
    grammar = build_grammar(scene)
    assert set(vocab.missing) == {"zorbulator", "quuxframe"}
    assert "zorbulator" not in grammar and "quuxframe" not in grammar
    assert "den" in vocab.rooms and "서재" not in grammar
    assert _compile(grammar).accept("put the red cup on the table")


def test_scene_spellings_the_dictionary_lacks_are_respelled():
    scene = SceneGraph(
        rooms=(Room("den", "den", _SQUARE),),
        furniture=(Furniture("tv_stand", "tv_stand", "den", Pose2D(1, 1), (1, 1, 1)),
                   Furniture("sideboard", "sideboard", "den", Pose2D(2, 2), (1, 1, 1))),
        objects=(SceneObject("cup_red", "cup", "red", (1, 1, 0.8), "den", "tv_stand"),),
    )
    fsg = _compile(build_grammar(scene))
    assert fsg.accept("put the red cup on the tv stand")
    assert fsg.accept("put the red cup on the side board")
    assert scene_vocabulary(scene).missing == ()


def test_templates_without_anything_to_refer_to_are_left_out():
    scene = SceneGraph(
        rooms=(Room("den", "den", _SQUARE),),
        devices=(Device("heater", "thermostat", "den", "20", value_range=(18.0, 22.0)),),
    )
    grammar = build_grammar(scene)
    fsg = _compile(grammar)
    assert fsg.accept("clean the den")
    assert fsg.accept("set the thermostat to eighteen degrees")
    assert not fsg.accept("set the thermostat to twenty three degrees")
    assert "<object>" not in grammar and "<lights>" not in grammar


@pytest.mark.parametrize(
    "sentence",
    [
        "please bring me the red cup from the kitchen",
        "get user the white bowl",
        "take the yellow toy to the sofa",
        "go to the garage",
        "clean up the lounge",
        "turn the hallway light on",
        "set the thermostat to sixteen degrees",
        "turn on the air purifier please",
        "place the green mug on the dining table",
        "carry the black luggage inside",
        "i'm home",
        "clean the living room and then bring me the red cup",
    ],
)
def test_sentences_of_the_grammar_are_planned_by_the_embedded_planner(seed_scene, seed_fsg, sentence):
    assert seed_fsg.accept(sentence)
    plan = plan_command(create_backend("embedded"), Command(sentence, "en", CommandSource.VOICE), seed_scene)
    assert plan.steps


@pytest.mark.parametrize(
    ("value", "spoken"),
    [(0, "zero"), (7, "seven"), (16, "sixteen"), (20, "twenty"), (22, "twenty two"), (105, "one hundred five")],
)
def test_numbers_are_spelled_as_spoken(value, spoken):
    assert number_to_words(value) == spoken
