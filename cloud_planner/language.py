"""Text normalisation, language detection and tokenisation for English and Korean commands.

English words are matched whole; Korean attaches particles and verb endings to words (주방에 = kitchen
+ at, 컵을 = cup + object marker, 가져와 = bring), so Korean tokens are matched by stem with the
particle stripped. Numbers arrive as digits, English number words ("twenty two") or Sino-Korean
numerals (이십이), always with an optional unit (도/초/분, degrees/seconds/minutes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "KOREAN_PARTICLES",
    "NumberMention",
    "detect_language",
    "find_numbers",
    "is_hangul",
    "normalise",
    "strip_particle",
    "tokenise",
]

# Longest first, so 에서 is stripped before 에 and 으로 before 로.
KOREAN_PARTICLES: tuple[str, ...] = tuple(
    sorted(
        (
            "에서는", "에게서", "한테서", "으로는", "이라고", "라고", "으로", "에서", "에게", "한테", "께서", "이랑",
            "까지", "부터", "처럼", "보고", "에는", "에도", "은", "는", "이", "가", "을", "를", "에", "로", "의", "도",
            "랑", "와", "과", "께", "좀",
        ),
        key=len,
        reverse=True,
    )
)

_CONTRACTIONS = {
    "i'm": "i am",
    "im": "i am",
    "it's": "it is",
    "don't": "do not",
    "can't": "can not",
    "won't": "will not",
    "let's": "let us",
    "what's": "what is",
    "you're": "you are",
    "we're": "we are",
    "i've": "i have",
}
_TOKEN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?[a-z가-힣°]*|[a-z가-힣][a-z0-9가-힣']*", re.UNICODE)

_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "a": 1, "an": 1,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_KO_DIGITS = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
_UNIT_WORDS = {
    "degree": "degrees", "degrees": "degrees", "°": "degrees", "°c": "degrees", "c": "degrees", "도": "degrees",
    "second": "seconds", "seconds": "seconds", "sec": "seconds", "secs": "seconds", "초": "seconds",
    "minute": "minutes", "minutes": "minutes", "min": "minutes", "mins": "minutes", "분": "minutes",
}
_DIGITS_WITH_UNIT_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(°c|°|c|도|초|분)?(?:" + "|".join(KOREAN_PARTICLES) + r")?$")
_KO_NUMERAL_RE = re.compile(r"^([일이삼사오육칠팔구십]+)(도|초|분)(?:" + "|".join(KOREAN_PARTICLES) + r")?$")


def is_hangul(char: str) -> bool:
    """Whether a character is a Hangul syllable or jamo."""
    code = ord(char)
    return 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F


def detect_language(text: str) -> str:
    """``"ko"`` when the text contains Hangul, else ``"en"``."""
    return "ko" if any(is_hangul(c) for c in text) else "en"


def normalise(text: str) -> str:
    """NFKC, lower case, straight apostrophes, contractions expanded, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'").replace("`", "'")
    text = re.sub(r"[\s,;:!?\"()\[\]{}]+", " ", text)
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", text)
    words = [_CONTRACTIONS.get(w, w) for w in text.split()]
    return " ".join(words)


def tokenise(text: str) -> tuple[str, ...]:
    """Tokens of normalised text: words (Hangul or Latin) and numbers with an attached unit."""
    return tuple(m.group(0).strip("'") for m in _TOKEN_RE.finditer(normalise(text)))


def strip_particle(token: str) -> str:
    """A Korean token without its trailing particle (컵을 -> 컵); other tokens unchanged."""
    if not token or not is_hangul(token[-1]):
        return token
    for particle in KOREAN_PARTICLES:
        if token.endswith(particle) and len(token) > len(particle):
            return token[: -len(particle)]
    return token


@dataclass(frozen=True)
class NumberMention:
    """A number in the command, with its unit (``degrees``/``seconds``/``minutes`` or empty)."""

    value: float
    unit: str
    start: int
    end: int


def _korean_numeral(text: str) -> int | None:
    """Sino-Korean numeral below 100 (이십이 -> 22), or None."""
    if "십" in text:
        tens_text, _, ones_text = text.partition("십")
        tens = 1 if not tens_text else _KO_DIGITS.get(tens_text)
        ones = 0 if not ones_text else _KO_DIGITS.get(ones_text)
        if tens is None or ones is None or len(tens_text) > 1 or len(ones_text) > 1:
            return None
        return tens * 10 + ones
    return _KO_DIGITS.get(text) if len(text) == 1 else None


def find_numbers(tokens: Sequence[str]) -> list[NumberMention]:
    """Every number in the tokens: ``22``, ``22도로``, ``twenty two degrees``, ``이십이도``, ``10초``."""
    found: list[NumberMention] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        match = _DIGITS_WITH_UNIT_RE.match(token)
        value: float | None = None
        unit = ""
        end = i + 1
        if match:
            value = float(match.group(1))
            unit = _UNIT_WORDS.get(match.group(2) or "", "")
        elif (ko := _KO_NUMERAL_RE.match(token)) and (n := _korean_numeral(ko.group(1))) is not None:
            value, unit = float(n), _UNIT_WORDS[ko.group(2)]
        elif token in _EN_TENS or (token in _EN_UNITS and token not in ("a", "an")):
            value = float(_EN_TENS.get(token, _EN_UNITS.get(token, 0)))
            if token in _EN_TENS and end < len(tokens) and 0 < _EN_UNITS.get(tokens[end], 0) < 10 \
                    and tokens[end] not in ("a", "an"):
                value += _EN_UNITS[tokens[end]]
                end += 1
        if value is None:
            i += 1
            continue
        if not unit and end < len(tokens):
            unit = _UNIT_WORDS.get(strip_particle(tokens[end]), "")
            if unit:
                end += 1
        found.append(NumberMention(value, unit, i, end))
        i = end
    return found
