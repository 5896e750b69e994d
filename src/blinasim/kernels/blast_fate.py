"""Blast division and death, with CD19 loss and lineage switch; normal-B death (phase ``blast_fate``).

Blasts carry a division clock (hours to the next division) drawn from an
exponential distribution with mean ``1 / birth_rate``; apoptosis is a
constant hazard. With exponential clocks the expected growth is exactly
``exp((birth - death) * t)``, the analytic check of the science tests.
Overshoot past zero is carried into the next clock, so the slow clock does
not bias the birth rate.

A dividing marrow blast places its daughter in a random Moore neighbour site:
an empty site takes it, another normal marrow cell there is displaced (dies:
leukemic crowding of normal hematopoiesis); if every try hits a CD19-lineage
cell the division does not happen (contact inhibition; the mother starts a new
cycle). Circulating blasts divide in blood.

Resistance at division (docs/resistance.md): CD19 density is heritable with
lognormal noise; a daughter may lose CD19 (CD19-negative escape) or, mostly in
KMT2A-rearranged leukemia and more so under immune pressure, switch to a
myeloid, CD19-negative phenotype with its own growth kinetics. PD-L1 on
blasts follows an IFN-gamma-induced target level.

Normal B cells do not divide: they die here at a constant rate, in the same
pass over the target store in slot order as the blasts (a death frees a site
that a later blast's daughter may take), and are replenished from precursors
by :mod:`blinasim.kernels.normal_b_supply`. Rates:
:mod:`blinasim.core.processes.blast_fate`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from blinasim.kernels.layout import (
    KIND_BLAST,
    KIND_NORMAL_B,
    L_KIND,
    L_SLOT,
    PHENO_CD19_NEGATIVE,
    PHENO_CD19_POSITIVE,
    PHENO_MYELOID,
    POS_BLOOD,
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
from blinasim.kernels.rng import RESIDENT_FATE, normal, stream_key, uniform

# Event counter layout of ``target_fate`` (int64 array, length EV_SIZE).
EV_BLAST_BIRTH = 0
EV_BLAST_DEATH = 1
EV_B_DEATH = 2
EV_OTHER_DISPLACED = 3
EV_DIVISION_BLOCKED = 4
EV_CD19_LOSS = 5
EV_LINEAGE_SWITCH = 6
EV_SIZE = 7


@njit(cache=True)
def target_fate(
    seed,
    tick,
    start,
    stop,
    n,
    capacity,
    targets,
    lattice,
    side,
    dt_hours,
    mean_cycle_hours,
    p_blast_death,
    p_b_death,
    placement_attempts,
    pdl1_target,
    pdl1_keep,
    cd19_noise_log_sd,
    p_cd19_loss,
    p_lineage_switch,
    events,
):
    """One slow step of division and death for slots ``start .. stop-1``.

    ``mean_cycle_hours`` and ``p_blast_death`` are indexed by blast phenotype
    (CD19+, CD19-negative, myeloid). Every blast's PD-L1 relaxes towards
    ``pdl1_target`` (``pdl1_keep`` = exp(-dt / tau)). At division the daughter
    inherits CD19 with lognormal noise (log-sd ``cd19_noise_log_sd``), loses
    CD19 with ``p_cd19_loss`` (CD19-negative B-lineage) and switches lineage
    with ``p_lineage_switch`` (myeloid, CD19-negative). Cells in a synapse are
    skipped (the synapse resolves first). Returns ``(stopped_at, n)`` as
    :func:`blinasim.kernels.tcell_fate.t_cell_fate`.
    """
    tg_pos, tg_cd19, tg_pdl1, tg_clock = targets[TG_POS], targets[TG_CD19], targets[TG_PDL1], targets[TG_CLOCK]
    tg_kind, tg_phenotype, tg_engaged = targets[TG_KIND], targets[TG_PHENOTYPE], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    key = stream_key(seed, tick, RESIDENT_FATE)
    for j in range(start, stop):
        p = tg_pos[j]
        if p < POS_BLOOD or tg_engaged[j] != 0:
            continue
        if tg_kind[j] == KIND_NORMAL_B:
            if uniform(key, j, 0) < p_b_death:
                if p >= 0:
                    site_kind[p] = SITE_EMPTY
                    site_slot[p] = -1
                tg_pos[j] = POS_DEAD
                events[EV_B_DEATH] += 1
            continue
        if n >= capacity:
            return j, n
        pheno = tg_phenotype[j]
        if uniform(key, j, 0) < p_blast_death[pheno]:
            if p >= 0:
                site_kind[p] = SITE_EMPTY
                site_slot[p] = -1
            tg_pos[j] = POS_DEAD
            events[EV_BLAST_DEATH] += 1
            continue
        tg_pdl1[j] = pdl1_target + (tg_pdl1[j] - pdl1_target) * pdl1_keep
        clock = tg_clock[j] - dt_hours
        if clock > 0.0:
            tg_clock[j] = clock
            continue
        # Division: mother and daughter start new exponential cycles from the
        # moment of division (``clock`` <= 0 carries the overshoot).
        tg_clock[j] = clock - mean_cycle_hours[pheno] * np.log(1.0 - uniform(key, j, 1))
        dest = -1
        if p >= 0:
            for a in range(placement_attempts):
                s = moore_neighbour(p, side, int(uniform(key, j, 3 + a) * 8.0))
                kind = site_kind[s]
                if kind == SITE_EMPTY or kind == SITE_OTHER:
                    if kind == SITE_OTHER:
                        events[EV_OTHER_DISPLACED] += 1
                    dest = s
                    break
            if dest < 0:
                # Contact inhibition: no room around the mother, no division.
                events[EV_DIVISION_BLOCKED] += 1
                continue
            site_kind[dest] = SITE_TARGET
            site_slot[dest] = n
        else:
            dest = POS_BLOOD
        d = n
        daughter_pheno = pheno
        cd19 = tg_cd19[j]
        if cd19 > 0.0 and cd19_noise_log_sd > 0.0:
            cd19 = cd19 * np.exp(cd19_noise_log_sd * normal(key, j, 12))
        if pheno != PHENO_MYELOID and uniform(key, j, 14) < p_lineage_switch:
            daughter_pheno = PHENO_MYELOID
            cd19 = 0.0
            events[EV_LINEAGE_SWITCH] += 1
        elif pheno == PHENO_CD19_POSITIVE and uniform(key, j, 15) < p_cd19_loss:
            daughter_pheno = PHENO_CD19_NEGATIVE
            cd19 = 0.0
            events[EV_CD19_LOSS] += 1
        tg_pos[d] = dest
        tg_cd19[d] = cd19
        tg_pdl1[d] = tg_pdl1[j]
        tg_clock[d] = clock - mean_cycle_hours[daughter_pheno] * np.log(1.0 - uniform(key, j, 2))
        tg_kind[d] = KIND_BLAST
        tg_phenotype[d] = daughter_pheno
        tg_engaged[d] = 0
        n += 1
        events[EV_BLAST_BIRTH] += 1
    return -1, n
