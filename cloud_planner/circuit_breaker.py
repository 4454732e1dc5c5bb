"""A circuit breaker for the model endpoint: stop asking a dead endpoint, probe it back later.

While the endpoint fails, every request would otherwise wait out its full deadline before the embedded
planner takes over. After ``failure_threshold`` consecutive failures the breaker opens and requests go
straight to the fallback; after ``reset_after_s`` one request is let through as a probe (half-open), and
its outcome closes or re-opens the breaker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(str, Enum):
    """Closed: use the endpoint. Open: skip it. Half-open: one probe in flight."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Thread-safe consecutive-failure breaker with a single half-open probe."""

    failure_threshold: int = 3
    reset_after_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _state: BreakerState = BreakerState.CLOSED
    _failures: int = 0
    _opened_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose cool-down has passed reports half-open)."""
        with self._lock:
            if self._state is BreakerState.OPEN and self.clock() - self._opened_at >= self.reset_after_s:
                return BreakerState.HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """Whether a request may go to the endpoint now; claims the probe slot when half-open."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN and self.clock() - self._opened_at >= self.reset_after_s:
                self._state = BreakerState.HALF_OPEN
                return True
            return False

    def record_success(self) -> None:
        """The endpoint answered well: close the breaker."""
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0

    def record_failure(self) -> None:
        """The endpoint failed: count it, and open on the threshold or a failed probe."""
        with self._lock:
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = BreakerState.OPEN
                self._opened_at = self.clock()
