"""Initialisation: placing the baseline cells (not a biological process, but
it draws from the same counter-based streams so that a seed fixes the patient)."""

from __future__ import annotations

from numba import njit

from blinasim.kernels.layout import (
    KIND_BLAST,
    KIND_NORMAL_B,
    L_KIND,
    L_SLOT,
    NO_PARTNER,
    PHENO_CD19_NEGATIVE,
    PHENO_CD19_POSITIVE,
    POS_BLOOD,
    SITE_EMPTY,
    SITE_OTHER,
    SITE_TARGET,
    T_ACTIVATION,
    T_CD3,
    T_EXHAUSTION,
    T_KILLS,
    T_PARTNER,
    T_POS,
    T_SYNAPSE_H,
    TG_CD19,
    TG_CLOCK,
    TG_ENGAGED,
    TG_KIND,
    TG_PDL1,
    TG_PHENOTYPE,
    TG_POS,
)
from blinasim.kernels.rng import INIT, exponential, lognormal, stream_key, uniform

# Sub-streams of INIT (passed as the ``tick`` of the key).
SUB_MARROW = 0
SUB_BLOOD_BLASTS = 1
SUB_BLOOD_B = 2
SUB_T_MARROW = 3
SUB_T_BLOOD = 4


@njit(cache=True, inline="always")
def escape_variant(u, cd19, negative_fraction, low_fraction, low_factor):
    """(CD19, phenotype) of a baseline blast: a pre-existing CD19-negative clone
    with probability ``negative_fraction``, a CD19-low one (density x
    ``low_factor``) with ``low_fraction``, else unchanged."""
    if u < negative_fraction:
        return 0.0, PHENO_CD19_NEGATIVE
    if u < negative_fraction + low_fraction:
        return cd19 * low_factor, PHENO_CD19_POSITIVE
    return cd19, PHENO_CD19_POSITIVE


@njit(cache=True)
def populate_marrow(
    seed,
    lattice,
    p_resident,
    p_blast,
    p_normal_b,
    targets,
    blast_cd19_median,
    blast_cd19_log_sd,
    b_cd19_median,
    b_cd19_log_sd,
    mean_cycle_hours,
    cd19_negative_fraction,
    cd19_low_fraction,
    cd19_low_factor,
    pdl1_baseline,
):
    """Fill the lattice: each site is occupied with ``p_resident``; a resident is a
    blast with ``p_blast``, a normal B cell with ``p_normal_b``, else another
    marrow cell. Returns the number of targets written (slots 0..n-1)."""
    tg_pos, tg_cd19, tg_pdl1, tg_clock = targets[TG_POS], targets[TG_CD19], targets[TG_PDL1], targets[TG_CLOCK]
    tg_kind, tg_phenotype, tg_engaged = targets[TG_KIND], targets[TG_PHENOTYPE], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    n_sites = site_kind.shape[0]
    key = stream_key(seed, SUB_MARROW, INIT)
    n = 0
    for s in range(n_sites):
        site_slot[s] = -1
        if uniform(key, s, 0) >= p_resident:
            site_kind[s] = SITE_EMPTY
            continue
        u = uniform(key, s, 1)
        if u >= p_blast + p_normal_b:
            site_kind[s] = SITE_OTHER
            continue
        site_kind[s] = SITE_TARGET
        site_slot[s] = n
        tg_pos[n] = s
        tg_pdl1[n] = 0.0
        tg_phenotype[n] = PHENO_CD19_POSITIVE
        tg_engaged[n] = 0
        if u < p_blast:
            tg_kind[n] = KIND_BLAST
            cd19, pheno = escape_variant(
                uniform(key, s, 5),
                lognormal(key, s, 2, blast_cd19_median, blast_cd19_log_sd),
                cd19_negative_fraction,
                cd19_low_fraction,
                cd19_low_factor,
            )
            tg_cd19[n] = cd19
            tg_phenotype[n] = pheno
            tg_pdl1[n] = pdl1_baseline
            tg_clock[n] = exponential(key, s, 4, mean_cycle_hours)
        else:
            tg_kind[n] = KIND_NORMAL_B
            tg_cd19[n] = lognormal(key, s, 2, b_cd19_median, b_cd19_log_sd)
            tg_clock[n] = 0.0
        n += 1
    return n


@njit(cache=True)
def add_blood_targets(
    seed,
    sub,
    count,
    kind,
    n,
    targets,
    cd19_median,
    cd19_log_sd,
    mean_cycle_hours,
    cd19_negative_fraction,
    cd19_low_fraction,
    cd19_low_factor,
    pdl1_baseline,
):
    """Append ``count`` circulating targets of ``kind``; return the new count.

    Blasts get the baseline escape variants and PD-L1 like marrow blasts."""
    tg_pos, tg_cd19, tg_pdl1, tg_clock = targets[TG_POS], targets[TG_CD19], targets[TG_PDL1], targets[TG_CLOCK]
    tg_kind, tg_phenotype, tg_engaged = targets[TG_KIND], targets[TG_PHENOTYPE], targets[TG_ENGAGED]
    key = stream_key(seed, sub, INIT)
    for c in range(count):
        tg_pos[n] = POS_BLOOD
        cd19 = lognormal(key, c, 0, cd19_median, cd19_log_sd)
        tg_pdl1[n] = 0.0
        tg_phenotype[n] = PHENO_CD19_POSITIVE
        if kind == KIND_BLAST:
            cd19, pheno = escape_variant(
                uniform(key, c, 3), cd19, cd19_negative_fraction, cd19_low_fraction, cd19_low_factor
            )
            tg_phenotype[n] = pheno
            tg_pdl1[n] = pdl1_baseline
        tg_cd19[n] = cd19
        tg_clock[n] = exponential(key, c, 2, mean_cycle_hours) if kind == KIND_BLAST else 0.0
        tg_kind[n] = kind
        tg_engaged[n] = 0
        n += 1
    return n


@njit(cache=True)
def add_t_cells(
    seed,
    sub,
    count,
    in_marrow,
    n_sites,
    n_t,
    tcells,
    cd3_median,
    cd3_log_sd,
    exhaustion,
):
    """Append ``count`` resting T-cells, at random marrow sites or in blood, each carrying ``exhaustion``."""
    t_pos, t_partner, t_cd3, t_kills = tcells[T_POS], tcells[T_PARTNER], tcells[T_CD3], tcells[T_KILLS]
    t_activation, t_exhaustion, t_synapse_h = tcells[T_ACTIVATION], tcells[T_EXHAUSTION], tcells[T_SYNAPSE_H]
    key = stream_key(seed, sub, INIT)
    for c in range(count):
        t_pos[n_t] = int(uniform(key, c, 0) * n_sites) if in_marrow else POS_BLOOD
        t_partner[n_t] = NO_PARTNER
        t_cd3[n_t] = lognormal(key, c, 1, cd3_median, cd3_log_sd)
        t_activation[n_t] = 0.0
        t_exhaustion[n_t] = exhaustion
        t_synapse_h[n_t] = 0.0
        t_kills[n_t] = 0
        n_t += 1
    return n_t
