"""Default parameter values, each with its unit and its source.

This is the one place where a default is set. :mod:`blinasim.params.schema`
reads every default from :data:`LITERATURE` by its dotted key, and
``docs/parameters.md`` is generated from the schema plus this table, so a value
and the reason for it cannot drift apart.

A source cites the publications it rests on by their keys in square brackets
(``[Topp2015]``); the references page (``docs/references.md``) gives each key
its full citation and, where it has one, its DOI. A source that rests on no
single publication says what it is: "model choice" (a modelling decision),
"approx." (an order-of-magnitude choice or a range to calibrate within, see
``docs/model.md``) or "calibrated" (set by the calibration of
``docs/validation.md``, with the prior value). Only "calibrated" values are
fitted.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Default(NamedTuple):
    """A default parameter value with its unit and where it comes from."""

    value: Any
    unit: str
    source: str


LITERATURE: dict[str, Default] = {
    # ----------------------------------------------------------------- simulation
    "simulation.seed": Default(20240101, "1", "model choice: an arbitrary root seed"),
    "simulation.days": Default(42.0, "day", "model choice: one 6-week R/R cycle (4 weeks on, 2 off; [BlincytoPI])"),
    "simulation.dt_hours": Default(
        0.1,
        "h",
        "model choice: fast clock for T-cells; 6 min is the order of one scanning contact "
        "(T-cell/target contacts last minutes; [Halle2016])",
    ),
    "simulation.slow_step_hours": Default(
        1.0, "h", "model choice: division, death and turnover are slow (hours-days) and use a 1 h clock"
    ),
    "simulation.record_every_hours": Default(1.0, "h", "model choice: hourly output resolves 6-24 h cytokine peaks"),
    "simulation.lattice_size": Default(
        160,
        "sites per side",
        "model choice: at default cellularity one blast is ~5e-5 of the nucleated marrow cells, so MRD "
        "is resolved to the 1e-4 detection limit of clinical assays",
    ),
    "simulation.site_diameter_um": Default(10.0, "um", "approx. diameter of a lymphocyte / blast (7-12 um)"),
    "simulation.compact_dead_fraction": Default(
        0.25, "1", "model choice: compact a store when a quarter of its slots are dead"
    ),
    # -------------------------------------------------------------------- patient
    "patient.marrow_blast_fraction": Default(
        0.7, "1", "MT103-211 [Topp2015]: most patients had >= 50% marrow blasts at baseline; approx. median"
    ),
    "patient.marrow_mrd": Default(
        None,
        "1",
        "model choice: unset, so patient.marrow_blast_fraction sets the baseline; MRD trials enrol by MRD measured "
        "per marrow mononuclear cell ([Gokbuget2018]; [Bruggemann2010])",
    ),
    "patient.marrow_t_cell_share_of_normal": Default(
        None,
        "1",
        "model choice: unset, so patient.marrow_t_cell_fraction sets the marrow T-cells; when set, leukemic "
        "infiltration displaces marrow T-cells with the rest of the normal marrow, so the effector:target ratio "
        "falls with burden (response to blinatumomab falls with marrow blasts: [BMBlasts2023]; [Topp2015])",
    ),
    "patient.marrow_t_cell_displacement": Default(
        1.0,
        "1",
        "model choice: the marrow T-cells are displaced in proportion to the rest of the normal marrow (the "
        "calibrated defaults); lower values are probed in docs/validation.md ('CRS by burden: the T-cells' "
        "partial displacement')",
    ),
    "patient.t_cells_per_ul": Default(
        600.0, "1/uL", "approx.: normal adult CD3 550-2271/uL; R/R patients are often lymphopenic"
    ),
    "patient.b_cells_per_ul": Default(
        50.0, "1/uL", "approx.: normal adult CD19 100-500/uL, reduced after prior chemotherapy"
    ),
    "patient.peripheral_blasts_per_ul": Default(
        500.0, "1/uL", "approx.: R/R B-ALL with moderate peripheral involvement (pre-phase threshold 15,000/uL)"
    ),
    "patient.weight_kg": Default(70.0, "kg", "model choice: reference adult"),
    "patient.height_cm": Default(170.0, "cm", "model choice: reference adult"),
    "patient.kmt2a_rearranged": Default(
        False,
        "bool",
        "model choice: no KMT2A (MLL) rearrangement; lineage switch after blinatumomab is reported mostly with it",
    ),
    "patient.creatinine_clearance_ml_per_min": Default(
        100.0,
        "mL/min",
        "model choice: normal renal function (>= 90 mL/min); no pharmacokinetic data below 30 mL/min ([BlincytoPI])",
    ),
    "patient.blood_volume_l": Default(5.0, "L", "model choice: reference adult blood volume (~70 mL/kg)"),
    "patient.marrow_nucleated_cells": Default(
        1.0e12, "cells", "approx. total nucleated marrow cells of an adult (order of magnitude, ~1e12)"
    ),
    "patient.marrow_cellularity": Default(0.8, "1", "approx.: leukemic marrow is hypercellular (normal adult ~40-60%)"),
    "patient.marrow_t_cell_fraction": Default(
        0.05, "1", "approx.: T-cells are ~5% of nucleated marrow cells (marrow lymphocytes ~10-15%, most T)"
    ),
    "patient.normal_b_fraction": Default(
        0.03, "1", "approx.: normal B-lineage cells (hematogones, mature B) 0-5% of non-leukemic marrow cells"
    ),
    "patient.hematopoietic_reserve": Default(
        1.0,
        "1",
        "model choice: 1 = a healthy marrow refills emptied sites with a ~5-day time constant; R/R patients "
        "after intensive salvage or transplant recover counts more slowly (CRh: blasts cleared, counts partly back)",
    ),
    "patient.neutrophils_per_ul": Default(
        1000.0,
        "1/uL",
        "approx.: R/R B-ALL patients enter cytopenic (crowded marrow, prior salvage); [Topp2015] required no minimum "
        "count; the MT103-211-like cohort draws it (blinasim.trials.cohort)",
    ),
    "patient.platelets_per_nl": Default(
        50.0,
        "1/nL",
        "approx.: R/R B-ALL patients enter thrombocytopenic (normal 150-450/nL, [Langlois2017]); the "
        "MT103-211-like cohort draws it (blinasim.trials.cohort)",
    ),
    "patient.neutrophils_recovered_per_ul": Default(
        None,
        "1/uL",
        "model choice: unset, so patient.neutrophils_per_ul is the entry count; when set, it is the count this "
        "patient's marrow holds once freed of leukemia (what prior therapy left of it), and the entry count follows "
        "from it and the crowded marrow at entry (docs/validation.md, burden)",
    ),
    "patient.platelets_recovered_per_nl": Default(
        None,
        "1/nL",
        "model choice: as patient.neutrophils_recovered_per_ul, for platelets",
    ),
    "patient.ph_positive": Default(
        False,
        "1",
        "model choice: Ph-negative by default; Ph+ (BCR::ABL1) blasts depend on ABL1 kinase activity for division "
        "and survival, which a tyrosine kinase inhibitor (treatment.tki) blocks; without a TKI their kinetics are "
        "those of the disease section (blinatumomab's response rates are alike in Ph+ and Ph- R/R B-ALL: "
        "ALCANTARA [Martinelli2017] CR/CRh 36%, MT103-211 [Topp2015] 43%)",
    ),
    "patient.abl1_mutation": Default(
        "none",
        "-",
        "model choice: no ABL1 kinase-domain mutation; 't315i' (the gatekeeper mutation, 10 of 45 ALCANTARA "
        "patients [Martinelli2017]) shifts each TKI's cellular IC50 (tki.*_ic50_t315i_nm)",
    ),
    "patient.prior_tki_failure": Default(
        False,
        "bool",
        "model choice: TKI-naive; ALCANTARA enrolled patients after failure of >= 1 second-generation TKI "
        "[Martinelli2017], whose blasts are less sensitive to any TKI (tki.prior_failure_ic50_fold)",
    ),
    "patient.il6_response": Default(
        1.0,
        "1",
        "model choice: 1 = the population median (cytokines.il6_per_ifng); cohorts draw the between-patient "
        "spread of the myeloid IL-6 response (blinasim.trials.cohort.IL6_RESPONSE)",
    ),
    "patient.sanctuary_fraction": Default(
        2e-4,
        "1",
        "approx.: disease outside the marrow is usually occult at relapse (CNS involvement in a minority); the "
        "marrow and other sites as sanctuaries from blinatumomab ([Liu2023]; [Sigmund2020]); the R/R cohorts' "
        "median, calibrated in stage 8 (docs/validation.md, survival; blinasim.trials.cohort.SANCTUARY): 2e-4 "
        "fitted jointly with the sanctuary's kill on the four calibration seeds pooled and verified on two fresh "
        "seeds (section 'The sanctuary's kill fitted jointly'); 1e-3 on the four calibration seeds pooled (section 'The pace of regrowth and BLAST's event timing'); 3e-4 "
        "with relapse after a transplant on one seed (section 'Relapse and non-relapse death after a transplant'); 1e-3 on "
        "the defaults of 'CR/CRh at the four-cohort mapping' (section 'Stage 8 on the re-fitted defaults'); "
        "3e-4 before that",
    ),
    "patient.cd4_fraction": Default(
        0.6, "1", "approx.: CD4:CD8 about 2:1 in adult blood (CD4 ~60% of CD3+ T-cells); often lower after therapy"
    ),
    "patient.treg_fraction_of_cd4": Default(
        0.05,
        "1",
        "[Duell2017]: CD4+ CD25+ FOXP3+ Tregs in the blood of R/R B-ALL patients averaged "
        "4.8% of CD4 in blinatumomab responders (n = 22) and 10.3% in non-responders (n = 20)",
    ),
    # -------------------------------------------------------------------- disease
    "disease.blast_birth_rate_per_day": Default(
        0.105,
        "1/day",
        "[ChildhoodALL1997]: untreated childhood precursor-B ALL, cell birth 10-11%/day (net growth 6.9%/day)",
    ),
    "disease.blast_death_rate_per_day": Default(
        0.035, "1/day", "[ChildhoodALL1997]: apoptosis ~4%/day (net growth 6.9%/day)"
    ),
    "disease.blast_cd19_median": Default(
        2.2e4, "molecules/cell", "approx.: B-ALL blasts carry about 1e4-5e4 CD19 molecules per cell, lognormal"
    ),
    "disease.blast_cd19_log_sd": Default(
        0.41, "1", "approx.: 1e4-5e4 read as the 95% range of a lognormal: ln(5)/(2*1.96)"
    ),
    "disease.blast_homing_per_day": Default(
        1.0, "1/day", "approx.: circulating blasts home to marrow within about a day (CXCR4/CXCL12)"
    ),
    "disease.daughter_placement_attempts": Default(
        4, "1", "model choice: random Moore-neighbour sites tried before a division is blocked (contact inhibition)"
    ),
    "disease.cd19_division_log_sd": Default(
        0.1, "1", "approx.: CD19 density is heritable; daughters differ by ~10% (lognormal noise at division)"
    ),
    "disease.cd19_loss_per_division": Default(
        1e-5,
        "1/division",
        "approx.: CD19-negative daughters (mutation, splicing, internalisation); CD19-negative relapse is "
        "less common after blinatumomab than after CD19 CAR-T",
    ),
    "disease.cd19_negative_fraction": Default(0.0, "1", "model choice: no pre-existing CD19-negative clone by default"),
    "disease.cd19_low_fraction": Default(0.0, "1", "model choice: no pre-existing CD19-low clone by default"),
    "disease.cd19_low_factor": Default(
        0.1, "1", "approx.: CD19-low blasts carry ~10% of the usual density (the marrow as a sanctuary, [Liu2023])"
    ),
    "disease.lineage_switch_per_division_kmt2a": Default(
        1e-4,
        "1/division",
        "approx.: lineage switch to AML after blinatumomab is reported within weeks, mostly in "
        "KMT2A-rearranged leukemia",
    ),
    "disease.lineage_switch_per_division": Default(
        1e-8, "1/division", "approx.: lineage switch is rare outside KMT2A rearrangement"
    ),
    "disease.lineage_switch_pressure_gain": Default(
        10.0,
        "1",
        "model choice: switch rate x (1 + gain x immune pressure); pressure = IFN-gamma / (IFN-gamma + EC50), "
        "the cytokine surge of T-cell attack (documented in docs/resistance.md)",
    ),
    "disease.immune_pressure_ec50_pg_per_ml": Default(
        20.0, "pg/mL", "approx.: IFN-gamma at half-maximal immune pressure"
    ),
    "disease.myeloid_birth_rate_per_day": Default(
        0.15, "1/day", "approx.: switched (AML-like) blasts grow faster than B-ALL blasts; to be calibrated"
    ),
    "disease.myeloid_death_rate_per_day": Default(0.05, "1/day", "approx.: apoptosis of switched blasts"),
    "disease.pdl1_baseline": Default(
        0.05, "1", "approx.: PD-L1 is low on untreated B-ALL blasts and rises under blinatumomab ([Kohnke2015])"
    ),
    "disease.pdl1_max": Default(1.0, "1", "model choice: PD-L1 is relative to its maximal IFN-gamma-induced level"),
    "disease.pdl1_ifng_ec50_pg_per_ml": Default(
        10.0, "pg/mL", "approx.: IFN-gamma induces PD-L1 on blasts at low levels"
    ),
    "disease.pdl1_response_days": Default(1.0, "day", "approx.: PD-L1 induction and loss take about a day"),
    "disease.min_blast_agents": Default(
        16,
        "agents",
        "model choice (numerical resolution, docs/model.md): with >= 16 blast agents the kill, division and death "
        "of the disease are averaged over enough agents; below, agents split until each is 1-2 cells",
    ),
    "disease.max_blast_agents": Default(
        128,
        "agents",
        "model choice (numerical resolution, docs/model.md): 8 x min_blast_agents, so splitting and merging "
        "do not alternate; at most ~0.5% of the default lattice holds sub-agent blasts",
    ),
    # ------------------------------------------------------------- normal B cells
    "normal_b.cd19_median": Default(
        2.2e4, "molecules/cell", "[Ginaldi1998]: CD19 on normal blood B cells 2.2e4 +- 0.7e4 molecules"
    ),
    "normal_b.cd19_log_sd": Default(0.31, "1", "[Ginaldi1998]: CV 0.7/2.2 = 0.32 as a lognormal log-sd"),
    "normal_b.death_rate_per_day": Default(
        0.03, "1/day", "approx.: B-cell lifespan of weeks; recovery after blinatumomab takes months"
    ),
    "normal_b.homing_per_day": Default(1.0, "1/day", "approx.: lymphocyte recirculation through marrow ~daily"),
    # ------------------------------------------------- other nucleated marrow cells
    "marrow.other_death_rate_per_day": Default(
        0.1, "1/day", "approx.: myeloid and erythroid precursors turn over in days"
    ),
    "marrow.normal_cellularity": Default(
        0.5, "1", "approx.: normal adult marrow cellularity ~40-60%; sets regeneration into empty sites"
    ),
    "marrow.mononuclear_fraction_of_other": Default(
        0.4, "1", "approx.: share of non-lymphoid nucleated marrow cells recovered as mononuclear cells (MRD)"
    ),
    # -------------------------------------------------------------------- T-cells
    "tcells.cd3_median": Default(6.6e4, "molecules/cell", "approx.: about 6.6e4 CD3 molecules per T-cell, lognormal"),
    "tcells.cd3_log_sd": Default(0.3, "1", "approx. spread of CD3 density"),
    "tcells.speed_um_per_min": Default(
        7.38,
        "um/min",
        "calibrated, docs/validation.md stage 3 (candidate 37); prior 6.0: approx.: T-cell speed in bone "
        "marrow by intravital microscopy (5-10 um/min)",
    ),
    "tcells.contacts_per_hour": Default(
        26.2,
        "1/h",
        "calibrated, docs/validation.md stage 3 (candidate 37); prior 10.0: approx.: a scanning T-cell "
        "probes a neighbouring cell every few minutes",
    ),
    "tcells.blood_contact_ul_per_h": Default(
        0.0723,
        "uL/h",
        "calibrated, docs/validation.md stage 3 (candidate 37); prior 0.003: approx.: contact rate per "
        "T-cell per target/uL in blood; with the drug-induced T-cell redistribution the default MRD-like "
        "patient's blood B cells fall below 1/uL in ~3-5 days, slower than [Klinger2012] (~2 days): to be "
        "calibrated",
    ),
    "tcells.marrow_homing_per_day": Default(1.0, "1/day", "approx.: blood T-cells recirculate through marrow ~daily"),
    "tcells.margination_fold": Default(
        20.0,
        "1",
        "approx.: drug-induced redistribution out of blood ([Klinger2012]: nadir < 1 day, recovery in days)",
    ),
    "tcells.margination_ec50_pg_per_ml": Default(
        50.0, "pg/mL", "approx.: redistribution seen already at 5 ug/m2/day (~100-200 pg/mL)"
    ),
    "tcells.margination_adaptation_days": Default(
        1.5, "day", "approx.: redistribution is transient; T-cells recover within days under infusion"
    ),
    "tcells.synapse_hours": Default(
        0.75, "h", "approx.: BiTE synapse to target apoptosis 30-60 min in videomicroscopy"
    ),
    "tcells.lysis_probability": Default(
        0.9, "1", "approx.: most BiTE synapses end in target death ([Loffler2000]: lysis within 4 h at E:T 2:1)"
    ),
    "tcells.activation_half_life_days": Default(
        0.526,
        "day",
        "calibrated, docs/validation.md stage 3 (candidate 37); prior 1.0: approx.: activation markers "
        "(CD69, CD25) decay over ~1-2 days without stimulation",
    ),
    "tcells.activated_division_per_day": Default(
        0.0566,
        "1/day",
        "calibrated, docs/validation.md stage 3 (candidate 37); prior 0.2: approx.: chosen so that the "
        "default patient's T-cells expand < 2x in the first week and > 2x only with sustained engagement "
        "([Klinger2012]: > 2x by weeks 2-3); to be calibrated",
    ),
    "tcells.death_rate_per_day": Default(
        0.02, "1/day", "approx.: naive/memory T-cell turnover of ~1-2%/day, balanced by homeostatic division"
    ),
    "tcells.contraction_rate_per_day": Default(
        0.46,
        "1/day",
        "calibrated, docs/validation.md stage 3 (candidate 37); prior 0.5: approx.: post-activation "
        "contraction toward the homeostatic count within ~1-2 weeks",
    ),
    "tcells.homeostatic_expansion_per_day": Default(
        0.1,
        "1/day",
        "approx.: T-cells proliferate when their numbers fall below the niche's capacity "
        "(lymphopenia-induced, IL-7/IL-15-driven proliferation, [Goldrath1999]); in patients the T-cell "
        "pool regrows over weeks to months after intensive chemotherapy ([Mackall1995]), read as about "
        "0.1/day at full deficit; adopted at this prior with the debulking rate re-fitted (docs/validation.md, "
        "'Response depth as the trials count it'); 0 switches the regrowth off",
    ),
    "tcells.exhaustion_per_engaged_day": Default(
        0.17,
        "1/day",
        "calibrated, docs/validation.md in-vitro scan before stage 5; prior 0.22: approx. from "
        "[Philipp2022]: continuous exposure cut lysis ~10-fold from day 7 to 28, read as exp(-k * 21 d * ~50% time"
        " engaged)",
    ),
    "tcells.exhaustion_recovery_per_day": Default(
        0.3, "1/day", "approx.: [Philipp2022], a treatment-free interval restores function within ~1 week"
    ),
    "tcells.exhaustion_per_engagement": Default(
        0.005, "1", "approx.: each engagement adds 0.5% of the remaining way to full exhaustion ([Philipp2022])"
    ),
    "tcells.entry_exhaustion_per_blast_fraction": Default(
        0.0,
        "1",
        "model choice: off (the calibrated defaults); approx.: chronic exposure to antigen exhausts T-cells in "
        "proportion to the antigen load ([Mueller2009]; [Wherry2011]), read as exhaustion at entry proportional to "
        "the marrow blast fraction; probed in docs/validation.md ('CRS by burden: the T-cells' partial "
        "displacement', fourth candidate)",
    ),
    "tcells.exhaustion_e50": Default(
        0.55,
        "1",
        "calibrated, docs/validation.md in-vitro scan before stage 5; prior 0.5: approx.: exhaustion at "
        "which half the effector function is lost; with exhaustion_hill the loss is progressive: little "
        "in week 1, most by week 4 of continuous exposure ([Philipp2022]: lysis 88% at day 7, 9% at "
        "day 28)",
    ),
    "tcells.exhaustion_hill": Default(
        6.0,
        "1",
        "calibrated, docs/validation.md in-vitro scan before stage 5; prior 4.0: approx.: steepness of "
        "the progressive loss of function",
    ),
    "tcells.pd1_lysis_inhibition": Default(
        0.8,
        "1",
        "approx.: PD-1:PD-L1 engagement lowers lysis ([Kohnke2015]; [Feucht2016]: PD-1 blockade "
        "restored killing in vitro); 80% at full PD-1 and PD-L1",
    ),
    "tcells.pd1_proliferation_inhibition": Default(
        0.8, "1", "approx.: PD-1 blockade increased T-cell proliferation in vitro ([Feucht2016])"
    ),
    "tcells.exhausted_threshold": Default(
        0.5, "1", "model choice: exhaustion above which a T-cell counts as exhausted"
    ),
    "tcells.treg_suppression_max": Default(
        0.95,
        "1",
        "calibrated, docs/validation.md stage 6; prior 0.9: approx. from [Duell2017]: blinatumomab-"
        "activated Tregs suppress T-cell proliferation and CD8 lysis of ALL cells through IL-10; removing"
        " the Tregs restored proliferation",
    ),
    "tcells.treg_suppression_half": Default(
        0.020,
        "1",
        "calibrated, docs/validation.md stages 6 and 7 (one-dimensional scans against CR/CRh; 0.019 in stage 6, "
        "0.020 after the toxicity holds of stage 7 and the per-patient PD-L1); prior 0.051: "
        "approx. from [Duell2017]: Tregs above 8.5% of CD4 (0.085 x CD4 share 0.6 = 0.051 of all T-cells) "
        "excluded 70% of non-responders and no responder; read as half-maximal suppression when fully "
        "activated",
    ),
    "tcells.treg_suppression_hill": Default(
        4.0, "1", "approx.: the Treg cutoff of [Duell2017] separated responders sharply (all responders below it)"
    ),
    "tcells.cd3_engagement_half_density": Default(
        6.6e4,
        "molecules/cell",
        "model choice: CD3 density at which half the CD19-bound drug in the contact finds a CD3 partner",
    ),
    # ----------------------------------------------------------------- cytokines
    "cytokines.ifng_release_pg_per_cell_h": Default(
        0.00025,
        "pg/(cell h)",
        "calibrated, docs/validation.md stage 6 (CRS any grade: the 86th percentile of the cycle-1 CRS "
        "signal at the grade-1 threshold); prior 0.0003: approx.: serum-appearing IFN-gamma per engaged "
        "T-cell; puts the default R/R patient's first IFN-gamma peak at ~10^2 pg/mL without "
        "dexamethasone, the order of magnitude reported under blinatumomab ([Klinger2012]; [Teachey2013]); "
        "to be calibrated against CRS incidence",
    ),
    "cytokines.distribution_volume_l": Default(3.0, "L", "approx.: plasma volume of an adult"),
    "cytokines.ifng_half_life_h": Default(0.5, "h", "approx.: IFN-gamma serum half-life after IV dosing ~25-35 min"),
    "cytokines.il6_half_life_h": Default(0.75, "h", "approx.: IL-6 has a short serum half-life (tens of minutes)"),
    "cytokines.myeloid_response_h": Default(
        12.0,
        "h",
        "approx.: monocytes/macrophages make IL-6 in response to T-cell cytokines with a lag of hours "
        "(IL-6 peaks 6-24 h after a start or step)",
    ),
    "cytokines.damp_release_pg_per_cell": Default(
        0.0,
        "pg/cell",
        "model choice: 0 (off) by default; the pyroptotic IL-6 drive of [Liu2020] is opt-in until the "
        "toxicity mapping (calibration stage 7) is redone with it (docs/validation.md, burden)",
    ),
    "cytokines.damp_half_life_h": Default(
        1.0,
        "h",
        "approx.: extracellular HMGB1 and ATP are cleared within hours; DAMPs from pyroptotic targets activate "
        "macrophages to make IL-6 ([Liu2020])",
    ),
    "cytokines.il6_per_ifng": Default(
        2.131,
        "1",
        "calibrated, docs/validation.md stage 7, re-run on four cohorts (800 patients, seeds 2024-2027, their peaks pooled) with the cohorts' marrow T-cell share median at 0.08 (section 'CR/CRh at the four-cohort mapping') (CRS any grade: with the patients' own IL-6 responses, the 86th "
        "percentile of the cycle-1 peak CRS signal at the grade-1 threshold); before it 1.894 with the median at 0.09; prior 4.0: approx.: steady-state "
        "IL-6 per unit of (lagged) IFN-gamma at the population median; IL-6 is the CRS driver, produced by "
        "myeloid cells activated by T-cell cytokines ([Giavridis2018]; [Norelli2018])",
    ),
    "cytokines.desensitisation_per_engaged_day": Default(
        15.0,
        "1/day",
        "approx.: T-cells lose cytokine production before cytotoxicity under repeated engagement "
        "(exhaustion hierarchy, [Wherry2011]); rate per unit engaged share of T-cells, chosen so the "
        "first surge decays within ~2 days while killing goes on",
    ),
    "cytokines.desensitisation_lag_h": Default(
        12.0,
        "h",
        "approx.: cytokine hyporesponsiveness sets in over hours of stimulation, so the first surge "
        "grows with burden before it is curtailed",
    ),
    "cytokines.competence_recovery_days": Default(
        30.0,
        "day",
        "approx.: cytokine competence recovers over weeks, so cycle 2 does not repeat the surge "
        "([Klinger2012]: cytokines rise after the first infusion, not at the start of cycle 2)",
    ),
    "cytokines.neuro_integration_h": Default(
        24.0, "h", "approx.: neurotoxicity follows the cytokines over about a day once the CNS is primed"
    ),
    "cytokines.neuro_priming_days": Default(
        6.0,
        "day",
        "calibrated, docs/validation.md (neurotoxicity onset): blinatumomab makes T-cells adhere to the vascular "
        "endothelium and enter the CNS under infusion ([Klinger2020]), so neurological events follow days of "
        "infusion, with a median onset about day 9 of cycle 1 ([Stein2019]), after the step-up, not the "
        "first-dose cytokine surge that brings CRS; 0 switches the priming off (primed from the start)",
    ),
    # ------------------------------------------------------- toxicity grading
    "toxicity.crs_il6_thresholds_pg_per_ml": Default(
        [100.0, 173.0, 291.9, 470.0],
        "pg/mL",
        "calibrated, docs/validation.md stage 7, re-run on four cohorts (800 patients, seeds 2024-2027, their peaks pooled) with the cohorts' marrow T-cell share median at 0.08 (section 'CR/CRh at the four-cohort mapping') (grade 3 at the 97th percentile of the cycle-1 peak CRS signal: "
        "3% grade >= 3; grades 2 and 4 keep their log-scale places); before it [100, 173.0, 291.9, 469.9] with the median at 0.09; prior [100, 400, 1500, 5000]: model mapping "
        "(docs/cytokines.md): effective IL-6 signal at which ASTCT grades 1-4 (fever; hypotension/hypoxia not "
        "needing / needing vasopressors or high-flow oxygen; life-threatening) begin; IL-6 rises with CRS "
        "severity ([Teachey2016])",
    ),
    "toxicity.crs_symptom_lag_h": Default(
        6.0,
        "h",
        "approx.: fever and hypotension follow the cytokines and resolve within hours to a day, also after tocilizumab",
    ),
    "toxicity.neuro_thresholds_pg_per_ml": Default(
        [8.4, 15.6, 26.2, 46.9],
        "pg/mL",
        "calibrated, docs/validation.md stage 7, re-run on four cohorts (800 patients, seeds 2024-2027, their peaks pooled) with the cohorts' marrow T-cell share median at 0.08 (section 'CR/CRh at the four-cohort mapping') (grades 1 and 3 at the 50th and 85th percentiles of the cycle-1 "
        "peak exposure: ~50% any grade, ~15% grade >= 3: [BlincytoPI], [Topp2015]; grades 2 and 4 keep their log-scale "
        "places); before it [8.3, 15.7, 26.6, 48.2] with the median at 0.09; prior [60, 250, 800, 3000]: model mapping: day-integrated serum IL-6 + IFN-gamma at which "
        "neurotoxicity grades 1-4 begin (x the CNS priming)",
    ),
    "toxicity.seizure_hazard_per_day": Default(
        [0.0, 0.005, 0.1, 0.5],
        "1/day",
        "approx.: seizures come with severe neurological events: 4 of 189 adults (2.1%) had convulsions "
        "([Topp2015]) among the 13-17% with grade >= 3 events ([Stein2019]), about 1 in 6 severe episodes of a "
        "day or two, hence ~0.1/day at grade 3; grade 4 (life-threatening, including prolonged seizures, [Lee2019]) "
        "higher; rare at grade 2, none at grade 1",
    ),
    # ----------------------------------------------------------- dexamethasone
    "dexamethasone.premedication_mg": Default(
        20.0, "mg", "[BlincytoPI]: 20 mg IV 1 h before each cycle, a step-up, and a restart after >= 4 h"
    ),
    "dexamethasone.premedication_mg_per_m2": Default(
        5.0,
        "mg/m2",
        "[BlincytoPI]: pediatric premedication 5 mg/m2 to a maximum of 20 mg (patients dosed per m2, < 45 kg)",
    ),
    "dexamethasone.prephase_mg_per_m2_day": Default(
        10.0, "mg/m2/day", "[BlincytoPI]: pre-phase 10 mg/m2/day (max 24 mg/day) for high burden"
    ),
    "dexamethasone.prephase_max_mg_per_day": Default(24.0, "mg/day", "[BlincytoPI]: at most 24 mg/day"),
    "dexamethasone.prephase_days": Default(
        5, "day", "approx.: pre-phase of up to 5 days before cycle 1 (MT103-211 protocol practice, [Topp2015])"
    ),
    "dexamethasone.crs_treatment_mg": Default(
        8.0, "mg", "[BlincytoPI]: grade 3-4 CRS, 8 mg every 8 h for up to 3 days, then taper over 4 days"
    ),
    "dexamethasone.crs_treatment_mg_per_m2": Default(
        5.0,
        "mg/m2",
        "[BlincytoPI]: grade 3-4 CRS in patients < 45 kg, 5 mg/m2 (maximum 8 mg) every 8 h for up to 3 days, then "
        "taper over 4 days",
    ),
    "dexamethasone.neuro_treatment_mg_per_m2": Default(
        5.0,
        "mg/m2",
        "approx.: the CRS course of [BlincytoPI] for patients < 45 kg (5 mg/m2, at most the adult dose), as the adult "
        "neurotoxicity course follows the adult CRS course",
    ),
    "dexamethasone.neuro_treatment_mg": Default(
        8.0,
        "mg",
        "approx.: the CRS course of [BlincytoPI] (8 mg every 8 h for up to 3 days, 4-day taper) for "
        "neurotoxicity holds and discontinuations; severe neurological events under blinatumomab resolve with "
        "interruption and dexamethasone ([Stein2019])",
    ),
    "dexamethasone.effect_half_life_h": Default(
        36.0,
        "h",
        "approx.: biological half-life of dexamethasone's anti-inflammatory effect 36-54 h (plasma half-life ~4 h)",
    ),
    "dexamethasone.ed50_mg": Default(
        4.0,
        "mg",
        "approx.: dexamethasone-equivalent amount for half the maximal lymphoblast kill (the debulking, "
        "fitted with dexamethasone.blast_kill_per_day_max); it set the cytokine suppression too until that "
        "got its own, dexamethasone.cytokine_ed50_mg",
    ),
    "dexamethasone.cytokine_ed50_mg": Default(
        4.0,
        "mg",
        "approx.: dexamethasone-equivalent amount for half-maximal cytokine suppression; the value the model "
        "has been calibrated with (stage 7). The pharmacological estimate is ~0.7 mg: a plasma level at the "
        "IC50 of glucocorticoid inhibition of IL-6 production (~3e-8 M, 10-90% inhibition over 1e-9 to "
        "1e-6 M, [Waage1990]) times dexamethasone's distribution volume (~60 L: clearance ~245 mL/min, "
        "terminal half-life 2.4-3.4 h, [Tsuei1979]), at which the 20 mg premedication alone nearly "
        "saturates the suppression and a pre-phase adds little to it at the first dose; not adopted, it "
        "needs stage 7 and a fresh validation (docs/validation.md, 'CRS by burden: the pre-phase's "
        "suppression at its sourced potency')",
    ),
    "dexamethasone.max_suppression": Default(
        0.8,
        "1",
        "approx.: dexamethasone strongly reduces T-cell cytokine release (IL-2, TNF, IFN-gamma, IL-6, "
        "IL-10) without inhibiting cytotoxicity in vitro ([Brandl2007]); where it acts: "
        "dexamethasone.suppression_sites",
    ),
    "dexamethasone.suppression_sites": Default(
        "each_cell_type",
        "-",
        "model choice: glucocorticoids suppress both T-cell and monocyte cytokine production, so the "
        "suppression acts on the T-cells' IFN-gamma release and again on the macrophages' IL-6 (the IFN-gamma "
        "path to IL-6 carries it twice); 'each_path' reads [Brandl2007]'s PBMC-culture suppression as the "
        "whole pathway's and applies it once on each path; it failed its validation with the CR/CRh knob "
        "not re-fitted (docs/validation.md, 'Dexamethasone once per path to IL-6')",
    ),
    "dexamethasone.blast_kill_per_day_max": Default(
        0.02,
        "1/day",
        "calibrated with the cohorts' marrow T-cell share, docs/validation.md ('Re-fit of CR/CRh on four "
        "cohorts'): MT103-211 CR/CRh 0.431 (345/800) on the calibration cohorts of seeds 2024-2027 with the "
        "toxicity mapping of the time, 0.461 with the four-cohort one ('Stage 7 on four cohorts'); lowered "
        "from 0.035 (fitted on seeds 2024 and 2025 alone, 0.40 over five cohorts) because debulking helps "
        "only the pre-phased high-burden patients and so flattens the burden gradient; before it 0.07 "
        "(docs/validation.md, burden); prior 0.2: approx.: glucocorticoid-induced apoptosis of lymphoblasts, "
        "the purpose of the pre-phase for high burden ([BlincytoPI]); heavily pretreated adult blasts are "
        "often partly glucocorticoid-resistant; in a pooled analysis 9 patients were brought below 50% marrow "
        "blasts by dexamethasone before blinatumomab ([BMBlasts2023])",
    ),
    # ------------------------------------------------------------ tocilizumab
    # -------------------------------------------------------------------- lymphoid tissue
    "lymphoid.enabled": Default(
        False,
        "1",
        "model choice: off by default; with the toxicity mappings re-calibrated for it, the compartment put "
        "CRS grade >= 3 outside its trial on its first validation cohort, as the model then adopted did on that "
        "cohort (docs/validation.md, 'CRS and burden: the lymphoid tissue')",
    ),
    "lymphoid.t_cells_per_blood_t_cell": Default(
        20.0,
        "1",
        "approx.: lymph nodes ~190e9 and spleen ~70e9 lymphocytes against ~10e9 in blood (blood holds ~2% of "
        "the body's lymphocytes; [Westermann1992]); spleen and nodes are the largest immune compartments "
        "([GanusovDeBoer2007]); with T-cells ~65% of node, ~35% of spleen and ~75% of blood lymphocytes",
    ),
    "lymphoid.other_cells_per_t_cell": Default(
        0.75,
        "1",
        "approx.: the B cells and other lymphocytes of nodes and spleen beside their T-cells ([Westermann1992])",
    ),
    "lymphoid.blasts_per_marrow_blast": Default(
        0.1,
        "1",
        "approx.: spleen, liver and lymph nodes are commonly infiltrated in ALL ([Pui2008]; hepatosplenomegaly "
        "and lymphadenopathy at presentation), the marrow holding most of the leukemia; the share is not "
        "measured in relapse: see docs/validation.md, 'CRS and burden'",
    ),
    "tocilizumab.blockade_half_life_days": Default(
        5.0,
        "day",
        "approx.: IL-6 receptor blockade after one 8 mg/kg dose lasts days (terminal half-life ~4-6 days at that dose)",
    ),
    "tocilizumab.receptor_clearance_share": Default(
        0.5,
        "1",
        "approx.: share of IL-6 clearance that is receptor-mediated; blockade raises serum IL-6 ([Nishimoto2008])",
    ),
    "tocilizumab.redose_after_h": Default(8.0, "h", "[ActemraPI] (CRS): a second dose after >= 8 h if needed"),
    # -------------------------------------------------------------- protocol
    "protocol.crs_hold_grade": Default(3, "1", "[BlincytoPI]: grade 3 CRS, withhold until resolved"),
    "protocol.crs_discontinue_grade": Default(4, "1", "[BlincytoPI]: grade 4 CRS, discontinue permanently"),
    "protocol.tocilizumab_grade": Default(
        3,
        "1",
        "model choice: tocilizumab for grade 3-4 CRS (severe CRS after blinatumomab resolved on it, [Teachey2013])",
    ),
    "protocol.neuro_hold_grade": Default(3, "1", "[BlincytoPI]: grade 3 neurotoxicity, withhold"),
    "protocol.neuro_resume_grade": Default(1, "1", "[BlincytoPI]: restart when <= grade 1 for at least 3 days"),
    "protocol.neuro_resume_days": Default(3.0, "day", "[BlincytoPI]: <= grade 1 for at least 3 days"),
    "protocol.neuro_max_hold_days": Default(
        7.0, "day", "[BlincytoPI]: discontinue if it takes more than 7 days to resolve"
    ),
    "protocol.neuro_discontinue_grade": Default(4, "1", "[BlincytoPI]: grade 4 neurotoxicity, discontinue permanently"),
    "protocol.seizure_hold_grade": Default(
        3,
        "1",
        "[BlincytoPI]: neurological toxicity grade 3 withholds; a clinical seizure is ICANS grade >= 3 ([Lee2019])",
    ),
    "protocol.seizure_discontinue_count": Default(
        2, "1", "[BlincytoPI]: discontinue permanently if more than one seizure occurs"
    ),
    "protocol.restart_escalation_days": Default(
        7.0, "day", "[BlincytoPI]: restart at 9 ug/day, escalate to 28 ug/day after 7 days without recurrence"
    ),
    "protocol.new_cycle_after_hold_days": Default(
        7.0,
        "day",
        "[BlincytoPI]: if an interruption due to an adverse event is no longer than 7 days, continue the same cycle "
        "to 28 days of infusion; if it is longer than 7 days, start a new cycle",
    ),
    "protocol.premedication_lead_h": Default(1.0, "h", "[BlincytoPI]: dexamethasone 1 h before the infusion starts"),
    "protocol.premedicate_after_hold_h": Default(
        4.0, "h", "[BlincytoPI]: premedicate when restarting after an interruption of >= 4 h"
    ),
    # ---------------------------------------------------------------- endpoints
    "endpoints.response_cycles": Default(2, "1", "[Topp2015]: response (CR/CRh) is assessed within the first 2 cycles"),
    "endpoints.cr_blast_fraction": Default(0.05, "1", "[Topp2015]: CR and CRh need < 5% marrow blasts"),
    "endpoints.assessment_days": Default(
        [],
        "day",
        "model choice: the protocol's marrow assessments (days after treatment.start_day), the same for every arm; "
        "empty: the end of the infusion of each of the first endpoints.response_cycles blinatumomab cycles, or "
        "without a blinatumomab schedule the end of the infusion of cycles of treatment.days_on + "
        "treatment.days_off; the trials' days are blinasim.trials.trial.ASSESSMENT_DAYS ([Topp2015], "
        "[Kantarjian2017])",
    ),
    "endpoints.cr_neutrophils_per_ul": Default(
        1000.0, "1/uL", "[Topp2015]; [Kantarjian2017]; [Kantarjian2016]: CR needs neutrophils > 1,000/uL"
    ),
    "endpoints.cr_platelets_per_nl": Default(
        100.0, "1/nL", "[Topp2015]; [Kantarjian2017]; [Kantarjian2016]: CR needs platelets > 100,000/uL"
    ),
    "endpoints.crh_neutrophils_per_ul": Default(
        500.0, "1/uL", "[Topp2015]; [Kantarjian2017]: CRh (partial recovery) needs neutrophils > 500/uL"
    ),
    "endpoints.crh_platelets_per_nl": Default(
        50.0, "1/nL", "[Topp2015]; [Kantarjian2017]: CRh (partial recovery) needs platelets > 50,000/uL"
    ),
    "endpoints.peripheral_blasts_per_ul": Default(
        20.0,
        "1/uL",
        "approx.: 'no circulating blasts' ([Topp2015]; [Kantarjian2016]) read as blood blasts below what a "
        "200-cell smear differential finds (~0.5% of ~4,000 leukocytes/uL)",
    ),
    "endpoints.mrd_threshold": Default(
        1e-4, "1", "[Gokbuget2018]: complete MRD response is MRD below detection (1e-4) after cycle 1"
    ),
    "endpoints.relapse_blast_fraction": Default(
        0.05, "1", "model choice: relapse when marrow blasts regrow past 5% (the CR threshold) after a response"
    ),
    # ------------------------------------------------------------- blood counts
    "counts.neutrophil_transit_per_day": Default(
        1.082,
        "1/day",
        "[Friberg2002]: mean transit time 88.7 h from the proliferating pool through 3 transit compartments "
        "(neutrophils, docetaxel), k_tr = 4 / MTT; circulating neutrophils leave at the same rate",
    ),
    "counts.neutrophil_feedback": Default(
        0.161, "1", "[Friberg2002]: feedback exponent gamma of (Circ0 / Circ)^gamma (neutrophils, docetaxel)"
    ),
    "counts.platelet_transit_per_day": Default(
        0.6,
        "1/day",
        "approx.: megakaryocytes mature in about 5 days before they shed platelets; 3 transit compartments of "
        "1/0.6 days. The Friberg-type platelet fit of [PerezRuixo2016] (7.09e-3 /h) would take ~18 days and "
        "barely dip after an aplasia of two weeks, which salvage chemotherapy does not show",
    ),
    "counts.platelet_elimination_per_day": Default(
        0.12,
        "1/day",
        "approx.: circulating platelets live 7-10 days ([Langlois2017]); first-order loss with a mean life of "
        "~8.5 days",
    ),
    "counts.platelet_feedback": Default(
        0.621, "1", "[PerezRuixo2016]: feedback exponent gamma of the platelet model (thrombopoietin)"
    ),
    "counts.leukemic_suppression": Default(
        2.0,
        "1",
        "calibrated, docs/validation.md (count recovery; kept at its prior 2.0, the best of 0-12 on the "
        "calibration cohort): leukemic cells suppress the output of the normal progenitors beside them beyond "
        "the space they take ([Colmone2008]); output = share x (1 - blast fraction)^k",
    ),
    "counts.neutrophils_upper_normal_per_ul": Default(
        7500.0,
        "1/uL",
        "approx.: upper limit of the adult neutrophil reference range (~2,000-7,500/uL); a marrow freed of "
        "leukemia holds its count at most there",
    ),
    "counts.platelets_upper_normal_per_nl": Default(
        450.0, "1/nL", "[Langlois2017]: adult platelets 150-450/nL (mean ~290/nL)"
    ),
    # ------------------------------------------------------- checkpoint inhibitors
    "checkpoint.nivolumab_dose_mg": Default(240.0, "mg", "[OpdivoPI]: 240 mg every 2 weeks"),
    "checkpoint.nivolumab_interval_days": Default(14.0, "day", "[OpdivoPI]: every 2 weeks"),
    "checkpoint.nivolumab_half_life_days": Default(25.0, "day", "[OpdivoPI]: terminal half-life ~25 days"),
    "checkpoint.nivolumab_volume_l": Default(6.8, "L", "[OpdivoPI]: steady-state volume ~6.8 L"),
    "checkpoint.pembrolizumab_dose_mg": Default(200.0, "mg", "[KeytrudaPI]: 200 mg every 3 weeks"),
    "checkpoint.pembrolizumab_interval_days": Default(21.0, "day", "[KeytrudaPI]: every 3 weeks"),
    "checkpoint.pembrolizumab_half_life_days": Default(22.0, "day", "[KeytrudaPI]: terminal half-life ~22 days"),
    "checkpoint.pembrolizumab_volume_l": Default(6.0, "L", "[KeytrudaPI]: steady-state volume ~6.0 L"),
    "checkpoint.pd1_occupancy_max": Default(
        0.85,
        "1",
        "[Brahmer2010] (nivolumab): peak PD-1 occupancy ~85%, ~70% sustained; near-complete at clinical doses",
    ),
    "checkpoint.pd1_occupancy_ec50_ug_per_ml": Default(
        0.5,
        "ug/mL",
        "approx.: occupancy plateaus from ~0.1-0.3 mg/kg ([Brahmer2010]), i.e. serum levels around 1 ug/mL; "
        "clinical troughs are tens of ug/mL",
    ),
    "checkpoint.ipilimumab_dose_mg_per_kg": Default(
        1.0, "mg/kg", "[YervoyPI] in combination with nivolumab: 1 mg/kg every 6 weeks"
    ),
    "checkpoint.ipilimumab_interval_days": Default(42.0, "day", "[YervoyPI] (with nivolumab): every 6 weeks"),
    "checkpoint.ipilimumab_half_life_days": Default(15.4, "day", "[YervoyPI]: terminal half-life ~15 days"),
    "checkpoint.ipilimumab_volume_l": Default(7.2, "L", "[YervoyPI]: steady-state volume ~7.2 L"),
    "checkpoint.ipilimumab_ec50_ug_per_ml": Default(
        1.0, "ug/mL", "approx.: CTLA-4 blockade saturates at clinical troughs (several ug/mL at 1 mg/kg)"
    ),
    "checkpoint.ipilimumab_expansion_gain": Default(
        0.5,
        "1",
        "approx.: CTLA-4 blockade raises activated T-cell proliferation; PD-1 +- CTLA-4 blockade increased "
        "T-cell proliferation in vitro ([Feucht2016]); 50% at full blockade",
    ),
    # ------------------------------------------------------- tyrosine kinase inhibitors
    "tki.dasatinib_dose_mg": Default(140.0, "mg", "[SprycelPI]: Ph+ ALL 140 mg once daily"),
    "tki.ponatinib_dose_mg": Default(45.0, "mg", "[IclusigPI]: 45 mg once daily"),
    "tki.imatinib_dose_mg": Default(600.0, "mg", "[GleevecPI]: Ph+ ALL 600 mg once daily"),
    "tki.dasatinib_auc_per_mg": Default(
        3.97,
        "ng h/mL/mg",
        "[SprycelPI]: AUC 397 ng h/mL at 100 mg once daily (Cmax 82.2 ng/mL), dose-proportional over 15-240 mg",
    ),
    "tki.ponatinib_auc_per_mg": Default(
        27.8, "ng h/mL/mg", "[IclusigPI]: steady-state AUC 1253 ng h/mL at 45 mg once daily (Cmax 73 ng/mL)"
    ),
    "tki.imatinib_auc_per_mg": Default(
        108.0,
        "ng h/mL/mg",
        "approx. from [Peng2005]: steady state at 400 mg once daily 2.6 ug/mL peak, 1.2 ug/mL trough "
        "(log-mean 1.81 ug/mL over 24 h: AUC ~43 ug h/mL); dose-proportional",
    ),
    "tki.dasatinib_half_life_h": Default(4.0, "h", "[SprycelPI]: terminal half-life 3-5 h"),
    "tki.ponatinib_half_life_h": Default(24.0, "h", "[IclusigPI]: terminal half-life ~24 h"),
    "tki.imatinib_half_life_h": Default(18.0, "h", "[Peng2005]: terminal half-life ~18 h"),
    "tki.dasatinib_unbound_fraction": Default(0.04, "1", "[SprycelPI]: 96% bound to plasma proteins"),
    "tki.ponatinib_unbound_fraction": Default(
        0.01, "1", "[IclusigPI]: > 99% bound to plasma proteins (upper bound of the free fraction)"
    ),
    "tki.imatinib_unbound_fraction": Default(0.05, "1", "[Peng2005]: ~95% bound to plasma proteins"),
    "tki.dasatinib_molecular_weight": Default(488.0, "g/mol", "[Leveque2020]: 488 g/mol"),
    "tki.ponatinib_molecular_weight": Default(532.6, "g/mol", "[IclusigPI]: 532.56 g/mol (free base)"),
    "tki.imatinib_molecular_weight": Default(493.6, "g/mol", "[GleevecPI]: 493.6 g/mol (free base)"),
    "tki.assay_serum_fraction": Default(
        0.1,
        "1",
        "approx.: the cellular IC50s were measured in medium with 10% fetal bovine serum ([OHare2005]; "
        "[OHare2009]); binding scales with the protein present, so the free fraction in the assay is "
        "1 / (1 + (1/fu - 1) x 0.1)",
    ),
    "tki.dasatinib_ic50_nm": Default(
        0.8, "nM", "[OHare2005]: Ba/F3 cells with native BCR-ABL, proliferation IC50 0.8 nM"
    ),
    "tki.dasatinib_ic50_t315i_nm": Default(
        200.0, "nM", "[OHare2005]: BCR-ABL T315I, IC50 > 200 nM (a lower bound: dasatinib is inactive)"
    ),
    "tki.ponatinib_ic50_nm": Default(0.5, "nM", "[OHare2009]: Ba/F3 native BCR-ABL, proliferation IC50 0.5 nM"),
    "tki.ponatinib_ic50_t315i_nm": Default(11.0, "nM", "[OHare2009]: Ba/F3 BCR-ABL T315I, IC50 11 nM"),
    "tki.imatinib_ic50_nm": Default(260.0, "nM", "[OHare2005]: Ba/F3 native BCR-ABL, IC50 260 nM"),
    "tki.imatinib_ic50_t315i_nm": Default(
        6400.0, "nM", "[OHare2005]: BCR-ABL T315I, IC50 > 6400 nM (a lower bound: imatinib is inactive)"
    ),
    "tki.hill": Default(1.0, "1", "model choice: Emax model (Hill coefficient 1) on the unbound level"),
    "tki.prior_failure_ic50_fold": Default(
        10.0,
        "1",
        "calibrated prior (no published value): after failure of a second-generation TKI the blasts resist by "
        "BCR::ABL1-independent routes too; single-agent dasatinib after imatinib failure gave major hematologic "
        "responses in 42% of Ph+ ALL patients, short-lived ([Ottmann2007]); a 10-fold IC50 shift halves the "
        "average inhibition by dasatinib",
    ),
    "tki.max_division_block": Default(
        0.7,
        "1",
        "approx.: BCR::ABL1 inhibition arrests Ph+ blasts in G1 (oncogene addiction); calibrated prior with "
        "tki.max_apoptosis_per_day so that dasatinib (with steroids) clears blood and marrow blasts of TKI-naive "
        "Ph+ ALL to a complete hematologic response within ~3 weeks ([Foa2011]: CHR in all 53 patients, 92.5% by "
        "day 22)",
    ),
    "tki.max_apoptosis_per_day": Default(
        0.3,
        "1/day",
        "approx.: extra apoptosis of Ph+ blasts at full BCR::ABL1 inhibition; with tki.max_division_block the "
        "net decline at dasatinib's average inhibition (~0.8) is ~0.23/day, 2 logs in ~3 weeks ([Foa2011])",
    ),
    "tki.dasatinib_tcell_ic50_nm": Default(
        5.0,
        "nM",
        "approx.: dasatinib blocks TCR signalling through LCK and with it T-cell activation, proliferation, "
        "cytokine release and degranulation, reversibly: marked at 1-2 nM in culture ([Schade2008]), "
        "dose-dependent over 1-100 nM ([Weichsel2008]); it abolished blinatumomab's killing in vitro "
        "([Leonard2021])",
    ),
    "tki.ponatinib_tcell_ic50_nm": Default(
        50.0,
        "nM",
        "approx.: ponatinib also inhibited blinatumomab-driven T-cell proliferation in vitro ([Leonard2021]) but "
        "is ~10-fold less potent on SRC-family kinases (SRC IC50 5.4 nM, [OHare2009]) than dasatinib "
        "(sub-nanomolar, [Lombardo2004]); so 10 x the dasatinib value",
    ),
    "tki.imatinib_tcell_ic50_nm": Default(
        1e6,
        "nM",
        "[Leonard2021]: imatinib (like nilotinib) did not inhibit blinatumomab-driven T-cell proliferation or "
        "IFN-gamma (an IC50 far above any level: no effect)",
    ),
    "tki.max_tcell_suppression": Default(
        1.0,
        "1",
        "[Leonard2021]: with dasatinib no CD19+ cell was lost under blinatumomab in vitro (complete suppression)",
    ),
    # ------------------------------------------------------------- chemotherapy
    "chemotherapy.course_days": Default(5, "day", "approx.: salvage courses (FLAG-Ida, HiDAC) run ~5 days"),
    "chemotherapy.courses": Default(
        2,
        "1",
        "approx.: up to 2 salvage courses (TOWER standard-of-care arm [Kantarjian2017]: median 1, up to 4 cycles)",
    ),
    "chemotherapy.interval_days": Default(28.0, "day", "approx.: a course every ~4 weeks after count recovery"),
    "chemotherapy.blast_kill_per_day": Default(
        0.9,
        "1/day",
        "approx.: ~2 logs of blast kill per 5-day course (salvage remission rates of ~25-45%; 25% in the TOWER standard-of-care arm, [Kantarjian2017])",
    ),
    "chemotherapy.normal_b_kill_per_day": Default(0.9, "1/day", "approx.: B-lineage precursors cycle like blasts"),
    "chemotherapy.other_marrow_kill_per_day": Default(
        0.6, "1/day", "approx.: myelosuppression to aplasia over a course (~95% depletion), recovery in weeks"
    ),
    "chemotherapy.marrow_recovery_days": Default(
        14.0,
        "day",
        "approx.: after a course the marrow refills slowly as precursors recover (count recovery "
        "~3-4 weeks after a salvage course starts); refill ramps back linearly over this time",
    ),
    "chemotherapy.sanctuary_kill_factor": Default(
        0.1,
        "1",
        "approx.: the share of the marrow's kill that reaches extramedullary / CNS disease, the value the clinical "
        "course used for every treatment before blinatumomab's (course.sanctuary_kill_factor) was fitted on "
        "blinatumomab trials alone (docs/validation.md, 'The sanctuary's kill fitted jointly'); no salvage trial "
        "reports extramedullary relapse to fit it on",
    ),
    "chemotherapy.t_cell_kill_per_day": Default(
        0.3, "1/day", "approx.: lymphodepletion (~75% per course); T-cells cycle less than precursors"
    ),
    # ------------------------------------------- chemotherapy: the TOWER regimens
    "chemotherapy.flag_course_days": Default(
        5, "day", "[Specchia2005]: fludarabine 30 mg/m2 and cytarabine 2 g/m2 on days 1-5 with G-CSF"
    ),
    "chemotherapy.flag_blast_log_kill": Default(
        1.6,
        "1",
        "approx.: ~1.6 logs per course before the potency scale; FLAG without the anthracycline below FLAG-Ida ([Specchia2005]: 39% CR with idarubicin)",
    ),
    "chemotherapy.flag_other_marrow_kill_per_day": Default(
        0.6,
        "1/day",
        "approx.: aplasia over the 5-day course (~95% of precursors), as FLAG-Ida without the anthracycline",
    ),
    "chemotherapy.flag_marrow_recovery_days": Default(
        14.0,
        "day",
        "[Specchia2005]: neutrophils > 0.5/nL a median 20 days from the start of FLAG-Ida; G-CSF shortens aplasia: refill back ~14 days after the course",
    ),
    "chemotherapy.flag_t_cell_kill_per_day": Default(
        0.4, "1/day", "approx.: fludarabine, a purine analogue, depletes lymphocytes deeply (~85% per course)"
    ),
    "chemotherapy.flag_ida_course_days": Default(
        5, "day", "[Specchia2005]: FLAG with idarubicin 10 mg/m2 on days 1-3; exposure days 1-5"
    ),
    "chemotherapy.flag_ida_blast_log_kill": Default(
        2.0,
        "1",
        "approx.: ~2 logs per course before the potency scale; the most active of the four ([Specchia2005]: CR 39%, 9 of 23 R/R adults)",
    ),
    "chemotherapy.flag_ida_other_marrow_kill_per_day": Default(
        0.7, "1/day", "approx.: aplasia deeper than FLAG with the anthracycline (~97% of precursors per course)"
    ),
    "chemotherapy.flag_ida_marrow_recovery_days": Default(
        15.0,
        "day",
        "[Specchia2005]: neutrophils > 0.5/nL at a median day 20, > 1/nL day 24, platelets > 20/nL day 23 from the start",
    ),
    "chemotherapy.flag_ida_t_cell_kill_per_day": Default(
        0.4, "1/day", "approx.: fludarabine lymphodepletion as FLAG (~85% per course)"
    ),
    "chemotherapy.hidac_course_days": Default(
        5,
        "day",
        "approx.: cytarabine 1.5-3 g/m2 every 12 h on days 1-5 (+/- mitoxantrone), the HiDAC salvage of [Kantarjian2016] and [Kantarjian2017]",
    ),
    "chemotherapy.hidac_blast_log_kill": Default(
        1.6,
        "1",
        "approx.: ~1.6 logs per course before the potency scale (first-salvage CR ~42% with HiDAC-based regimens, [Gokbuget2012])",
    ),
    "chemotherapy.hidac_other_marrow_kill_per_day": Default(
        0.6, "1/day", "approx.: aplasia over the course (~95% of precursors)"
    ),
    "chemotherapy.hidac_marrow_recovery_days": Default(
        18.0,
        "day",
        "approx.: neutrophil recovery ~3-4 weeks from the start without G-CSF: refill back ~18 days after the course",
    ),
    "chemotherapy.hidac_t_cell_kill_per_day": Default(
        0.2, "1/day", "approx.: cytarabine spares resting lymphocytes more than purine analogues (~60% per course)"
    ),
    "chemotherapy.hd_mtx_course_days": Default(
        3,
        "day",
        "[Kantarjian2000]: the methotrexate-cytarabine course of hyper-CVAD (methotrexate 1 g/m2 day 1, cytarabine 3 g/m2 every 12 h days 2-3)",
    ),
    "chemotherapy.hd_mtx_blast_log_kill": Default(
        1.2,
        "1",
        "approx.: ~1.2 logs per course before the potency scale; the least intensive of the four (S-phase only, courses every 3 weeks, [Kantarjian2000])",
    ),
    "chemotherapy.hd_mtx_other_marrow_kill_per_day": Default(
        0.5, "1/day", "approx.: shorter, milder aplasia than the 5-day regimens (~78% of precursors per course)"
    ),
    "chemotherapy.hd_mtx_marrow_recovery_days": Default(
        12.0,
        "day",
        "[Kantarjian2000]: courses repeat every ~3 weeks after count recovery: refill back ~12 days after the course",
    ),
    "chemotherapy.hd_mtx_t_cell_kill_per_day": Default(
        0.15, "1/day", "approx.: methotrexate with leucovorin rescue depletes lymphocytes modestly (~35% per course)"
    ),
    "chemotherapy.clofarabine_course_days": Default(
        5, "day", "[Jeha2006]: clofarabine 52 mg/m2 daily for 5 days (adults 40 mg/m2 days 1-5, often with cytarabine)"
    ),
    "chemotherapy.clofarabine_blast_log_kill": Default(
        1.5,
        "1",
        "approx.: ~1.5 logs per course before the potency scale ([Jeha2006]: 20% CR/CRp, 30% response in multiply relapsed ALL)",
    ),
    "chemotherapy.clofarabine_other_marrow_kill_per_day": Default(
        0.7, "1/day", "approx.: deep aplasia (~97% of precursors per course)"
    ),
    "chemotherapy.clofarabine_marrow_recovery_days": Default(
        25.0,
        "day",
        "[Zeidan2012]: neutrophils >= 0.5/nL a mean 34 days after clofarabine-based salvage: refill back ~25 days after the course",
    ),
    "chemotherapy.clofarabine_t_cell_kill_per_day": Default(
        0.5, "1/day", "approx.: clofarabine, a purine analogue, depletes lymphocytes deeply (~90% per course)"
    ),
    "chemotherapy.potency_scale": Default(
        0.47,
        "1",
        "calibrated: shared scale on every regimen's blast log kill, fitted to the INO-VATE standard-care CR/CRi "
        "(29.4%, [Kantarjian2016]) by scripts/calibrate_chemotherapy.py with the chemosensitivity spread 1.4 "
        "on four MT103-211-like cohorts (400 patients, seeds 2024-2027, pooled; fit 0.471; docs/validation.md, "
        "'Salvage chemotherapy fitted on four cohorts'); before it 0.56 on one cohort (seed 7), 0.81 with the "
        "spread 0.5; prior 1.0",
    ),
    "chemotherapy.sensitivity_log_sd": Default(
        1.4,
        "1",
        "calibrated: the spread of the patients' chemosensitivity (a log-normal multiplier on the blast kill), "
        "set with the potency so that the responders' remissions are deep enough to last: EFS at 6 months "
        "0.096 against TOWER's standard-care 12% ([Kantarjian2017]; 0.04 with the prior 0.5), flat in the "
        "spread above ~1 (docs/validation.md, 'The patients' chemosensitivity spread'); prior 0.5, approx.: "
        "patients' blasts differ in drug sensitivity (refractory vs late relapse; salvage CR 23-42% by relapse "
        "type, [Gokbuget2012])",
    ),
    "chemotherapy.normal_b_relative_kill": Default(
        1.0, "1", "approx.: normal B-lineage precursors cycle like blasts and die at the blasts' hazard"
    ),
    "chemotherapy.share_flag": Default(
        0.45, "1", "[Kantarjian2017]: FLAG +/- anthracycline, 45% of the standard-of-care arm (with share_flag_ida)"
    ),
    "chemotherapy.share_flag_ida_of_flag": Default(
        0.5, "1", "approx.: the supplement pools FLAG with and without an anthracycline; split evenly"
    ),
    "chemotherapy.share_hidac": Default(0.17, "1", "[Kantarjian2017]: HiDAC-based, 17% of the standard-of-care arm"),
    "chemotherapy.share_hd_mtx": Default(
        0.12, "1", "[Kantarjian2017]: high-dose methotrexate-based, 12% of the standard-of-care arm"
    ),
    "chemotherapy.share_clofarabine": Default(
        0.26, "1", "[Kantarjian2017]: clofarabine-based, 26% of the standard-of-care arm"
    ),
    "chemotherapy.consolidation_courses": Default(
        2,
        "1",
        "approx.: responders go on to up to 2 more courses (TOWER standard-of-care arm: median 1, up to 4 cycles, "
        "[Kantarjian2017])",
    ),
    "chemotherapy.toxic_death_per_neutropenic_day": Default(
        0.0013,
        "1/day",
        "calibrated: TOWER's treatment-related fatal adverse events of the standard-care arm, 8 of 109 treated "
        "(7.3%, [SteinFranklin2019] Table 4; [Kantarjian2017]), by scripts/calibrate_chemotherapy.py (fits 0.00130 at "
        "potency scale 0.4 and 0.00135 at 0.55 with the chemosensitivity spread 1.4, on four MT103-211-like "
        "cohorts, 400 patients, seeds 2024-2027; docs/validation.md, 'Salvage chemotherapy fitted on four "
        "cohorts'); before it 0.0012 on one cohort (seed 7), 0.0017 with the spread 0.5 and the potency 0.81",
    ),
    "chemotherapy.toxic_death_neutrophils_per_ul": Default(
        500.0,
        "1/uL",
        "[Bodey1966]: infection risk rises steeply below 500 neutrophils/uL and with the days spent there; "
        "severe (grade 4) neutropenia, the threshold of febrile-neutropenia guidelines",
    ),
    # ---------------------------------------------------------------------- drug
    "drug.clearance_l_per_h": Default(2.22, "L/h", "[Clements2020]: population PK of 674 patients"),
    "drug.volume_l": Default(5.98, "L", "[Clements2020]: population PK"),
    "drug.clearance_log_sd": Default(
        0.6,
        "1",
        "approx.: between-patient variability of steady state up to ~100% ([BlincytoPI]); "
        "log-sd 0.6 puts the mean of rate/CL near the labelled means (228 and 616 pg/mL)",
    ),
    "drug.clearance_bsa_exponent": Default(
        0.61,
        "1",
        "[Clements2020]: BSA is the only covariate on CL; its smallest BSA (0.37 m2) had 63% lower CL than the "
        "median adult (1.88 m2), so k = ln(0.37) / ln(0.37 / 1.88) = 0.61 (derived from the reported effect; "
        "CL changes 21% across 1.6-2.2 m2, within the paper's <= 25% over the adult range)",
    ),
    "drug.renal_impairment_clearance_factor": Default(
        0.79,
        "1",
        "[BlincytoPI], [Sigmund2020]: clearance ~21% lower with creatinine clearance 30-89 mL/min "
        "(within the between-patient range; no dose adjustment)",
    ),
    "drug.renal_impairment_below_ml_per_min": Default(
        90.0, "mL/min", "[BlincytoPI]: mild (60-89) and moderate (30-59 mL/min) renal impairment; >= 90 is normal"
    ),
    "drug.molecular_weight_kda": Default(
        54.1, "kDa", "approx.: blinatumomab is a ~55 kDa tandem single-chain Fv (1 pg/mL ~ 18 fM)"
    ),
    "drug.kd_cd19_nm": Default(1.49, "nM", "[Dreier2002] (used by [Liu2023])"),
    "drug.kd_cd3_nm": Default(260.0, "nM", "[Dreier2002] (used by [Liu2023])"),
    "drug.adhesion_beta": Default(0.033, "1/bridge", "[Liu2023]: P = 1 - exp(-beta * N_bridges)"),
    "drug.contact_area_fraction": Default(
        0.02,
        "1",
        "approx.: share of a target's CD19 inside the T-cell contact zone; gives P ~ 0.02-0.05 per "
        "contact at 9-28 ug/day and, for the default patient, marrow clearance over ~3-4 weeks "
        "(clinical response by day 29); to be calibrated",
    ),
    # ----------------------------------------------------------------- treatment
    "treatment.regimen": Default("rr_step_up", "-", "[BlincytoPI]: the R/R B-ALL regimen"),
    "treatment.cycles": Default(1, "1", "model choice: the default experiment is cycle 1"),
    "treatment.start_day": Default(0.0, "day", "model choice"),
    "treatment.step_up_dose_ug_per_day": Default(9.0, "ug/day", "[BlincytoPI]: cycle 1 days 1-7 (>= 45 kg)"),
    "treatment.target_dose_ug_per_day": Default(
        28.0, "ug/day", "[BlincytoPI]: cycle 1 day 8 on, later cycles (>= 45 kg)"
    ),
    "treatment.step_up_dose_ug_per_m2_day": Default(5.0, "ug/m2/day", "[BlincytoPI]: patients < 45 kg, days 1-7"),
    "treatment.target_dose_ug_per_m2_day": Default(
        15.0, "ug/m2/day", "[BlincytoPI]: patients < 45 kg, and MRD regimen"
    ),
    "treatment.step_up_days": Default(7.0, "day", "[BlincytoPI]: step-up after 7 days"),
    "treatment.days_on": Default(28.0, "day", "[BlincytoPI]: 4 weeks continuous infusion"),
    "treatment.days_off": Default(14.0, "day", "[BlincytoPI]: 2-week treatment-free interval"),
    "treatment.maintenance_days_off": Default(
        56.0, "day", "[BlincytoPI] (R/R): continued therapy (maintenance, cycles 6-9) 4 weeks on, 8 weeks off"
    ),
    "treatment.cycles_before_maintenance": Default(
        5,
        "1",
        "[BlincytoPI] (R/R): induction (cycles 1-2) and consolidation (cycles 3-5) have a 2-week break; "
        "maintenance cycles 6-9 are 4 weeks on, 8 weeks off ([Kantarjian2017])",
    ),
    "treatment.new_cycle_gap_days": Default(
        7.0, "day", "[BlincytoPI]: an interruption of more than 7 days starts a new cycle"
    ),
    "treatment.bsa_dosing_below_kg": Default(45.0, "kg", "[BlincytoPI]: BSA-based dosing below 45 kg"),
    "treatment.checkpoint_inhibitor": Default(
        "none",
        "-",
        "model choice: no combination by default; anti-PD-1 arms as in trials of blinatumomab with nivolumab or pembrolizumab, rationale in [Kohnke2015], [Feucht2016]",
    ),
    "treatment.ipilimumab": Default(
        False,
        "bool",
        "model choice: no ipilimumab by default; PD-1 +- CTLA-4 blockade increased T-cell function in vitro ([Feucht2016])",
    ),
    "treatment.chemotherapy": Default(
        "none",
        "-",
        "model choice: no chemotherapy by default; 'physicians_choice' is the TOWER standard-of-care arm ([Kantarjian2017])",
    ),
    "treatment.chemotherapy_start_day": Default(0.0, "day", "model choice: first salvage course on day 0"),
    "treatment.tki": Default(
        "none",
        "-",
        "model choice: no tyrosine kinase inhibitor by default; dasatinib and ponatinib are given with "
        "blinatumomab in Ph+ ALL (D-ALBA [Foa2020]); ALCANTARA gave blinatumomab alone [Martinelli2017]",
    ),
    "treatment.tki_start_day": Default(
        0.0,
        "day",
        "model choice: the TKI is taken once daily from this day to the end of follow-up (continuous, as with "
        "blinatumomab in [Foa2020])",
    ),
    "treatment.dexamethasone_premedication": Default(
        True, "bool", "[BlincytoPI]: premedicate before each cycle, a step-up and a restart after >= 4 h"
    ),
    "treatment.dexamethasone_prephase": Default(
        "auto",
        "-",
        "[BlincytoPI]: pre-phase for marrow blasts > 50% or peripheral blasts >= 15,000/uL ('auto'), or 'always' / 'never'",
    ),
    "treatment.prephase_blast_fraction": Default(0.5, "1", "[BlincytoPI]: pre-phase above 50% marrow blasts"),
    "treatment.prephase_peripheral_blasts_per_ul": Default(
        15000.0, "1/uL", "[BlincytoPI]: pre-phase at >= 15,000 peripheral blasts/uL"
    ),
    # ---------------------------------------------------------------- course
    "course.plan": Default("none", "-", "model choice: no follow-up beyond the lattice run by default"),
    "course.follow_up_days": Default(730.0, "day", "model choice: 2 years, the follow-up of the survival figures"),
    "course.step_days": Default(
        0.25, "day", "model choice: step of the event-driven follow-up (rates x step << 1: b = 0.105/day)"
    ),
    "course.custom_cycles": Default(4, "1", "model choice: a custom plan of 4 cycles ([BlincytoPI])"),
    "course.custom_on_days": Default(28.0, "day", "[BlincytoPI]: 4 weeks of continuous infusion"),
    "course.custom_off_days": Default(14.0, "day", "[BlincytoPI]: 2 weeks without treatment"),
    "course.custom_mrd_response": Default(False, "bool", "model choice: response by CR/CRh unless set"),
    "course.mrd_negative_threshold": Default(
        1e-4, "1", "[Gokbuget2018]: complete MRD response is MRD below the 1e-4 detection limit of the assays"
    ),
    "course.hsct_uptake": Default(
        0.40,
        "1",
        "[Topp2015]: 32 of 81 patients in CR/CRh (40%) went on to allogeneic HSCT (BLAST: 67%, [Gokbuget2018])",
    ),
    "course.hsct_delay_days": Default(
        42.0, "day", "approx.: transplant a few weeks after the response assessment, once a donor is ready ([Topp2015])"
    ),
    "course.hsct_log_kill": Default(
        3.0,
        "logs",
        "approx.: conditioning and the graft-versus-leukemia effect; most patients transplanted in remission are "
        "MRD-negative after HSCT ([Gokbuget2018])",
    ),
    "course.gvl_kill_per_day": Default(
        0.1,
        "1/day",
        "approx.: the graft-versus-leukemia effect of allogeneic T-cells holds residual ALL in check where the "
        "graft controls it ([Kolb2008]; where it does not: course.gvl_escape_probability); a hazard above the "
        "blasts' net growth (0.07/day)",
    ),
    "course.gvl_escape_probability": Default(
        0.34,
        "1",
        "approx.: relapse after unrelated-donor HSCT of adult ALL in first remission, 20% at 5 years with 42% "
        "treatment-related mortality competing ([Marks2008]): 0.20 / (1 - 0.42) of those not dying of the "
        "transplant, whose deaths mostly come first; ALL is among the leukemias the graft holds least "
        "([Kolb2008])",
    ),
    "course.regrowth_log_sd": Default(
        0.0,
        "1",
        "model choice: every patient regrows at the disease's rates; the published spread is a sensitivity "
        "(docs/validation.md): after MRD recurrence in morphological remission, adult ALL reached morphological "
        "relapse after a median of 3 months, range <1-33, in 44 patients ([Pemmaraju2017]); the median is the "
        "disease's net growth from 1e-4 to 5% blasts, and the longest, 11 times the median, lies about 2.2 SD out "
        "among 44, a log-SD of about 1; the relapsing clone is often a minor subclone of diagnosis "
        "([Mullighan2008])",
    ),
    "course.trm_probability": Default(
        0.25,
        "1",
        "approx.: non-relapse mortality after allogeneic HSCT in second or later remission of adult ALL is about "
        "20-30% ([Gokbuget2012]; [Topp2015])",
    ),
    "course.trm_mean_days": Default(
        120.0, "day", "approx.: most transplant-related deaths occur within the first months ([Gokbuget2012])"
    ),
    "course.remission_death_per_year": Default(
        0.05,
        "1/year",
        "approx.: infections and other deaths in continuous remission without transplant ([Gokbuget2012])",
    ),
    "course.failure_survival_median_days": Default(
        100.0,
        "day",
        "[Gokbuget2016]: median overall survival of adult R/R Ph-negative B-ALL on historical standard therapy "
        "3.3 months; after relapse [Fielding2007] 24 weeks",
    ),
    "course.failure_rescued_share": Default(
        0.07,
        "1",
        "[GokbugetRef2016]: 3-year overall survival 6% after second salvage (1,706 adults with R/R Ph-negative "
        "B-ALL on historical standard therapy; 11% after first, 4% after third or later salvage; the second "
        "salvage's complete remission rate, 21%, is nearest the 24% of [Gokbuget2016]'s comparator of MT103-211); "
        "divided by the remission survival at 3 years (0.86 at 0.05/year). After a first relapse "
        "(BLAST-like patients) 0.09: 5-year survival 7% ([Fielding2007])",
    ),
    "course.failure_survival_from": Default(
        "treatment_start",
        "-",
        "[Gokbuget2016]: the historical median of 3.3 months is overall survival counted from the start of "
        "salvage, as the trials' overall survival it is compared with ([Topp2015], [Kantarjian2017]); TOWER "
        "counted fatal adverse events inside the treatment period in 19.1% of the blinatumomab arm",
    ),
    "course.sanctuary_kill_factor": Default(
        0.2,
        "1",
        "approx.: blinatumomab acts less in extramedullary and CNS disease ([Sigmund2020]); lower T-cell access "
        "([Liu2023]); fitted jointly with course.sanctuary_kill_half_cells and the cohort median of "
        "patient.sanctuary_fraction on stage 8's calibration seeds against [Topp2015]'s and [Gokbuget2018]'s "
        "survival and [Gokbuget2020]'s transplant subgroups, verified on two fresh seeds (docs/validation.md, "
        "'The sanctuary's kill fitted jointly'); 0.1 before",
    ),
    "course.sanctuary_kill_half_cells": Default(
        1e8,
        "cells",
        "the form, killing that saturates in the tumour's size because the effector cells are limited, is "
        "[DePillis2005]'s; K fitted jointly with course.sanctuary_kill_factor and the sanctuary median "
        "(docs/validation.md, 'The sanctuary's kill fitted jointly'; grid 0, 1e8, 1e9); 0 (no saturation) before",
    ),
    "course.sanctuary_seeding_per_day": Default(
        0.01, "1/day", "approx.: extramedullary cells return to the marrow slowly (the sanctuary reseeds relapse)"
    ),
    "course.sanctuary_detect_cells": Default(
        1e10, "cells", "approx.: an extramedullary mass of ~1 cm^3 (~1e9-1e10 cells) is clinically apparent"
    ),
    # --------------------------------------------------------------------- output
    "output.snapshot_every_days": Default(
        0.0, "day", "model choice: no lattice snapshots unless asked for (docs/watching.md)"
    ),
}


def default(key: str) -> Any:
    """Return the default value of a dotted parameter key."""
    return LITERATURE[key].value
