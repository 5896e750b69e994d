"""The census of the record (phase ``record``): counts of every population by compartment."""

from __future__ import annotations

from numba import njit

from blinasim.kernels.layout import (
    KIND_BLAST,
    L_KIND,
    NO_PARTNER,
    PHENO_CD19_POSITIVE,
    PHENO_MYELOID,
    POS_BLOOD,
    POS_DEAD,
    SITE_OTHER,
    T_EXHAUSTION,
    T_PARTNER,
    T_POS,
    TG_CD19,
    TG_KIND,
    TG_PDL1,
    TG_PHENOTYPE,
    TG_POS,
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
def take_census(n_t, tcells, exhausted_threshold, n, targets, lattice, out):
    """Fill ``out`` (int64[C_SIZE]) with counts; return the summed blast PD-L1."""
    t_pos, t_partner, t_exhaustion = tcells[T_POS], tcells[T_PARTNER], tcells[T_EXHAUSTION]
    tg_pos, tg_kind, tg_phenotype = targets[TG_POS], targets[TG_KIND], targets[TG_PHENOTYPE]
    tg_cd19, tg_pdl1 = targets[TG_CD19], targets[TG_PDL1]
    site_kind = lattice[L_KIND]
    n_sites = site_kind.shape[0]
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
