"""Trafficking between blood and marrow (phases ``tcell_trafficking``, fast clock, and ``target_trafficking``, slow).

Free T-cells move every tick, blasts and normal B cells on the slow clock.
Homing rates are parameters; egress rates are derived at set-up so that the
baseline split between marrow and blood is an equilibrium
(:func:`equilibrium_egress`). Under the drug, T-cells leave blood for the
marrow faster: the redistribution (margination) drive follows the drug level
with adaptation (:func:`margination_effect`, :func:`margination_keep`,
advanced in the ``pk`` phase) and multiplies T-cell homing by up to
``1 + margination_fold``.

Config: ``tcells.marrow_homing_per_day``, ``tcells.margination_fold``,
``tcells.margination_ec50_pg_per_ml``, ``tcells.margination_adaptation_days``,
``disease.blast_homing_per_day``, ``normal_b.homing_per_day``.
Kernels: :func:`blinasim.kernels.trafficking.traffic_t_cells`,
:func:`blinasim.kernels.trafficking.traffic_targets`.
Reference: ``TCell.traffic``, ``CD19Cell.traffic``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from blinasim.kernels import trafficking
from blinasim.kernels.layout import KIND_BLAST, KIND_NORMAL_B
from blinasim.params.schema import Config


def equilibrium_egress(
    config: Config, n_t_blood: int, n_t_marrow: int, counts: dict[int, tuple[int, int]], empty_share: float
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Homing and egress rates (per day) that make the placed baseline cells an equilibrium.

    ``counts[kind] = (in marrow, in blood)`` of the targets; ``empty_share`` is the
    share of empty lattice sites after placement. A homing resident settles only
    on an empty site, so its effective homing rate is the attempt rate times the
    baseline empty-site share. Returns ``(target homing by kind, target egress by
    kind, T-cell homing, T-cell egress)``.
    """
    dis, nb, tcfg = config.disease, config.normal_b, config.tcells
    homing = {KIND_BLAST: dis.blast_homing_per_day, KIND_NORMAL_B: nb.homing_per_day}
    target_homing_per_day = np.zeros(2)
    target_egress_per_day = np.zeros(2)
    for k in (KIND_NORMAL_B, KIND_BLAST):
        marrow_n, blood_n = counts[k]
        target_homing_per_day[k] = homing[k]
        target_egress_per_day[k] = homing[k] * empty_share * blood_n / marrow_n if marrow_n > 0 else 0.0
    t_homing_per_day = tcfg.marrow_homing_per_day
    t_egress_per_day = t_homing_per_day * n_t_blood / n_t_marrow if n_t_marrow > 0 else 0.0
    return target_homing_per_day, target_egress_per_day, t_homing_per_day, t_egress_per_day


def margination_effect(config: Config, concentration: float) -> float:
    """Redistribution effect of the drug level ``concentration`` (pg/mL), 0-1, before adaptation."""
    return concentration / (concentration + config.tcells.margination_ec50_pg_per_ml)


def margination_keep(config: Config, dt_hours: float) -> float:
    """Share of the gap between adaptation and effect kept over one tick (exponential adaptation)."""
    return math.exp(-dt_hours / 24.0 / config.tcells.margination_adaptation_days)


def t_cell_probabilities(
    config: Config, homing_per_day: float, egress_per_day: float, redistribution_drive: float, dt_hours: float
) -> tuple[float, float]:
    """Per-tick probabilities that a free T-cell homes to the marrow and leaves it.

    Homing is multiplied by ``1 + margination_fold x redistribution drive``.
    """
    dt_days = dt_hours / 24.0
    fold = 1.0 + config.tcells.margination_fold * redistribution_drive
    p_in = -math.expm1(-homing_per_day * fold * dt_days)
    p_out = -math.expm1(-egress_per_day * dt_days)
    return p_in, p_out


def target_probabilities(
    homing_per_day: np.ndarray, egress_per_day: np.ndarray, dt_hours: float, slow_every: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-slow-step homing and egress probabilities of a free target, by kind."""
    dt_slow = dt_hours / 24.0 * slow_every
    return -np.expm1(-homing_per_day * dt_slow), -np.expm1(-egress_per_day * dt_slow)


def run_t_cells(model: Any) -> None:
    """Phase ``tcell_trafficking``: free T-cells between blood and marrow."""
    st, tc = model.state, model.state.tcells
    p_in, p_out = t_cell_probabilities(
        model.config, model.t_homing_per_day, model.t_egress_per_day, model.redistribution_drive, model.dt_hours
    )
    trafficking.traffic_t_cells(model.run_seed, model.tick, tc.n, tc.record, st.n_sites, p_in, p_out)


def run_targets(model: Any) -> None:
    """Phase ``target_trafficking``: free blasts and normal B cells between marrow and blood."""
    st, tg = model.state, model.state.targets
    p_home, p_egress = target_probabilities(
        model.target_homing_per_day, model.target_egress_per_day, model.dt_hours, model.slow_every
    )
    trafficking.traffic_targets(model.run_seed, model.tick, tg.n, tg.record, st.lattice, p_home, p_egress)
    st.blood_targets = None  # targets moved: list the blood ones again
