"""Which training iteration ships: ranked by the home check first, the 2D validation only breaks ties."""

from __future__ import annotations

import pytest

from edge_agent.training.evaluate import HELD_OUT_SEED_BASE
from edge_agent.training.selection import SELECTION_SEED_BASE, Candidate, choose, selection_seeds


def _candidate(iteration: int, val: float = 1.0, home: float = 0.9, collisions: float = 0.0, spl: float = 0.8) -> Candidate:
    return Candidate(iteration=iteration, val_success_rate=val, val_spl=val * 0.95,
                     home_success_rate=home, home_collision_rate=collisions, home_spl=spl)


def test_the_home_check_outranks_a_perfect_2d_validation():
    perfect_in_2d = _candidate(8, val=1.0, home=0.86)
    better_at_home = _candidate(6, val=0.94, home=0.96)
    assert choose([perfect_in_2d, better_at_home]).iteration == 6


def test_a_candidate_that_collides_at_home_loses_to_one_that_does_not():
    colliding = _candidate(7, home=0.95, collisions=0.02, spl=0.9)
    clean = _candidate(5, home=0.95, collisions=0.0, spl=0.85)
    assert choose([colliding, clean]).iteration == 5


def test_ties_at_home_go_to_the_better_2d_validation_then_the_later_iteration():
    assert choose([_candidate(3, val=0.98), _candidate(4, val=0.96)]).iteration == 3
    assert choose([_candidate(3), _candidate(4)]).iteration == 4


def test_choosing_from_nothing_is_an_error():
    with pytest.raises(ValueError, match="no candidates"):
        choose([])


def test_selection_episodes_are_never_evaluation_episodes():
    seeds = selection_seeds(500)
    assert seeds[0] == SELECTION_SEED_BASE and len(set(seeds)) == 500
    assert max(seeds) < HELD_OUT_SEED_BASE
