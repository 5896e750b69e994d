"""The record (phase ``record``, on the record clock): the census and the clinical state into the output arrays.

Every ``simulation.record_every_hours`` the populations are counted by
compartment, and the drug, cytokines, grades (maxima over the interval),
protocol events, resistance counters and the births, deaths and kills of the
interval are written to preallocated arrays (:func:`init_records`), from which
:func:`blinasim.core.output.build_dataset` makes the Dataset.

Config: ``simulation.record_every_hours``, ``tcells.exhausted_threshold``.
Kernel: :func:`blinasim.kernels.census.take_census`. Reference:
``ReferenceModel._record`` counts its agents, then calls :func:`store_interval`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from blinasim.core import snapshot
from blinasim.core.processes import blast_scale
from blinasim.core.state import P_BLAST, P_NORMAL_B, POPULATIONS
from blinasim.kernels import census
from blinasim.kernels.layout import KIND_BLAST, KIND_NORMAL_B


def init_records(model: Any) -> None:
    """Preallocate the record arrays (one row per record) and the interval accumulators."""
    n = model.n_records
    model.rec_time_days = np.arange(n, dtype=np.float64) * model.record_every * model.dt_hours / 24.0
    model.rec_dose_rate = np.zeros(n)
    model.rec_concentration = np.zeros(n)
    model.rec_cycle = model.schedule.cycles_on_grid(model.rec_time_days)
    model.rec_redistribution = np.zeros(n)
    model.rec_il6 = np.zeros(n)
    model.rec_ifng = np.zeros(n)
    model.rec_crs_grade = np.zeros(n, dtype=np.int8)  # maximum over the record interval
    model.rec_crs_signal = np.zeros(n)  # maximum over the record interval
    model.rec_neuro_grade = np.zeros(n, dtype=np.int8)
    model.rec_neuro_exposure = np.zeros(n)  # maximum over the record interval
    model.rec_status = np.zeros(n, dtype=np.int8)
    model.rec_dex_mg = np.zeros(n)
    model.rec_dex_suppression = np.zeros(n)
    model.rec_toci_doses = np.zeros(n, dtype=np.int16)
    model.rec_toci_blockade = np.zeros(n)
    model.rec_competence = np.zeros(n)
    model.rec_lymphoid_blasts = np.zeros(n)
    model.rec_lymphoid_engaged = np.zeros(n)
    model.rec_cd19_losses = np.zeros(n, dtype=np.int64)  # cumulative events (agents)
    model.rec_lineage_switches = np.zeros(n, dtype=np.int64)
    model.rec_pd1_occupancy = np.zeros(n)
    model.rec_treg_suppression = np.zeros(n)
    model.rec_abl1_inhibition = np.zeros(n)
    model.rec_tki_t_cell_suppression = np.zeros(n)
    model._interval_crs = 0
    model._interval_crs_signal = 0.0
    model._interval_neuro = 0
    model._interval_neuro_exposure = 0.0
    model.max_crs_grade = 0
    model.max_neuro_grade = 0
    model.rec_counts = np.zeros((n, census.C_SIZE), dtype=np.int64)
    model.rec_pdl1_sum = np.zeros(n)
    model.rec_kills = np.zeros((n, 2), dtype=np.int64)  # [normal_b, blast] killed during the interval
    model.rec_births = np.zeros((n, len(POPULATIONS)), dtype=np.int64)
    model.rec_deaths = np.zeros((n, len(POPULATIONS)), dtype=np.int64)
    model.rec_index = 0
    model.births = np.zeros(len(POPULATIONS), dtype=np.int64)
    model.deaths = np.zeros(len(POPULATIONS), dtype=np.int64)
    model.killed_by_kind = np.zeros(2, dtype=np.int64)
    model._killed_at_last_record = np.zeros(2, dtype=np.int64)
    #: cumulative CD19-loss and lineage-switch events (agents)
    model.cd19_losses = 0
    model.lineage_switches = 0
    blast_scale.init_weights(model)
    #: cells per blast agent at each record, and the cumulative blast events in cells
    model.rec_blast_weight = np.zeros(n)
    model.rec_blast_event_cells = np.zeros((n, len(blast_scale.BLAST_EVENTS)))
    model.rec_blast_rescaled_cells = np.zeros(n)
    snapshot.init_snapshots(model)  # lattice snapshots (output.snapshot_every_days; off by default)


def record_clinical(model: Any, r: int) -> None:
    """Cytokines, grades and protocol events of the interval ending now, into row ``r``."""
    cyt = model.cytokines
    t_end = model.tick_end_hours if r > 0 else 0.0
    t_start = -math.inf if r == 0 else t_end - model.record_every * model.dt_hours
    model.rec_il6[r] = cyt.il6
    model.rec_ifng[r] = cyt.ifng
    model.rec_crs_grade[r] = model._interval_crs if r > 0 else cyt.crs_grade
    model.rec_crs_signal[r] = model._interval_crs_signal if r > 0 else cyt.crs_signal
    model._interval_crs_signal = 0.0
    model.rec_neuro_grade[r] = model._interval_neuro if r > 0 else cyt.neuro_grade
    model.rec_neuro_exposure[r] = model._interval_neuro_exposure if r > 0 else cyt.neuro_exposure
    model._interval_neuro_exposure = 0.0
    model.max_crs_grade = max(model.max_crs_grade, int(model.rec_crs_grade[r]))
    model.max_neuro_grade = max(model.max_neuro_grade, int(model.rec_neuro_grade[r]))
    model._interval_crs = model._interval_neuro = 0
    model.rec_status[r] = model.protocol.status
    effects = model.drug_effects
    model.rec_dex_mg[r] = sum(mg for t, mg in effects.dex_doses if t_start < t <= t_end)
    model.rec_toci_doses[r] = sum(1 for t in effects.toci_doses if t_start < t <= t_end)
    model.rec_dex_suppression[r] = cyt.dex_suppression
    model.rec_toci_blockade[r] = cyt.toci_blockade
    model.rec_competence[r] = cyt.competence
    model.rec_lymphoid_blasts[r] = model.lymphoid.blasts
    model.rec_lymphoid_engaged[r] = model.lymphoid.engaged
    model.rec_cd19_losses[r] = model.cd19_losses
    model.rec_lineage_switches[r] = model.lineage_switches
    model.rec_pd1_occupancy[r] = model.pd1_occupancy
    model.rec_treg_suppression[r] = model.treg_suppression
    model.rec_abl1_inhibition[r] = model.abl1_inhibition
    model.rec_tki_t_cell_suppression[r] = model.tki_t_cell_suppression


def store_interval(model: Any, counts: np.ndarray, pdl1_sum: float) -> None:
    """Write the census ``counts`` (int64[C_SIZE]) and summed blast PD-L1, the drug and
    clinical state and the event counters into the next record row."""
    r = model.rec_index
    model.rec_pdl1_sum[r] = pdl1_sum
    model.rec_counts[r] = counts
    model.rec_dose_rate[r] = model.dose_rate
    model.rec_concentration[r] = model.concentration
    model.rec_redistribution[r] = model.redistribution_drive
    record_clinical(model, r)
    model.rec_kills[r] = model.killed_by_kind - model._killed_at_last_record
    model._killed_at_last_record[:] = model.killed_by_kind
    deaths = model.deaths.copy()
    deaths[P_BLAST] += model.killed_by_kind[KIND_BLAST]
    deaths[P_NORMAL_B] += model.killed_by_kind[KIND_NORMAL_B]
    model.rec_births[r] = model.births
    model.rec_deaths[r] = deaths
    blast_scale.flush_events(model)
    model.rec_blast_weight[r] = model.blast_weight
    model.rec_blast_event_cells[r] = model.blast_event_cells
    model.rec_blast_rescaled_cells[r] = model.blast_rescaled_cells
    model.rec_index += 1


def run(model: Any) -> None:
    """Count the stores (census kernel) and write the record row."""
    st, tc, tg = model.state, model.state.tcells, model.state.targets
    counts = np.zeros(census.C_SIZE, dtype=np.int64)
    pdl1_sum = census.take_census(
        tc.n, tc.record, model.config.tcells.exhausted_threshold, tg.n, tg.record, st.lattice, counts
    )
    store_interval(model, counts, pdl1_sum)
    snapshot.maybe_take(model)
