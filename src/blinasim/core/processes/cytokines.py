"""Cytokines and toxicity grades (phase ``cytokines``, fast clock).

Engaged T-cells release IFN-gamma and, with the targets they lyse (pyroptotic
DAMPs), drive IL-6; serum levels, competence,
dexamethasone and tocilizumab effects and the CRS and neurotoxicity grades are
compartment state (:class:`blinasim.clinical.cytokines.CytokineModel`). The
record keeps the maxima of the grades over each record interval.

Config: ``cytokines.*``, ``toxicity.*``, ``dexamethasone.*``, ``tocilizumab.*``.
No kernel: the agents enter only as the count of engaged T-cells, which each
model counts its own way (the reference: ``ReferenceModel._cytokines``) before
calling :func:`advance`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from blinasim.core.processes import glucocorticoid, killing
from blinasim.kernels.layout import KIND_BLAST, KIND_NORMAL_B


def killed_cells_since_last_call(model: Any) -> float:
    """Targets lysed since the previous tick's cytokine step, in cells: blast agents at the
    current blast weight (the weight changes only later in a tick), normal B at ``cells_per_agent``."""
    now = (int(model.killed_by_kind[KIND_BLAST]), int(model.killed_by_kind[KIND_NORMAL_B]))
    before = getattr(model, "_killed_seen_by_cytokines", (0, 0))
    model._killed_seen_by_cytokines = now
    return (now[0] - before[0]) * model.blast_weight + (now[1] - before[1]) * model.cells_per_agent


def advance_lymphoid(model: Any) -> float:
    """One tick of the spleen and lymph nodes (:class:`blinasim.clinical.lymphoid.LymphoidTissue`) at
    this tick's bridge factor, regulatory-T and TKI suppression of killing and dexamethasone
    exposure; returns the blasts it killed (cells)."""
    cfg = model.config
    dex_hazard = 0.0
    if cfg.dexamethasone.blast_kill_per_day_max > 0.0 and model.drug_effects.dex_doses:
        amount = model.drug_effects.dex_amount_mg(model.tick_end_hours, cfg.dexamethasone.effect_half_life_h)
        dex_hazard = glucocorticoid.hazard_per_day(cfg, amount)
    lysis = killing.lysis_probability(cfg, model.treg_suppression, model.tki_t_cell_suppression)
    return model.lymphoid.step(cfg, model.dt_hours, model.bridge_factor, lysis, dex_hazard)


def advance(model: Any, engaged: int, live: int) -> None:
    """Advance the cytokine model one tick fed by ``engaged`` of ``live`` T-cells and the targets
    lysed since the last tick; track the maxima of the grades (and of the signals they are graded
    from) over the record interval."""
    share = engaged / live if live > 0 else 0.0
    cyt = model.cytokines
    signal = engaged * model.cells_per_agent
    if model.tki_t_cell_suppression > 0.0:
        # A TKI's off-target block of TCR signalling (dasatinib) lowers cytokine release too.
        signal *= 1.0 - model.tki_t_cell_suppression
    killed = killed_cells_since_last_call(model)
    lymphoid_cells = 0.0
    tissue = model.lymphoid
    if not tissue.idle:
        killed += advance_lymphoid(model)
        lymphoid_cells = tissue.engaged * tissue.competence
        if model.tki_t_cell_suppression > 0.0:
            lymphoid_cells *= 1.0 - model.tki_t_cell_suppression
    cyt.step(
        (model.tick + 1) * model.dt_hours,
        model.dt_hours,
        signal,
        share,
        killed,
        model.dose_rate > 0.0,
        lymphoid_cells,
    )
    model._interval_crs = max(model._interval_crs, cyt.crs_grade)
    model._interval_crs_signal = max(model._interval_crs_signal, cyt.crs_signal)
    model._interval_neuro = max(model._interval_neuro, cyt.neuro_grade)
    model._interval_neuro_exposure = max(model._interval_neuro_exposure, cyt.neuro_exposure)


def run(model: Any) -> None:
    """Count the engaged T-cells in the store and advance the cytokines."""
    tc = model.state.tcells
    engaged = int(np.count_nonzero(tc.partner[: tc.n] >= 0))
    advance(model, engaged, tc.live)
