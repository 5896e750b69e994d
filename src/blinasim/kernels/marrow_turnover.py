"""Turnover of the other nucleated marrow cells (phase ``marrow_turnover``).

Other nucleated marrow cells (myeloid, erythroid) exist only as lattice
contents: they die at a constant rate and refill empty sites at the rate that
keeps normal cellularity (slowed by chemotherapy, which also kills their
precursors). Probabilities: :mod:`blinasim.core.processes.marrow_turnover`.
"""

from __future__ import annotations

from numba import njit

from blinasim.kernels.layout import L_KIND, L_SLOT, SITE_EMPTY, SITE_OTHER
from blinasim.kernels.rng import MARROW_TURNOVER, stream_key, uniform


@njit(cache=True)
def marrow_turnover(seed, tick, lattice, p_other_death, p_refill):
    """Death of other nucleated marrow cells and refill of empty sites.

    Returns (births, deaths) of other marrow cells.
    """
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    n_sites = site_kind.shape[0]
    key = stream_key(seed, tick, MARROW_TURNOVER)
    births = 0
    deaths = 0
    for s in range(n_sites):
        kind = site_kind[s]
        if kind == SITE_OTHER:
            if uniform(key, s, 0) < p_other_death:
                site_kind[s] = SITE_EMPTY
                deaths += 1
        elif kind == SITE_EMPTY:
            if uniform(key, s, 0) < p_refill:
                site_kind[s] = SITE_OTHER
                site_slot[s] = -1
                births += 1
    return births, deaths
