"""Calibration targets, the read-outs that are compared with them, and the score.

Every target of ../shared/BIOLOGY.md that a run can be compared with is listed
in :data:`TARGETS` with its source and the size of the study that measured it.
A candidate parameter set is scored by running the same virtual patients
(:mod:`blinasim.trials.cohort`, common random numbers) and the in-vitro co-culture
assay below, and summing squared misses measured in units of what the study
itself could resolve:

* clinical rates (CR/CRh, MRD response, CRS): ``(model - target) / SE`` with
  ``SE = sqrt(p (1 - p) / n)`` at the trial's own size ``n``;
* one-sided targets ("at least 90% of patients"): the same, counted only when
  the model falls short;
* the in-vitro exhaustion curve (Philipp 2022, a ratio of lytic activities):
  on a log scale, a factor of 2 counting as one unit.

The procedure that uses this (Bayesian optimisation, then verification at
>= 200 patients per trial) is ``scripts/calibrate.py``, documented in
docs/validation.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from blinasim.core.model import BlinatumomabModel
from blinasim.kernels.killing import effector_function
from blinasim.kernels.layout import POS_BLOOD
from blinasim.params.schema import load_config

#: The grade-3 CRS threshold, searched as a parameter of its own (see :func:`to_overrides`).
GRADE3 = "toxicity.crs_il6_thresholds_pg_per_ml[2]"

#: The calibrated parameters and the ranges searched (log scale). Each is uncertain: an
#: order-of-magnitude choice ("approx.") that no direct measurement pins down.
PARAMETERS: dict[str, tuple[float, float]] = {
    "tcells.contacts_per_hour": (5.0, 120.0),
    "tcells.speed_um_per_min": (3.0, 15.0),
    "tcells.exhaustion_per_engaged_day": (0.02, 1.0),
    "tcells.exhaustion_hill": (2.0, 8.0),
    "tcells.exhaustion_e50": (0.2, 0.9),
    "tcells.activated_division_per_day": (0.05, 1.0),
    "tcells.activation_half_life_days": (0.5, 5.0),
    "tcells.contraction_rate_per_day": (0.02, 1.0),
    "tcells.blood_contact_ul_per_h": (1e-3, 0.1),
    "cytokines.ifng_release_pg_per_cell_h": (1e-4, 3e-3),
    "tcells.treg_suppression_half": (0.01, 0.2),
    "tcells.treg_suppression_max": (0.3, 1.0),
    # The IL-6 level at which grade 3 begins (grade 1 stays at its default; grades 2 and 4 keep their places
    # relative to grades 1 and 3, :func:`spaced_thresholds`): the mapping from serum IL-6 to a clinical grade is
    # the least certain link.
    GRADE3: (150.0, 5000.0),
}


def to_overrides(params: dict[str, float]) -> dict[str, object]:
    """Config overrides of a candidate (the grade-3 threshold expands into the threshold list)."""
    over: dict[str, object] = {k: v for k, v in params.items() if k != GRADE3}
    if GRADE3 in params:
        default = load_config(None).toxicity.crs_il6_thresholds_pg_per_ml
        over["toxicity.crs_il6_thresholds_pg_per_ml"] = spaced_thresholds(default[0], params[GRADE3], default)
    return over


def add_rr_cohort_arguments(parser) -> None:
    """Options of the one-dimensional scans on the MT103-211-like calibration cohort
    (``scripts/calibrate_rr_scan.py``, stage 6; ``scripts/calibrate_toxicity.py``, stage 7)."""
    parser.add_argument("--n", type=int, default=240, help="MT103-211-like patients")
    parser.add_argument("--seed", type=int, default=2024, help="cohort and run seed (the calibration's)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", dest="sets", action="append", default=[], help="config override KEY=VALUE")
    parser.add_argument("--json", default=None)


def spaced_thresholds(grade1: float, grade3: float, template: list[float]) -> list[float]:
    """Four grade thresholds with grades 1 and 3 where given and grades 2 and 4 where ``template`` puts
    them relative to its own grades 1 and 3, on a log scale (stage 7 of the calibration moves the
    ends of a toxicity mapping and keeps its shape)."""
    if not 0 < grade1 < grade3:
        raise ValueError(f"grade thresholds need 0 < grade 1 < grade 3, got {grade1!r} and {grade3!r}")
    span = math.log(template[2] / template[0])
    return [grade1 * (grade3 / grade1) ** (math.log(t / template[0]) / span) for t in template]


@dataclass(frozen=True)
class Target:
    """One calibration target.

    ``kind``: "rate" (two-sided proportion), "at_least" (one-sided proportion),
    "log_ratio" (a ratio compared on a log scale; ``n`` unused, ``unit`` is the
    factor counted as one unit of miss), "at_least_value" (a value that should
    reach ``value``; ``unit`` is the miss counted as one unit).
    """

    name: str
    value: float
    kind: str
    n: int
    source: str
    unit: float = 0.0

    def miss(self, model: float) -> float:
        """The signed miss in units (0 when a one-sided target is met); NaN if the model value is NaN."""
        if model is None or (isinstance(model, float) and math.isnan(model)):
            return math.nan
        if self.kind == "rate":
            return (model - self.value) / math.sqrt(self.value * (1 - self.value) / self.n)
        if self.kind == "at_least":
            return min(0.0, model - self.value) / math.sqrt(self.value * (1 - self.value) / self.n)
        if self.kind == "log_ratio":
            return math.log(max(model, 1e-6) / self.value) / math.log(self.unit)
        if self.kind == "at_least_value":
            return min(0.0, model - self.value) / self.unit
        raise ValueError(f"unknown target kind {self.kind!r}")


TARGETS: tuple[Target, ...] = (
    Target("cr_crh", 0.43, "rate", 189, "MT103-211 (Topp 2015): CR/CRh within 2 cycles, 81/189"),
    Target("crs_any", 0.14, "rate", 189, "R/R with step-up dosing (label; Topp 2015): CRS any grade, cycle 1"),
    Target("crs_grade3", 0.03, "rate", 189, "R/R with step-up dosing (label; Topp 2015): CRS grade >= 3, cycle 1"),
    Target(
        "neurotox_any",
        0.50,
        "rate",
        189,
        "BIOLOGY.md (label; Topp 2015: neurological events 52%): neurotoxicity of any grade in ~50%",
    ),
    Target(
        "neurotox_grade3",
        0.15,
        "rate",
        189,
        "BIOLOGY.md (label; Topp 2015: grade >= 3 in 13%): neurotoxicity grade >= 3 in ~15%",
    ),
    Target("mrd_response", 0.78, "rate", 116, "BLAST (Gokbuget 2018): complete MRD response after cycle 1, 88/113"),
    Target(
        "b_depleted_day2",
        0.9,
        "at_least",
        20,
        "Klinger 2012 (MRD+ patients, ~20 evaluable): blood B cells < 1/uL by day ~2 in (nearly) all patients",
    ),
    Target(
        "t_nadir_day1",
        0.9,
        "at_least",
        20,
        "Klinger 2012: blood T-cell nadir within the first day in (nearly) all patients",
    ),
    Target(
        "t_expansion_2x",
        0.5,
        "at_least",
        20,
        "Klinger 2012: blood T-cells > 2x baseline by weeks 2-3 (read as: in at least half the patients)",
    ),
    Target(
        "invitro_day28_over_day7",
        9.0 / 88.0,
        "log_ratio",
        0,
        "Philipp 2022: lysis 88% at day 7 and 9% at day 28 of continuous exposure (ratio of activities)",
        unit=2.0,
    ),
    Target(
        "invitro_function_day7",
        0.75,
        "at_least_value",
        0,
        "Philipp 2022: lysis still 88% after 7 days of continuous exposure (read as: >= 75% of fresh function)",
        unit=0.1,
    ),
)
TARGET_BY_NAME = {t.name: t for t in TARGETS}

#: The (trial, endpoint) rates the calibrated defaults are claimed to reproduce: each trial's value
#: lies inside the 95% Wilson interval of its >= 200-patient virtual trial (docs/validation.md, with
#: the command and its output); tests/test_validation.py checks a smaller trial. The other targets
#: are reported with their misses, not claimed.
CLAIMED: tuple[tuple[str, str], ...] = (
    ("mt103_211", "cr_crh"),
    ("mt103_211", "crs_any"),
    ("mt103_211", "crs_grade3"),
    ("mt103_211", "neurotox_any"),
    ("mt103_211", "neurotox_grade3"),
    ("blast", "mrd_response"),
)


def kinetics(ds, blood_volume_l: float) -> dict[str, float]:
    """Klinger-2012 read-outs of one run: blood B cells at day 2 (per uL), the day of the blood
    T-cell nadir within the first 3 days, and the peak blood T-cell count over days 14-21
    relative to baseline (NaN where the run is too short)."""
    ul = blood_volume_l * 1e6
    t = ds.time.values
    b = ds.normal_b_cells.sel(compartment="blood").values / ul
    tc = ds.t_cells.sel(compartment="blood").values / ul
    out = {"blood_b_day2_per_ul": math.nan, "t_nadir_day": math.nan, "t_peak_d14_21_ratio": math.nan}
    at2 = np.flatnonzero(np.isclose(t, 2.0))
    if at2.size:
        out["blood_b_day2_per_ul"] = float(b[at2[0]])
    early = t <= 3.0 + 1e-9
    if early.sum() > 1 and tc[0] > 0:
        out["t_nadir_day"] = float(t[early][int(np.argmin(tc[early]))])
    window = (t >= 14.0 - 1e-9) & (t <= 21.0 + 1e-9)
    if window.any() and tc[0] > 0:
        out["t_peak_d14_21_ratio"] = float(tc[window].max() / tc[0])
    return out


#: The in-vitro co-culture of Philipp 2022, in model terms: a full lattice of blasts replenished by
#: division, a fixed set of T-cells (no division, death or contraction), no blood, a constant drug level,
#: no dexamethasone and no toxicity rules.
IN_VITRO: dict[str, Any] = {
    "simulation.lattice_size": 48,
    "simulation.days": 28.0,
    "simulation.record_every_hours": 24.0,
    "patient.marrow_blast_fraction": 0.9,
    "patient.marrow_cellularity": 1.0,
    "patient.normal_b_fraction": 0.0,
    "patient.t_cells_per_ul": 0.0,
    "patient.b_cells_per_ul": 0.0,
    "patient.peripheral_blasts_per_ul": 0.0,
    "disease.blast_birth_rate_per_day": 1.0,
    "disease.blast_death_rate_per_day": 0.0,
    "tcells.death_rate_per_day": 0.0,
    "tcells.activated_division_per_day": 0.0,
    "tcells.contraction_rate_per_day": 0.0,
    "treatment.regimen": "custom",
    "treatment.schedule": [{"start_day": 0.0, "end_day": 28.0, "dose_ug_per_day": 28.0}],
    "treatment.dexamethasone_premedication": False,
    "treatment.dexamethasone_prephase": "never",
    "protocol.crs_hold_grade": 5,
    "protocol.crs_discontinue_grade": 5,
    "protocol.tocilizumab_grade": 5,
    "protocol.neuro_hold_grade": 5,
    "protocol.neuro_discontinue_grade": 5,
}


def in_vitro_assay(
    overrides: dict[str, Any], seed: int, days: tuple[float, ...] = (1.0, 7.0, 28.0)
) -> dict[str, float]:
    """Run the co-culture with the candidate's parameters and read the T-cells' remaining lytic
    function (the mean intrinsic effector function of the live T-cells, 1 when fresh) on ``days``.

    Philipp 2022 measured lysis in a standard assay with fresh targets at each time point, i.e. a
    read-out of the T-cells' capacity independent of how many targets the long-term culture had
    left; the mean effector function is the model's counterpart. Returns the function on each day
    and the two quantities compared with the study.
    """
    config = load_config(None, {**overrides, **IN_VITRO})
    model = BlinatumomabModel(config, seed=seed)
    out: dict[str, float] = {}
    tcfg = config.tcells
    for day in days:
        while model.tick < min(model.n_ticks, round(day * 24.0 / model.dt_hours)):
            model.step()
        store = model.state.tcells
        alive = store.view("pos") >= POS_BLOOD
        e = store.view("exhaustion")[alive].astype(np.float64)
        out[f"invitro_function_day{day:g}"] = (
            float(np.mean(effector_function(e, tcfg.exhaustion_e50, tcfg.exhaustion_hill))) if e.size else math.nan
        )
    d7, d28 = out.get("invitro_function_day7", math.nan), out.get("invitro_function_day28", math.nan)
    out["invitro_function_day7"] = d7
    out["invitro_day28_over_day7"] = d28 / d7 if d7 > 0 else math.nan
    return out


def summarise(results: list[dict[str, Any]], assays: list[dict[str, float]]) -> dict[str, float]:
    """The model's value for every target from a virtual trial's patients and in-vitro assays."""

    def mean(rows, key, test):
        values = [r[key] for r in rows if not math.isnan(r[key])]
        return float(np.mean([test(v) for v in values])) if values else math.nan

    mt = [r for r in results if r["trial"] == "mt103_211"]
    bl = [r for r in results if r["trial"] == "blast"]
    out = {
        "cr_crh": mean(mt, "cr_crh", lambda v: v == 1.0),
        "crs_any": mean(mt, "max_crs_grade", lambda v: v >= 1),
        "crs_grade3": mean(mt, "max_crs_grade", lambda v: v >= 3),
        "neurotox_any": mean(mt, "max_neurotoxicity_grade", lambda v: v >= 1),
        "neurotox_grade3": mean(mt, "max_neurotoxicity_grade", lambda v: v >= 3),
        "mrd_response": mean(bl, "mrd_response", lambda v: v == 1.0),
        "b_depleted_day2": mean(bl, "blood_b_day2_per_ul", lambda v: v < 1.0),
        "t_nadir_day1": mean(bl, "t_nadir_day", lambda v: v <= 1.0),
        "t_expansion_2x": mean(bl, "t_peak_d14_21_ratio", lambda v: v > 2.0),
    }
    for key in ("invitro_day28_over_day7", "invitro_function_day7"):
        values = [a[key] for a in assays if not math.isnan(a[key])]
        out[key] = float(np.exp(np.mean(np.log(np.maximum(values, 1e-6))))) if values else math.nan
    return out


def score(values: dict[str, float], targets: tuple[Target, ...] = TARGETS) -> tuple[float, dict[str, float]]:
    """Sum of squared misses (NaN misses count as 25, i.e. 5 units) and the misses per target."""
    misses = {t.name: t.miss(values.get(t.name, math.nan)) for t in targets}
    total = sum(25.0 if math.isnan(m) else m * m for m in misses.values())
    return total, misses
