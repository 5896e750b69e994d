"""Virtual trials: a cohort of virtual patients run under one protocol, with the
trial's endpoints and their confidence intervals.

This is the direct, in-process route used by calibration and validation
(``scripts/calibrate.py``, ``scripts/virtual_trial.py``); the experiment
machinery (``blinasim sweep``) runs the same patients through a resumable
store. Run seeds are ``SeedSequence(seed, spawn_key=(patient, 0))``
(:func:`blinasim.core.seeds.run_seed`), so a patient keeps its random numbers
across candidates and arms (common random numbers).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from multiprocessing import get_context
from statistics import NormalDist
from typing import Any

from blinasim.clinical.endpoints import kaplan_meier
from blinasim.core.model import simulate
from blinasim.core.seeds import run_seed
from blinasim.params.schema import load_config
from blinasim.trials.calibration import kinetics
from blinasim.trials.cohort import COHORTS

#: Simulation settings per trial: the lattice resolves the trial's endpoint
#: (5% blasts for CR/CRh; MRD 1e-4 needs ~2.7 blasts at 224^2 sites and 50%
#: cellularity) and the run covers its assessment.
TRIAL_SETTINGS: dict[str, dict[str, Any]] = {
    "mt103_211": {"simulation.lattice_size": 120, "simulation.record_every_hours": 6.0},
    "blast": {"simulation.lattice_size": 224, "simulation.record_every_hours": 6.0, "simulation.days": 30.0},
}

#: The calibration targets (:data:`blinasim.trials.calibration.TARGETS`, by name) each trial is compared with.
TRIAL_TARGETS: dict[str, tuple[str, ...]] = {
    "mt103_211": ("cr_crh", "crs_any", "crs_grade3", "neurotox_any", "neurotox_grade3"),
    "blast": ("mrd_response",),
}


def cohort_settings(name: str) -> dict[str, Any]:
    """The settings every patient of a trial's cohort runs with: the cohort's ``fixed`` settings
    (:mod:`blinasim.trials.cohort`), then :data:`TRIAL_SETTINGS` (which win, as in :func:`run_patient`)."""
    if name not in COHORTS:
        raise ValueError(f"unknown cohort {name!r}; known: {', '.join(COHORTS)}")
    return {**COHORTS[name].fixed, **TRIAL_SETTINGS.get(name, {})}


ENDPOINTS = (
    "cr_crh",
    "cr",
    "crh",
    "response_day",
    "mrd_response",
    "max_crs_grade",
    "max_neurotoxicity_grade",
    "relapse_day",
    "relapse_type",
)


def run_patient(args: tuple[str, int, dict[str, Any], int]) -> dict[str, Any]:
    """Run one virtual patient; returns its endpoints (picklable, for worker pools)."""
    trial, index, overrides, seed = args
    over = {**overrides, **TRIAL_SETTINGS.get(trial, {})}
    config = load_config(None, over)
    ds = simulate(config, seed=run_seed(seed, index, 0))
    out: dict[str, Any] = {"trial": trial, "patient": index}
    for name in ENDPOINTS:
        value = ds[name].values.item()
        out[name] = value if isinstance(value, str) else float(value)
    out["follow_up_day"] = float(ds.time.values[-1])
    cycle1 = ds.cycle.values == 1
    for var in ("crs_signal", "neuro_exposure"):
        out[f"{var}_peak_cycle1"] = float(ds[var].values[cycle1].max()) if cycle1.any() else math.nan
    out.update(kinetics(ds, config.patient.blood_volume_l))
    return out


def run_cohorts(
    cohorts: dict[str, list[dict[str, Any]]],
    seed: int,
    overrides: dict[str, Any] | None = None,
    workers: int = 2,
    pool=None,
) -> list[dict[str, Any]]:
    """Run every patient of every cohort (patient overrides, then ``overrides``) on a process pool
    (``pool`` if given, e.g. one kept across calibration candidates; else a new one of ``workers``)."""
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    jobs = [
        (trial, i, {**patient, **(overrides or {})}, seed)
        for trial, patients in cohorts.items()
        for i, patient in enumerate(patients)
    ]
    if pool is not None:
        return pool.map(run_patient, jobs, chunksize=1)
    if workers <= 1:
        return [run_patient(job) for job in jobs]
    with get_context("forkserver").Pool(workers) as new_pool:
        return new_pool.map(run_patient, jobs, chunksize=1)


def wilson_ci(k: int, n: int, confidence: float) -> tuple[float, float, float]:
    """``(k / n, low, high)``: the proportion and its Wilson score interval (NaN when ``n`` is 0)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The interval reaches 0 (1) exactly when k = 0 (k = n); no rounding residue.
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return p, lo, hi


@dataclass(frozen=True)
class Rate:
    """A proportion with its Wilson 95% confidence interval."""

    successes: int
    n: int

    @property
    def value(self) -> float:
        return self.successes / self.n if self.n else math.nan

    @property
    def ci95(self) -> tuple[float, float]:
        """Wilson score interval."""
        _, lo, hi = wilson_ci(self.successes, self.n, 0.95)
        return lo, hi

    def __str__(self) -> str:
        lo, hi = self.ci95
        return f"{self.value:.2f} ({self.successes}/{self.n}; 95% CI {lo:.2f}-{hi:.2f})"


def rates(results: list[dict[str, Any]], trial: str) -> dict[str, Rate]:
    """Endpoint rates of one trial's patients (patients whose endpoint is NaN are not counted)."""
    rows = [r for r in results if r["trial"] == trial]

    def rate(key: str, test) -> Rate:
        values = [r[key] for r in rows if not (isinstance(r[key], float) and math.isnan(r[key]))]
        return Rate(sum(1 for v in values if test(v)), len(values))

    return {
        "cr_crh": rate("cr_crh", lambda v: v == 1.0),
        "cr": rate("cr", lambda v: v == 1.0),
        "crh": rate("crh", lambda v: v == 1.0),
        "mrd_response": rate("mrd_response", lambda v: v == 1.0),
        "crs_any": rate("max_crs_grade", lambda v: v >= 1),
        "crs_grade3": rate("max_crs_grade", lambda v: v >= 3),
        "neurotox_any": rate("max_neurotoxicity_grade", lambda v: v >= 1),
        "neurotox_grade3": rate("max_neurotoxicity_grade", lambda v: v >= 3),
    }


#: Duell 2017: blood Tregs below 8.525% of CD4 in every blinatumomab responder (22 of 22) and above
#: it in 14 of 20 non-responders (R/R B-ALL).
TREG_CUTOFF = 0.08525


def treg_split(results: list[dict[str, Any]], trial: str = "mt103_211") -> dict[str, Rate]:
    """Response against the patients' Treg share of CD4 (Duell 2017's cutoff), for results that
    carry their drawn ``attributes``: responders below the cutoff, non-responders above it, and
    the CR/CRh rate on each side."""
    rows = [
        r
        for r in results
        if r["trial"] == trial and not math.isnan(r["cr_crh"]) and "patient.treg_fraction_of_cd4" in r["attributes"]
    ]
    above = [r["attributes"]["patient.treg_fraction_of_cd4"] >= TREG_CUTOFF for r in rows]
    responded = [r["cr_crh"] == 1.0 for r in rows]
    pairs = list(zip(responded, above, strict=True))
    return {
        "responders_below": Rate(sum(1 for y, a in pairs if y and not a), sum(responded)),
        "nonresponders_above": Rate(sum(1 for y, a in pairs if not y and a), len(pairs) - sum(responded)),
        "response_below": Rate(sum(1 for y, a in pairs if y and not a), len(pairs) - sum(above)),
        "response_above": Rate(sum(1 for y, a in pairs if y and a), sum(above)),
    }


def relapse_free_survival(results: list[dict[str, Any]], trial: str):
    """Kaplan-Meier relapse-free survival of one trial's responders (CR/CRh): time from the
    response assessment to relapse, censored at the end of the simulated follow-up. Deaths are
    not modelled, so this is the cumulative incidence of relapse seen as a survival curve."""
    rows = [r for r in results if r["trial"] == trial and r.get("cr_crh") == 1.0]
    durations, observed = [], []
    for r in rows:
        relapsed = not math.isnan(r["relapse_day"])
        end = r["relapse_day"] if relapsed else r["follow_up_day"]
        durations.append(end - r["response_day"])
        observed.append(relapsed)
    return kaplan_meier(durations, observed)
