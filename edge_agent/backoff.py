"""Reconnect delays for the executive's cloud session: exponential backoff with full jitter.

When the cloud is unreachable every robot of a fleet would otherwise retry in lock-step and hit the
planner replicas at the same instant when they come back. "Full jitter" (AWS Architecture Blog,
"Exponential Backoff And Jitter") draws each delay uniformly from ``[0, min(cap, base * factor**n)]``,
which spreads the retries out and keeps the expected wait growing exponentially. The generator is
seeded so tests and scenario runs are reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["BackoffPolicy", "ExponentialBackoff"]


@dataclass(frozen=True)
class BackoffPolicy:
    """The shape of the delays.

    Attributes:
        base_s: ceiling of the first delay.
        factor: growth of the ceiling per failed attempt.
        cap_s: the ceiling never exceeds this.
        min_s: floor added under every delay (0 = pure full jitter).
    """

    base_s: float = 0.1
    factor: float = 2.0
    cap_s: float = 5.0
    min_s: float = 0.0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s <= 0:
            raise ValueError("base_s and cap_s must be positive")
        if self.factor < 1.0:
            raise ValueError(f"factor must be >= 1, got {self.factor}")
        if not 0.0 <= self.min_s <= self.cap_s:
            raise ValueError(f"min_s must lie in [0, cap_s], got {self.min_s}")

    def ceiling(self, attempt: int) -> float:
        """The largest delay the ``attempt``-th retry (0-based) may draw."""
        # Bound the exponent so a long outage never overflows the float.
        exponent = min(attempt, 1024)
        try:
            grown = self.base_s * self.factor**exponent
        except OverflowError:
            grown = self.cap_s
        return max(self.min_s, min(self.cap_s, grown))


class ExponentialBackoff:
    """Stateful delay generator: ``next_delay()`` after each failure, ``reset()`` after a success.

    Args:
        policy: the delay shape (defaults: 0.1 s doubling up to 5 s).
        seed: seed of the jitter; the same seed gives the same delays.
    """

    def __init__(self, policy: BackoffPolicy | None = None, *, seed: int | None = None) -> None:
        self.policy = policy if policy is not None else BackoffPolicy()
        self._rng = random.Random(seed)
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """How many delays were handed out since the last reset."""
        return self._attempt

    def next_delay(self) -> float:
        """The seconds to wait before the next attempt; grows the ceiling for the one after."""
        ceiling = self.policy.ceiling(self._attempt)
        self._attempt += 1
        low = self.policy.min_s
        return low + self._rng.random() * (ceiling - low)

    def reset(self) -> None:
        """Start again from the base delay (call when a connection succeeded)."""
        self._attempt = 0
