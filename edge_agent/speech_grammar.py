"""A JSGF grammar of the spoken commands the planner understands, built from the home's scene graph.

Recognising against a closed grammar instead of an open language model is what makes on-robot speech
both fast (tens of milliseconds per utterance) and accurate: the decoder only has to choose between
the things a person can sensibly ask for in *this* home. The vocabulary (rooms and their English
aliases, object classes and colours, furniture, switchable devices, thermostat temperatures, people)
comes from the scene graph, the sentence shapes from the planner's command templates.

The acoustic decoder can only spot words its pronunciation dictionary knows, so every phrase is
checked against it: known British spellings are mapped to the dictionary's American ones
(``colour`` -> ``color``), phrases with a word the dictionary lacks are dropped and reported, and
non-English aliases (Korean arrives as text, not speech) are skipped.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reflexarc.scene_graph import SceneGraph, SceneObject

__all__ = [
    "GRAMMAR_NAME",
    "GrammarVocabulary",
    "build_grammar",
    "default_dictionary_path",
    "dictionary_words",
    "number_to_words",
    "scene_vocabulary",
]

_log = logging.getLogger(__name__)

GRAMMAR_NAME = "reflexarc_commands"

# Spellings the scene may use that the CMU dictionary spells differently (or splits).
_RESPELLINGS: Mapping[str, str] = {
    "colour": "color",
    "colours": "colors",
    "aircon": "air conditioner",
    "robovac": "robot vacuum",
    "sideboard": "side board",
}

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORD_RE = re.compile(r"^[a-z][a-z']*$")


@dataclass(frozen=True)
class GrammarVocabulary:
    """The speakable phrases of one scene, each a space-separated run of dictionary words.

    Attributes:
        rooms: room names and English aliases ("kitchen", "living room", "lounge").
        lit_rooms: the subset of ``rooms`` phrases naming a room that has a switchable light.
        colours: object colours ("red", "light blue").
        objects: graspable objects as spoken: their class alone and "colour class" for the colour
            each one actually has ("cup", "red cup", "blue cup", "mug", "green mug"). Only colour and
            class pairs that exist are speakable: that keeps "green mug" from being heard as "green
            bowl" when the home has no green bowl.
        carryables: objects too heavy for the arm, carried by the dog, spoken the same way
            ("luggage", "black luggage").
        furniture: furniture classes and id phrases ("table", "coffee table", "tv stand").
        switchables: non-light on/off devices by kind ("air purifier").
        setpoint_devices: devices with a numeric range by kind ("thermostat").
        numbers: the whole numbers any setpoint device accepts.
        people: names of people who may receive things.
        missing: words that are not in the pronunciation dictionary (their phrases were dropped).
    """

    rooms: tuple[str, ...] = ()
    lit_rooms: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    carryables: tuple[str, ...] = ()
    furniture: tuple[str, ...] = ()
    switchables: tuple[str, ...] = ()
    setpoint_devices: tuple[str, ...] = ()
    numbers: tuple[int, ...] = ()
    people: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def words(self) -> frozenset[str]:
        """Every single word the vocabulary phrases use."""
        phrases = (*self.rooms, *self.colours, *self.objects, *self.carryables, *self.furniture,
                   *self.switchables, *self.setpoint_devices, *self.people,
                   *(number_to_words(n) for n in self.numbers))
        return frozenset(word for phrase in phrases for word in phrase.split())


def default_dictionary_path() -> Path:
    """The en-us pronunciation dictionary shipped inside the pocketsphinx wheel."""
    import pocketsphinx

    return Path(pocketsphinx.get_model_path("en-us")) / "cmudict-en-us.dict"


@functools.lru_cache(maxsize=4)
def dictionary_words(path: Path | None = None) -> frozenset[str]:
    """The words of a CMU-format dictionary (alternate pronunciations ``word(2)`` folded in).

    Cached per path because the en-us dictionary has 135k entries and never changes while we run.
    """
    dict_path = Path(path) if path is not None else default_dictionary_path()
    words = set()
    with dict_path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            head = line.split(maxsplit=1)[0] if line.strip() else ""
            if head:
                words.add(head.split("(", 1)[0].lower())
    return frozenset(words)


def number_to_words(value: int) -> str:
    """Spell a whole number 0-999 the way it is spoken ("twenty two")."""
    if not 0 <= value < 1000:
        raise ValueError(f"cannot spell {value}: only 0-999 are supported")
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(value, 100)
    return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")


def _phrase(text: str) -> str:
    """Normalise a scene name to a lower-case, space-separated phrase with dictionary spellings."""
    text = _RESPELLINGS.get(text.strip().lower(), text.strip().lower())
    words = [_RESPELLINGS.get(word, word) for word in re.split(r"[\s_\-]+", text) if word]
    return " ".join(" ".join(words).split())


class _PhraseFilter:
    """Keeps phrases whose every word is in the dictionary and remembers the words that were not."""

    def __init__(self, words: frozenset[str]) -> None:
        self._words = words
        self.missing: set[str] = set()

    def keep(self, names: Iterable[str]) -> tuple[str, ...]:
        """The speakable phrases among ``names``, de-duplicated, in first-seen order."""
        kept: dict[str, None] = {}
        for name in names:
            if not name or not name.isascii():
                continue  # Korean aliases: Korean arrives as text, never as en-us speech
            phrase = _phrase(name)
            if any(ch.isdigit() for ch in phrase):
                continue  # numbered ids ("chair_2") are not how people name things
            unknown = [w for w in phrase.split() if not _WORD_RE.match(w) or w not in self._words]
            if unknown:
                self.missing.update(unknown)
                _log.info("dropping %r from the speech grammar: %s not in the dictionary", name, unknown)
                continue
            if phrase:
                kept.setdefault(phrase, None)
        return tuple(kept)


def scene_vocabulary(scene: SceneGraph, dictionary: frozenset[str] | None = None) -> GrammarVocabulary:
    """Collect the speakable vocabulary of ``scene``, dropping (and listing) out-of-dictionary words."""
    filt = _PhraseFilter(dictionary if dictionary is not None else dictionary_words())

    def room_names(room_id: str) -> list[str]:
        room = scene.get(room_id)
        return [room.name, *room.aliases] if room is not None else []

    rooms = filt.keep(name for room in scene.rooms for name in (room.name, *room.aliases))
    lights = [d for d in scene.devices if d.kind == "light" and {"on", "off"} <= set(d.allowed_states)]
    lit_rooms = filt.keep(name for d in lights for name in room_names(d.room))
    switchables = filt.keep(
        d.kind for d in scene.devices if d.kind != "light" and {"on", "off"} <= set(d.allowed_states)
    )
    ranged = [d for d in scene.devices if d.value_range is not None]
    setpoint_devices = filt.keep(d.kind for d in ranged)
    numbers = sorted({
        n for d in ranged for n in range(int(-(-d.value_range[0] // 1)), int(d.value_range[1] // 1) + 1)
        if 0 <= n < 1000
    })
    furniture = filt.keep(name for f in scene.furniture for name in (f.cls, f.id))
    return GrammarVocabulary(
        rooms=rooms,
        lit_rooms=lit_rooms,
        colours=filt.keep(o.colour for o in scene.objects),
        objects=filt.keep(name for o in scene.objects if o.graspable for name in _object_names(o)),
        carryables=filt.keep(name for o in scene.objects if not o.graspable for name in _object_names(o)),
        furniture=furniture,
        switchables=switchables,
        setpoint_devices=setpoint_devices,
        numbers=tuple(numbers),
        people=filt.keep(p.name for p in scene.people),
        missing=tuple(sorted(filt.missing)),
    )


def _object_names(obj: SceneObject) -> tuple[str, ...]:
    """How a person names an object: by its class, or by its colour and class."""
    return (obj.cls, f"{obj.colour} {obj.cls}") if obj.colour else (obj.cls,)


def _alternatives(phrases: Iterable[str]) -> str:
    """A JSGF alternation, longest phrase first (order does not change the language, only readability)."""
    return " | ".join(sorted(set(phrases), key=lambda p: (-len(p.split()), p)))


def build_grammar(scene: SceneGraph, dictionary: frozenset[str] | None = None) -> str:
    """The JSGF grammar (text) of every command the planner understands, worded with ``scene``'s names.

    Templates: bring/fetch/get me the [colour] object [from the room] (or "... to the furniture");
    go to the room; clean the room; turn on/off the room light; set the thermostat to N degrees;
    turn on/off the air purifier; put the object on the furniture; carry the luggage inside; i'm home;
    stop/cancel; and two of them joined with "and then". A template is left out when the scene has
    nothing it could refer to, so the grammar never references an empty rule.
    """
    vocab = scene_vocabulary(scene, dictionary)
    rules: dict[str, str] = {}
    actions: list[str] = []
    if vocab.rooms:
        rules["room"] = _alternatives(vocab.rooms)
        actions += ["<go>", "<clean>"]
        rules["go"] = "go to the <room>"
        rules["clean"] = "clean [up] the <room>"
    if vocab.objects:
        rules["object"] = _alternatives(vocab.objects)
        rules["recipient"] = _alternatives(("me", *vocab.people))
        source = " [from the <room>]" if vocab.rooms else ""
        fetch = [f"(bring | fetch | get) <recipient> the <object>{source}"]
        if vocab.furniture:
            rules["furniture"] = _alternatives(vocab.furniture)
            fetch.append(f"(bring | take) the <object>{source} to (<recipient> | the <furniture>)")
            rules["put"] = "(put | place) the <object> on the <furniture>"
            actions.append("<put>")
        rules["fetch"] = " | ".join(fetch)
        actions.append("<fetch>")
    if vocab.carryables:
        rules["carryable"] = _alternatives(vocab.carryables)
        rules["carry"] = "carry the <carryable> inside"
        actions.append("<carry>")
    if vocab.lit_rooms:
        rules["lit_room"] = _alternatives(vocab.lit_rooms)
        rules["lights"] = "turn (on | off) the <lit_room> light | turn the <lit_room> light (on | off)"
        actions.append("<lights>")
    if vocab.switchables:
        rules["switchable"] = _alternatives(vocab.switchables)
        rules["switch"] = "turn (on | off) the <switchable> | turn the <switchable> (on | off)"
        actions.append("<switch>")
    if vocab.setpoint_devices and vocab.numbers:
        rules["setpoint_device"] = _alternatives(vocab.setpoint_devices)
        rules["number"] = " | ".join(number_to_words(n) for n in vocab.numbers)
        rules["setpoint"] = "set the <setpoint_device> to <number> [degrees]"
        actions.append("<setpoint>")
    rules["home"] = "i'm home"
    rules["stop"] = "stop | cancel"
    actions += ["<home>", "<stop>"]
    rules["action"] = " | ".join(actions)

    lines = [
        "#JSGF V1.0;",
        f"grammar {GRAMMAR_NAME};",
        "",
        "public <command> = [please] <action> [and then <action>] [please];",
        *(f"<{name}> = {body};" for name, body in rules.items()),
    ]
    if vocab.missing:
        _log.warning("speech grammar: words not in the pronunciation dictionary were dropped: %s",
                     ", ".join(vocab.missing))
    return "\n".join(lines) + "\n"
