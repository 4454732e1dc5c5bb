"""The words people use for things, in English and Korean, matched against one home's scene graph.

Static synonym tables cover what no scene states (mug/cup, crimson/red, 빨간/red, 컵/cup, 불/light);
room names and aliases, furniture ids, object and device kinds come from the scene graph itself, so a
home with other rooms or objects needs no code change. :class:`Vocabulary` finds every mention of a
known term in a tokenised command, longest phrase first, tolerating English plurals and Korean
particles (주방에 = 주방 + 에) and Korean words written without spaces (빨간컵, 거실불).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from cloud_planner.language import is_hangul, strip_particle
from reflexarc.scene_graph import SceneGraph

__all__ = [
    "CLASS_SYNONYM_GROUPS",
    "COLOURS",
    "DEVICE_KINDS",
    "FURNITURE_CLASSES",
    "Mention",
    "OBJECT_CLASSES",
    "SPEAKER_WORDS",
    "Term",
    "Vocabulary",
    "display_name",
]

COLOURS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "red": ("red", "crimson", "scarlet", "빨간", "빨강", "빨간색", "빨강색", "붉은", "붉은색"),
    "blue": ("blue", "navy", "파란", "파랑", "파란색", "파랑색", "푸른"),
    "green": ("green", "초록", "초록색", "녹색", "초록빛"),
    "white": ("white", "하얀", "흰", "흰색", "하얀색"),
    "yellow": ("yellow", "노란", "노랑", "노란색", "노랑색"),
    "orange": ("orange", "주황", "주황색"),
    "black": ("black", "검은", "검정", "검정색", "까만", "까만색"),
    "purple": ("purple", "violet", "보라", "보라색"),
    "pink": ("pink", "분홍", "분홍색", "핑크"),
    "brown": ("brown", "갈색"),
    "grey": ("grey", "gray", "회색"),
})

OBJECT_CLASSES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "cup": ("cup", "glass", "컵", "잔"),
    "mug": ("mug", "coffee mug", "머그", "머그컵", "머그잔"),
    "bowl": ("bowl", "그릇", "보울", "사발"),
    "toy": ("toy", "장난감"),
    "luggage": ("luggage", "suitcase", "baggage", "bag", "짐", "가방", "캐리어", "여행가방", "트렁크"),
    "book": ("book", "책"),
    "plate": ("plate", "접시"),
    "bottle": ("bottle", "병", "물병"),
    "phone": ("phone", "핸드폰", "휴대폰"),
    "remote": ("remote", "remote control", "리모컨"),
})
# Classes a person uses interchangeably; an exact class match is preferred over a synonym.
CLASS_SYNONYM_GROUPS: tuple[frozenset[str], ...] = (frozenset({"cup", "mug"}),)

# Words naming an object more specifically than its class (matched against object id parts).
OBJECT_NAME_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "duck": ("duck", "rubber duck", "오리", "오리인형"),
    "ball": ("ball", "공"),
})

FURNITURE_CLASSES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "counter": ("counter", "countertop", "worktop", "조리대", "카운터"),
    "table": ("table", "테이블", "탁자"),
    "fridge": ("fridge", "refrigerator", "냉장고"),
    "sink": ("sink", "싱크대", "개수대", "싱크"),
    "sofa": ("sofa", "couch", "소파", "쇼파"),
    "tv_stand": ("tv stand", "tv", "television", "tv cabinet", "티비", "티비장", "tv장", "텔레비전"),
    "bed": ("bed", "침대"),
    "shelf": ("shelf", "bookshelf", "bookcase", "선반", "책장"),
    "car": ("car", "su7", "xiaomi su7", "차", "자동차"),
})
# Extra names of specific furniture ids (used only when the scene has that id).
FURNITURE_ID_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "dining_table": ("dining table", "kitchen table", "식탁"),
    "coffee_table": ("coffee table", "커피 테이블", "커피테이블", "거실 테이블"),
    "kitchen_counter": ("kitchen counter", "주방 조리대"),
})

DEVICE_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "light": ("light", "lamp", "lighting", "불", "조명", "전등", "불빛", "라이트"),
    "thermostat": ("thermostat", "heating", "heater", "temperature", "온도", "난방", "보일러", "온도조절기"),
    "air_purifier": ("air purifier", "purifier", "air cleaner", "공기청정기", "청정기", "공기 청정기"),
    "lock": ("lock", "door lock", "door", "도어락", "잠금장치", "문"),
    "dock": ("dock", "charger", "charging dock", "charging station", "충전기", "충전 스테이션", "도크"),
})

ROBOT_KIND_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "manipulator": ("manipulator", "arm robot", "robot arm", "butler", "로봇팔", "집사"),
    "dog": ("dog", "robot dog", "dog robot", "로봇개", "로봇 강아지", "강아지", "개"),
    "vacuum": ("vacuum", "vacuum cleaner", "robot vacuum", "hoover", "roomba", "청소기", "로봇청소기", "로봇 청소기"),
})

# Words for the person speaking ("bring me", "나한테 가져와").
SPEAKER_WORDS: tuple[str, ...] = ("me", "myself", "나", "저", "내게", "제게", "나에게", "저에게")


@dataclass(frozen=True)
class Term:
    """A meaning: ``kind`` is colour, object_class, object_name, room, furniture, furniture_class,
    device_kind, person, robot, robot_kind or speaker; ``value`` the canonical id/name."""

    kind: str
    value: str


@dataclass(frozen=True)
class Mention:
    """Where a term was found: tokens ``[start, end)``."""

    term: Term
    start: int
    end: int
    surface: str


def display_name(entity_id: str) -> str:
    """``kitchen_counter`` -> ``kitchen counter``."""
    return entity_id.replace("_", " ")


def _phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(phrase.lower().replace("_", " ").split())


def _plural_forms(word: str) -> tuple[str, ...]:
    if not word or is_hangul(word[-1]) or not word.isalpha():
        return (word,)
    if word.endswith(("s", "x", "ch", "sh")):
        return (word, word + "es")
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return (word, word[:-1] + "ies")
    if word.endswith("f"):
        return (word, word + "s", word[:-1] + "ves")
    return (word, word + "s")


class Vocabulary:
    """Every phrase a command may use for the things of one scene, and a matcher over tokens."""

    def __init__(self, phrases: Mapping[tuple[str, ...], Iterable[Term]]) -> None:
        self._phrases: dict[tuple[str, ...], tuple[Term, ...]] = {}
        for tokens, terms in phrases.items():
            self._add(tokens, terms)
        self._max_len = max((len(p) for p in self._phrases), default=1)
        self._hangul_words = sorted(
            {p[0] for p in self._phrases if len(p) == 1 and is_hangul(p[0][0])}, key=len, reverse=True
        )

    def _add(self, tokens: tuple[str, ...], terms: Iterable[Term]) -> None:
        existing = list(self._phrases.get(tokens, ()))
        existing += [t for t in terms if t not in existing]
        self._phrases[tokens] = tuple(existing)
        if tokens and len(tokens[-1]) > 1:
            for form in _plural_forms(tokens[-1])[1:]:
                plural = (*tokens[:-1], form)
                if plural not in self._phrases:
                    self._phrases[plural] = tuple(existing)

    @classmethod
    def from_scene(cls, scene: SceneGraph) -> Vocabulary:
        """The vocabulary of ``scene``: static synonyms plus its rooms, furniture, objects, devices."""
        phrases: dict[tuple[str, ...], list[Term]] = {}

        def add(phrase: str, term: Term) -> None:
            tokens = _phrase_tokens(phrase)
            if tokens:
                bucket = phrases.setdefault(tokens, [])
                if term not in bucket:
                    bucket.append(term)

        for colour, words in COLOURS.items():
            for word in words:
                add(word, Term("colour", colour))
        for cls_name, words in OBJECT_CLASSES.items():
            for word in words:
                add(word, Term("object_class", cls_name))
        for name, words in OBJECT_NAME_WORDS.items():
            for word in words:
                add(word, Term("object_name", name))
        for cls_name, words in FURNITURE_CLASSES.items():
            for word in words:
                add(word, Term("furniture_class", cls_name))
        for kind, words in DEVICE_KINDS.items():
            for word in words:
                add(word, Term("device_kind", kind))
        for kind, words in ROBOT_KIND_WORDS.items():
            for word in words:
                add(word, Term("robot_kind", kind))
        for word in SPEAKER_WORDS:
            add(word, Term("speaker", "speaker"))
        for room in scene.rooms:
            for name in (room.id, room.name, *room.aliases):
                add(name, Term("room", room.id))
        for furniture in scene.furniture:
            add(furniture.id, Term("furniture", furniture.id))
            add(furniture.cls, Term("furniture_class", furniture.cls))
            for word in FURNITURE_ID_WORDS.get(furniture.id, ()):
                add(word, Term("furniture", furniture.id))
        for obj in scene.objects:
            add(obj.cls, Term("object_class", obj.cls))
            add(obj.colour, Term("colour", obj.colour))
            for part in obj.id.split("_"):
                if part not in (obj.cls, obj.colour) and len(part) > 2:
                    add(part, Term("object_name", part))
        for device in scene.devices:
            add(device.kind, Term("device_kind", device.kind))
        for robot in scene.robots:
            add(robot.id, Term("robot", robot.id))
        for person in scene.people:
            add(person.id, Term("person", person.id))
            add(person.name, Term("person", person.id))
        return cls({k: tuple(v) for k, v in phrases.items()})

    def terms(self, phrase: str) -> tuple[Term, ...]:
        """The meanings of an exact phrase (for tests and diagnostics)."""
        return self._phrases.get(_phrase_tokens(phrase), ())

    def _lookup(self, window: Sequence[str]) -> tuple[Term, ...]:
        """Terms of a token window, allowing a Korean particle on its last token."""
        terms = self._phrases.get(tuple(window))
        if terms:
            return terms
        last = window[-1]
        stripped = strip_particle(last)
        if stripped != last:
            return self._phrases.get((*window[:-1], stripped), ())
        return ()

    def _split_hangul(self, token: str) -> list[str] | None:
        """A Korean token written without spaces as two known words (빨간컵 -> 빨간, 컵), or None."""
        for head in self._hangul_words:
            if token.startswith(head) and len(token) > len(head):
                tail = token[len(head):]
                if self._lookup((tail,)):
                    return [head, tail]
        return None

    def expand(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Tokens with unspaced Korean compounds of known words split apart."""
        out: list[str] = []
        for token in tokens:
            if token and is_hangul(token[0]) and not self._lookup((token,)):
                split = self._split_hangul(token)
                if split:
                    out.extend(split)
                    continue
            out.append(token)
        return tuple(out)

    def find(self, tokens: Sequence[str]) -> list[Mention]:
        """Every mention in ``tokens`` (already ``expand``-ed), longest phrase first, left to right."""
        mentions: list[Mention] = []
        i = 0
        while i < len(tokens):
            for length in range(min(self._max_len, len(tokens) - i), 0, -1):
                window = tokens[i : i + length]
                terms = self._lookup(window)
                if terms:
                    surface = " ".join(window)
                    mentions.extend(Mention(term, i, i + length, surface) for term in terms)
                    i += length
                    break
            else:
                i += 1
        return mentions
