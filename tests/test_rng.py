"""Counter-based random numbers."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from blinasim.kernels import rng


def test_uniform_moments_and_range():
    u = rng.uniform_array(123, 7, rng.ENCOUNTER, 200_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.003
    assert abs(u.var() - 1 / 12) < 0.001
    # No lag-1 correlation between neighbouring slots.
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_streams_ticks_and_seeds_are_independent():
    a = rng.uniform_array(1, 0, rng.ENCOUNTER, 50_000)
    b = rng.uniform_array(1, 0, rng.KILLING, 50_000)
    c = rng.uniform_array(1, 1, rng.ENCOUNTER, 50_000)
    d = rng.uniform_array(2, 0, rng.ENCOUNTER, 50_000)
    for other in (b, c, d):
        assert abs(np.corrcoef(a, other)[0, 1]) < 0.02
        assert not np.array_equal(a, other)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    tick=st.integers(0, 10**7),
    slot=st.integers(0, 2**31 - 1),
    k=st.integers(0, 64),
)
def test_a_draw_is_a_pure_function_of_its_counter(seed, tick, slot, k):
    x = rng.draw_uniform(seed, tick, rng.MOTILITY, slot, k)
    assert 0.0 <= x < 1.0
    assert x == rng.draw_uniform(seed, tick, rng.MOTILITY, slot, k)


def test_poisson_mean_and_variance():
    draws = np.array([rng.draw_poisson(5, t, rng.NORMAL_B_SUPPLY, 0, 0, 3.5) for t in range(20_000)])
    assert abs(draws.mean() - 3.5) < 0.06
    assert abs(draws.var() - 3.5) < 0.15
