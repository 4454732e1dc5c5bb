"""From an utterance to intents: what the person wants done, with its slots still as words.

A command is split into clauses ("clean the living room and then bring me the red cup", "거실을
청소하고 빨간 컵 가져와"), each clause gets one action (fetch, go to, clean, device control, carry,
stop, ...) from its verb and slots from the vocabulary's mentions (object colour/class, source and
destination by their markers: from/to/on, 에서/로/에). Clauses then borrow from their neighbours the
way people speak: "go to the kitchen and bring the red cup" fetches from the kitchen, "... and the blue
one too" repeats the action, "it" is the previous object. Grounding to scene ids happens later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from cloud_planner.language import (
    detect_language,
    find_numbers,
    is_hangul,
    normalise,
    strip_particle,
    tokenise,
)
from cloud_planner.lexicon import Mention, Vocabulary

__all__ = [
    "Action",
    "Intent",
    "ObjectRef",
    "ParsedCommand",
    "PlaceRef",
    "is_stop_command",
    "parse_command",
]


class Action(str, Enum):
    """What a clause asks for."""

    FETCH = "fetch"  # bring / give / put / take an object to a person or furniture
    PICK = "pick"  # pick an object up and keep holding it
    GO_TO = "go_to"
    CLEAN = "clean"
    DEVICE = "device"
    CARRY = "carry"  # heavy things on the dog: luggage
    STOP = "stop"
    ARRIVE_HOME = "arrive_home"
    DOCK = "dock"
    SAY = "say"
    WAIT = "wait"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class ObjectRef:
    """An object as described: any of colour, class and name; ``pronoun`` for "it"."""

    colour: str = ""
    cls: str = ""
    name: str = ""
    pronoun: bool = False
    unknown_words: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether nothing identifies an object."""
        return not (self.colour or self.cls or self.name or self.pronoun)

    def describe(self) -> str:
        """The description in words, e.g. ``red cup``."""
        words = [self.colour, self.name or self.cls] if (self.name or self.cls) else [self.colour, "object"]
        if self.unknown_words and not (self.cls or self.name):
            words = [self.colour, *self.unknown_words]
        return " ".join(w for w in words if w)


@dataclass(frozen=True)
class PlaceRef:
    """A place as described: kind room, furniture, furniture_class, person or speaker."""

    kind: str
    value: str
    surface: str = ""


@dataclass(frozen=True)
class Intent:
    """One clause's action and slots (words already mapped to canonical terms, not yet entity ids).

    Attributes:
        action: What to do.
        clause: The clause text.
        obj: The object acted on (fetch, pick, carry).
        source: Where the object is (room and/or furniture), as stated.
        destination: Where it goes / where to go.
        rooms: Every room mentioned (clean, device control, go to).
        device_kind: ``light``, ``thermostat``, ... for device control.
        device_state: ``on``/``off``/``locked``/``unlocked``/a number/``+2``/``-2`` (relative).
        all_devices: "all the lights".
        robot: A robot id the person addressed.
        robot_kind: A robot kind the person addressed ("dog, go to ...").
        seconds: For wait.
        text: For say.
        verb: The verb that was not understood or is unsupported.
        unknown_places: Unrecognised words standing where a place or device belongs ("the ballroom" in
            "go to the ballroom"), each with the kind expected there: ``room``, ``furniture``, ``place``
            (room, furniture or person) or ``device``. Grounding refuses them instead of guessing.
    """

    action: Action
    clause: str
    obj: ObjectRef | None = None
    source: tuple[PlaceRef, ...] = ()
    destination: PlaceRef | None = None
    rooms: tuple[str, ...] = ()
    device_kind: str = ""
    device_state: str = ""
    all_devices: bool = False
    robot: str = ""
    robot_kind: str = ""
    seconds: float | None = None
    text: str = ""
    verb: str = ""
    unknown_places: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ParsedCommand:
    """A whole command: language, normalised text, and its intents in order."""

    language: str
    normalised: str
    intents: tuple[Intent, ...]


# --- action cues -------------------------------------------------------------------------------------

# English: phrase -> action; checked longest first on the clause's tokens.
_EN_ACTIONS: dict[str, Action] = {
    "stop": Action.STOP, "cancel": Action.STOP, "halt": Action.STOP, "abort": Action.STOP, "freeze": Action.STOP,
    "never mind": Action.STOP, "forget it": Action.STOP,
    "i am home": Action.ARRIVE_HOME, "i am back": Action.ARRIVE_HOME, "i have arrived": Action.ARRIVE_HOME,
    "i arrived": Action.ARRIVE_HOME, "car arrived": Action.ARRIVE_HOME, "car_arrived": Action.ARRIVE_HOME,
    "welcome me home": Action.ARRIVE_HOME, "home now": Action.ARRIVE_HOME,
    "turn on": Action.DEVICE, "turn off": Action.DEVICE, "switch on": Action.DEVICE, "switch off": Action.DEVICE,
    "turn": Action.DEVICE, "switch": Action.DEVICE, "unlock": Action.DEVICE, "lock": Action.DEVICE,
    "set": Action.DEVICE, "dim": Action.DEVICE, "warmer": Action.DEVICE, "hotter": Action.DEVICE,
    "cooler": Action.DEVICE, "colder": Action.DEVICE,
    "clean": Action.CLEAN, "vacuum": Action.CLEAN, "hoover": Action.CLEAN, "sweep": Action.CLEAN,
    "tidy": Action.CLEAN, "mop": Action.CLEAN,
    "carry": Action.CARRY, "unload": Action.CARRY,
    "bring": Action.FETCH, "fetch": Action.FETCH, "get": Action.FETCH, "grab": Action.FETCH, "give": Action.FETCH,
    "hand": Action.FETCH, "take": Action.FETCH, "deliver": Action.FETCH, "put": Action.FETCH, "place": Action.FETCH,
    "move": Action.FETCH, "return": Action.FETCH, "leave": Action.FETCH,
    "pick up": Action.PICK, "pick": Action.PICK, "lift": Action.PICK,
    "go to": Action.GO_TO, "go": Action.GO_TO, "head": Action.GO_TO, "drive": Action.GO_TO,
    "navigate": Action.GO_TO, "come": Action.GO_TO, "walk": Action.GO_TO,
    "dock": Action.DOCK, "charge": Action.DOCK, "recharge": Action.DOCK, "go charge": Action.DOCK,
    "say": Action.SAY, "announce": Action.SAY, "tell": Action.SAY,
    "wait": Action.WAIT, "pause": Action.WAIT,
    "cook": Action.UNSUPPORTED, "wash": Action.UNSUPPORTED, "dance": Action.UNSUPPORTED,
    "sing": Action.UNSUPPORTED, "open": Action.UNSUPPORTED, "fold": Action.UNSUPPORTED,
    "iron": Action.UNSUPPORTED, "water": Action.UNSUPPORTED, "feed": Action.UNSUPPORTED,
    "make": Action.UNSUPPORTED, "play": Action.UNSUPPORTED, "order": Action.UNSUPPORTED,
    "call": Action.UNSUPPORTED, "fly": Action.UNSUPPORTED, "throw": Action.UNSUPPORTED,
    "break": Action.UNSUPPORTED, "kill": Action.UNSUPPORTED, "hit": Action.UNSUPPORTED,
}
# Korean: a token starting with the stem (stems of one syllable must match exactly instead).
_KO_ACTIONS: tuple[tuple[str, Action], ...] = (
    ("멈춰", Action.STOP), ("멈추", Action.STOP), ("그만", Action.STOP), ("취소", Action.STOP),
    ("정지", Action.STOP), ("중지", Action.STOP), ("스톱", Action.STOP),
    ("다녀왔", Action.ARRIVE_HOME), ("도착했", Action.ARRIVE_HOME), ("귀가", Action.ARRIVE_HOME),
    ("켜", Action.DEVICE), ("꺼", Action.DEVICE), ("끄", Action.DEVICE), ("열어", Action.DEVICE),
    ("잠가", Action.DEVICE), ("잠궈", Action.DEVICE), ("잠그", Action.DEVICE), ("맞춰", Action.DEVICE),
    ("설정", Action.DEVICE), ("높여", Action.DEVICE), ("낮춰", Action.DEVICE),
    ("청소", Action.CLEAN), ("치워", Action.CLEAN),
    ("옮겨", Action.CARRY), ("날라", Action.CARRY), ("실어", Action.CARRY),
    ("가져", Action.FETCH), ("갖다", Action.FETCH), ("가지고", Action.FETCH), ("갖고", Action.FETCH),
    ("건네", Action.FETCH), ("줘", Action.FETCH), ("주세요", Action.FETCH), ("놓아", Action.FETCH),
    ("놔", Action.FETCH), ("올려놔", Action.FETCH), ("올려놓", Action.FETCH), ("둬", Action.FETCH),
    ("두어", Action.FETCH), ("넣어", Action.FETCH), ("올려", Action.FETCH), ("내려놔", Action.FETCH),
    ("집어", Action.PICK), ("들어", Action.PICK),
    ("가", Action.GO_TO), ("가서", Action.GO_TO), ("가줘", Action.GO_TO), ("가자", Action.GO_TO),
    ("가요", Action.GO_TO), ("가봐", Action.GO_TO), ("가라", Action.GO_TO), ("가세요", Action.GO_TO),
    ("가고", Action.GO_TO), ("이동", Action.GO_TO), ("와", Action.GO_TO), ("와줘", Action.GO_TO),
    ("와서", Action.GO_TO), ("오세요", Action.GO_TO), ("와봐", Action.GO_TO), ("와라", Action.GO_TO),
    ("충전", Action.DOCK), ("도킹", Action.DOCK), ("복귀", Action.DOCK),
    ("말해", Action.SAY), ("전해", Action.SAY), ("알려", Action.SAY),
    ("기다려", Action.WAIT), ("대기", Action.WAIT),
    ("요리", Action.UNSUPPORTED), ("설거지", Action.UNSUPPORTED), ("빨래", Action.UNSUPPORTED),
    ("춤", Action.UNSUPPORTED), ("노래", Action.UNSUPPORTED), ("먹어", Action.UNSUPPORTED),
    ("던져", Action.UNSUPPORTED), ("부숴", Action.UNSUPPORTED),
)
_KO_PHRASES: tuple[tuple[str, Action], ...] = (
    ("집에 왔", Action.ARRIVE_HOME), ("나 왔어", Action.ARRIVE_HOME), ("집에 도착", Action.ARRIVE_HOME),
    ("차 도착", Action.ARRIVE_HOME), ("차가 도착", Action.ARRIVE_HOME),
)
# Actions where a Korean token is a cue only if nothing stronger appears in the clause.
_WEAK_KO_CUES = {"줘", "주세요", "와", "가", "올려"}

_EN_CONNECTORS = re.compile(
    r"\b(?:and then|and after that|after that|and afterwards|afterwards|and also|then|and|also|plus)\b"
)
_KO_CONNECTOR_TOKENS = {"그리고", "그다음에", "그다음", "다음에", "나서", "후에", "뒤에", "그러고", "그리고는", "또"}
_KO_CLAUSE_ENDINGS = ("고", "서", "고서")
_PRONOUNS_EN = {"it", "them", "this", "that", "one"}
_PRONOUNS_KO = {"그것", "그거", "이거", "이것", "저거", "저것"}
_ALL_WORDS = {"all", "every", "everything", "모든", "모두", "전부", "다", "전체"}
_ON_WORDS = {"on", "켜", "켜줘", "켜고", "켜라", "켜주세요", "켜줄래"}
_OFF_WORDS = {"off", "꺼", "꺼줘", "끄고", "꺼라", "꺼주세요", "꺼줄래", "끄기"}
_EN_STOPWORDS = {
    "the", "a", "an", "me", "my", "please", "to", "from", "in", "into", "on", "onto", "at", "of", "for", "with",
    "up", "down", "some", "this", "that", "it", "them", "you", "your", "can", "could", "would", "will", "now",
    "here", "there", "is", "are", "be", "and", "then", "i", "am", "want", "need", "let", "us", "go", "over",
    "back", "again", "too", "also", "just", "kindly", "robot", "hey", "ok", "okay", "quickly", "out", "inside",
    "room", "one", "near", "by", "next", "so", "do", "not", "bit", "little", "thing", "stuff", "area", "floor",
    "degree", "degrees", "second", "seconds", "minute", "minutes", "celsius", "lights", "light", "once",
}
_KO_STOPWORDS = {"좀", "빨리", "제발", "거", "것", "있는", "위에", "위", "안에", "안", "옆에", "옆", "쪽으로",
                 "쪽", "해줘", "해", "해주세요", "줘", "주세요", "다시", "여기", "거기", "저기", "로봇", "내", "제",
                 "나", "저", "방", "바닥", "바닥에", "하고", "해서", "한", "에", "이리", "이쪽으로"}
# Any of these asks for the door to be unlocked (which is refused), never for it to be locked.
_UNLOCK_WORDS = {"unlock", "unlocked", "unlocking", "unlocks", "open", "opened", "opening", "disarm", "disarmed"}
_PUT_VERBS_EN = {"put", "place", "leave", "set", "take", "move", "return"}
_PUT_STEMS_KO = ("놓아", "놔", "올려", "둬", "두어", "넣어", "내려놔")


def _ko_action(token: str) -> Action | None:
    for stem, action in _KO_ACTIONS:
        if (len(stem) == 1 and token in (stem, stem + "줘", stem + "요", stem + "라")) or (
            len(stem) > 1 and token.startswith(stem)
        ):
            return action
    return None


@dataclass(frozen=True)
class _Cue:
    action: Action
    start: int
    end: int
    word: str


def _find_cues(tokens: Sequence[str], language: str, covered: set[int]) -> list[_Cue]:
    """Action cues in a clause, in order (tokens that are vocabulary mentions are not verbs)."""
    cues: list[_Cue] = []
    if language == "ko":
        joined = " ".join(tokens)
        for phrase, action in _KO_PHRASES:
            if phrase in joined:
                cues.append(_Cue(action, 0, len(tokens), phrase))
        for i, token in enumerate(tokens):
            action = _ko_action(token)
            if action is not None and (i not in covered or action is Action.CLEAN):
                cues.append(_Cue(action, i, i + 1, token))
        return cues
    i = 0
    while i < len(tokens):
        for length in (3, 2, 1):
            phrase = " ".join(tokens[i : i + length])
            action = _EN_ACTIONS.get(phrase)
            if action is not None and len(tokens[i : i + length]) == length:
                if length == 1 and i in covered and action not in (Action.CLEAN, Action.DEVICE, Action.DOCK):
                    break
                cues.append(_Cue(action, i, i + length, phrase))
                i += length - 1
                break
        i += 1
    return cues


_PRIORITY = (
    Action.STOP, Action.ARRIVE_HOME, Action.SAY, Action.DEVICE, Action.CLEAN, Action.CARRY, Action.PICK,
    Action.FETCH, Action.DOCK, Action.WAIT, Action.GO_TO, Action.UNSUPPORTED,
)


def _choose_action(cues: Sequence[_Cue], mentions: Sequence[Mention]) -> _Cue | None:
    """The clause's action: the strongest cue, with device words deciding between set/put/turn."""
    if not cues:
        return None
    kinds = {m.term.kind for m in mentions}
    names_object = bool(kinds & {"object_class", "object_name"})
    strong = [c for c in cues if c.word not in _WEAK_KO_CUES] or list(cues)
    by_action = {c.action: c for c in reversed(strong)}
    device_cue = by_action.get(Action.DEVICE)
    # "set the cup on the table" is a put; "set the thermostat" a device command.
    if device_cue is not None and device_cue.word in ("set", "turn", "switch") and "device_kind" not in kinds \
            and names_object:
        del by_action[Action.DEVICE]
        if device_cue.word == "set":
            by_action.setdefault(Action.FETCH, _Cue(Action.FETCH, device_cue.start, device_cue.end, "put"))
    # "온도 올려줘" raises the temperature; "식탁에 올려줘" puts something on the table.
    fetch_cue = by_action.get(Action.FETCH)
    if fetch_cue is not None and fetch_cue.word.startswith("올려") and "device_kind" in kinds and not names_object:
        by_action.setdefault(Action.DEVICE, _Cue(Action.DEVICE, fetch_cue.start, fetch_cue.end, fetch_cue.word))
        del by_action[Action.FETCH]
    for action in _PRIORITY:
        if action in by_action:
            if action is Action.UNSUPPORTED and len(by_action) > 1:
                continue
            return by_action[action]
    return None


# --- clause splitting --------------------------------------------------------------------------------


def _split_clauses(tokens: Sequence[str], language: str) -> list[list[str]]:
    """Split a command's tokens into clauses at connectors (and then, 그리고, 청소하고, 가서 ...)."""
    clauses: list[list[str]] = [[]]
    if language == "ko":
        for i, token in enumerate(tokens):
            if token in _KO_CONNECTOR_TOKENS:
                clauses.append([])
                continue
            clauses[-1].append(token)
            is_verb = _ko_action(token) is not None or token.endswith(("하고", "해서", "하고서"))
            if is_verb and token.endswith(_KO_CLAUSE_ENDINGS) and i + 1 < len(tokens):
                clauses.append([])
        return [c for c in clauses if c]
    text = " ".join(tokens)
    parts = [p.split() for p in _EN_CONNECTORS.split(text)]
    return [p for p in parts if p]


# --- slot filling ------------------------------------------------------------------------------------


def _marker_before(tokens: Sequence[str], start: int, language: str, mention_end: int,
                   modifiers: frozenset[int] = frozenset()) -> str:
    """The role marker of a mention: an English preposition before it, a Korean particle on it.

    ``modifiers`` are positions of unrecognised words skipped like articles ("on the wooden table").
    """
    if language == "ko":
        last = tokens[mention_end - 1]
        stripped = strip_particle(last)
        particle = last[len(stripped):]
        nxt = tokens[mention_end] if mention_end < len(tokens) else ""
        if nxt.startswith(("위", "안", "옆")) and nxt != "위해":
            return "on"
        if particle in ("에서", "에서는"):
            return "from"
        if particle in ("로", "으로", "에게", "한테", "께"):
            return "to"
        if particle == "에":
            return "at"
        return ""
    j = start - 1
    while j >= 0 and (tokens[j] in ("the", "a", "an", "my", "your", "our", "his", "her") or j in modifiers):
        j -= 1
    if j < 0:
        return ""
    if tokens[j] == "of" and j > 0 and tokens[j - 1] in ("front", "out"):
        return "from"
    return tokens[j]


def _unknown_indices(tokens: Sequence[str], covered: set[int], cue_span: set[int], language: str) -> list[int]:
    """Positions of words that are neither vocabulary, verbs, stopwords, pronouns nor numbers."""
    found = []
    for i, token in enumerate(tokens):
        if i in covered or i in cue_span:
            continue
        word = strip_particle(token) if language == "ko" else token
        if not word or word in _EN_STOPWORDS or word in _KO_STOPWORDS or token in _KO_STOPWORDS:
            continue
        if word in _PRONOUNS_EN or word in _PRONOUNS_KO or word in _ALL_WORDS or any(c.isdigit() for c in word):
            continue
        if language == "ko" and (_ko_action(token) is not None or not is_hangul(word[0])):
            continue
        found.append(i)
    return found


def _unknown_words(tokens: Sequence[str], covered: set[int], cue_span: set[int], language: str) -> tuple[str, ...]:
    indices = _unknown_indices(tokens, covered, cue_span, language)
    return tuple(strip_particle(tokens[i]) if language == "ko" else tokens[i] for i in indices)


_TO_MARKERS = {"to", "into", "toward", "towards"}
_AT_MARKERS = {"in", "at", "inside"}
_ON_MARKERS = {"on", "onto"}
# Words skipped between a slot's marker and its noun ("to the", "clean up the").
_SLOT_DETERMINERS = {"the", "a", "an", "my", "your", "our", "his", "her", "their", "up", "some", "that", "this"}


@dataclass(frozen=True)
class _UnknownPhrase:
    """Unrecognised words ending a noun phrase, and the marker of their slot: ``verb`` (the verb's
    object), an English preposition, or a Korean role (``to``/``from``/``at``/``on``), else empty."""

    words: str
    marker: str


def _unknown_phrases(tokens: Sequence[str], covered: set[int], cue_span: set[int],
                     language: str) -> tuple[_UnknownPhrase, ...]:
    """Runs of unrecognised words that are a noun phrase's head (not a modifier of a known word)."""
    indices = _unknown_indices(tokens, covered, cue_span, language)
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    phrases = []
    for run in runs:
        start, end = run[0], run[-1]
        last = tokens[end]
        particle = last[len(strip_particle(last)):] if language == "ko" else ""
        if end + 1 in covered and not particle:
            continue  # "the wooden table", "큰 컵": a modifier of a known word, not a name
        if language == "ko":
            marker = _marker_before(tokens, end, "ko", end + 1)
            if not marker and (particle in ("을", "를") or (not particle and end + 1 in cue_span)):
                marker = "verb"
            words = " ".join(strip_particle(tokens[i]) for i in run)
        else:
            k = start - 1
            while k >= 0 and tokens[k] in _SLOT_DETERMINERS:
                k -= 1
            marker = "" if k < 0 else tokens[k] if tokens[k] in _TO_MARKERS or k not in cue_span else "verb"
            words = " ".join(tokens[i] for i in run)
        phrases.append(_UnknownPhrase(words, marker))
    return tuple(phrases)


def _unknown_places(
    action: Action | None, phrases: Sequence[_UnknownPhrase], mentions: Sequence[Mention],
    destination: PlaceRef | None, rooms: Sequence[str],
) -> tuple[tuple[str, str], ...]:
    """Unrecognised words in a slot where a place or device belongs, with the kind expected there.

    Conservative on purpose: only a word right after the slot's marker ("to the ballroom", "on the
    piano", "무도회장으로") or the verb's object where the verb needs a room/device ("clean the ballroom",
    "turn on the jacuzzi") counts; adjectives before known words and adverbs after them do not.
    """
    kinds = {m.term.kind for m in mentions}
    found: list[tuple[str, str]] = []
    for phrase in phrases:
        kind = ""
        if action is Action.GO_TO:
            if phrase.marker in _TO_MARKERS or (destination is None and phrase.marker in _AT_MARKERS):
                kind = "place"
        elif action is Action.CLEAN:
            if not rooms and phrase.marker in {"verb", "to", "from"} | _AT_MARKERS:
                kind = "room"
        elif action is Action.DEVICE:
            names_thing = bool(kinds & {"device_kind", "furniture", "furniture_class", "object_class", "object_name"})
            if phrase.marker == "verb" and not names_thing:
                kind = "device"
            elif phrase.marker in _AT_MARKERS | {"from"} and not rooms:
                kind = "room"
        elif action in (Action.FETCH, Action.PICK, Action.CARRY):
            if phrase.marker in _ON_MARKERS:
                kind = "furniture"
            elif phrase.marker in _TO_MARKERS | _AT_MARKERS | {"from"}:
                kind = "place"
        if kind:
            found.append((phrase.words, kind))
    return tuple(found)


def _place_roles(
    mentions: Sequence[Mention], tokens: Sequence[str], language: str, action: Action | None, is_put: bool,
    modifiers: frozenset[int] = frozenset(),
) -> tuple[tuple[PlaceRef, ...], PlaceRef | None]:
    """Which mentioned places say where the object is (source) and where it or the robot goes."""
    source: list[PlaceRef] = []
    destination: PlaceRef | None = None
    for m in mentions:
        if m.term.kind not in ("room", "furniture", "furniture_class", "person", "speaker"):
            continue
        place = PlaceRef(m.term.kind, m.term.value, m.surface)
        if action is Action.DEVICE:
            continue
        marker = _marker_before(tokens, m.start, language, m.end, modifiers)
        if m.term.kind in ("person", "speaker"):
            goes_to = True
        elif action in (Action.GO_TO, Action.CLEAN):
            goes_to = True
        elif marker == "from":
            goes_to = False
        elif marker in ("to", "into", "toward", "towards", "onto"):
            goes_to = True
        else:  # "on/at/in" (에, 위에): where it goes for put verbs, where it is otherwise
            goes_to = is_put and marker in ("on", "at", "in")
        if not goes_to:
            source.append(place)
        elif destination is None or (destination.kind == "room" and place.kind != "room"):
            destination = place  # the most specific place wins: the sofa over the living room
    return tuple(source), destination


def _device_state(tokens: Sequence[str], numbers: Sequence) -> str:
    """``on``/``off``/``locked``/``unlocked``, a number, or ``+2``/``-2`` for warmer/cooler."""
    words = set(tokens)
    if words & _UNLOCK_WORDS or any(t.startswith(("열어", "열어줘", "해제", "풀어")) for t in tokens):
        return "unlocked"
    if "lock" in words or any(t.startswith(("잠가", "잠궈", "잠그")) for t in tokens):
        return "locked"
    if words & _ON_WORDS or any(t.startswith("켜") for t in tokens):
        return "on"
    if words & _OFF_WORDS or any(t.startswith(("꺼", "끄")) for t in tokens):
        return "off"
    if numbers:
        return f"{numbers[0].value:g}"
    if words & {"warmer", "hotter", "up", "raise", "increase"} or any(t.startswith(("높여", "올려")) for t in tokens):
        return "+2"
    if words & {"cooler", "colder", "down", "lower", "decrease"} or any(t.startswith(("낮춰", "내려")) for t in tokens):
        return "-2"
    return ""


def _say_text(tokens: Sequence[str], language: str, cue: _Cue) -> str:
    """What to say: the words after "say" (English) or before 라고 (Korean)."""
    if language == "ko":
        joined = " ".join(tokens)
        return joined.split("라고")[0].strip() if "라고" in joined else ""
    rest = list(tokens[cue.end :])
    if rest[:1] == ["that"]:
        rest = rest[1:]
    return " ".join(rest)


def _clause_intent(tokens: list[str], language: str, vocab: Vocabulary) -> Intent | None:
    """The intent of one clause, or None when it has no action cue (an elliptic clause)."""
    tokens = list(vocab.expand(tokens))
    clause = " ".join(tokens)
    mentions = vocab.find(tokens)
    covered = {i for m in mentions for i in range(m.start, m.end)}
    cues = _find_cues(tokens, language, covered)
    cue = _choose_action(cues, mentions)
    action = cue.action if cue else None
    if cue is not None and cue.word == "open" and (
        any(m.term.kind == "device_kind" and m.term.value == "lock" for m in mentions)
        or any(m.term.kind == "room" and "door" in m.surface for m in mentions)
    ):
        action = Action.DEVICE  # "open the (front) door" = unlock, which the validator refuses
    verbs = {c.word for c in cues}
    is_put = bool(verbs & _PUT_VERBS_EN) or any(v.startswith(_PUT_STEMS_KO) for v in verbs)

    def first(kind: str) -> str:
        return next((m.term.value for m in mentions if m.term.kind == kind), "")

    cls, name = first("object_class"), first("object_name")
    pronoun = any(t in _PRONOUNS_EN or strip_particle(t) in _PRONOUNS_KO for t in tokens)
    cue_span = {i for c in cues for i in range(c.start, c.end)}
    unknown = _unknown_words(tokens, covered, cue_span, language)
    obj = ObjectRef(first("colour"), cls, name, pronoun and not (cls or name), unknown)
    modifiers = frozenset(_unknown_indices(tokens, covered, cue_span, language))
    source, destination = _place_roles(mentions, tokens, language, action, is_put, modifiers)
    rooms = tuple(dict.fromkeys(m.term.value for m in mentions if m.term.kind == "room"))
    # "vacuum the bedroom": the verb, not a request for the vacuum robot in particular.
    robot_kind = next((m.term.value for m in mentions if m.term.kind == "robot_kind"
                       and not (cue is not None and cue.word == m.surface)), "")
    numbers = find_numbers(tokens)

    device_kind, state = first("device_kind"), ""
    if action is Action.DEVICE or (action is None and device_kind):
        action = Action.DEVICE
        state = _device_state(tokens, numbers)
        if state == "unlocked":
            device_kind = device_kind or "lock"
        if state in ("on", "off") and not device_kind:
            # "turn on the tv": name the thing, so grounding can say it is not a device it controls.
            device_kind = next((m.surface for m in mentions if m.term.kind in (
                "furniture", "furniture_class", "object_class", "object_name")), "light")
        if state.lstrip("+-").replace(".", "", 1).isdigit() and not device_kind:
            device_kind = "thermostat"

    if action is None:
        return None if not obj.is_empty or source or destination else Intent(Action.UNSUPPORTED, clause)
    if action is Action.UNSUPPORTED:
        return Intent(action, clause, verb=cue.word if cue else clause)
    seconds = None
    if numbers and action is Action.WAIT:
        seconds = numbers[0].value * (60.0 if numbers[0].unit == "minutes" else 1.0)
    takes_object = action in (Action.FETCH, Action.PICK, Action.CARRY)
    unknown_places = _unknown_places(action, _unknown_phrases(tokens, covered, cue_span, language), mentions,
                                     destination, rooms)
    return Intent(
        action=action,
        clause=clause,
        obj=obj if takes_object and not (obj.is_empty and not obj.unknown_words) else None,
        source=source,
        destination=destination,
        rooms=rooms,
        device_kind=device_kind,
        device_state=state,
        all_devices=any(strip_particle(t) in _ALL_WORDS for t in tokens),
        robot=first("robot"),
        robot_kind=robot_kind,
        seconds=seconds,
        text=_say_text(tokens, language, cue) if action is Action.SAY and cue is not None else "",
        unknown_places=unknown_places,
    )


def _elliptic(tokens: list[str], language: str, vocab: Vocabulary, previous: Intent) -> Intent:
    """A clause without a verb ("and the blue cup") repeating the previous clause's action."""
    expanded = list(vocab.expand(tokens))
    mentions = vocab.find(expanded)
    covered = {i for m in mentions for i in range(m.start, m.end)}
    colour = next((m.term.value for m in mentions if m.term.kind == "colour"), "")
    cls = next((m.term.value for m in mentions if m.term.kind == "object_class"), "")
    name = next((m.term.value for m in mentions if m.term.kind == "object_name"), "")
    rooms = tuple(m.term.value for m in mentions if m.term.kind == "room")
    unknown = _unknown_words(expanded, covered, set(), language)
    if previous.action in (Action.GO_TO, Action.CLEAN) and not rooms and unknown:
        # "clean the kitchen and the ballroom": the ballroom is a room that does not exist, not nothing.
        kind = "room" if previous.action is Action.CLEAN else "place"
        return replace(previous, clause=" ".join(expanded), rooms=(), destination=None,
                       unknown_places=((" ".join(unknown), kind),))
    if previous.action is Action.DEVICE:
        return replace(previous, clause=" ".join(expanded), rooms=rooms or previous.rooms)
    if previous.action in (Action.GO_TO, Action.CLEAN) and rooms:
        return replace(previous, clause=" ".join(expanded), rooms=rooms, destination=PlaceRef("room", rooms[0]))
    obj = ObjectRef(colour or (previous.obj.colour if previous.obj and not cls and not name else ""),
                    cls or (previous.obj.cls if previous.obj and not name else ""), name, False, unknown)
    return replace(previous, clause=" ".join(expanded), obj=obj)


def parse_command(text: str, vocab: Vocabulary, language: str = "") -> ParsedCommand:
    """Parse a command into intents (possibly none, for an empty or meaningless command)."""
    language = language if language in ("en", "ko") else detect_language(text)
    tokens = list(tokenise(text))
    intents: list[Intent] = []
    for clause_tokens in _split_clauses(tokens, language):
        intent = _clause_intent(clause_tokens, language, vocab)
        if intent is None:
            if intents:
                intents.append(_elliptic(clause_tokens, language, vocab, intents[-1]))
            else:
                intents.append(Intent(Action.UNSUPPORTED, " ".join(clause_tokens)))
            continue
        intents.append(intent)
    return ParsedCommand(language, normalise(text), tuple(_merge(intents)))


def _merge(intents: list[Intent]) -> list[Intent]:
    """Let clauses complete each other: "go to the kitchen and bring ..." fetches from the kitchen."""
    merged: list[Intent] = []
    for intent in intents:
        prev = merged[-1] if merged else None
        if intent.obj is not None and intent.obj.pronoun and prev is not None and prev.obj is not None:
            intent = replace(intent, obj=replace(prev.obj, pronoun=False), source=intent.source or prev.source)
        if prev is not None and prev.action is Action.GO_TO and prev.destination is not None \
                and prev.destination.kind in ("room", "furniture") and intent.action in (Action.FETCH, Action.PICK,
                                                                                        Action.CLEAN, Action.CARRY):
            if intent.action is Action.CLEAN and not intent.rooms and prev.destination.kind == "room":
                intent = replace(intent, rooms=(prev.destination.value,), destination=prev.destination)
            elif intent.action is not Action.CLEAN and not intent.source:
                intent = replace(intent, source=(prev.destination,))
            merged.pop()
        if prev is not None and prev.action is Action.CLEAN and intent.action is Action.CLEAN \
                and (prev.robot, prev.robot_kind) == (intent.robot, intent.robot_kind):
            # "clean the kitchen and the bedroom": one round, one return to the dock.
            merged[-1] = replace(prev, rooms=tuple(dict.fromkeys((*prev.rooms, *intent.rooms))),
                                 unknown_places=(*prev.unknown_places, *intent.unknown_places))
            continue
        if prev is not None and intent.action is Action.DEVICE and not intent.rooms and prev.action is Action.GO_TO \
                and prev.destination is not None and prev.destination.kind == "room":
            intent = replace(intent, rooms=(prev.destination.value,))
        merged.append(intent)
    return merged


def is_stop_command(text: str) -> bool:
    """Whether the command is a plain stop/cancel (answered at once, before any backend is asked)."""
    language = detect_language(text)
    tokens = tokenise(text)
    if not tokens or len(tokens) > 4:
        return False
    if language == "ko":
        negated = any(t.startswith(("말고", "마", "말아")) for t in tokens)  # 멈추지 말고 = "don't stop"
        return not negated and any(_ko_action(t) is Action.STOP for t in tokens)
    joined = " ".join(tokens)
    if "not" in tokens or ("never" in tokens and "never mind" not in joined):
        return False
    return any(_EN_ACTIONS.get(p) is Action.STOP and re.search(rf"\b{re.escape(p)}\b", joined) for p in _EN_ACTIONS)
