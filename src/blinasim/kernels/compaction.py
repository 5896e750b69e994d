"""Compaction and sorting of the stores (phases ``tcell_sort`` and ``target_compaction``).

Bookkeeping, not biology: neither changes a cell, only the slots the cells sit
in (and so the slots that address their random draws). Target compaction
squeezes dead slots out of the target store when enough of them are dead, puts
the living in lattice order (marrow by site, then blood) and rewrites every
reference to a moved slot (lattice sites, synapse partners). The T-cell store
is compacted and sorted by lattice site every slow step (:func:`sort_t_cells`;
nothing refers to a T-cell slot, so nothing is rewritten). Both keep cells that
are near each other on the lattice near each other in memory.
"""

from __future__ import annotations

import numpy as np
from numba import literal_unroll, njit

from blinasim.kernels.layout import (
    L_KIND,
    L_SLOT,
    NO_PARTNER,
    POS_BLOOD,
    POS_DEAD,
    SITE_TARGET,
    T_PARTNER,
    T_POS,
    TG_POS,
)


@njit(cache=True)
def compact_targets(n, targets, lattice, n_t, tcells, remap):
    """Remove dead targets and renumber the living by place: marrow targets by site
    index, then the targets in blood in slot order; rewrite sites and partners.

    Ordering by site restores the memory locality that divisions (daughters are
    appended at the end of the store) and homing wear away: the encounter phase
    then finds a T-cell's neighbours near each other in the target store too.
    ``remap`` (int32, at least ``n``) is scratch. Returns the new count.
    """
    tg_pos, t_partner = targets[TG_POS], tcells[T_PARTNER]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    n_sites = site_kind.shape[0]
    order = np.empty(n, dtype=np.int32)
    m = 0
    for s in range(n_sites):
        if site_kind[s] == SITE_TARGET:
            order[m] = site_slot[s]
            m += 1
    for j in range(n):
        if tg_pos[j] == POS_BLOOD:
            order[m] = j
            m += 1
    for j in range(n):
        remap[j] = -1
    for k in range(m):
        remap[order[k]] = k
    _gather_record(targets, order, m)
    for k in range(m):
        if tg_pos[k] >= 0:
            site_slot[tg_pos[k]] = k
    for j in range(m, n):
        tg_pos[j] = POS_DEAD
    for i in range(n_t):
        if t_partner[i] != NO_PARTNER:
            t_partner[i] = remap[t_partner[i]]
    return m


# Radix digit of the T-cell sort: 12 bits, so a 4096-entry histogram (16 kB) stays
# in L1 and lattices up to 4096 x 4096 sites need two passes.
_SORT_DIGIT_BITS = 12


@njit(cache=True)
def sort_t_cells(n_t, n_sites, tcells):
    """Compact the T-cell store and order it by place: marrow T-cells by site index,
    then the T-cells in blood; equal places keep their slot order (a stable sort).

    Bookkeeping for memory locality, not biology: neighbours in the store become
    neighbours on the lattice, so the encounter phase reads the lattice and the
    target store in sweeps instead of at random. Returns the new slot count.

    A least-significant-digit radix sort of the key (site index, ``n_sites`` for
    blood) in passes of ``_SORT_DIGIT_BITS`` bits, then one gather per field.
    """
    t_pos = tcells[T_POS]
    order = np.empty(n_t, dtype=np.int32)
    m = 0
    for i in range(n_t):
        if t_pos[i] != POS_DEAD:
            order[m] = i
            m += 1
    spare = np.empty(m, dtype=np.int32)
    n_buckets = 1 << _SORT_DIGIT_BITS
    mask = n_buckets - 1
    start = np.empty(n_buckets, dtype=np.int64)
    shift = 0
    while (n_sites >> shift) > 0:
        start[:] = 0
        for k in range(m):
            p = t_pos[order[k]]
            key = n_sites if p == POS_BLOOD else p
            start[(key >> shift) & mask] += 1
        total = 0
        for d in range(n_buckets):
            c = start[d]
            start[d] = total
            total += c
        for k in range(m):
            i = order[k]
            p = t_pos[i]
            key = n_sites if p == POS_BLOOD else p
            d = (key >> shift) & mask
            spare[start[d]] = i
            start[d] += 1
        for k in range(m):
            order[k] = spare[k]
        shift += _SORT_DIGIT_BITS
    _gather_record(tcells, order, m)
    return m


@njit(cache=True)
def _gather(values, order, m):
    """``values[:m] = values[order[:m]]``."""
    tmp = np.empty(m, dtype=values.dtype)
    for k in range(m):
        tmp[k] = values[order[k]]
    for k in range(m):
        values[k] = tmp[k]


@njit(cache=True)
def _gather_record(record, order, m):
    """:func:`_gather` every field of a store record (a tuple of arrays of several dtypes)."""
    for values in literal_unroll(record):
        _gather(values, order, m)
