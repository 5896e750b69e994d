"""Virtual trials: a cohort of virtual patients run under one protocol, with the
trial's endpoints and their confidence intervals.

This is the direct route used by calibration and validation
(:mod:`blinasim.trials.calibration`, ``blinasim calibrate``); the experiment
machinery (``blinasim sweep``) runs the same patients through a resumable
store. Run seeds are ``SeedSequence(seed, spawn_key=(patient, 0))``
(:func:`blinasim.core.seeds.run_seed`), so a patient keeps its random numbers
across candidates and arms (common random numbers).

The patients run on a *runner*, anything with ``map(fn, items)``
(:class:`blinasim.core.worker.Runner`): an executor of
:mod:`blinasim.experiments.sweep` (local processes or Dask; the command line
passes one), a :class:`blinasim.core.worker.WorkerPool`, or, when none is
given, a pool of ``workers`` local processes started for the call. Where a
patient runs never changes its result. The endpoints counted are those of
:mod:`blinasim.clinical.endpoints` (:data:`~blinasim.clinical.endpoints.TRIAL_ENDPOINTS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from blinasim.clinical.endpoints import ENDPOINT_BY_NAME, TRIAL_ENDPOINTS, kaplan_meier, patient_read_outs
from blinasim.core.model import simulate
from blinasim.core.seeds import run_seed
from blinasim.core.worker import Runner, runner_or_pool
from blinasim.params.schema import load_config
from blinasim.trials.cohort import COHORTS

#: The protocol's marrow assessments per trial (days after ``treatment.start_day``), read alike in
#: every arm (``endpoints.assessment_days``): MT103-211 [Topp2015] assessed the marrow at the end of
#: the infusion of cycles 1 and 2 (6-week cycles, CR/CRh within 2 cycles); TOWER [Kantarjian2017]
#: at the end of each of the 2 induction cycles, best response within 12 weeks, in both arms; BLAST
#: [Gokbuget2018] scored MRD response after cycle 1.
ASSESSMENT_DAYS: dict[str, list[float]] = {
    "mt103_211": [28.0, 70.0],
    "tower": [28.0, 70.0],
    "blast": [28.0],
}

#: Simulation settings per trial: the lattice resolves the trial's endpoint
#: (5% blasts for CR/CRh; MRD 1e-4 needs ~2.7 blasts at 224^2 sites and 50%
#: cellularity), the run covers its assessment, and every arm is assessed on the protocol's days.
TRIAL_SETTINGS: dict[str, dict[str, Any]] = {
    "mt103_211": {
        "simulation.lattice_size": 120,
        "simulation.record_every_hours": 6.0,
        "course.plan": "mt103_211",
        "endpoints.assessment_days": ASSESSMENT_DAYS["mt103_211"],
    },
    # MT103-205 (von Stackelberg 2016): 6-week cycles, CR within 2 cycles, responders up to 5 cycles
    # (as MT103-211's plan); the course's other settings keep their (adult) defaults.
    "mt103_205": {
        "simulation.lattice_size": 120,
        "simulation.record_every_hours": 6.0,
        "course.plan": "mt103_211",
        "endpoints.assessment_days": ASSESSMENT_DAYS["mt103_211"],
    },
    # ALCANTARA (Martinelli 2017): as MT103-211, 2 induction cycles then up to 3 more for responders.
    "alcantara": {
        "simulation.lattice_size": 120,
        "simulation.record_every_hours": 6.0,
        "course.plan": "mt103_211",
        "endpoints.assessment_days": ASSESSMENT_DAYS["mt103_211"],
    },
    "blast": {
        "endpoints.assessment_days": ASSESSMENT_DAYS["blast"],
        "simulation.lattice_size": 224,
        "simulation.record_every_hours": 6.0,
        "simulation.days": 30.0,
        "course.plan": "blast",
        # Gokbuget 2018: 67% of the Ph-negative patients in continuous CR went on to HSCT.
        "course.hsct_uptake": 0.67,
        # A first relapse (BLAST's patients were mostly in first CR): median survival 24 weeks
        # after relapse (Fielding 2007, 609 adults), not the 3.3 months of R/R patients after salvage.
        "course.failure_survival_median_days": 168.0,
        # Of them 7% alive at 5 years (Fielding 2007), rescued by later therapy: 0.07 / exp(-0.05 x 5).
        "course.failure_rescued_share": 0.09,
    },
}
#: The MRD >= 1e-4 cohort runs as BLAST does (same protocol and follow-up).
TRIAL_SETTINGS["mrd_1e4"] = dict(TRIAL_SETTINGS["blast"])


def cohort_settings(name: str) -> dict[str, Any]:
    """The settings every patient of a trial's cohort runs with: the cohort's ``fixed`` settings
    (:mod:`blinasim.trials.cohort`), then :data:`TRIAL_SETTINGS` (which win, as in :func:`run_patient`)."""
    if name not in COHORTS:
        raise ValueError(f"unknown cohort {name!r}; known: {', '.join(COHORTS)}")
    return {**COHORTS[name].fixed, **TRIAL_SETTINGS.get(name, {})}


#: One patient's job: (trial, patient index, config overrides, root seed).
PatientJob = tuple[str, int, dict[str, Any], int]


def patient_config(trial: str, overrides: dict[str, Any], extra: dict[str, Any] | None = None):
    """A trial patient's config: the patient's overrides, then the trial's :data:`TRIAL_SETTINGS`
    (which win), then ``extra``."""
    return load_config(None, {**overrides, **TRIAL_SETTINGS.get(trial, {}), **(extra or {})})


def run_patient(job: PatientJob) -> dict[str, Any]:
    """Run one virtual patient; returns its read-outs (picklable, for any runner).

    Parameters
    ----------
    job
        ``(trial, index, overrides, seed)``: the patient's overrides (then the trial's
        :data:`TRIAL_SETTINGS`, which win) and the root seed; the run seed is
        ``run_seed(seed, index, 0)``.

    Returns
    -------
    dict
        ``trial``, ``patient`` and :func:`blinasim.clinical.endpoints.patient_read_outs`.
    """
    trial, index, overrides, seed = job
    config = patient_config(trial, overrides)
    ds = simulate(config, seed=run_seed(seed, index, 0))
    return {"trial": trial, "patient": index, **patient_read_outs(ds, config.patient.blood_volume_l)}


def patient_jobs(
    cohorts: dict[str, list[dict[str, Any]]], seed: int, overrides: dict[str, Any] | None = None
) -> list[PatientJob]:
    """The jobs of every patient of every cohort: each patient's overrides, then ``overrides``."""
    return [
        (trial, i, {**patient, **(overrides or {})}, seed)
        for trial, patients in cohorts.items()
        for i, patient in enumerate(patients)
    ]


def run_cohorts(
    cohorts: dict[str, list[dict[str, Any]]],
    seed: int,
    overrides: dict[str, Any] | None = None,
    workers: int = 2,
    runner: Runner | None = None,
) -> list[dict[str, Any]]:
    """Run every patient of every cohort and return their read-outs, in cohort and patient order.

    Parameters
    ----------
    cohorts
        Trial name -> patients (dotted-key overrides, :func:`blinasim.trials.cohort.draw_cohort`).
    seed
        Root seed; patient ``i`` of a cohort runs with ``run_seed(seed, i, 0)``.
    overrides
        Applied to every patient after its own attributes (then :data:`TRIAL_SETTINGS`).
    workers
        Local worker processes started for this call when no ``runner`` is given; 1 runs in
        this process.
    runner
        Where the patients run (:class:`blinasim.core.worker.Runner`), e.g. an experiment
        executor or a :class:`blinasim.core.worker.WorkerPool` kept warm across calls.

    Returns
    -------
    list of dict
        One :func:`run_patient` record per patient; identical wherever they ran.
    """
    with runner_or_pool(runner, workers) as run:
        return list(run.map(run_patient, patient_jobs(cohorts, seed, overrides)))


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
    """Endpoint rates of one trial's patients, one per :data:`blinasim.clinical.endpoints.TRIAL_ENDPOINTS`
    (patients whose read-out is NaN, or missing from a record made before it existed, are not counted)."""
    rows = [r for r in results if r["trial"] == trial]
    return {e.name: Rate(*e.count(r.get(e.source, math.nan) for r in rows)) for e in TRIAL_ENDPOINTS}


#: The response of :func:`treg_split` and :func:`relapse_free_survival`.
CR_CRH = ENDPOINT_BY_NAME["cr_crh"]

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
    responded = [bool(CR_CRH.holds(r["cr_crh"])) for r in rows]
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
    rows = [r for r in results if r["trial"] == trial and CR_CRH.holds(r.get("cr_crh", math.nan))]
    durations, observed = [], []
    for r in rows:
        relapsed = not math.isnan(r["relapse_day"])
        end = r["relapse_day"] if relapsed else r["follow_up_day"]
        durations.append(end - r["response_day"])
        observed.append(relapsed)
    return kaplan_meier(durations, observed)
