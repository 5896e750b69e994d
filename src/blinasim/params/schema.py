"""Configuration schema: every parameter with its unit, bounds and default.

Configs are TOML files whose tables mirror the classes below (``[simulation]``,
``[patient]``, ...). Every default comes from :mod:`blinasim.params.defaults`, which
names its source. Unknown keys are errors (``extra="forbid"``), types are
strict (a string is not a number), and every error names the dotted key path,
the offending value and what is allowed.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from blinasim.errors import BlinasimError
from blinasim.params.defaults import LITERATURE
from blinasim.params.paths import schema_node, set_dotted, unknown_key_message


class ConfigError(BlinasimError):
    """A configuration problem, with one readable line per problem."""


def _param(key: str, description: str, **bounds: Any) -> Any:
    """A pydantic ``Field`` whose default, unit and source come from the literature table."""
    entry = LITERATURE[key]
    return Field(
        default=entry.value,
        description=description,
        json_schema_extra={"unit": entry.unit, "source": entry.source},
        **bounds,
    )


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True, frozen=False)


class SimulationConfig(_Section):
    """Clocks, lattice and random seed of one run."""

    seed: int = _param("simulation.seed", "Root seed of the run's counter-based random numbers.", ge=0, le=2**63 - 1)
    days: float = _param("simulation.days", "Simulated duration.", gt=0, le=3650, allow_inf_nan=False)
    dt_hours: float = _param("simulation.dt_hours", "Fast clock: T-cell motility, encounters, killing.", gt=0, le=1)
    slow_step_hours: float = _param(
        "simulation.slow_step_hours",
        "Slow clock: blast, B-cell and T-cell division and death, marrow turnover, resident trafficking. "
        "A whole multiple of dt_hours.",
        gt=0,
        le=24,
    )
    record_every_hours: float = _param(
        "simulation.record_every_hours", "Output interval. A whole multiple of slow_step_hours.", gt=0, le=24 * 28
    )
    lattice_size: int = _param(
        "simulation.lattice_size", "Marrow lattice side (sites); the lattice has lattice_size**2 sites.", ge=8, le=8192
    )
    site_diameter_um: float = _param("simulation.site_diameter_um", "Edge of one lattice site.", gt=0, le=100)
    compact_dead_fraction: float = _param(
        "simulation.compact_dead_fraction", "Dead-slot share that triggers compaction of a store.", gt=0, le=1
    )

    @model_validator(mode="after")
    def _clocks_nest(self) -> SimulationConfig:
        problems = []
        for name, step, unit in (
            ("slow_step_hours", self.slow_step_hours, self.dt_hours),
            ("record_every_hours", self.record_every_hours, self.slow_step_hours),
        ):
            ratio = step / unit
            if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
                base = "dt_hours" if name == "slow_step_hours" else "slow_step_hours"
                problems.append(
                    f"simulation.{name} = {step!r}: must be a whole multiple of simulation.{base} ({unit!r})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class PatientConfig(_Section):
    """Baseline characteristics of the virtual patient."""

    marrow_blast_fraction: float = _param(
        "patient.marrow_blast_fraction", "Baseline blasts / nucleated marrow cells.", ge=0, le=1
    )
    marrow_mrd: float | None = _param(
        "patient.marrow_mrd",
        "Baseline MRD (leukemic cells / marrow mononuclear cells, as the assay counts them). When set it "
        "determines the baseline blasts (Config.baseline_marrow_blast_fraction) and "
        "patient.marrow_blast_fraction is not used.",
        gt=0,
        lt=1,
    )
    marrow_t_cell_share_of_normal: float | None = _param(
        "patient.marrow_t_cell_share_of_normal",
        "T-cells / non-leukemic nucleated marrow cells at baseline. When set, the marrow T-cells are this share "
        "of the marrow the leukemia has not replaced (Config.baseline_marrow_t_cell_fraction) and "
        "patient.marrow_t_cell_fraction is not used.",
        gt=0,
        lt=1,
    )
    marrow_t_cell_displacement: float = _param(
        "patient.marrow_t_cell_displacement",
        "How far leukemic infiltration displaces the marrow T-cells with the rest of the normal marrow "
        "(with patient.marrow_t_cell_share_of_normal): 1, in proportion (their share of the non-leukemic "
        "marrow stays the drawn share); below 1, less: the odds of that share grow as (non-leukemic share) ** "
        "(displacement - 1) (Config.marrow_t_cell_share_at).",
        ge=0,
        le=1,
    )
    t_cells_per_ul: float = _param("patient.t_cells_per_ul", "Baseline blood CD3+ T-cell count.", ge=0, le=1e5)
    b_cells_per_ul: float = _param("patient.b_cells_per_ul", "Baseline blood normal B-cell count.", ge=0, le=1e5)
    peripheral_blasts_per_ul: float = _param(
        "patient.peripheral_blasts_per_ul", "Baseline circulating blast count.", ge=0, le=1e6
    )
    weight_kg: float = _param("patient.weight_kg", "Body weight (sets BSA dosing below 45 kg).", gt=2, le=350)
    height_cm: float = _param(
        "patient.height_cm", "Height (body surface area by the Mosteller formula, [Mosteller1987]).", gt=40, le=250
    )
    creatinine_clearance_ml_per_min: float = _param(
        "patient.creatinine_clearance_ml_per_min",
        "Creatinine clearance (renal function): below drug.renal_impairment_below_ml_per_min it lowers drug "
        "clearance; below 30 mL/min the label has no pharmacokinetic data, so it is refused.",
        ge=30,
        le=300,
    )
    blood_volume_l: float = _param("patient.blood_volume_l", "Blood volume.", gt=0.1, le=10)
    kmt2a_rearranged: bool = _param(
        "patient.kmt2a_rearranged", "KMT2A (MLL) rearrangement: enables lineage switch to a myeloid phenotype."
    )
    neutrophils_per_ul: float = _param(
        "patient.neutrophils_per_ul", "Blood neutrophil count (ANC) at the start of the run.", ge=0, le=1e5
    )
    platelets_per_nl: float = _param(
        "patient.platelets_per_nl", "Blood platelet count (10^9/L) at the start of the run.", ge=0, le=5000
    )
    neutrophils_recovered_per_ul: float | None = _param(
        "patient.neutrophils_recovered_per_ul",
        "Neutrophils this patient's marrow holds once freed of leukemia; when set, the entry count follows from "
        "it and the marrow at entry (patient.neutrophils_per_ul is then not used).",
        gt=0,
        le=1e5,
    )
    platelets_recovered_per_nl: float | None = _param(
        "patient.platelets_recovered_per_nl",
        "Platelets (10^9/L) this patient's marrow holds once freed of leukemia; when set, the entry count "
        "follows from it and the marrow at entry (patient.platelets_per_nl is then not used).",
        gt=0,
        le=5000,
    )
    ph_positive: bool = _param(
        "patient.ph_positive",
        "Philadelphia chromosome (BCR::ABL1): the blasts' division and survival depend on ABL1 kinase activity, "
        "which a tyrosine kinase inhibitor (treatment.tki) blocks.",
    )
    abl1_mutation: Literal["none", "t315i"] = _param(
        "patient.abl1_mutation",
        "ABL1 kinase-domain mutation of Ph+ blasts: none or t315i (gatekeeper: dasatinib and imatinib inactive).",
    )
    prior_tki_failure: bool = _param(
        "patient.prior_tki_failure",
        "Ph+ disease that failed a second-generation TKI: every TKI's IC50 x tki.prior_failure_ic50_fold.",
    )
    marrow_nucleated_cells: float = _param(
        "patient.marrow_nucleated_cells", "Total nucleated marrow cells of the patient.", gt=1e6, le=1e14
    )
    marrow_cellularity: float = _param(
        "patient.marrow_cellularity", "Share of marrow lattice sites holding a resident cell at baseline.", gt=0, le=1
    )
    marrow_t_cell_fraction: float = _param(
        "patient.marrow_t_cell_fraction", "T-cells / nucleated marrow cells at baseline.", ge=0, lt=1
    )
    normal_b_fraction: float = _param(
        "patient.normal_b_fraction", "Normal B-lineage cells / non-leukemic marrow residents at baseline.", ge=0, le=1
    )
    hematopoietic_reserve: float = _param(
        "patient.hematopoietic_reserve",
        "Speed of normal marrow turnover and refill relative to a healthy marrow (count recovery).",
        gt=0,
        le=10,
    )
    il6_response: float = _param(
        "patient.il6_response",
        "The patient's myeloid IL-6 production per unit of IFN-gamma signal, relative to the population median.",
        ge=0,
        le=1000,
    )
    sanctuary_fraction: float = _param(
        "patient.sanctuary_fraction",
        "Share of the leukemic cells outside the marrow lattice at baseline (extramedullary / CNS sanctuary).",
        ge=0,
        le=0.5,
    )
    cd4_fraction: float = _param("patient.cd4_fraction", "CD4+ share of the CD3+ T-cells.", ge=0, le=1)
    treg_fraction_of_cd4: float = _param(
        "patient.treg_fraction_of_cd4",
        "Regulatory T-cells (CD4+ CD25+ FOXP3+) as a share of the CD4+ T-cells.",
        ge=0,
        le=1,
    )

    @property
    def body_surface_area_m2(self) -> float:
        """Body surface area by the Mosteller formula."""
        return (self.height_cm * self.weight_kg / 3600.0) ** 0.5


class DiseaseConfig(_Section):
    """Leukemic blast kinetics and CD19 expression."""

    blast_birth_rate_per_day: float = _param(
        "disease.blast_birth_rate_per_day", "Blast division rate (exponential cycle clock).", ge=0, le=5
    )
    blast_death_rate_per_day: float = _param(
        "disease.blast_death_rate_per_day", "Blast apoptosis rate without therapy.", ge=0, le=5
    )
    blast_cd19_median: float = _param("disease.blast_cd19_median", "Median CD19 molecules per blast.", ge=0, le=1e6)
    blast_cd19_log_sd: float = _param("disease.blast_cd19_log_sd", "Log-sd of blast CD19 density.", ge=0, le=3)
    blast_homing_per_day: float = _param(
        "disease.blast_homing_per_day", "Rate at which a circulating blast homes to a free marrow site.", ge=0, le=100
    )
    daughter_placement_attempts: int = _param(
        "disease.daughter_placement_attempts",
        "Random Moore-neighbour sites a dividing marrow blast tries before the division is blocked.",
        ge=1,
        le=8,
    )
    cd19_division_log_sd: float = _param(
        "disease.cd19_division_log_sd", "Log-sd of CD19 inheritance noise at division.", ge=0, le=3
    )
    cd19_loss_per_division: float = _param(
        "disease.cd19_loss_per_division", "Probability that a CD19+ blast's daughter is CD19-negative.", ge=0, le=1
    )
    cd19_negative_fraction: float = _param(
        "disease.cd19_negative_fraction", "Pre-existing CD19-negative share of blasts at baseline.", ge=0, le=1
    )
    cd19_low_fraction: float = _param(
        "disease.cd19_low_fraction", "Pre-existing CD19-low share of blasts at baseline.", ge=0, le=1
    )
    cd19_low_factor: float = _param(
        "disease.cd19_low_factor", "CD19 density of CD19-low blasts relative to the rest.", ge=0, le=1
    )
    lineage_switch_per_division_kmt2a: float = _param(
        "disease.lineage_switch_per_division_kmt2a",
        "Lineage-switch probability per division in KMT2A-rearranged leukemia (no immune pressure).",
        ge=0,
        le=1,
    )
    lineage_switch_per_division: float = _param(
        "disease.lineage_switch_per_division", "Lineage-switch probability per division otherwise.", ge=0, le=1
    )
    lineage_switch_pressure_gain: float = _param(
        "disease.lineage_switch_pressure_gain",
        "Fold increase of the switch rate at full immune pressure.",
        ge=0,
        le=1e4,
    )
    immune_pressure_ec50_pg_per_ml: float = _param(
        "disease.immune_pressure_ec50_pg_per_ml", "IFN-gamma at half-maximal immune pressure.", gt=0, le=1e5
    )
    myeloid_birth_rate_per_day: float = _param(
        "disease.myeloid_birth_rate_per_day", "Division rate of lineage-switched (myeloid) blasts.", ge=0, le=5
    )
    myeloid_death_rate_per_day: float = _param(
        "disease.myeloid_death_rate_per_day", "Death rate of lineage-switched (myeloid) blasts.", ge=0, le=5
    )
    pdl1_baseline: float = _param("disease.pdl1_baseline", "Relative PD-L1 of blasts without IFN-gamma.", ge=0, le=1)
    pdl1_max: float = _param("disease.pdl1_max", "Relative PD-L1 of blasts at saturating IFN-gamma.", ge=0, le=1)
    pdl1_ifng_ec50_pg_per_ml: float = _param(
        "disease.pdl1_ifng_ec50_pg_per_ml", "IFN-gamma at half-maximal PD-L1 induction.", gt=0, le=1e5
    )
    pdl1_response_days: float = _param(
        "disease.pdl1_response_days", "Time constant of PD-L1 induction and loss.", gt=0, le=100
    )
    min_blast_agents: int = _param(
        "disease.min_blast_agents",
        "Below this many blast agents the blast weight halves and every blast agent splits (disease below one agent).",
        ge=1,
        le=10_000,
    )
    max_blast_agents: int = _param(
        "disease.max_blast_agents",
        "Above this many blast agents (at a weight below cells_per_agent) the weight doubles and half the blast "
        "agents merge away; at least 4 x min_blast_agents.",
        ge=4,
        le=1_000_000,
    )

    @model_validator(mode="after")
    def _fractions(self) -> DiseaseConfig:
        if self.cd19_negative_fraction + self.cd19_low_fraction > 1:
            raise ValueError(
                f"disease.cd19_negative_fraction + disease.cd19_low_fraction = "
                f"{self.cd19_negative_fraction + self.cd19_low_fraction}: must not exceed 1"
            )
        if self.max_blast_agents < 4 * self.min_blast_agents:
            raise ValueError(
                f"disease.max_blast_agents = {self.max_blast_agents} must be at least 4 x disease.min_blast_agents "
                f"= {4 * self.min_blast_agents} (a gap so that splitting and merging do not alternate)"
            )
        return self


class NormalBConfig(_Section):
    """Normal (non-leukemic) CD19+ B cells."""

    cd19_median: float = _param("normal_b.cd19_median", "Median CD19 molecules per normal B cell.", ge=0, le=1e6)
    cd19_log_sd: float = _param("normal_b.cd19_log_sd", "Log-sd of normal B-cell CD19 density.", ge=0, le=3)
    death_rate_per_day: float = _param(
        "normal_b.death_rate_per_day",
        "Normal B-cell death rate; replenishment from CD19-negative precursors balances it at baseline.",
        ge=0,
        le=5,
    )
    homing_per_day: float = _param("normal_b.homing_per_day", "Blood-to-marrow rate of normal B cells.", ge=0, le=100)


class MarrowConfig(_Section):
    """Non-B, non-T nucleated marrow cells (myeloid and erythroid lineages)."""

    other_death_rate_per_day: float = _param(
        "marrow.other_death_rate_per_day", "Turnover of other nucleated marrow cells.", ge=0, le=5
    )
    normal_cellularity: float = _param(
        "marrow.normal_cellularity",
        "Cellularity that normal hematopoiesis regenerates towards (sets the refill rate of empty sites).",
        gt=0,
        lt=1,
    )
    mononuclear_fraction_of_other: float = _param(
        "marrow.mononuclear_fraction_of_other",
        "Share of other nucleated marrow cells counted in the MRD (mononuclear) denominator.",
        ge=0,
        le=1,
    )


class TCellConfig(_Section):
    """T-cell motility, engagement, killing, activation, expansion, exhaustion."""

    cd3_median: float = _param("tcells.cd3_median", "Median CD3 molecules per T-cell.", gt=0, le=1e6)
    cd3_log_sd: float = _param("tcells.cd3_log_sd", "Log-sd of CD3 density.", ge=0, le=3)
    speed_um_per_min: float = _param("tcells.speed_um_per_min", "Random-walk speed in marrow.", ge=0, le=100)
    contacts_per_hour: float = _param(
        "tcells.contacts_per_hour", "Neighbouring marrow cells a free T-cell probes per hour.", ge=0, le=600
    )
    blood_contact_ul_per_h: float = _param(
        "tcells.blood_contact_ul_per_h",
        "Blood encounter rate constant: contacts per T-cell per hour per target/uL.",
        ge=0,
        le=1,
    )
    marrow_homing_per_day: float = _param(
        "tcells.marrow_homing_per_day", "Blood-to-marrow rate of T-cells at baseline.", ge=0, le=100
    )
    margination_fold: float = _param(
        "tcells.margination_fold", "Maximal fold increase of blood-to-marrow T-cell traffic under drug.", ge=0, le=1e3
    )
    margination_ec50_pg_per_ml: float = _param(
        "tcells.margination_ec50_pg_per_ml", "Drug level at half-maximal redistribution.", gt=0, le=1e5
    )
    margination_adaptation_days: float = _param(
        "tcells.margination_adaptation_days", "Time constant of adaptation of the redistribution drive.", gt=0, le=100
    )
    cd3_engagement_half_density: float = _param(
        "tcells.cd3_engagement_half_density",
        "CD3 density at which half of the CD19-bound drug in a contact is bridged.",
        gt=0,
        le=1e7,
    )
    synapse_hours: float = _param("tcells.synapse_hours", "Synapse duration from adhesion to lysis.", gt=0, le=48)
    lysis_probability: float = _param(
        "tcells.lysis_probability", "Probability that a completed synapse kills (before exhaustion).", ge=0, le=1
    )
    activation_half_life_days: float = _param(
        "tcells.activation_half_life_days", "Half-life of the activation state without engagement.", gt=0, le=100
    )
    activated_division_per_day: float = _param(
        "tcells.activated_division_per_day", "Division rate of a fully activated, unexhausted T-cell.", ge=0, le=10
    )
    death_rate_per_day: float = _param(
        "tcells.death_rate_per_day", "Baseline death rate, balanced by homeostatic division.", ge=0, le=5
    )
    contraction_rate_per_day: float = _param(
        "tcells.contraction_rate_per_day",
        "Extra death rate of resting T-cells per unit of relative excess over their set point.",
        ge=0,
        le=50,
    )
    homeostatic_expansion_per_day: float = _param(
        "tcells.homeostatic_expansion_per_day",
        "Extra division rate of T-cells per unit of relative deficit below their set point (lymphopenia-"
        "induced proliferation; 0: off). When on, the set point follows the normal marrow where infiltration "
        "displaced the marrow's T-cells.",
        ge=0,
        le=5,
    )
    exhaustion_per_engaged_day: float = _param(
        "tcells.exhaustion_per_engaged_day", "Exhaustion accrual per day spent in synapses.", ge=0, le=50
    )
    exhaustion_recovery_per_day: float = _param(
        "tcells.exhaustion_recovery_per_day", "Recovery of exhaustion while not engaged.", ge=0, le=50
    )
    exhaustion_per_engagement: float = _param(
        "tcells.exhaustion_per_engagement", "Exhaustion added per engagement (share of the remaining way).", ge=0, le=1
    )
    entry_exhaustion_per_blast_fraction: float = _param(
        "tcells.entry_exhaustion_per_blast_fraction",
        "Exhaustion the T-cells carry at entry per unit of baseline marrow blast fraction (chronic exposure to "
        "the leukemia; 0: off). It recovers and accrues like the exhaustion that engagement adds.",
        ge=0,
        le=1,
    )
    exhaustion_e50: float = _param(
        "tcells.exhaustion_e50", "Exhaustion at which half the effector function is lost.", gt=0, le=1
    )
    exhaustion_hill: float = _param(
        "tcells.exhaustion_hill", "Steepness of the loss of effector function.", gt=0, le=20
    )
    pd1_lysis_inhibition: float = _param(
        "tcells.pd1_lysis_inhibition", "Lysis lost at full PD-1 (exhaustion) and full target PD-L1.", ge=0, le=1
    )
    pd1_proliferation_inhibition: float = _param(
        "tcells.pd1_proliferation_inhibition",
        "Activated division lost at full PD-1 and full mean blast PD-L1.",
        ge=0,
        le=1,
    )
    exhausted_threshold: float = _param(
        "tcells.exhausted_threshold", "Exhaustion level above which a T-cell counts as exhausted.", gt=0, lt=1
    )
    treg_suppression_max: float = _param(
        "tcells.treg_suppression_max",
        "Share of activated division and lysis that fully activated regulatory T-cells suppress.",
        ge=0,
        le=1,
    )
    treg_suppression_half: float = _param(
        "tcells.treg_suppression_half",
        "Activated regulatory T-cells / all T-cells at half-maximal suppression.",
        gt=0,
        le=1,
    )
    treg_suppression_hill: float = _param(
        "tcells.treg_suppression_hill", "Steepness of the suppression by activated regulatory T-cells.", gt=0, le=20
    )


class DrugConfig(_Section):
    """Blinatumomab pharmacokinetics and binding."""

    clearance_l_per_h: float = _param("drug.clearance_l_per_h", "Typical clearance at BSA 1.73 m2.", gt=0, le=100)
    volume_l: float = _param("drug.volume_l", "Volume of distribution.", gt=0, le=100)
    clearance_log_sd: float = _param(
        "drug.clearance_log_sd", "Between-patient log-sd of clearance (0: the typical patient).", ge=0, le=3
    )
    clearance_bsa_exponent: float = _param(
        "drug.clearance_bsa_exponent", "Exponent of (BSA / 1.73 m2) on clearance.", ge=0, le=3
    )
    renal_impairment_clearance_factor: float = _param(
        "drug.renal_impairment_clearance_factor",
        "Clearance multiplier for patients with creatinine clearance below drug.renal_impairment_below_ml_per_min.",
        gt=0,
        le=2,
    )
    renal_impairment_below_ml_per_min: float = _param(
        "drug.renal_impairment_below_ml_per_min",
        "Creatinine clearance below which renal impairment lowers drug clearance.",
        ge=30,
        le=300,
    )
    molecular_weight_kda: float = _param("drug.molecular_weight_kda", "Molecular weight.", gt=0, le=1000)
    kd_cd19_nm: float = _param("drug.kd_cd19_nm", "Dissociation constant of the CD19 arm.", gt=0, le=1e6)
    kd_cd3_nm: float = _param(
        "drug.kd_cd3_nm", "Dissociation constant of the CD3 arm (reported; bulk CD3 occupancy).", gt=0, le=1e6
    )
    adhesion_beta: float = _param("drug.adhesion_beta", "Adhesion per bridge: P = 1 - exp(-beta N).", ge=0, le=10)
    contact_area_fraction: float = _param(
        "drug.contact_area_fraction", "Share of target CD19 inside the contact zone.", ge=0, le=1
    )


class CytokineConfig(_Section):
    """Serum IFN-gamma and IL-6: release, clearance, desensitisation."""

    ifng_release_pg_per_cell_h: float = _param(
        "cytokines.ifng_release_pg_per_cell_h", "IFN-gamma reaching serum per engaged T-cell and hour.", ge=0, le=1
    )
    distribution_volume_l: float = _param(
        "cytokines.distribution_volume_l", "Distribution volume of the cytokines.", gt=0, le=50
    )
    ifng_half_life_h: float = _param("cytokines.ifng_half_life_h", "Serum half-life of IFN-gamma.", gt=0, le=48)
    il6_half_life_h: float = _param("cytokines.il6_half_life_h", "Serum half-life of IL-6.", gt=0, le=48)
    damp_release_pg_per_cell: float = _param(
        "cytokines.damp_release_pg_per_cell",
        "Myeloid activation (IFN-gamma equivalents reaching serum) per target lysed by pyroptosis.",
        ge=0,
        le=1,
    )
    damp_half_life_h: float = _param(
        "cytokines.damp_half_life_h", "Half-life of the DAMP signal from pyroptotic targets.", gt=0, le=48
    )
    myeloid_response_h: float = _param(
        "cytokines.myeloid_response_h", "Lag of myeloid IL-6 production behind IFN-gamma.", gt=0, le=240
    )
    il6_per_ifng: float = _param(
        "cytokines.il6_per_ifng", "Steady-state IL-6 per unit of lagged IFN-gamma.", ge=0, le=1000
    )
    desensitisation_per_engaged_day: float = _param(
        "cytokines.desensitisation_per_engaged_day",
        "Loss of T-cell cytokine competence per day, per unit engaged share of T-cells.",
        ge=0,
        le=1000,
    )
    desensitisation_lag_h: float = _param(
        "cytokines.desensitisation_lag_h", "Lag between engagement and loss of cytokine competence.", gt=0, le=240
    )
    competence_recovery_days: float = _param(
        "cytokines.competence_recovery_days", "Time constant of the recovery of cytokine competence.", gt=0, le=3650
    )
    neuro_integration_h: float = _param(
        "cytokines.neuro_integration_h",
        "Time constant of the cytokine exposure that drives neurotoxicity.",
        gt=0,
        le=720,
    )
    neuro_priming_days: float = _param(
        "cytokines.neuro_priming_days",
        "Time constant with which the infusion primes the CNS for neurotoxicity (T-cell adhesion to the "
        "endothelium); 0: primed from the start.",
        ge=0,
        le=60,
    )


class ToxicityConfig(_Section):
    """Mapping from the cytokine state to CRS and neurotoxicity grades."""

    crs_il6_thresholds_pg_per_ml: list[float] = _param(
        "toxicity.crs_il6_thresholds_pg_per_ml",
        "Effective IL-6 at which CRS grades 1, 2, 3 and 4 begin (ascending).",
        min_length=4,
        max_length=4,
    )
    crs_symptom_lag_h: float = _param(
        "toxicity.crs_symptom_lag_h", "Lag of CRS symptoms (the graded signal) behind effective IL-6.", gt=0, le=240
    )
    neuro_thresholds_pg_per_ml: list[float] = _param(
        "toxicity.neuro_thresholds_pg_per_ml",
        "Integrated serum IL-6 + IFN-gamma at which neurotoxicity grades 1, 2, 3 and 4 begin (ascending).",
        min_length=4,
        max_length=4,
    )
    seizure_hazard_per_day: list[float] = _param(
        "toxicity.seizure_hazard_per_day",
        "Seizure hazard at neurotoxicity grades 1, 2, 3 and 4 (each >= 0).",
        min_length=4,
        max_length=4,
    )

    @model_validator(mode="after")
    def _ascending(self) -> ToxicityConfig:
        if any(not 0 <= h <= 1e3 for h in self.seizure_hazard_per_day):
            raise ValueError(
                f"toxicity.seizure_hazard_per_day = {self.seizure_hazard_per_day!r}: must be 4 values in [0, 1000]"
            )
        for name in ("crs_il6_thresholds_pg_per_ml", "neuro_thresholds_pg_per_ml"):
            values = getattr(self, name)
            if any(v <= 0 for v in values) or any(b <= a for a, b in itertools.pairwise(values)):
                raise ValueError(f"toxicity.{name} = {values!r}: must be 4 positive, strictly ascending values")
        return self


class DexamethasoneConfig(_Section):
    """Dexamethasone doses and its cytokine-suppressing effect."""

    premedication_mg: float = _param("dexamethasone.premedication_mg", "Premedication dose.", ge=0, le=100)
    premedication_mg_per_m2: float = _param(
        "dexamethasone.premedication_mg_per_m2",
        "Premedication dose per m2 for patients dosed per m2 (treatment.bsa_dosing_below_kg), at most premedication_mg.",
        ge=0,
        le=100,
    )
    prephase_mg_per_m2_day: float = _param(
        "dexamethasone.prephase_mg_per_m2_day", "Pre-phase daily dose per m2.", ge=0, le=100
    )
    prephase_max_mg_per_day: float = _param(
        "dexamethasone.prephase_max_mg_per_day", "Cap of the pre-phase daily dose.", ge=0, le=100
    )
    prephase_days: int = _param("dexamethasone.prephase_days", "Pre-phase days before cycle 1.", ge=0, le=14)
    crs_treatment_mg: float = _param(
        "dexamethasone.crs_treatment_mg", "Dose every 8 h for 3 days when CRS reaches the hold grade.", ge=0, le=100
    )
    crs_treatment_mg_per_m2: float = _param(
        "dexamethasone.crs_treatment_mg_per_m2",
        "CRS course dose per m2 for patients dosed per m2 (treatment.bsa_dosing_below_kg), at most crs_treatment_mg.",
        ge=0,
        le=100,
    )
    neuro_treatment_mg_per_m2: float = _param(
        "dexamethasone.neuro_treatment_mg_per_m2",
        "Neurotoxicity course dose per m2 for patients dosed per m2, at most neuro_treatment_mg.",
        ge=0,
        le=100,
    )
    neuro_treatment_mg: float = _param(
        "dexamethasone.neuro_treatment_mg",
        "Dose every 8 h for 3 days when a neurotoxicity hold or discontinuation starts (then a 4-day taper).",
        ge=0,
        le=100,
    )
    effect_half_life_h: float = _param(
        "dexamethasone.effect_half_life_h", "Half-life of the anti-inflammatory effect.", gt=0, le=500
    )
    ed50_mg: float = _param(
        "dexamethasone.ed50_mg", "Amount in effect for half the maximal debulking (blast kill).", gt=0, le=1000
    )
    cytokine_ed50_mg: float = _param(
        "dexamethasone.cytokine_ed50_mg",
        "Amount in effect for half the maximal suppression of cytokine release.",
        gt=0,
        le=1000,
    )
    max_suppression: float = _param(
        "dexamethasone.max_suppression", "Maximal suppression of cytokine release (not of killing).", ge=0, le=1
    )
    suppression_sites: Literal["each_cell_type", "each_path"] = _param(
        "dexamethasone.suppression_sites",
        "Where the suppression acts: on the T-cells' release and again on the macrophages' IL-6 "
        "('each_cell_type'), or once on each path to IL-6 ('each_path').",
    )
    blast_kill_per_day_max: float = _param(
        "dexamethasone.blast_kill_per_day_max",
        "Glucocorticoid-induced death rate of free B-lineage blasts at full exposure (debulking).",
        ge=0,
        le=5,
    )


class TocilizumabConfig(_Section):
    """Tocilizumab (anti-IL-6 receptor) for severe CRS."""

    blockade_half_life_days: float = _param(
        "tocilizumab.blockade_half_life_days", "Half-life of IL-6 receptor blockade after a dose.", gt=0, le=100
    )
    receptor_clearance_share: float = _param(
        "tocilizumab.receptor_clearance_share", "Share of IL-6 clearance that is receptor-mediated.", ge=0, le=1
    )
    redose_after_h: float = _param("tocilizumab.redose_after_h", "Minimal interval between two doses.", gt=0, le=720)


class LymphoidConfig(_Section):
    """Spleen and lymph nodes: their T-cells and the extramedullary leukemia (a compartment)."""

    enabled: bool = _param(
        "lymphoid.enabled",
        "Model spleen and lymph nodes (off by default; with it on, use the toxicity mappings calibrated with "
        "it: docs/validation.md, 'CRS and burden: the lymphoid tissue').",
    )
    t_cells_per_blood_t_cell: float = _param(
        "lymphoid.t_cells_per_blood_t_cell",
        "T-cells in spleen and lymph nodes per T-cell in blood.",
        ge=0,
        le=200,
    )
    other_cells_per_t_cell: float = _param(
        "lymphoid.other_cells_per_t_cell", "Other nucleated cells of the tissue per lymphoid T-cell.", ge=0, le=20
    )
    blasts_per_marrow_blast: float = _param(
        "lymphoid.blasts_per_marrow_blast",
        "Extramedullary (spleen, nodes) leukemic cells per marrow leukemic cell at entry.",
        ge=0,
        le=5,
    )


class ProtocolConfig(_Section):
    """Clinical rules that respond to toxicity (holds, restarts, discontinuation)."""

    crs_hold_grade: int = _param("protocol.crs_hold_grade", "CRS grade that withholds the infusion.", ge=1, le=5)
    crs_discontinue_grade: int = _param(
        "protocol.crs_discontinue_grade", "CRS grade that ends treatment (5: never).", ge=1, le=5
    )
    tocilizumab_grade: int = _param(
        "protocol.tocilizumab_grade", "CRS grade that triggers tocilizumab (5: never).", ge=1, le=5
    )
    neuro_hold_grade: int = _param("protocol.neuro_hold_grade", "Neurotoxicity grade that withholds.", ge=1, le=5)
    neuro_resume_grade: int = _param(
        "protocol.neuro_resume_grade", "Neurotoxicity grade at or below which a hold can end.", ge=0, le=4
    )
    neuro_resume_days: float = _param(
        "protocol.neuro_resume_days", "Days at or below the resume grade before restarting.", ge=0, le=60
    )
    neuro_max_hold_days: float = _param(
        "protocol.neuro_max_hold_days", "A neurotoxicity hold longer than this ends treatment.", gt=0, le=365
    )
    neuro_discontinue_grade: int = _param(
        "protocol.neuro_discontinue_grade", "Neurotoxicity grade that ends treatment (5: never).", ge=1, le=5
    )
    seizure_hold_grade: int = _param(
        "protocol.seizure_hold_grade",
        "Grade of a seizure that withholds (modelled seizures are grade 3; 5: never).",
        ge=1,
        le=5,
    )
    seizure_discontinue_count: int = _param(
        "protocol.seizure_discontinue_count", "Seizures that end treatment (the label: more than one).", ge=1, le=100
    )
    restart_escalation_days: float = _param(
        "protocol.restart_escalation_days", "Days at the step-up dose after a restart.", ge=0, le=60
    )
    new_cycle_after_hold_days: float = _param(
        "protocol.new_cycle_after_hold_days",
        "A hold that interrupts a cycle's infusion for longer than this starts a new cycle at the restart "
        "(shorter: the same cycle continues to its full infusion days).",
        ge=0,
        le=365,
    )
    premedication_lead_h: float = _param(
        "protocol.premedication_lead_h", "Dexamethasone is given this long before an infusion starts.", ge=0, le=24
    )
    premedicate_after_hold_h: float = _param(
        "protocol.premedicate_after_hold_h",
        "Holds at least this long get dexamethasone before the restart.",
        ge=0,
        le=720,
    )


class EndpointConfig(_Section):
    """Definitions of the clinical read-outs of a run."""

    response_cycles: int = _param("endpoints.response_cycles", "Cycles after which response is assessed.", ge=1, le=9)
    cr_blast_fraction: float = _param(
        "endpoints.cr_blast_fraction", "Marrow blast fraction below which CR/CRh is possible.", gt=0, le=1
    )
    assessment_days: list[float] = _param(
        "endpoints.assessment_days",
        "Days after treatment.start_day of the protocol's marrow assessments, the same for every arm "
        "(empty: from the blinatumomab schedule, endpoints.assessment_days(config)).",
        max_length=52,
    )
    cr_neutrophils_per_ul: float = _param(
        "endpoints.cr_neutrophils_per_ul", "Neutrophils above which recovery is full (CR).", ge=0, le=1e5
    )
    cr_platelets_per_nl: float = _param(
        "endpoints.cr_platelets_per_nl", "Platelets above which recovery is full (CR).", ge=0, le=5000
    )
    crh_neutrophils_per_ul: float = _param(
        "endpoints.crh_neutrophils_per_ul", "Neutrophils above which recovery is partial (CRh).", ge=0, le=1e5
    )
    crh_platelets_per_nl: float = _param(
        "endpoints.crh_platelets_per_nl", "Platelets above which recovery is partial (CRh).", ge=0, le=5000
    )
    peripheral_blasts_per_ul: float = _param(
        "endpoints.peripheral_blasts_per_ul",
        "Blood blasts at or above which a remission is ruled out ('no circulating blasts').",
        gt=0,
        le=1e6,
    )
    mrd_threshold: float = _param(
        "endpoints.mrd_threshold", "MRD below which a complete MRD response is scored.", gt=0, le=1
    )
    relapse_blast_fraction: float = _param(
        "endpoints.relapse_blast_fraction",
        "Marrow blast fraction whose regrowth after a response is a relapse.",
        gt=0,
        le=1,
    )

    @model_validator(mode="after")
    def _ordered(self) -> EndpointConfig:
        for kind, cr, crh in (
            ("neutrophils_per_ul", self.cr_neutrophils_per_ul, self.crh_neutrophils_per_ul),
            ("platelets_per_nl", self.cr_platelets_per_nl, self.crh_platelets_per_nl),
        ):
            if crh > cr:
                raise ValueError(f"endpoints.crh_{kind} ({crh}) must not exceed endpoints.cr_{kind} ({cr})")
        days = self.assessment_days
        if any(not 0 < d <= 3650 for d in days) or any(b <= a for a, b in itertools.pairwise(days)):
            raise ValueError(
                f"endpoints.assessment_days = {days!r}: must be strictly ascending days after treatment.start_day, "
                "each > 0 and <= 3650 (or empty: from the blinatumomab schedule)"
            )
        return self


class CountConfig(_Section):
    """Blood counts (neutrophils, platelets) from the modelled marrow (blinasim.clinical.blood_counts)."""

    neutrophil_transit_per_day: float = _param(
        "counts.neutrophil_transit_per_day", "Neutrophil maturation: rate between transit compartments.", gt=0, le=100
    )
    neutrophil_feedback: float = _param(
        "counts.neutrophil_feedback", "Exponent of the neutrophil feedback (C_ref / C)^gamma.", ge=0, le=5
    )
    platelet_transit_per_day: float = _param(
        "counts.platelet_transit_per_day", "Platelet maturation: rate between transit compartments.", gt=0, le=100
    )
    platelet_elimination_per_day: float = _param(
        "counts.platelet_elimination_per_day", "Loss rate of circulating platelets.", gt=0, le=100
    )
    platelet_feedback: float = _param(
        "counts.platelet_feedback", "Exponent of the platelet feedback (C_ref / C)^gamma.", ge=0, le=5
    )
    leukemic_suppression: float = _param(
        "counts.leukemic_suppression",
        "Exponent k of the suppression of normal marrow output by the blasts, (1 - blast fraction)^k.",
        ge=0,
        le=20,
    )
    neutrophils_upper_normal_per_ul: float = _param(
        "counts.neutrophils_upper_normal_per_ul",
        "Highest neutrophil count a marrow freed of leukemia holds (caps C_ref).",
        gt=0,
        le=1e5,
    )
    platelets_upper_normal_per_nl: float = _param(
        "counts.platelets_upper_normal_per_nl",
        "Highest platelet count a marrow freed of leukemia holds (caps C_ref).",
        gt=0,
        le=5000,
    )


class CheckpointConfig(_Section):
    """Checkpoint inhibitors: anti-PD-1 (nivolumab, pembrolizumab) and anti-CTLA-4 (ipilimumab)."""

    nivolumab_dose_mg: float = _param("checkpoint.nivolumab_dose_mg", "Nivolumab flat dose.", gt=0, le=2000)
    nivolumab_interval_days: float = _param(
        "checkpoint.nivolumab_interval_days", "Nivolumab dosing interval.", gt=0, le=365
    )
    nivolumab_half_life_days: float = _param(
        "checkpoint.nivolumab_half_life_days", "Nivolumab terminal half-life.", gt=0, le=365
    )
    nivolumab_volume_l: float = _param(
        "checkpoint.nivolumab_volume_l", "Nivolumab volume of distribution.", gt=0, le=100
    )
    pembrolizumab_dose_mg: float = _param("checkpoint.pembrolizumab_dose_mg", "Pembrolizumab flat dose.", gt=0, le=2000)
    pembrolizumab_interval_days: float = _param(
        "checkpoint.pembrolizumab_interval_days", "Pembrolizumab dosing interval.", gt=0, le=365
    )
    pembrolizumab_half_life_days: float = _param(
        "checkpoint.pembrolizumab_half_life_days", "Pembrolizumab terminal half-life.", gt=0, le=365
    )
    pembrolizumab_volume_l: float = _param(
        "checkpoint.pembrolizumab_volume_l", "Pembrolizumab volume of distribution.", gt=0, le=100
    )
    pd1_occupancy_max: float = _param("checkpoint.pd1_occupancy_max", "Maximal PD-1 receptor occupancy.", ge=0, le=1)
    pd1_occupancy_ec50_ug_per_ml: float = _param(
        "checkpoint.pd1_occupancy_ec50_ug_per_ml", "Serum level at half-maximal PD-1 occupancy.", gt=0, le=1000
    )
    ipilimumab_dose_mg_per_kg: float = _param(
        "checkpoint.ipilimumab_dose_mg_per_kg", "Ipilimumab dose per kg.", gt=0, le=20
    )
    ipilimumab_interval_days: float = _param(
        "checkpoint.ipilimumab_interval_days", "Ipilimumab dosing interval.", gt=0, le=365
    )
    ipilimumab_half_life_days: float = _param(
        "checkpoint.ipilimumab_half_life_days", "Ipilimumab terminal half-life.", gt=0, le=365
    )
    ipilimumab_volume_l: float = _param(
        "checkpoint.ipilimumab_volume_l", "Ipilimumab volume of distribution.", gt=0, le=100
    )
    ipilimumab_ec50_ug_per_ml: float = _param(
        "checkpoint.ipilimumab_ec50_ug_per_ml", "Serum level at half-maximal CTLA-4 blockade.", gt=0, le=1000
    )
    ipilimumab_expansion_gain: float = _param(
        "checkpoint.ipilimumab_expansion_gain",
        "Relative increase of activated division at full CTLA-4 blockade.",
        ge=0,
        le=10,
    )


class TkiConfig(_Section):
    """Tyrosine kinase inhibitors (imatinib, dasatinib, ponatinib): oral PK, BCR::ABL1 and T-cell effects."""

    dasatinib_dose_mg: float = _param("tki.dasatinib_dose_mg", "Dasatinib once-daily dose.", gt=0, le=2000)
    dasatinib_auc_per_mg: float = _param(
        "tki.dasatinib_auc_per_mg",
        "Dasatinib steady-state AUC over a day per mg of daily dose (total plasma).",
        gt=0,
        le=1e4,
    )
    dasatinib_half_life_h: float = _param("tki.dasatinib_half_life_h", "Dasatinib terminal half-life.", gt=0, le=500)
    dasatinib_unbound_fraction: float = _param(
        "tki.dasatinib_unbound_fraction", "Dasatinib free fraction in plasma.", gt=0, le=1
    )
    dasatinib_molecular_weight: float = _param(
        "tki.dasatinib_molecular_weight", "Dasatinib molecular weight.", gt=50, le=5000
    )
    dasatinib_ic50_nm: float = _param(
        "tki.dasatinib_ic50_nm",
        "Dasatinib cellular IC50 on native BCR::ABL1 (nominal, in 10% serum medium).",
        gt=0,
        le=1e7,
    )
    dasatinib_ic50_t315i_nm: float = _param(
        "tki.dasatinib_ic50_t315i_nm", "Dasatinib cellular IC50 on BCR::ABL1 T315I (nominal).", gt=0, le=1e7
    )
    dasatinib_tcell_ic50_nm: float = _param(
        "tki.dasatinib_tcell_ic50_nm",
        "Dasatinib IC50 of T-cell activation and killing (nominal, in culture).",
        gt=0,
        le=1e7,
    )
    ponatinib_dose_mg: float = _param("tki.ponatinib_dose_mg", "Ponatinib once-daily dose.", gt=0, le=2000)
    ponatinib_auc_per_mg: float = _param(
        "tki.ponatinib_auc_per_mg",
        "Ponatinib steady-state AUC over a day per mg of daily dose (total plasma).",
        gt=0,
        le=1e4,
    )
    ponatinib_half_life_h: float = _param("tki.ponatinib_half_life_h", "Ponatinib terminal half-life.", gt=0, le=500)
    ponatinib_unbound_fraction: float = _param(
        "tki.ponatinib_unbound_fraction", "Ponatinib free fraction in plasma.", gt=0, le=1
    )
    ponatinib_molecular_weight: float = _param(
        "tki.ponatinib_molecular_weight", "Ponatinib molecular weight.", gt=50, le=5000
    )
    ponatinib_ic50_nm: float = _param(
        "tki.ponatinib_ic50_nm",
        "Ponatinib cellular IC50 on native BCR::ABL1 (nominal, in 10% serum medium).",
        gt=0,
        le=1e7,
    )
    ponatinib_ic50_t315i_nm: float = _param(
        "tki.ponatinib_ic50_t315i_nm", "Ponatinib cellular IC50 on BCR::ABL1 T315I (nominal).", gt=0, le=1e7
    )
    ponatinib_tcell_ic50_nm: float = _param(
        "tki.ponatinib_tcell_ic50_nm",
        "Ponatinib IC50 of T-cell activation and killing (nominal, in culture).",
        gt=0,
        le=1e7,
    )
    imatinib_dose_mg: float = _param("tki.imatinib_dose_mg", "Imatinib once-daily dose.", gt=0, le=2000)
    imatinib_auc_per_mg: float = _param(
        "tki.imatinib_auc_per_mg",
        "Imatinib steady-state AUC over a day per mg of daily dose (total plasma).",
        gt=0,
        le=1e4,
    )
    imatinib_half_life_h: float = _param("tki.imatinib_half_life_h", "Imatinib terminal half-life.", gt=0, le=500)
    imatinib_unbound_fraction: float = _param(
        "tki.imatinib_unbound_fraction", "Imatinib free fraction in plasma.", gt=0, le=1
    )
    imatinib_molecular_weight: float = _param(
        "tki.imatinib_molecular_weight", "Imatinib molecular weight.", gt=50, le=5000
    )
    imatinib_ic50_nm: float = _param(
        "tki.imatinib_ic50_nm",
        "Imatinib cellular IC50 on native BCR::ABL1 (nominal, in 10% serum medium).",
        gt=0,
        le=1e7,
    )
    imatinib_ic50_t315i_nm: float = _param(
        "tki.imatinib_ic50_t315i_nm", "Imatinib cellular IC50 on BCR::ABL1 T315I (nominal).", gt=0, le=1e7
    )
    imatinib_tcell_ic50_nm: float = _param(
        "tki.imatinib_tcell_ic50_nm",
        "Imatinib IC50 of T-cell activation and killing (nominal, in culture).",
        gt=0,
        le=1e7,
    )
    assay_serum_fraction: float = _param(
        "tki.assay_serum_fraction", "Serum share of the medium in which the cellular IC50s were measured.", gt=0, le=1
    )
    hill: float = _param("tki.hill", "Hill coefficient of the BCR::ABL1 and T-cell exposure-response.", gt=0, le=5)
    prior_failure_ic50_fold: float = _param(
        "tki.prior_failure_ic50_fold",
        "IC50 multiplier of Ph+ blasts that failed a second-generation TKI (patient.prior_tki_failure).",
        ge=1,
        le=1e4,
    )
    max_division_block: float = _param(
        "tki.max_division_block", "Share of Ph+ blast division stopped at full BCR::ABL1 inhibition.", ge=0, le=1
    )
    max_apoptosis_per_day: float = _param(
        "tki.max_apoptosis_per_day", "Extra death hazard of Ph+ blasts at full BCR::ABL1 inhibition.", ge=0, le=10
    )
    max_tcell_suppression: float = _param(
        "tki.max_tcell_suppression",
        "Share of T-cell killing, activated division and cytokine release lost at full off-target (LCK) inhibition.",
        ge=0,
        le=1,
    )


class ChemotherapyConfig(_Section):
    """Salvage chemotherapy comparator: courses of cytotoxic exposure."""

    course_days: int = _param("chemotherapy.course_days", "Days of cytotoxic exposure per course.", ge=1, le=28)
    courses: int = _param("chemotherapy.courses", "Number of courses.", ge=1, le=10)
    interval_days: float = _param("chemotherapy.interval_days", "Days from one course start to the next.", gt=0, le=365)
    blast_kill_per_day: float = _param(
        "chemotherapy.blast_kill_per_day", "Kill hazard of blasts during a course.", ge=0, le=20
    )
    normal_b_kill_per_day: float = _param(
        "chemotherapy.normal_b_kill_per_day", "Kill hazard of normal B cells during a course.", ge=0, le=20
    )
    other_marrow_kill_per_day: float = _param(
        "chemotherapy.other_marrow_kill_per_day", "Kill hazard of other marrow cells (myelosuppression).", ge=0, le=20
    )
    marrow_recovery_days: float = _param(
        "chemotherapy.marrow_recovery_days", "Ramp of marrow refill back to normal after a course.", ge=0, le=365
    )
    t_cell_kill_per_day: float = _param(
        "chemotherapy.t_cell_kill_per_day", "Kill hazard of T-cells (lymphodepletion).", ge=0, le=20
    )
    sanctuary_kill_factor: float = _param(
        "chemotherapy.sanctuary_kill_factor",
        "Kill hazard of a course in the extramedullary sanctuary relative to its marrow blast kill (the drug's "
        "exposure there); the clinical course uses it for a chemotherapy arm in place of "
        "course.sanctuary_kill_factor, which is blinatumomab's.",
        ge=0,
        le=1,
    )

    flag_course_days: int = _param(
        "chemotherapy.flag_course_days",
        "FLAG (fludarabine, cytarabine, G-CSF): days of exposure per course.",
        ge=1,
        le=28,
    )
    flag_blast_log_kill: float = _param(
        "chemotherapy.flag_blast_log_kill",
        "FLAG (fludarabine, cytarabine, G-CSF): blast log10 kill per course (before the potency scale).",
        ge=0,
        le=10,
    )
    flag_other_marrow_kill_per_day: float = _param(
        "chemotherapy.flag_other_marrow_kill_per_day",
        "FLAG (fludarabine, cytarabine, G-CSF): kill hazard of other marrow cells during a course.",
        ge=0,
        le=20,
    )
    flag_marrow_recovery_days: float = _param(
        "chemotherapy.flag_marrow_recovery_days",
        "FLAG (fludarabine, cytarabine, G-CSF): ramp of marrow refill back to normal after a course.",
        ge=0,
        le=365,
    )
    flag_t_cell_kill_per_day: float = _param(
        "chemotherapy.flag_t_cell_kill_per_day",
        "FLAG (fludarabine, cytarabine, G-CSF): kill hazard of T-cells during a course.",
        ge=0,
        le=20,
    )
    flag_ida_course_days: int = _param(
        "chemotherapy.flag_ida_course_days",
        "FLAG-Ida (FLAG with idarubicin): days of exposure per course.",
        ge=1,
        le=28,
    )
    flag_ida_blast_log_kill: float = _param(
        "chemotherapy.flag_ida_blast_log_kill",
        "FLAG-Ida (FLAG with idarubicin): blast log10 kill per course (before the potency scale).",
        ge=0,
        le=10,
    )
    flag_ida_other_marrow_kill_per_day: float = _param(
        "chemotherapy.flag_ida_other_marrow_kill_per_day",
        "FLAG-Ida (FLAG with idarubicin): kill hazard of other marrow cells during a course.",
        ge=0,
        le=20,
    )
    flag_ida_marrow_recovery_days: float = _param(
        "chemotherapy.flag_ida_marrow_recovery_days",
        "FLAG-Ida (FLAG with idarubicin): ramp of marrow refill back to normal after a course.",
        ge=0,
        le=365,
    )
    flag_ida_t_cell_kill_per_day: float = _param(
        "chemotherapy.flag_ida_t_cell_kill_per_day",
        "FLAG-Ida (FLAG with idarubicin): kill hazard of T-cells during a course.",
        ge=0,
        le=20,
    )
    hidac_course_days: int = _param(
        "chemotherapy.hidac_course_days", "HiDAC-based: days of exposure per course.", ge=1, le=28
    )
    hidac_blast_log_kill: float = _param(
        "chemotherapy.hidac_blast_log_kill",
        "HiDAC-based: blast log10 kill per course (before the potency scale).",
        ge=0,
        le=10,
    )
    hidac_other_marrow_kill_per_day: float = _param(
        "chemotherapy.hidac_other_marrow_kill_per_day",
        "HiDAC-based: kill hazard of other marrow cells during a course.",
        ge=0,
        le=20,
    )
    hidac_marrow_recovery_days: float = _param(
        "chemotherapy.hidac_marrow_recovery_days",
        "HiDAC-based: ramp of marrow refill back to normal after a course.",
        ge=0,
        le=365,
    )
    hidac_t_cell_kill_per_day: float = _param(
        "chemotherapy.hidac_t_cell_kill_per_day", "HiDAC-based: kill hazard of T-cells during a course.", ge=0, le=20
    )
    hd_mtx_course_days: int = _param(
        "chemotherapy.hd_mtx_course_days", "high-dose methotrexate-based: days of exposure per course.", ge=1, le=28
    )
    hd_mtx_blast_log_kill: float = _param(
        "chemotherapy.hd_mtx_blast_log_kill",
        "high-dose methotrexate-based: blast log10 kill per course (before the potency scale).",
        ge=0,
        le=10,
    )
    hd_mtx_other_marrow_kill_per_day: float = _param(
        "chemotherapy.hd_mtx_other_marrow_kill_per_day",
        "high-dose methotrexate-based: kill hazard of other marrow cells during a course.",
        ge=0,
        le=20,
    )
    hd_mtx_marrow_recovery_days: float = _param(
        "chemotherapy.hd_mtx_marrow_recovery_days",
        "high-dose methotrexate-based: ramp of marrow refill back to normal after a course.",
        ge=0,
        le=365,
    )
    hd_mtx_t_cell_kill_per_day: float = _param(
        "chemotherapy.hd_mtx_t_cell_kill_per_day",
        "high-dose methotrexate-based: kill hazard of T-cells during a course.",
        ge=0,
        le=20,
    )
    clofarabine_course_days: int = _param(
        "chemotherapy.clofarabine_course_days", "clofarabine-based: days of exposure per course.", ge=1, le=28
    )
    clofarabine_blast_log_kill: float = _param(
        "chemotherapy.clofarabine_blast_log_kill",
        "clofarabine-based: blast log10 kill per course (before the potency scale).",
        ge=0,
        le=10,
    )
    clofarabine_other_marrow_kill_per_day: float = _param(
        "chemotherapy.clofarabine_other_marrow_kill_per_day",
        "clofarabine-based: kill hazard of other marrow cells during a course.",
        ge=0,
        le=20,
    )
    clofarabine_marrow_recovery_days: float = _param(
        "chemotherapy.clofarabine_marrow_recovery_days",
        "clofarabine-based: ramp of marrow refill back to normal after a course.",
        ge=0,
        le=365,
    )
    clofarabine_t_cell_kill_per_day: float = _param(
        "chemotherapy.clofarabine_t_cell_kill_per_day",
        "clofarabine-based: kill hazard of T-cells during a course.",
        ge=0,
        le=20,
    )
    potency_scale: float = _param(
        "chemotherapy.potency_scale", "Shared scale on the regimens' blast log kill (the calibrated knob).", ge=0, le=10
    )
    sensitivity_log_sd: float = _param(
        "chemotherapy.sensitivity_log_sd",
        "Between-patient sd (natural log) of a log-normal multiplier on the regimens' blast kill.",
        ge=0,
        le=3,
    )
    normal_b_relative_kill: float = _param(
        "chemotherapy.normal_b_relative_kill",
        "Normal B-cell kill hazard relative to the blasts' (regimens).",
        ge=0,
        le=10,
    )
    share_flag: float = _param(
        "chemotherapy.share_flag", "Physician's choice: weight of FLAG +/- an anthracycline.", ge=0, le=1
    )
    share_flag_ida_of_flag: float = _param(
        "chemotherapy.share_flag_ida_of_flag",
        "Physician's choice: part of the FLAG weight given as FLAG-Ida.",
        ge=0,
        le=1,
    )
    share_hidac: float = _param("chemotherapy.share_hidac", "Physician's choice: weight of HiDAC-based.", ge=0, le=1)
    share_hd_mtx: float = _param(
        "chemotherapy.share_hd_mtx", "Physician's choice: weight of high-dose methotrexate-based.", ge=0, le=1
    )
    share_clofarabine: float = _param(
        "chemotherapy.share_clofarabine", "Physician's choice: weight of clofarabine-based.", ge=0, le=1
    )
    consolidation_courses: int = _param(
        "chemotherapy.consolidation_courses",
        "Courses after the induction courses for responders (clinical course, plan 'chemotherapy').",
        ge=0,
        le=10,
    )
    toxic_death_per_neutropenic_day: float = _param(
        "chemotherapy.toxic_death_per_neutropenic_day",
        "Hazard of treatment-related death per day of severe neutropenia in a course's aplasia "
        "(clinical course, plan 'chemotherapy'; 0 turns it off).",
        ge=0,
        le=1,
    )
    toxic_death_neutrophils_per_ul: float = _param(
        "chemotherapy.toxic_death_neutrophils_per_ul",
        "Neutrophil count below which a day of a course's aplasia carries the treatment-related death hazard.",
        gt=0,
        le=2000,
    )

    @model_validator(mode="after")
    def _courses_do_not_overlap(self) -> ChemotherapyConfig:
        longest = max(
            self.course_days,
            self.flag_course_days,
            self.flag_ida_course_days,
            self.hidac_course_days,
            self.hd_mtx_course_days,
            self.clofarabine_course_days,
        )
        if self.courses > 1 and self.interval_days < longest:
            raise ValueError(
                f"chemotherapy.interval_days ({self.interval_days}) is shorter than a course "
                f"({longest} days, chemotherapy.*course_days): courses would overlap"
            )
        if self.share_flag + self.share_hidac + self.share_hd_mtx + self.share_clofarabine <= 0:
            raise ValueError(
                "chemotherapy.share_flag, share_hidac, share_hd_mtx and share_clofarabine are all 0: "
                "physician's choice needs at least one regimen with a positive weight"
            )
        return self


class DoseSegment(_Section):
    """One piece of a custom infusion schedule."""

    start_day: float = Field(description="Segment start (day since treatment start).", ge=0)
    end_day: float = Field(description="Segment end (day since treatment start).", gt=0)
    dose_ug_per_day: float = Field(description="Infusion rate during the segment.", ge=0, le=1000)
    cycle: int | None = Field(
        default=None,
        description="Cycle of the segment (1 = first); absent: inferred from the gaps (treatment.new_cycle_gap_days).",
        ge=1,
        le=99,
    )

    @model_validator(mode="after")
    def _ordered(self) -> DoseSegment:
        if self.end_day <= self.start_day:
            raise ValueError(f"end_day ({self.end_day}) must be after start_day ({self.start_day})")
        return self


Regimen = Literal["rr_step_up", "flat", "mrd", "none", "custom"]


class TreatmentConfig(_Section):
    """The blinatumomab regimen."""

    regimen: Regimen = _param(
        "treatment.regimen",
        "rr_step_up (9 then 28 ug/day), flat (28 ug/day from day 1), mrd (15 ug/m2/day, "
        "28 ug/day >= 45 kg), none, or custom (treatment.schedule).",
    )
    cycles: int = _param("treatment.cycles", "Number of blinatumomab cycles.", ge=0, le=9)
    start_day: float = _param("treatment.start_day", "Day the first infusion starts.", ge=0, le=3650)
    step_up_dose_ug_per_day: float = _param(
        "treatment.step_up_dose_ug_per_day", "Cycle 1 step-up rate (>= 45 kg).", ge=0, le=1000
    )
    target_dose_ug_per_day: float = _param("treatment.target_dose_ug_per_day", "Target rate (>= 45 kg).", ge=0, le=1000)
    step_up_dose_ug_per_m2_day: float = _param(
        "treatment.step_up_dose_ug_per_m2_day", "Cycle 1 step-up rate per m2 (< 45 kg).", ge=0, le=1000
    )
    target_dose_ug_per_m2_day: float = _param(
        "treatment.target_dose_ug_per_m2_day", "Target rate per m2 (< 45 kg; MRD regimen).", ge=0, le=1000
    )
    step_up_days: float = _param("treatment.step_up_days", "Days at the step-up rate in cycle 1.", ge=0, le=28)
    days_on: float = _param("treatment.days_on", "Infusion days per cycle.", gt=0, le=365)
    days_off: float = _param("treatment.days_off", "Treatment-free days after cycles 1-5.", ge=0, le=365)
    maintenance_days_off: float = _param(
        "treatment.maintenance_days_off",
        "Treatment-free days after each maintenance cycle (the label's continued therapy; R/R regimens).",
        ge=0,
        le=365,
    )
    cycles_before_maintenance: int = _param(
        "treatment.cycles_before_maintenance",
        "Induction and consolidation cycles (followed by days_off) before maintenance (R/R regimens).",
        ge=0,
        le=9,
    )
    new_cycle_gap_days: float = _param(
        "treatment.new_cycle_gap_days",
        "Custom schedules: an infusion-free gap longer than this starts a new cycle (unless segments name it).",
        ge=0,
        le=365,
    )
    bsa_dosing_below_kg: float = _param(
        "treatment.bsa_dosing_below_kg", "Body weight under which doses are per m2.", ge=0, le=350
    )
    checkpoint_inhibitor: Literal["none", "nivolumab", "pembrolizumab"] = _param(
        "treatment.checkpoint_inhibitor", "Anti-PD-1 combination arm, dosed from the first infusion day."
    )
    ipilimumab: bool = _param(
        "treatment.ipilimumab", "Add ipilimumab (anti-CTLA-4), dosed from the first infusion day."
    )
    chemotherapy: Literal[
        "none", "flag", "flag_ida", "hidac", "hd_mtx", "clofarabine", "physicians_choice", "salvage"
    ] = _param(
        "treatment.chemotherapy",
        "Salvage chemotherapy courses ([chemotherapy]): one of the four TOWER regimens (FLAG +/- idarubicin, "
        "HiDAC, HD-MTX, clofarabine), 'physicians_choice' (a regimen drawn per patient in TOWER's proportions) "
        "or 'salvage' (a generic course from chemotherapy.blast_kill_per_day etc., uncalibrated); combine with "
        "regimen 'none' for a comparator arm.",
    )
    chemotherapy_start_day: float = _param(
        "treatment.chemotherapy_start_day", "Day the first chemotherapy course starts.", ge=0, le=3650
    )
    tki: Literal["none", "imatinib", "dasatinib", "ponatinib"] = _param(
        "treatment.tki",
        "Tyrosine kinase inhibitor taken once daily by mouth ([tki]): inhibits BCR::ABL1 in Ph+ blasts; "
        "dasatinib (less so ponatinib) also suppresses T-cell activation and killing.",
    )
    tki_start_day: float = _param(
        "treatment.tki_start_day", "Day of the first TKI dose (then daily to the end of follow-up).", ge=0, le=3650
    )
    dexamethasone_premedication: bool = _param(
        "treatment.dexamethasone_premedication", "Dexamethasone before each cycle, step-up and restart."
    )
    dexamethasone_prephase: Literal["auto", "always", "never"] = _param(
        "treatment.dexamethasone_prephase", "Pre-phase dexamethasone before cycle 1: by burden rule, always or never."
    )
    prephase_blast_fraction: float = _param(
        "treatment.prephase_blast_fraction", "Marrow blast fraction above which 'auto' gives a pre-phase.", ge=0, le=1
    )
    prephase_peripheral_blasts_per_ul: float = _param(
        "treatment.prephase_peripheral_blasts_per_ul",
        "Peripheral blasts at or above which 'auto' gives a pre-phase.",
        ge=0,
        le=1e7,
    )
    schedule: list[DoseSegment] = Field(
        default_factory=list,
        description="Custom schedule (regimen = 'custom'): non-overlapping segments of constant rate.",
    )

    @model_validator(mode="after")
    def _custom_schedule(self) -> TreatmentConfig:
        if self.regimen == "custom" and not self.schedule:
            raise ValueError(
                "regimen 'custom' needs treatment.schedule (a list of {start_day, end_day, dose_ug_per_day})"
            )
        if self.regimen != "custom" and self.schedule:
            raise ValueError(f"treatment.schedule is only used with regimen = 'custom', not {self.regimen!r}")
        ordered = sorted(self.schedule, key=lambda s: s.start_day)
        named = [s for s in ordered if s.cycle is not None]
        for a, b in itertools.pairwise(named):
            if b.cycle < a.cycle:
                raise ValueError(
                    f"treatment.schedule cycles must not decrease in time: cycle {a.cycle} at day {a.start_day} "
                    f"comes before cycle {b.cycle} at day {b.start_day}"
                )
        for a, b in itertools.pairwise(ordered):
            if b.start_day < a.end_day:
                raise ValueError(
                    f"treatment.schedule segments overlap: [{a.start_day}, {a.end_day}) and [{b.start_day}, {b.end_day})"
                )
        return self


class CourseConfig(_Section):
    """The clinical course after the lattice run: cycles by response, transplant, relapse, death, sanctuary."""

    plan: Literal["none", "mt103_211", "tower", "blast", "custom", "chemotherapy"] = _param(
        "course.plan",
        "Treatment plan followed over the years (blinasim.clinical.course.PLANS); none: the run ends with the "
        "lattice run.",
    )
    follow_up_days: float = _param(
        "course.follow_up_days", "Days from the start to which the patient is followed.", gt=0, le=3650
    )
    step_days: float = _param("course.step_days", "Step of the event-driven follow-up.", gt=0, le=30)
    custom_cycles: int = _param("course.custom_cycles", "Cycles of the custom plan.", ge=1, le=20)
    custom_on_days: float = _param("course.custom_on_days", "Infusion days per custom cycle.", gt=0, le=365)
    custom_off_days: float = _param("course.custom_off_days", "Days off after each custom cycle.", ge=0, le=365)
    custom_mrd_response: bool = _param(
        "course.custom_mrd_response", "The custom plan scores response as complete MRD response (else CR/CRh)."
    )
    mrd_negative_threshold: float = _param(
        "course.mrd_negative_threshold", "MRD below which a patient counts as MRD-negative.", gt=0, le=1
    )
    hsct_uptake: float = _param(
        "course.hsct_uptake", "Share of responders in remission who receive an allogeneic HSCT.", ge=0, le=1
    )
    hsct_delay_days: float = _param(
        "course.hsct_delay_days", "Days from the response assessment to the transplant.", ge=0, le=730
    )
    hsct_log_kill: float = _param(
        "course.hsct_log_kill", "Logs of residual disease removed by conditioning and the graft.", ge=0, le=12
    )
    gvl_kill_per_day: float = _param(
        "course.gvl_kill_per_day",
        "Per-cell kill hazard of the graft-versus-leukemia effect after the transplant (every phenotype).",
        ge=0,
        le=10,
    )
    gvl_escape_probability: float = _param(
        "course.gvl_escape_probability",
        "Probability that the graft fails to control a transplanted patient's leukemia: no graft-versus-leukemia "
        "kill after the conditioning, so any residual disease grows back to a relapse.",
        ge=0,
        le=1,
    )
    regrowth_log_sd: float = _param(
        "course.regrowth_log_sd",
        "Log-SD across patients of the pace of the leukemia's regrowth after the lattice run: the patient's "
        "division and death rates in the follow-up are the disease's times exp(log_sd z), z a standard normal "
        "deviate clipped to +-2 (0: every patient regrows at the disease's rates).",
        ge=0,
        le=2,
    )
    trm_probability: float = _param(
        "course.trm_probability",
        "Probability of transplant-related death (every non-relapse death after the transplant).",
        ge=0,
        le=1,
    )
    trm_mean_days: float = _param(
        "course.trm_mean_days", "Mean days from transplant to a transplant-related death.", gt=0, le=3650
    )
    remission_death_per_year: float = _param(
        "course.remission_death_per_year",
        "Hazard of death in remission without transplant (it stops from a transplant to a relapse).",
        ge=0,
        le=5,
    )
    failure_survival_median_days: float = _param(
        "course.failure_survival_median_days",
        "Median survival after relapse or without response (death from disease).",
        gt=0,
        le=3650,
    )
    failure_rescued_share: float = _param(
        "course.failure_rescued_share",
        "Share of the patients facing death from disease (refractory, or after a relapse) whom later therapy "
        "rescues: they die only at the remission hazard; the others' median is set so that the overall median "
        "stays course.failure_survival_median_days (at most 0.4, which keeps that median reachable).",
        ge=0,
        le=0.4,
    )
    failure_survival_from: Literal["treatment_start", "assessment"] = _param(
        "course.failure_survival_from",
        "Where a non-responder's survival (death from disease) is counted from: the start of treatment "
        "(deaths can fall inside the induction) or the response assessment (none can).",
    )
    sanctuary_kill_factor: float = _param(
        "course.sanctuary_kill_factor",
        "Kill hazard in the sanctuary relative to the marrow's (drug exposure x T-cell access).",
        ge=0,
        le=1,
    )
    sanctuary_kill_half_cells: float = _param(
        "course.sanctuary_kill_half_cells",
        "Sanctuary cells at which blinatumomab's kill per sanctuary cell is halved: the kill hazard is "
        "course.sanctuary_kill_factor x the marrow's x K / (K + cells), so a large sanctuary loses at most "
        "about K x that hazard cells a day (0: no saturation).",
        ge=0,
        le=1e13,
    )
    sanctuary_seeding_per_day: float = _param(
        "course.sanctuary_seeding_per_day", "Rate at which sanctuary cells home to the marrow.", ge=0, le=10
    )
    sanctuary_detect_cells: float = _param(
        "course.sanctuary_detect_cells", "Sanctuary cells at which an extramedullary relapse is found.", gt=0, le=1e13
    )


class OutputConfig(_Section):
    """Optional extra output of a run (off by default: the Dataset is then exactly as without this section)."""

    snapshot_every_days: float = _param(
        "output.snapshot_every_days",
        "Keep a picture of the marrow lattice (variables lattice, lattice_t_cells over time_snapshot, y, x) "
        "at the baseline and then every this many days, at record times; 0 keeps none.",
        ge=0,
        le=3650,
    )


def _is_default_output(section: OutputConfig) -> bool:
    return section == OutputConfig()


class Config(_Section):
    """One virtual patient: every parameter of a run."""

    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    patient: PatientConfig = Field(default_factory=PatientConfig)
    disease: DiseaseConfig = Field(default_factory=DiseaseConfig)
    normal_b: NormalBConfig = Field(default_factory=NormalBConfig)
    marrow: MarrowConfig = Field(default_factory=MarrowConfig)
    tcells: TCellConfig = Field(default_factory=TCellConfig)
    drug: DrugConfig = Field(default_factory=DrugConfig)
    treatment: TreatmentConfig = Field(default_factory=TreatmentConfig)
    cytokines: CytokineConfig = Field(default_factory=CytokineConfig)
    toxicity: ToxicityConfig = Field(default_factory=ToxicityConfig)
    dexamethasone: DexamethasoneConfig = Field(default_factory=DexamethasoneConfig)
    tocilizumab: TocilizumabConfig = Field(default_factory=TocilizumabConfig)
    lymphoid: LymphoidConfig = Field(default_factory=LymphoidConfig)
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
    endpoints: EndpointConfig = Field(default_factory=EndpointConfig)
    counts: CountConfig = Field(default_factory=CountConfig)
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    chemotherapy: ChemotherapyConfig = Field(default_factory=ChemotherapyConfig)
    tki: TkiConfig = Field(default_factory=TkiConfig)
    course: CourseConfig = Field(default_factory=CourseConfig)
    # Left out of the dump (and the stored config JSON) at its default, so outputs without snapshots
    # stay bit-identical to those made before the section existed.
    output: OutputConfig = Field(default_factory=OutputConfig, exclude_if=_is_default_output)

    @model_validator(mode="after")
    def _chemotherapy_plan_has_chemotherapy(self) -> Config:
        if self.course.plan == "chemotherapy" and self.treatment.chemotherapy == "none":
            raise ValueError(
                "course.plan 'chemotherapy' follows a salvage-chemotherapy arm: set treatment.chemotherapy "
                "(flag, flag_ida, hidac, hd_mtx, clofarabine, physicians_choice or salvage)"
            )
        return self

    @property
    def baseline_marrow_blast_fraction(self) -> float:
        """Baseline blasts / nucleated marrow cells: ``patient.marrow_blast_fraction``, or the
        fraction whose MRD is ``patient.marrow_mrd`` when that is set.

        MRD counts leukemic cells among marrow mononuclear cells: blasts, lymphocytes (T and
        normal B) and the mononuclear share ``f`` of the other nucleated cells (granulocytes
        are not counted). With normal B a share ``b`` of the non-leukemic residents, the
        mononuclear share of a non-leukemic, non-T resident is ``k = b + f (1 - b)``. With
        T-cells a fixed share ``t`` of the nucleated cells a blast fraction ``x`` gives
        ``MRD = x / (x + t + (1 - t - x) k)``, so ``x = MRD (t + (1 - t) k) / (1 - MRD (1 - k))``;
        with T-cells a share ``s`` of the non-leukemic cells (``t = s (1 - x)``) it gives
        ``MRD = x / (x + (1 - x) m)``, ``m = s + (1 - s) k``, so ``x = MRD m / (1 - MRD + MRD m)``.
        At low burden MRD is ~2-2.5x the blast fraction, which is why trials that enrol by MRD
        must be drawn by MRD.
        """
        p = self.patient
        if p.marrow_mrd is None:
            return p.marrow_blast_fraction
        b, f, mrd = p.normal_b_fraction, self.marrow.mononuclear_fraction_of_other, p.marrow_mrd
        k = b + f * (1.0 - b)
        if p.marrow_t_cell_share_of_normal is not None and p.marrow_t_cell_displacement < 1.0:
            # The T-cells' share of the non-leukemic marrow depends on x: solve MRD(x) = mrd by bisection
            # (MRD rises with x: the non-leukemic mononuclear cells (1 - x) m(x) fall towards 0).
            def mrd_at(x: float) -> float:
                u = self.marrow_t_cell_share_at(1.0 - x)
                return x / (x + (1.0 - x) * (u + (1.0 - u) * k))

            lo, hi = 0.0, 1.0
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if mrd_at(mid) < mrd else (lo, mid)
            return 0.5 * (lo + hi)
        if p.marrow_t_cell_share_of_normal is not None:
            s = p.marrow_t_cell_share_of_normal
            m = s + (1.0 - s) * k
            return mrd * m / (1.0 - mrd + mrd * m)
        t = p.marrow_t_cell_fraction
        return min(1.0 - t, mrd * (t + (1.0 - t) * k) / (1.0 - mrd * (1.0 - k)))

    @property
    def entry_exhaustion(self) -> float:
        """Exhaustion of every T-cell at entry: ``tcells.entry_exhaustion_per_blast_fraction`` times the
        baseline marrow blast fraction (0 by default; both are at most 1, so the product is too).

        Chronic exposure to antigen exhausts T-cells in proportion to the antigen load, so a patient who
        enters with a packed marrow brings T-cells part of the way to exhaustion already. Exhaustion
        lowers lysis and division (``tcells.exhaustion_e50``, ``tcells.exhaustion_hill``) and leaves the
        cytokine release of an engagement alone, so it takes response without taking the first surge.
        """
        return self.tcells.entry_exhaustion_per_blast_fraction * self.baseline_marrow_blast_fraction

    @property
    def baseline_marrow_t_cell_fraction(self) -> float:
        """Baseline marrow T-cells / nucleated marrow cells: ``patient.marrow_t_cell_fraction``, or
        ``patient.marrow_t_cell_share_of_normal`` of the marrow the leukemia has not replaced.

        Leukemic infiltration replaces the normal marrow, its lymphocytes included, so in a
        packed marrow the effector:target ratio is the T-cell share times ``(1 - x) / x``: it
        falls steeply with the blast fraction ``x``, which is the mechanism by which response
        to blinatumomab falls with burden in the model.
        """
        p = self.patient
        if p.marrow_t_cell_share_of_normal is None:
            return p.marrow_t_cell_fraction
        normal = 1.0 - self.baseline_marrow_blast_fraction
        return self.marrow_t_cell_share_at(normal) * normal

    def marrow_t_cell_share_at(self, normal: float) -> float:
        """The marrow T-cells' share of the non-leukemic nucleated marrow cells when a share ``normal``
        of those cells is not leukemic (``patient.marrow_t_cell_share_of_normal`` set).

        With ``patient.marrow_t_cell_displacement`` ``g`` = 1 it is the drawn share ``s`` at any burden:
        the leukemia displaces the T-cells in proportion to the rest of the normal marrow. Below 1 the
        T-cells are displaced less than the other normal cells (they recirculate from blood and live
        in the perivascular niches rather than in the hematopoietic cords): the odds of their share grow
        as ``odds(s) * normal ** (g - 1)``, so the share stays below 1 at any burden and rises towards
        it as the normal marrow vanishes. At ``g`` = 0 the T-cells' count is nearly independent of the
        burden until the non-leukemic share falls to about ``s``.
        """
        p = self.patient
        s, g = p.marrow_t_cell_share_of_normal, p.marrow_t_cell_displacement
        if s is None:
            raise ValueError("patient.marrow_t_cell_share_of_normal is not set")
        if g >= 1.0 or normal >= 1.0:
            return s
        if normal <= 0.0:
            return 1.0
        odds = s / (1.0 - s) * normal ** (g - 1.0)
        return odds / (1.0 + odds)

    def to_json(self) -> str:
        """The resolved config as JSON (stored on every output Dataset)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        """A new validated config with dotted-key overrides applied."""
        data = self.model_dump(mode="python")
        apply_overrides(data, overrides)
        return validate_config(data)


# --------------------------------------------------------------------- helpers


def _describe_error(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) if loc else "(config)"
    if err["type"] == "extra_forbidden":
        return unknown_key_message(Config, "", key, err["input"], indexed=True)
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    if err["type"].startswith("model_") or (err["type"] == "value_error" and not loc):
        return f"{key}: {msg}"
    value = err.get("input")
    if isinstance(value, dict):
        return f"{key}: {msg}"
    return f"{key} = {value!r}: {msg}"


def validate_config(data: dict[str, Any] | None) -> Config:
    """Validate a nested dict into a :class:`Config`, raising :class:`ConfigError` on problems."""
    try:
        return Config.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError([_describe_error(e) for e in exc.errors(include_url=False)]) from None


def parse_value(text: str) -> Any:
    """Parse the VALUE of ``--set KEY=VALUE`` as a TOML literal, falling back to a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(items: list[str], *, source: str = "override") -> dict[str, Any]:
    """Turn ``["a.b=1", ...]`` into ``{"a.b": 1, ...}``, with a clear error for malformed items.

    ``source`` names the items in the messages, as in :func:`apply_overrides` (``"--set"`` from the command line).
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                [f"{source} {item!r}: expected KEY=VALUE with a dotted key, e.g. patient.t_cells_per_ul=800"]
            )
        if key in out:
            raise ConfigError([f"{source} {key!r} is given twice; give each key once"])
        out[key] = parse_value(value.strip())
    return out


def read_toml(path: str | Path, what: str = "config file") -> dict[str, Any]:
    """Parse a TOML file (a UTF-8 byte-order mark is allowed); every failure is one :class:`ConfigError` line."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError([f"{what} {str(p)!r} is a directory, not a TOML file"])
    if not p.is_file():
        raise ConfigError([f"{what} {str(p)!r} does not exist"])
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [f"{what} {str(p)!r} is not a text file (not UTF-8: byte {exc.start}); expected a TOML file"]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{what} {str(p)!r} cannot be read: {exc.strerror or exc}"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{p}: not valid TOML: {exc}"]) from None


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any], *, source: str = "override") -> None:
    """Set dotted keys in a nested dict in place; every unknown key is one problem of a :class:`ConfigError`.

    ``source`` names where the overrides came from in the messages: ``"override"`` for the
    Python API, ``"--set"`` for the command line (only the CLI mentions its options).
    The known keys are set even when some are unknown.
    """
    problems = _set_known(data, overrides, source)
    if problems:
        raise ConfigError(problems)


def _set_known(data: dict[str, Any], overrides: dict[str, Any], source: str) -> list[str]:
    """Set the known dotted keys of ``overrides``; one problem line per unknown key."""
    problems = []
    for key, value in overrides.items():
        if schema_node(Config, key)[0] == "unknown":
            problems.append(unknown_key_message(Config, source, key, value))
            continue
        set_dotted(data, key, value)
    return problems


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, *, source: str = "override"
) -> Config:
    """Read a TOML config (or the built-in defaults when ``path`` is None) and apply overrides.

    Every problem is reported in one :class:`ConfigError`: unknown override keys do not hide
    the value errors of the file or of the other overrides. ``source`` names the overrides in
    the messages (``"--set"`` from the command line).
    """
    data: dict[str, Any] = {}
    if path is not None:
        data = read_toml(path)
    problems = _set_known(data, overrides, source) if overrides else []
    try:
        config = validate_config(data)
    except ConfigError as exc:
        raise ConfigError([*problems, *exc.problems]) from None
    if problems:
        raise ConfigError(problems)
    return config
