"""T-cell fate (phase ``tcell_fate``, slow clock): activation decay, division, contraction, death.

Activation decays between synapses; exhaustion recovers once stimulation
stops; division is homeostatic plus activation-driven (blunted by exhaustion,
by the PD-1:PD-L1 brake and by regulatory T-cells, raised by CTLA-4 blockade);
death rises with the excess of T-cells over their set point (contraction), and
below it homeostatic division rises (lymphopenia-induced proliferation).

The set point is the T-cell count at entry. With ``tcells.homeostatic_expansion_per_day`` > 0
(the default, 0.1/day; 0 switches it off), where leukemic infiltration displaced the marrow's
T-cells with the rest of the normal marrow (``patient.marrow_t_cell_share_of_normal``), the
marrow's part of it follows the normal marrow's share of the nucleated cells: as the leukemia
clears and the normal marrow returns, so does its T-cell set point (:func:`set_point`).

Regulatory T-cells (Duell 2017) are a share ``rho`` = CD4 share x Treg share of
CD4 of the T-cells (:func:`treg_share`), engaged as often as the rest; when
activated they suppress activated division and lysis (:func:`treg_suppression`,
updated here on the slow clock from the mean T-cell activation and used by the
``killing`` phase too).

Config: ``tcells.activation_half_life_days``, ``tcells.exhaustion_recovery_per_day``,
``tcells.death_rate_per_day``, ``tcells.activated_division_per_day``,
``tcells.contraction_rate_per_day``, ``tcells.homeostatic_expansion_per_day``,
``tcells.exhaustion_e50``, ``tcells.exhaustion_hill``, ``tcells.pd1_proliferation_inhibition``, ``tcells.treg_suppression_max``,
``tcells.treg_suppression_half``, ``tcells.treg_suppression_hill``,
``patient.cd4_fraction``, ``patient.treg_fraction_of_cd4``,
``checkpoint.ipilimumab_expansion_gain``.
Kernel: :func:`blinasim.kernels.tcell_fate.t_cell_fate`. Reference: ``TCell.fate``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from blinasim.core.state import P_T_CELL
from blinasim.kernels import census, tcell_fate
from blinasim.params.schema import Config


class TCellFateRates(NamedTuple):
    """The per-slow-step numbers of :func:`blinasim.kernels.tcell_fate.t_cell_fate`, in its parameter order."""

    activation_keep: float
    exhaustion_recovery: float
    homeostatic_division_rate: float
    activated_division_rate: float
    death_rate: float
    contraction_rate: float
    dt_days: float
    exhaustion_e50: float
    exhaustion_hill: float
    pd1_brake: float
    expansion_factor: float


def treg_share(config: Config) -> float:
    """Regulatory T-cells as a share of all T-cells: CD4 share x Treg share of CD4."""
    return config.patient.cd4_fraction * config.patient.treg_fraction_of_cd4


def treg_suppression(config: Config, mean_activation: float) -> float:
    """Share of activated division and lysis suppressed by activated regulatory T-cells.

    Blinatumomab engages regulatory T-cells (CD3+) as it engages the others;
    activated, they suppress T-cell proliferation and CD8 lysis of ALL cells
    through IL-10 (Duell 2017). Tregs are a share ``rho`` = CD4 share x Treg
    share of CD4 of the T-cells, engaged as often as the rest, so the activated
    Tregs are ``x = rho * mean activation`` of all T-cells, and the suppression is
    ``s_max * x^n / (x^n + x50^n)``.
    """
    tcfg = config.tcells
    x = treg_share(config) * mean_activation
    if x <= 0.0 or tcfg.treg_suppression_max <= 0.0:
        return 0.0
    q = (x / tcfg.treg_suppression_half) ** tcfg.treg_suppression_hill
    return tcfg.treg_suppression_max * q / (1.0 + q)


def fate_rates(
    config: Config,
    dt_days: float,
    live: int,
    baseline: float,
    mean_blast_pdl1: float,
    pd1_occupancy: float,
    ctla4_blockade: float,
    suppression: float,
    tki_suppression: float = 0.0,
) -> TCellFateRates:
    """The kernel's numbers for one slow step of ``dt_days``.

    ``live`` and ``baseline`` are the living T-cells and their set point (:func:`set_point`):
    contraction grows with the relative excess over it, homeostatic division with the
    relative deficit below it; the PD-1:PD-L1 brake is weight x mean blast
    PD-L1 x free PD-1; expansion is the CTLA-4-blockade gain x (1 - Treg suppression)
    x (1 - a TKI's off-target suppression of TCR signalling, ``tki_suppression``).
    """
    tcfg = config.tcells
    excess = max(0.0, live / baseline - 1.0)
    deficit = max(0.0, 1.0 - live / baseline)
    expansion = (1.0 + config.checkpoint.ipilimumab_expansion_gain * ctla4_blockade) * (1.0 - suppression)
    if tki_suppression > 0.0:
        expansion *= 1.0 - tki_suppression
    return TCellFateRates(
        activation_keep=math.exp(-math.log(2.0) / tcfg.activation_half_life_days * dt_days),
        exhaustion_recovery=tcfg.exhaustion_recovery_per_day * dt_days,
        homeostatic_division_rate=tcfg.death_rate_per_day + tcfg.homeostatic_expansion_per_day * deficit,
        activated_division_rate=tcfg.activated_division_per_day,
        death_rate=tcfg.death_rate_per_day,
        contraction_rate=tcfg.contraction_rate_per_day * excess,
        dt_days=dt_days,
        exhaustion_e50=tcfg.exhaustion_e50,
        exhaustion_hill=tcfg.exhaustion_hill,
        pd1_brake=tcfg.pd1_proliferation_inhibition * mean_blast_pdl1 * (1.0 - pd1_occupancy),
        expansion_factor=expansion,
    )


def normal_marrow_share(counts: np.ndarray, blast_weight: float, cells_per_agent: float) -> float:
    """The non-leukemic share of the nucleated marrow cells from a census row (as the output's
    ``marrow_blast_fraction``: blast agents weigh ``blast_weight`` cells, the rest ``cells_per_agent``)."""
    blasts = float(counts[census.C_BLASTS]) * blast_weight
    rest = float(counts[census.C_NORMAL_B] + counts[census.C_T] + counts[census.C_OTHER_MARROW]) * cells_per_agent
    total = blasts + rest
    return rest / total if total > 0.0 else 1.0


def follows_normal_marrow(config: Config) -> bool:
    """Whether the set point follows the normal marrow: with displacement
    (``patient.marrow_t_cell_share_of_normal`` set) and the return of the displaced T-cells switched
    on (``tcells.homeostatic_expansion_per_day`` > 0, the default; docs/validation.md "Response
    depth as the trials count it")."""
    return (
        config.patient.marrow_t_cell_share_of_normal is not None and config.tcells.homeostatic_expansion_per_day > 0.0
    )


def set_point(
    config: Config, baseline: int, marrow_baseline: int, normal_share_at_entry: float, normal_share: float
) -> float:
    """The T-cell count that contraction and homeostatic division return to.

    Without displacement (``patient.marrow_t_cell_share_of_normal`` unset), or with the homeostatic
    expansion off, it is the entry count ``baseline``. With both, the marrow's entry T-cells
    ``marrow_baseline`` were a share of the normal marrow, so the marrow's part scales with the
    normal share of the nucleated marrow cells now against at entry:
    ``baseline + marrow_baseline * (normal_share / normal_share_at_entry - 1)``, never below one cell.
    With ``patient.marrow_t_cell_displacement`` below 1 the ratio is that of the T-cells' share of the
    marrow, ``normal_share x`` :meth:`~blinasim.params.schema.Config.marrow_t_cell_share_at` of it.
    """
    if not follows_normal_marrow(config) or normal_share_at_entry <= 0.0:
        return float(baseline)
    if config.patient.marrow_t_cell_displacement < 1.0:
        # the marrow's T-cells follow their share of the non-leukemic marrow times that marrow
        now = config.marrow_t_cell_share_at(normal_share) * normal_share
        entry = config.marrow_t_cell_share_at(normal_share_at_entry) * normal_share_at_entry
        return max(1.0, baseline + marrow_baseline * (now / entry - 1.0))
    return max(1.0, baseline + marrow_baseline * (normal_share / normal_share_at_entry - 1.0))


def census_normal_share(model: Any) -> float:
    """:func:`normal_marrow_share` of the stores now (the census kernel)."""
    st, tc, tg = model.state, model.state.tcells, model.state.targets
    counts = np.zeros(census.C_SIZE, dtype=np.int64)
    census.take_census(tc.n, tc.record, model.config.tcells.exhausted_threshold, tg.n, tg.record, st.lattice, counts)
    return normal_marrow_share(counts, model.blast_weight, model.cells_per_agent)


def current_set_point(model: Any, normal_share: Callable[[], float]) -> float:
    """The model's :func:`set_point`. ``normal_share`` counts the model's marrow now (each model its
    own way); it is called only when the set point follows the normal marrow, so runs without it
    take no extra census."""
    if not follows_normal_marrow(model.config):
        return float(model.baseline_t_cells)
    return set_point(
        model.config, model.baseline_t_cells, model.plan.n_t_marrow, model.normal_share_at_entry, normal_share()
    )


def run(model: Any) -> None:
    """Update the Treg suppression, then one slow step of fate for every free T-cell
    (growing the T-cell store when daughters fill it)."""
    tc = model.state.tcells
    dt_days = model.dt_hours * model.slow_every / 24.0
    model.treg_suppression = treg_suppression(model.config, model.mean_t_activation())
    rates = fate_rates(
        model.config,
        dt_days,
        tc.live,
        current_set_point(model, lambda: census_normal_share(model)),
        model.mean_blast_pdl1(),
        model.pd1_occupancy,
        model.ctla4_blockade,
        model.treg_suppression,
        model.tki_t_cell_suppression,
    )
    events = np.zeros(2, dtype=np.int64)  # births, deaths
    start, stop = 0, tc.n
    while start >= 0:
        start, tc.n = tcell_fate.t_cell_fate(
            model.run_seed, model.tick, start, stop, tc.n, tc.capacity, tc.record, *rates, events
        )
        if start >= 0:
            tc.grow(int(tc.capacity * 1.5) + 16)
    model.births[P_T_CELL] += events[0]
    model.deaths[P_T_CELL] += events[1]
    tc.dead += int(events[1])
