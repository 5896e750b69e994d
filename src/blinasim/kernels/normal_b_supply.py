"""Normal-B supply from precursors (phase ``normal_b_supply``).

Normal B cells are replenished from CD19-negative precursors (not simulated)
at a constant supply that balances their death at baseline, so their baseline
is stable and they recover slowly after depletion. Each new cell is placed at
a random marrow site and settles only if it is empty (a niche). Their death is
in the blast-fate pass (:mod:`blinasim.kernels.blast_fate`); the supply rate
and the number of new cells per slow step: :mod:`blinasim.core.processes.normal_b_supply`.
"""

from __future__ import annotations

from numba import njit

from blinasim.kernels.layout import (
    KIND_NORMAL_B,
    L_KIND,
    L_SLOT,
    PHENO_CD19_POSITIVE,
    SITE_EMPTY,
    SITE_TARGET,
    TG_CD19,
    TG_CLOCK,
    TG_ENGAGED,
    TG_KIND,
    TG_PDL1,
    TG_PHENOTYPE,
    TG_POS,
)
from blinasim.kernels.rng import NORMAL_B_SUPPLY, lognormal, stream_key, uniform


@njit(cache=True)
def supply_normal_b(
    seed,
    tick,
    n_new,
    n,
    targets,
    lattice,
    cd19_median,
    cd19_log_sd,
):
    """Place up to ``n_new`` new normal B cells at random empty marrow sites.

    Each new cell tries one random site; an occupied site means no niche and no
    birth. The caller guarantees capacity for ``n_new`` more slots.
    Returns the new slot count.
    """
    tg_pos, tg_cd19, tg_pdl1, tg_clock = targets[TG_POS], targets[TG_CD19], targets[TG_PDL1], targets[TG_CLOCK]
    tg_kind, tg_phenotype, tg_engaged = targets[TG_KIND], targets[TG_PHENOTYPE], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    n_sites = site_kind.shape[0]
    key = stream_key(seed, tick, NORMAL_B_SUPPLY)
    for c in range(n_new):
        s = int(uniform(key, c, 0) * n_sites)
        if site_kind[s] != SITE_EMPTY:
            continue
        site_kind[s] = SITE_TARGET
        site_slot[s] = n
        tg_pos[n] = s
        tg_cd19[n] = lognormal(key, c, 1, cd19_median, cd19_log_sd)
        tg_pdl1[n] = 0.0
        tg_clock[n] = 0.0
        tg_kind[n] = KIND_NORMAL_B
        tg_phenotype[n] = PHENO_CD19_POSITIVE
        tg_engaged[n] = 0
        n += 1
    return n
