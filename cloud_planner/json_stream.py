"""Pull each step out of a plan while the model is still writing it.

A large model streams ``{"summary": ..., "steps": [{...}, {...}, ...]}`` token by token. Waiting for the
closing brace would make the robot's first action wait for the whole plan; instead this scanner tracks
just enough JSON structure (strings, escapes, nesting) to hand over every element of the top-level
``steps`` array the moment its own closing brace arrives, and the other top-level scalar fields as soon
as they are complete. Text before the first ``{`` (a Markdown fence, a preamble) is skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PlanStreamError", "PlanStreamParser"]


class PlanStreamError(ValueError):
    """The streamed text is not the plan JSON it should be."""


@dataclass
class PlanStreamParser:
    """Feed text chunks; collect completed step objects and top-level fields as they close."""

    array_key: str = "steps"
    fields: dict[str, Any] = field(default_factory=dict)
    _buffer: list[str] = field(default_factory=list)
    _text_len: int = 0
    _started: bool = False
    _finished: bool = False
    _depth: int = 0
    _in_string: bool = False
    _escape: bool = False
    _string_start: int = -1
    _last_key: str | None = None
    _key_pending: bool = False
    _in_array: bool = False
    _element_start: int = -1
    _value_start: int = -1
    _steps_seen: int = 0

    @property
    def text(self) -> str:
        """Everything received so far."""
        return "".join(self._buffer)

    @property
    def finished(self) -> bool:
        """Whether the top-level object has closed."""
        return self._finished

    @property
    def steps_seen(self) -> int:
        """How many complete step objects have been handed out."""
        return self._steps_seen

    def feed(self, chunk: str) -> list[dict[str, Any]]:
        """Consume ``chunk``; return the step objects it completed, in order."""
        start = self._text_len
        self._buffer.append(chunk)
        self._text_len += len(chunk)
        text = self.text
        completed: list[dict[str, Any]] = []
        for pos in range(start, len(text)):
            step = self._advance(text, pos)
            if step is not None:
                completed.append(step)
        return completed

    def close(self) -> dict[str, Any]:
        """Parse the complete document; raises PlanStreamError if it is not a finished JSON object."""
        text = self.text
        begin = text.find("{")
        if begin < 0 or not self._finished:
            raise PlanStreamError("the reply ended before the plan JSON object was complete")
        end = text.rfind("}")
        try:
            document = json.loads(text[begin : end + 1])
        except json.JSONDecodeError as exc:
            raise PlanStreamError(f"the plan is not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise PlanStreamError("the plan must be a JSON object")
        return document

    def _advance(self, text: str, pos: int) -> dict[str, Any] | None:
        char = text[pos]
        if self._finished:
            return None
        if not self._started:
            if char == "{":
                self._started = True
                self._depth = 1
            return None
        if self._in_string:
            if self._escape:
                self._escape = False
            elif char == "\\":
                self._escape = True
            elif char == '"':
                self._in_string = False
                if self._depth == 1 and self._key_pending:
                    self._last_key = json.loads(text[self._string_start : pos + 1])
            return None
        if char == '"':
            self._in_string = True
            self._string_start = pos
            if self._depth == 1 and self._value_start < 0:
                self._key_pending = True
            return None
        if char == ":" and self._depth == 1:
            self._key_pending = False
            self._value_start = pos + 1
            return None
        if char in "{[":
            self._depth += 1
            if self._depth == 2 and char == "[" and self._last_key == self.array_key:
                self._in_array = True
            elif self._depth == 3 and self._in_array and char == "{":
                self._element_start = pos
            elif self._depth == 3 and self._in_array:
                raise PlanStreamError(f"every element of {self.array_key!r} must be an object")
            return None
        if char in "}]":
            self._depth -= 1
            if self._depth == 2 and self._in_array and char == "}" and self._element_start >= 0:
                return self._complete_step(text, pos)
            if self._depth == 1 and self._in_array and char == "]":
                self._in_array = False
            if self._depth == 0:
                self._finish_value(text, pos)
                self._finished = True
            return None
        if char == "," and self._depth == 1:
            self._finish_value(text, pos)
        return None

    def _complete_step(self, text: str, pos: int) -> dict[str, Any]:
        raw = text[self._element_start : pos + 1]
        self._element_start = -1
        try:
            step = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise PlanStreamError(f"step {self._steps_seen} is not valid JSON: {exc}") from exc
        self._steps_seen += 1
        return step

    def _finish_value(self, text: str, pos: int) -> None:
        """Record a completed top-level ``key: value`` (the steps array is handed out separately)."""
        if self._value_start >= 0 and self._last_key is not None and self._last_key != self.array_key:
            raw = text[self._value_start : pos].strip()
            try:
                self.fields[self._last_key] = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise PlanStreamError(f"field {self._last_key!r} is not valid JSON: {exc}") from exc
        self._value_start = -1
        self._last_key = None
