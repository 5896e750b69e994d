"""Blast division and death with CD19 loss and lineage switch; normal-B death (phase ``blast_fate``, slow clock).

Blasts divide on exponential clocks (mean cycle :func:`mean_cycle_hours`, by
phenotype: CD19+, CD19-negative, lineage-switched myeloid) with
contact-inhibited placement of the daughter, and die at a constant hazard.
At division a daughter inherits CD19 with noise, may lose CD19 or (KMT2A,
immune pressure) switch lineage; PD-L1 follows an IFN-gamma-induced target
(docs/resistance.md). Normal B cells die at a constant hazard in the same pass
(their supply: :mod:`blinasim.core.processes.normal_b_supply`).

Config: ``disease.blast_birth_rate_per_day``, ``disease.blast_death_rate_per_day``,
``disease.myeloid_birth_rate_per_day``, ``disease.myeloid_death_rate_per_day``,
``disease.daughter_placement_attempts``, ``disease.cd19_division_log_sd``,
``disease.cd19_loss_per_division``, ``disease.lineage_switch_per_division``,
``disease.lineage_switch_per_division_kmt2a``, ``disease.lineage_switch_pressure_gain``,
``disease.immune_pressure_ec50_pg_per_ml``, ``disease.pdl1_baseline``, ``disease.pdl1_max``,
``disease.pdl1_ifng_ec50_pg_per_ml``, ``disease.pdl1_response_days``,
``patient.kmt2a_rearranged``, ``normal_b.death_rate_per_day``; with a TKI (Ph+ disease)
``tki.max_division_block``, ``tki.max_apoptosis_per_day`` (:mod:`blinasim.clinical.tki`).
Kernel: :func:`blinasim.kernels.blast_fate.target_fate`.
Reference: ``Blast.fate`` (``Blast.daughter_phenotype``), ``NormalBCell.fate``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from blinasim.clinical.tki import ph_blast_rates
from blinasim.core.state import P_BLAST, P_NORMAL_B, P_OTHER_MARROW
from blinasim.kernels import blast_fate
from blinasim.params.schema import Config


class BlastFateRates(NamedTuple):
    """The per-slow-step numbers of :func:`blinasim.kernels.blast_fate.target_fate`, in its parameter order."""

    #: hours in the slow step
    dt_hours: float
    #: mean cycle time (h) by blast phenotype: CD19+, CD19-negative, myeloid
    mean_cycle_hours: np.ndarray
    #: blast death probability by phenotype
    p_blast_death: np.ndarray
    p_b_death: float
    placement_attempts: int
    #: PD-L1 target (IFN-gamma-induced) and the share of the gap kept over the step
    pdl1_target: float
    pdl1_keep: float
    cd19_noise_log_sd: float
    p_cd19_loss: float
    #: lineage-switch probability per division (KMT2A flag, immune pressure)
    p_lineage_switch: float


def mean_cycle_hours(birth_rate_per_day: float) -> float:
    """Mean cycle time (h) of a blast dividing at ``birth_rate_per_day``; 1e30 when it does not divide."""
    return 24.0 / birth_rate_per_day if birth_rate_per_day > 0 else 1e30


def mean_cycle_hours_by_phenotype(config: Config) -> np.ndarray:
    """Mean cycle time (h) by blast phenotype: CD19+, CD19-negative (the same), myeloid."""
    dis = config.disease
    blast = mean_cycle_hours(dis.blast_birth_rate_per_day)
    return np.array([blast, blast, mean_cycle_hours(dis.myeloid_birth_rate_per_day)])


def fate_rates(config: Config, ifng: float, dt_hours: float, abl1_inhibition: float = 0.0) -> BlastFateRates:
    """The kernel's numbers for one slow step of ``dt_hours`` at serum IFN-gamma ``ifng`` (pg/mL)
    and BCR::ABL1 inhibition ``abl1_inhibition`` of Ph+ blasts by a TKI.

    Death probabilities from the hazards; the PD-L1 target rises with IFN-gamma
    (``baseline + (max - baseline) x ifng / (ifng + EC50)``) and is approached with
    time constant ``pdl1_response_days``; the lineage-switch probability per
    division (KMT2A-rearranged or not) grows with immune pressure
    ``ifng / (ifng + EC50)``. A TKI slows the division and raises the death of every
    phenotype of a Ph+ clone (:func:`blinasim.clinical.tki.ph_blast_rates`; nothing changes at
    inhibition 0, as for Ph-negative disease).
    """
    dis = config.disease
    dt_days = dt_hours / 24.0
    pdl1_target = dis.pdl1_baseline + (dis.pdl1_max - dis.pdl1_baseline) * ifng / (ifng + dis.pdl1_ifng_ec50_pg_per_ml)
    pressure = ifng / (ifng + dis.immune_pressure_ec50_pg_per_ml)
    base_switch = (
        dis.lineage_switch_per_division_kmt2a if config.patient.kmt2a_rearranged else dis.lineage_switch_per_division
    )
    death = np.array([dis.blast_death_rate_per_day, dis.blast_death_rate_per_day, dis.myeloid_death_rate_per_day])
    if abl1_inhibition > 0.0:
        ph = [
            ph_blast_rates(config, b, d, abl1_inhibition)
            for b, d in zip(
                (dis.blast_birth_rate_per_day, dis.blast_birth_rate_per_day, dis.myeloid_birth_rate_per_day),
                death,
                strict=True,
            )
        ]
        cycle = np.array([mean_cycle_hours(b) for b, _ in ph])
        death = np.array([d for _, d in ph])
    else:
        cycle = mean_cycle_hours_by_phenotype(config)
    return BlastFateRates(
        dt_hours=dt_hours,
        mean_cycle_hours=cycle,
        p_blast_death=-np.expm1(-death * dt_days),
        p_b_death=-math.expm1(-config.normal_b.death_rate_per_day * dt_days),
        placement_attempts=dis.daughter_placement_attempts,
        pdl1_target=pdl1_target,
        pdl1_keep=math.exp(-dt_days / dis.pdl1_response_days),
        cd19_noise_log_sd=dis.cd19_division_log_sd,
        p_cd19_loss=dis.cd19_loss_per_division,
        p_lineage_switch=min(1.0, base_switch * (1.0 + dis.lineage_switch_pressure_gain * pressure)),
    )


def run(model: Any) -> None:
    """One slow step of fate for every free target (growing the store when daughters fill it)."""
    st, tg = model.state, model.state.targets
    st.blood_targets = None  # daughters may be born in blood: list the blood targets again
    rates = fate_rates(model.config, model.cytokines.ifng, model.dt_hours * model.slow_every, model.abl1_inhibition)
    ev = np.zeros(blast_fate.EV_SIZE, dtype=np.int64)
    start, stop = 0, tg.n
    while start >= 0:
        start, tg.n = blast_fate.target_fate(
            model.run_seed, model.tick, start, stop, tg.n, tg.capacity, tg.record, st.lattice, st.side, *rates, ev
        )
        if start >= 0:
            tg.grow(int(tg.capacity * 1.5) + 16)
            st.ensure_scratch()
    model.births[P_BLAST] += ev[blast_fate.EV_BLAST_BIRTH]
    model.deaths[P_BLAST] += ev[blast_fate.EV_BLAST_DEATH]
    model.deaths[P_NORMAL_B] += ev[blast_fate.EV_B_DEATH]
    model.deaths[P_OTHER_MARROW] += ev[blast_fate.EV_OTHER_DISPLACED]
    tg.dead += int(ev[blast_fate.EV_BLAST_DEATH] + ev[blast_fate.EV_B_DEATH])
    model.cd19_losses += int(ev[blast_fate.EV_CD19_LOSS])
    model.lineage_switches += int(ev[blast_fate.EV_LINEAGE_SWITCH])
