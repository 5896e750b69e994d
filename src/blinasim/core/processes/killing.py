"""Killing and synapse release (phase ``killing``, fast clock; serial killing).

A synapse lasts ``tcells.synapse_hours``; then the target dies with the
lysis probability (:func:`lysis_probability`) times the effector function left
at the T-cell's exhaustion times the PD-1:PD-L1 brake, and the T-cell is
released either way. Exhaustion accrues while engaged.

Config: ``tcells.lysis_probability``, ``tcells.exhaustion_per_engaged_day``,
``tcells.exhaustion_e50``, ``tcells.exhaustion_hill``, ``tcells.pd1_lysis_inhibition``
(and the regulatory T-cells of :mod:`blinasim.core.processes.tcell_fate`).
Kernel: :func:`blinasim.kernels.killing.resolve_synapses`. Reference: ``TCell.resolve_synapse``.
"""

from __future__ import annotations

from typing import Any

from blinasim.core.processes.tcell_fate import treg_share
from blinasim.kernels import killing
from blinasim.params.schema import Config


def lysis_probability(config: Config, suppression: float, tki_suppression: float = 0.0) -> float:
    """Probability that a completed synapse kills, before exhaustion and PD-1.

    Synapses made by regulatory T-cells (a share CD4 x Treg-of-CD4 of the
    T-cells, which engage but do not kill), the Treg suppression of lysis and a
    TKI's off-target block of TCR signalling (``tki_suppression``, dasatinib:
    :mod:`blinasim.clinical.tki`) all lower it.
    """
    p = config.tcells.lysis_probability * (1.0 - treg_share(config)) * (1.0 - suppression)
    return p * (1.0 - tki_suppression) if tki_suppression > 0.0 else p


def exhaustion_per_hour(config: Config) -> float:
    """Exhaustion accrual rate while engaged, per hour: ``de/dt = k (1 - e)``."""
    return config.tcells.exhaustion_per_engaged_day / 24.0


def run(model: Any) -> None:
    """Advance every synapse one tick; lyse and release those that complete."""
    st, tc, tg, tcfg = model.state, model.state.tcells, model.state.targets, model.config.tcells
    killed = killing.resolve_synapses(
        model.run_seed,
        model.tick,
        model.dt_hours,
        tc.n,
        tc.record,
        tg.record,
        st.lattice,
        lysis_probability(model.config, model.treg_suppression, model.tki_t_cell_suppression),
        exhaustion_per_hour(model.config),
        tcfg.exhaustion_e50,
        tcfg.exhaustion_hill,
        tcfg.pd1_lysis_inhibition,
        1.0 - model.pd1_occupancy,
        model.killed_by_kind,
    )
    tg.dead += killed
