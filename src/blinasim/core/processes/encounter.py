"""Encounters and synapse formation (phase ``encounter``, fast clock; avidity model).

A contact between a free T-cell and a CD19+ cell becomes a synapse with
probability ``1 - exp(-beta x bridges)``; the bridges scale with the
*bridge factor* (:func:`bridge_factor`: the share of the target's CD19 in the
contact zone times the CD19-arm occupancy at the drug level, advanced in the
``pk`` phase), the target's CD19 and the T-cell's CD3 saturation. Marrow
T-cells probe their neighbourhood (:func:`contacts_per_tick`); blood is well
mixed (:func:`blood_contact_per_target`).

Config: ``tcells.contacts_per_hour``, ``tcells.blood_contact_ul_per_h``,
``tcells.cd3_engagement_half_density``, ``tcells.synapse_hours``,
``tcells.exhaustion_per_engagement``, ``drug.adhesion_beta``,
``drug.contact_area_fraction``, ``drug.kd_cd19_nm``, ``drug.molecular_weight_kda``.
Kernels: :func:`blinasim.kernels.encounter.form_synapses` (and
``list_blood_targets``, ``free_blood_targets``). Reference: ``TCell.seek_synapse``.
"""

from __future__ import annotations

from typing import Any

from blinasim.clinical.pk import molar
from blinasim.kernels import encounter
from blinasim.params.schema import Config


def bridge_factor(config: Config, concentration: float) -> float:
    """Drug bridges per (CD19 x CD3 share) at the serum level ``concentration`` (pg/mL):
    contact-zone share of CD19 x CD19-arm occupancy ``C / (C + KD19)``."""
    cm = molar(concentration, config.drug.molecular_weight_kda)
    kd = config.drug.kd_cd19_nm * 1e-9
    return config.drug.contact_area_fraction * cm / (cm + kd)


def contacts_per_tick(config: Config, dt_hours: float) -> float:
    """Neighbouring marrow cells a free T-cell probes per tick (fractional part drawn)."""
    return config.tcells.contacts_per_hour * dt_hours


def blood_contact_per_target(config: Config, cells_per_agent: float, blood_volume_ul: float, dt_hours: float) -> float:
    """Per-tick contact rate of a free blood T-cell with one simulated blood target.

    ``P(meet some free CD19+ target in dt) = 1 - exp(-k x density x dt)``; the kernel
    counts the free targets ``n`` and uses ``density x dt x k = per_target x n``.
    """
    return config.tcells.blood_contact_ul_per_h * cells_per_agent / blood_volume_ul * dt_hours


def run(model: Any) -> None:
    """Form synapses for the free T-cells (nothing without drug: no bridge, no draws)."""
    cfg, st, tc, tg = model.config, model.state, model.state.tcells, model.state.targets
    tcfg = cfg.tcells
    if model.bridge_factor <= 0.0:
        return
    # The free CD19+ blood targets at the start of the phase, in slot order: from the
    # list of CD19+ blood targets, made again only after a slow phase changed targets.
    if st.blood_targets is None:
        n_listed = encounter.list_blood_targets(tg.n, tg.record, st.scratch)
        st.blood_targets = st.scratch[:n_listed].copy()
    n_listed, n_blood = encounter.free_blood_targets(st.blood_targets, st.blood_targets.shape[0], tg.record, st.scratch)
    st.blood_targets = st.blood_targets[:n_listed]
    encounter.form_synapses(
        model.run_seed,
        model.tick,
        tc.n,
        tc.record,
        tg.record,
        st.lattice,
        st.side,
        contacts_per_tick(cfg, model.dt_hours),
        blood_contact_per_target(cfg, model.cells_per_agent, model.blood_volume_ul, model.dt_hours),
        model.bridge_factor,
        tcfg.cd3_engagement_half_density,
        cfg.drug.adhesion_beta,
        tcfg.synapse_hours,
        tcfg.exhaustion_per_engagement,
        st.scratch,
        n_blood,
    )
