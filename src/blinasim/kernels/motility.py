"""T-cell motility (phase ``motility``): an unbiased random walk over the marrow lattice.

Steps per tick: :mod:`blinasim.core.processes.motility`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from blinasim.kernels.layout import NO_PARTNER, T_PARTNER, T_POS
from blinasim.kernels.rng import MOTILITY, stream_key, uniform


@njit(cache=True, inline="always")
def moore_neighbour(site, side, d):
    """Site index of Moore neighbour ``d`` (0-7) on a periodic ``side x side`` lattice;
    ``d == 8`` returns the site itself."""
    if d == 8:
        return site
    idx = d if d < 4 else d + 1  # skip the centre of the 3x3 block
    x = site % side + idx % 3 - 1
    y = site // side + idx // 3 - 1
    if x < 0:
        x += side
    elif x >= side:
        x -= side
    if y < 0:
        y += side
    elif y >= side:
        y -= side
    return y * side + x


@njit(cache=True)
def move_t_cells(seed, tick, n, tcells, side, steps_per_tick):
    """Move every free marrow T-cell by a random walk of ``steps_per_tick`` Moore steps.

    ``steps_per_tick`` may be fractional: its whole part is always taken, the
    remainder with that probability. T-cells in a synapse or in blood stay put.
    T-cells do not occupy sites; they crawl over the residents.
    """
    pos, partner = tcells[T_POS], tcells[T_PARTNER]
    key = stream_key(seed, tick, MOTILITY)
    whole = int(np.floor(steps_per_tick))
    frac = steps_per_tick - whole
    for i in range(n):
        p = pos[i]
        if p < 0 or partner[i] != NO_PARTNER:
            continue
        k = whole + (1 if uniform(key, i, 0) < frac else 0)
        for s in range(k):
            p = moore_neighbour(p, side, int(uniform(key, i, 1 + s) * 8.0))
        pos[i] = p
