"""Blast agents whose weight in cells adapts to the disease (phase ``blast_scale``).

Every blast agent stands for ``blast_weight`` leukemic cells, one weight for
all blasts of a patient (other cells keep ``cells_per_agent``). When few blast
agents are left the weight halves and every blast agent gets a copy of itself
(:func:`duplicate_blasts`: a super-individual splits); when many, the weight
doubles and each blast agent is kept with probability 1/2
(:func:`thin_blasts`: super-individuals merge, unbiased in expectation). The
rule and its thresholds: :mod:`blinasim.core.processes.blast_scale`.

A copy takes the mother's CD19, PD-L1, phenotype and compartment and a fresh
exponential division clock (memoryless, so the copy is statistically the same
cell); a marrow copy goes to a random Moore neighbour that is empty or holds
another marrow cell (displaced), else to a random such site of the lattice.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from blinasim.kernels.layout import (
    KIND_BLAST,
    L_KIND,
    L_SLOT,
    POS_DEAD,
    SITE_EMPTY,
    SITE_OTHER,
    SITE_TARGET,
    TG_CD19,
    TG_CLOCK,
    TG_ENGAGED,
    TG_KIND,
    TG_PDL1,
    TG_PHENOTYPE,
    TG_POS,
)
from blinasim.kernels.motility import moore_neighbour
from blinasim.kernels.rng import BLAST_SCALE, stream_key, uniform

#: random lattice sites a marrow copy tries after its Moore neighbours, before a scan
RANDOM_SITE_TRIES = 64
#: draw index of the thinning draw (distinct from the draws of a copy)
THIN_DRAW = 100


@njit(cache=True)
def count_blasts(n, targets):
    """Living blast agents in slots ``0 .. n-1`` (marrow and blood)."""
    tg_pos, tg_kind = targets[TG_POS], targets[TG_KIND]
    count = 0
    for j in range(n):
        if tg_pos[j] != POS_DEAD and tg_kind[j] == KIND_BLAST:
            count += 1
    return count


@njit(cache=True, inline="always")
def _takes_copy(kind):
    return kind == SITE_EMPTY or kind == SITE_OTHER


@njit(cache=True)
def copy_site(key, j, p, site_kind, side, attempts):
    """The lattice site for the copy of the marrow blast in slot ``j`` at site ``p``.

    ``attempts`` random Moore neighbours (draws 1..), then :data:`RANDOM_SITE_TRIES`
    random sites (draws 20..), then the first empty-or-other site from a random start
    (draw 19); -1 when the lattice has no such site.
    """
    for a in range(attempts):
        s = moore_neighbour(p, side, int(uniform(key, j, 1 + a) * 8.0))
        if _takes_copy(site_kind[s]):
            return s
    n_sites = site_kind.shape[0]
    for a in range(RANDOM_SITE_TRIES):
        s = int(uniform(key, j, 20 + a) * n_sites)
        if _takes_copy(site_kind[s]):
            return s
    start = int(uniform(key, j, 19) * n_sites)
    for i in range(n_sites):
        s = (start + i) % n_sites
        if _takes_copy(site_kind[s]):
            return s
    return -1


@njit(cache=True)
def duplicate_blasts(seed, tick, n, targets, lattice, side, mean_cycle_hours, attempts, events):
    """Append a copy of every living blast in slots ``0 .. n-1``; returns the new store size.

    The store must have room for the copies (the caller grows it). ``events[0]``
    counts the copies, ``events[1]`` the other marrow cells displaced, ``events[2]``
    the marrow copies that found no site (kept in no place: none when the blasts
    are few, which is when the rule copies).
    """
    tg_pos, tg_cd19, tg_pdl1, tg_clock = targets[TG_POS], targets[TG_CD19], targets[TG_PDL1], targets[TG_CLOCK]
    tg_kind, tg_phenotype, tg_engaged = targets[TG_KIND], targets[TG_PHENOTYPE], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    key = stream_key(seed, tick, BLAST_SCALE)
    m = n
    for j in range(n):
        p = tg_pos[j]
        if p == POS_DEAD or tg_kind[j] != KIND_BLAST:
            continue
        dest = p
        if p >= 0:
            dest = copy_site(key, j, p, site_kind, side, attempts)
            if dest < 0:
                events[2] += 1
                continue
            if site_kind[dest] == SITE_OTHER:
                events[1] += 1
            site_kind[dest] = SITE_TARGET
            site_slot[dest] = m
        pheno = tg_phenotype[j]
        tg_pos[m] = dest
        tg_cd19[m] = tg_cd19[j]
        tg_pdl1[m] = tg_pdl1[j]
        tg_clock[m] = -mean_cycle_hours[pheno] * np.log(1.0 - uniform(key, j, 0))
        tg_kind[m] = KIND_BLAST
        tg_phenotype[m] = pheno
        tg_engaged[m] = 0
        m += 1
        events[0] += 1
    return m


@njit(cache=True)
def thin_blasts(seed, tick, n, targets, lattice):
    """Remove each free living blast in slots ``0 .. n-1`` with probability 1/2; returns how many.

    A blast in a synapse is kept (its T-cell holds it); the removed free their sites.
    """
    tg_pos, tg_kind, tg_engaged = targets[TG_POS], targets[TG_KIND], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    key = stream_key(seed, tick, BLAST_SCALE)
    removed = 0
    for j in range(n):
        p = tg_pos[j]
        if p == POS_DEAD or tg_kind[j] != KIND_BLAST or tg_engaged[j] != 0:
            continue
        if uniform(key, j, THIN_DRAW) < 0.5:
            if p >= 0:
                site_kind[p] = SITE_EMPTY
                site_slot[p] = -1
            tg_pos[j] = POS_DEAD
            removed += 1
    return removed
