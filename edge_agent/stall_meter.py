"""Stall accounting: how long the robots sat idle waiting for the cloud, as one small pure object.

The executive decides *whether* the fleet is stalled right now (nothing running, nothing runnable, a
step of the plan not received, or no plan yet after a command); this module only integrates that
yes/no signal over time, so the executive node and the prefetch benchmark's ROS-free replay edge
count stall the same way and the rule can be unit-tested with hand-made clocks.

The interval between two updates is charged to the state recorded at the *earlier* update. A caller
that updates right after every state change (the benchmark's event loop) therefore measures exactly;
a caller that samples on a timer (the executive's 50 ms tick) is off by at most one period per
transition, in either direction.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StallMeter"]


@dataclass
class StallMeter:
    """Integrates a stalled/not-stalled signal over a monotonic clock (seconds in, seconds out).

    Attributes:
        total_s: stalled time accumulated so far.
        episodes: how many times the signal went from not stalled to stalled.
    """

    total_s: float = 0.0
    episodes: int = 0
    _last_time: float | None = None
    _stalled: bool = False

    def update(self, now: float, stalled: bool) -> None:
        """Charge the time since the previous update to the previous state, then record ``stalled``."""
        if self._last_time is not None and self._stalled and now > self._last_time:
            self.total_s += now - self._last_time
        if stalled and not self._stalled:
            self.episodes += 1
        if self._last_time is None or now >= self._last_time:
            self._last_time = now
        self._stalled = stalled

    @property
    def stalled(self) -> bool:
        """The state recorded at the latest update."""
        return self._stalled

    @property
    def total_ms(self) -> float:
        """Stalled time accumulated so far, in milliseconds."""
        return self.total_s * 1000.0
