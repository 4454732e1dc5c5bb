"""Which plan steps to send now: the streaming-ahead window, as a pure function of the cursor.

The robot executes from a local queue; the cloud keeps that queue filled up to ``size`` steps beyond
the step the robot is on, so a slow network only matters when the window is small. ``size=None``
(the default) sends the whole plan at once; ``size=0`` sends only the step at the cursor, so every
step costs a round trip (the baseline the prefetch benchmark compares against).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LookaheadWindow"]


@dataclass(frozen=True)
class LookaheadWindow:
    """A window of ``size`` steps beyond the cursor (None: unbounded).

    The cursor is the index of the next step the robot will execute (the number of finished steps);
    ``next_unsent`` is the first index not sent yet. Both only move forward within a revision.
    """

    size: int | None = None

    @classmethod
    def from_wire(cls, value: int | None) -> LookaheadWindow:
        """The window for a wire/CLI value: None or negative = whole plan, else that many steps ahead."""
        return cls(None if value is None or value < 0 else int(value))

    @property
    def unbounded(self) -> bool:
        """Whether the whole plan is sent at once."""
        return self.size is None

    def limit(self, cursor: int, total: int) -> int:
        """One past the last index that may be sent while the robot is at ``cursor``."""
        if self.size is None:
            return total
        return max(0, min(total, cursor + self.size + 1))

    def due(self, cursor: int, total: int, next_unsent: int) -> range:
        """Indices to send now: from the first unsent (never one before the cursor) to the limit."""
        return range(max(next_unsent, cursor, 0), self.limit(cursor, total))

    def describe(self) -> str:
        """``whole plan`` or ``K ahead``, for logs and the Hello acknowledgement."""
        return "whole plan" if self.size is None else f"{self.size} ahead"
