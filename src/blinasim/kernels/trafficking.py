"""Trafficking between blood and marrow (phases ``tcell_trafficking`` and ``target_trafficking``).

Both compartments exchange cells by first-order rates. Free T-cells move every
tick (blood -> a uniformly random marrow site; marrow -> blood). Resident
cells (blasts, normal B) move on the slow clock: a marrow resident leaves its
site for blood; a circulating one homes to a random site and settles only if
that site is empty (niche availability), otherwise it stays in blood.
Rates: :mod:`blinasim.core.processes.trafficking`.
"""

from __future__ import annotations

from numba import njit

from blinasim.kernels.layout import (
    L_KIND,
    L_SLOT,
    NO_PARTNER,
    POS_BLOOD,
    SITE_EMPTY,
    SITE_TARGET,
    T_PARTNER,
    T_POS,
    TG_ENGAGED,
    TG_KIND,
    TG_POS,
)
from blinasim.kernels.rng import TRAFFIC_RESIDENT, TRAFFIC_T, stream_key, uniform


@njit(cache=True)
def traffic_t_cells(seed, tick, n_t, tcells, n_sites, p_to_marrow, p_to_blood):
    """Move free T-cells between blood and marrow; return (to_marrow, to_blood)."""
    t_pos, t_partner = tcells[T_POS], tcells[T_PARTNER]
    key = stream_key(seed, tick, TRAFFIC_T)
    to_marrow = 0
    to_blood = 0
    for i in range(n_t):
        p = t_pos[i]
        if p < POS_BLOOD or t_partner[i] != NO_PARTNER:
            continue
        u = uniform(key, i, 0)
        if p == POS_BLOOD:
            if u < p_to_marrow:
                t_pos[i] = int(uniform(key, i, 1) * n_sites)
                to_marrow += 1
        elif u < p_to_blood:
            t_pos[i] = POS_BLOOD
            to_blood += 1
    return to_marrow, to_blood


@njit(cache=True)
def traffic_targets(seed, tick, n, targets, lattice, p_home, p_egress):
    """Move free blasts and normal B cells between marrow and blood.

    ``p_home`` and ``p_egress`` are per-kind probabilities for this slow step.
    Returns (homed, egressed).
    """
    tg_pos, tg_kind, tg_engaged = targets[TG_POS], targets[TG_KIND], targets[TG_ENGAGED]
    site_kind, site_slot = lattice[L_KIND], lattice[L_SLOT]
    n_sites = site_kind.shape[0]
    key = stream_key(seed, tick, TRAFFIC_RESIDENT)
    homed = 0
    egressed = 0
    for j in range(n):
        p = tg_pos[j]
        if p < POS_BLOOD or tg_engaged[j] != 0:
            continue
        kind = tg_kind[j]
        u = uniform(key, j, 0)
        if p == POS_BLOOD:
            if u < p_home[kind]:
                s = int(uniform(key, j, 1) * n_sites)
                if site_kind[s] == SITE_EMPTY:
                    site_kind[s] = SITE_TARGET
                    site_slot[s] = j
                    tg_pos[j] = s
                    homed += 1
        elif u < p_egress[kind]:
            site_kind[p] = SITE_EMPTY
            site_slot[p] = -1
            tg_pos[j] = POS_BLOOD
            egressed += 1
    return homed, egressed
