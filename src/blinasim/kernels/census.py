"""Phase 10 helpers: counting the populations for the record; compaction and sorting.

Compaction and sorting are bookkeeping, not biology. Target compaction squeezes
dead slots out of the target store, puts the living in lattice order (marrow by
site, then blood) and rewrites every reference to a moved slot (lattice sites,
synapse partners).
The T-cell store is compacted and sorted by lattice site every slow step
(:func:`sort_t_cells`; nothing refers to a T-cell slot, so nothing is rewritten).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from blinasim.kernels.layout import (
    KIND_BLAST,
    NO_PARTNER,
    PHENO_CD19_POSITIVE,
    PHENO_MYELOID,
    POS_BLOOD,
    POS_DEAD,
    SITE_OTHER,
    SITE_TARGET,
)

# Layout of the census row (int64): each population has a marrow and a blood column.
C_BLASTS = 0
C_BLASTS_CD19_NEG = 2
C_BLASTS_SWITCHED = 4
C_NORMAL_B = 6
C_T = 8
C_T_ENGAGED = 10
C_T_EXHAUSTED = 12
C_OTHER_MARROW = 14
C_SIZE = 15


@njit(cache=True)
def take_census(
    n_t,
    t_pos,
    t_partner,
    t_exhaustion,
    exhausted_threshold,
    n,
    tg_pos,
    tg_kind,
    tg_phenotype,
    tg_cd19,
    tg_pdl1,
    site_kind,
    n_sites,
    out,
):
    """Fill ``out`` (int64[C_SIZE]) with counts; return the summed blast PD-L1."""
    for c in range(C_SIZE):
        out[c] = 0
    for i in range(n_t):
        p = t_pos[i]
        if p == POS_DEAD:
            continue
        col = 1 if p == POS_BLOOD else 0
        out[C_T + col] += 1
        if t_partner[i] != NO_PARTNER:
            out[C_T_ENGAGED + col] += 1
        if t_exhaustion[i] > exhausted_threshold:
            out[C_T_EXHAUSTED + col] += 1
    pdl1 = 0.0
    for j in range(n):
        p = tg_pos[j]
        if p == POS_DEAD:
            continue
        col = 1 if p == POS_BLOOD else 0
        if tg_kind[j] == KIND_BLAST:
            out[C_BLASTS + col] += 1
            ph = tg_phenotype[j]
            if ph == PHENO_MYELOID:
                out[C_BLASTS_SWITCHED + col] += 1
            if ph != PHENO_CD19_POSITIVE or tg_cd19[j] <= 0.0:
                out[C_BLASTS_CD19_NEG + col] += 1
            pdl1 += tg_pdl1[j]
        else:
            out[C_NORMAL_B + col] += 1
    for s in range(n_sites):
        if site_kind[s] == SITE_OTHER:
            out[C_OTHER_MARROW] += 1
    return pdl1


@njit(cache=True)
def compact_targets(
    n,
    tg_pos,
    tg_cd19,
    tg_pdl1,
    tg_clock,
    tg_kind,
    tg_phenotype,
    tg_engaged,
    site_kind,
    site_slot,
    n_sites,
    n_t,
    t_partner,
    remap,
):
    """Remove dead targets and renumber the living by place: marrow targets by site
    index, then the targets in blood in slot order; rewrite sites and partners.

    Ordering by site restores the memory locality that divisions (daughters are
    appended at the end of the store) and homing wear away: the encounter phase
    then finds a T-cell's neighbours near each other in the target store too.
    ``remap`` (int32, at least ``n``) is scratch. Returns the new count.
    """
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
    _gather(tg_pos, order, m)
    _gather(tg_cd19, order, m)
    _gather(tg_pdl1, order, m)
    _gather(tg_clock, order, m)
    _gather(tg_kind, order, m)
    _gather(tg_phenotype, order, m)
    _gather(tg_engaged, order, m)
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
def sort_t_cells(n_t, n_sites, t_pos, t_partner, t_cd3, t_activation, t_exhaustion, t_synapse_h, t_kills):
    """Compact the T-cell store and order it by place: marrow T-cells by site index,
    then the T-cells in blood; equal places keep their slot order (a stable sort).

    Bookkeeping for memory locality, not biology: neighbours in the store become
    neighbours on the lattice, so the encounter phase reads the lattice and the
    target store in sweeps instead of at random. Returns the new slot count.

    A least-significant-digit radix sort of the key (site index, ``n_sites`` for
    blood) in passes of ``_SORT_DIGIT_BITS`` bits, then one gather per field.
    """
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
    _gather(t_pos, order, m)
    _gather(t_partner, order, m)
    _gather(t_cd3, order, m)
    _gather(t_activation, order, m)
    _gather(t_exhaustion, order, m)
    _gather(t_synapse_h, order, m)
    _gather(t_kills, order, m)
    return m


@njit(cache=True)
def _gather(values, order, m):
    """``values[:m] = values[order[:m]]``."""
    tmp = np.empty(m, dtype=values.dtype)
    for k in range(m):
        tmp[k] = values[order[k]]
    for k in range(m):
        values[k] = tmp[k]
