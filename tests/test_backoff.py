"""Reconnect backoff: exponential, capped, fully jittered and reproducible (edge_agent.backoff)."""

from __future__ import annotations

import pytest

from edge_agent.backoff import BackoffPolicy, ExponentialBackoff


def test_each_delay_lies_under_an_exponentially_growing_ceiling():
    backoff = ExponentialBackoff(BackoffPolicy(base_s=0.1, factor=2.0, cap_s=100.0), seed=1)

    delays = [backoff.next_delay() for _ in range(8)]

    for attempt, delay in enumerate(delays):
        assert 0.0 <= delay <= 0.1 * 2**attempt


def test_delays_never_exceed_the_cap_even_after_a_long_outage():
    backoff = ExponentialBackoff(BackoffPolicy(base_s=0.1, factor=2.0, cap_s=2.0), seed=2)

    delays = [backoff.next_delay() for _ in range(2000)]

    assert max(delays) <= 2.0
    assert max(delays[-200:]) > 1.5  # the ceiling did reach the cap


def test_full_jitter_spreads_delays_over_the_whole_range():
    backoff = ExponentialBackoff(BackoffPolicy(base_s=1.0, factor=1.0, cap_s=1.0), seed=3)

    delays = [backoff.next_delay() for _ in range(1000)]

    assert min(delays) < 0.05 and max(delays) > 0.95
    assert sum(delays) / len(delays) == pytest.approx(0.5, abs=0.05)


def test_same_seed_gives_the_same_delays_and_different_seeds_do_not():
    first = ExponentialBackoff(seed=7)
    second = ExponentialBackoff(seed=7)
    other = ExponentialBackoff(seed=8)

    seq_first = [first.next_delay() for _ in range(10)]

    assert seq_first == [second.next_delay() for _ in range(10)]
    assert seq_first != [other.next_delay() for _ in range(10)]


def test_reset_returns_to_the_base_ceiling():
    backoff = ExponentialBackoff(BackoffPolicy(base_s=0.1, factor=10.0, cap_s=1000.0), seed=4)
    for _ in range(5):
        backoff.next_delay()

    backoff.reset()

    assert backoff.attempt == 0
    assert backoff.next_delay() <= 0.1
    assert backoff.attempt == 1


def test_min_delay_is_a_floor_under_every_delay():
    backoff = ExponentialBackoff(BackoffPolicy(base_s=0.5, factor=2.0, cap_s=4.0, min_s=0.2), seed=5)

    delays = [backoff.next_delay() for _ in range(200)]

    assert min(delays) >= 0.2 and max(delays) <= 4.0


@pytest.mark.parametrize(
    "kwargs",
    [dict(base_s=0.0), dict(cap_s=-1.0), dict(factor=0.5), dict(min_s=10.0, cap_s=5.0)],
)
def test_nonsensical_policies_are_rejected(kwargs):
    with pytest.raises(ValueError):
        BackoffPolicy(**kwargs)
