"""Stages 6 and 7 of the calibration: scans of the MT103-211-like calibration cohort.

Three targets of the R/R trial are rates of thresholds crossed (CRS of any
grade 14% and grade >= 3 3%, neurotoxicity of any grade ~50% and grade >= 3
~15%, cycle 1), and each virtual patient carries its own myeloid IL-6
response, so the cycle-1 peaks of the graded signals spread between patients.
A grade threshold put at the ``1 - rate`` quantile of the cohort's peaks is
reached by a share ``rate`` of the cohort (:func:`level_reached_by`, the
quantile-to-threshold mapping).

* Stage 6 (:func:`rr_scan`): one run of the cohort with given overrides, its
  CR/CRh and the quantiles of its cycle-1 peak CRS signal. The regulatory-T
  suppression acts through the mean T-cell activation, which the MRD patients
  barely raise, so its half-maximal share is set against CR/CRh alone (a
  one-dimensional scan over repeated runs), and the IFN-gamma release against
  CRS of any grade (the IL-6 signal scales with the release).
* Stage 7 (:func:`calibrate_toxicity`): the CRS and neurotoxicity mappings in
  three runs of one or more cohorts (drawn with different seeds, their peaks
  pooled): (1) with the current settings, the IL-6 gain
  ``cytokines.il6_per_ifng`` is scaled so that the 86th percentile of the
  cycle-1 peak CRS signal (which is proportional to it) sits on the grade-1
  threshold, which stays where it is (:func:`il6_gain`); (2) with that gain,
  the grade-3 CRS threshold goes on the 97th percentile of the peak CRS
  signal, and the neurotoxicity grade-1 and grade-3 thresholds on the 50th
  and 85th percentiles of the peak neurotoxicity exposure; grades 2 and 4
  keep their places relative to grades 1 and 3 on a log scale
  (:func:`toxicity_thresholds`); (3) with everything set, a check of the
  procedure on the cohorts it was fitted to (the protocol reacts to the
  grades, so the thresholds can move the peaks that follow a hold).

The rates come from :data:`blinasim.trials.calibration.targets.TARGETS`; the
values found and the runs behind them are in docs/validation.md and
docs/calibration/stage6/, stage7/.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from blinasim.core.worker import Runner, runner_or_pool
from blinasim.params.schema import ToxicityConfig, load_config
from blinasim.trials.calibration.parameters import spaced_thresholds
from blinasim.trials.calibration.targets import TARGET_BY_NAME, TRIAL_TARGETS
from blinasim.trials.trial import patient_jobs, rates, run_cohorts, run_patient

#: The trial whose cohort stages 6 and 7 run.
RR_TRIAL = "mt103_211"
#: Quantiles of the cycle-1 peak CRS signal that stage 6 reports.
SCAN_QUANTILES = (0.5, 0.8, 0.86, 0.9, 0.95, 0.97, 0.99)
#: The patient read-outs of the cycle-1 peaks (:func:`blinasim.clinical.endpoints.cycle1_peaks`).
CRS_PEAK = "crs_signal_peak_cycle1"
NEURO_PEAK = "neuro_exposure_peak_cycle1"
CRS_THRESHOLDS = "toxicity.crs_il6_thresholds_pg_per_ml"
NEURO_THRESHOLDS = "toxicity.neuro_thresholds_pg_per_ml"
IL6_GAIN = "cytokines.il6_per_ifng"


# ------------------------------------------------------------ the mapping


def level_reached_by(peaks: Any, rate: float) -> float:
    """The signal level that a share ``rate`` of the patients reach: the ``1 - rate`` quantile of
    their peaks. A grade threshold put there is crossed by ``rate`` of the cohort."""
    return float(np.quantile(peaks, 1 - rate))


def share_reaching(peaks: Any, level: float) -> float:
    """The share of the patients whose peak reaches ``level`` (the inverse of :func:`level_reached_by`)."""
    return float(np.mean(np.asarray(peaks) >= level))


def il6_gain(gain: float, grade1: float, crs_peaks: Any, crs_any: float) -> float:
    """The IL-6 gain that makes a share ``crs_any`` of the patients reach the grade-1 threshold.

    The peak CRS signal is proportional to the gain (``cytokines.il6_per_ifng``), so scaling
    the gain by ``grade1 / level`` moves the level reached by ``crs_any`` of the patients
    (:func:`level_reached_by`) onto ``grade1``.

    Parameters
    ----------
    gain
        The gain the peaks were measured with.
    grade1
        The grade-1 CRS threshold (pg/mL), which stays where it is.
    crs_peaks
        Each patient's cycle-1 peak CRS signal (pg/mL).
    crs_any
        The target rate of CRS of any grade.
    """
    return gain * grade1 / level_reached_by(crs_peaks, crs_any)


def toxicity_thresholds(
    crs_peaks: Any, neuro_peaks: Any, toxicity: ToxicityConfig, targets: dict[str, Any] = TARGET_BY_NAME
) -> dict[str, list[float]]:
    """The CRS and neurotoxicity grade thresholds that give the target rates on these peaks.

    CRS: grade 1 stays at ``toxicity``'s, grade 3 goes to the level reached by ``crs_grade3`` of
    the patients. Neurotoxicity: grades 1 and 3 go to the levels reached by ``neurotox_any`` and
    ``neurotox_grade3``. Grades 2 and 4 keep their places relative to grades 1 and 3 on a log
    scale (:func:`blinasim.trials.calibration.parameters.spaced_thresholds`); values rounded to 0.1.

    Returns
    -------
    dict
        Config overrides: ``toxicity.crs_il6_thresholds_pg_per_ml`` and ``toxicity.neuro_thresholds_pg_per_ml``.
    """
    crs = toxicity.crs_il6_thresholds_pg_per_ml
    neuro = toxicity.neuro_thresholds_pg_per_ml
    crs_new = spaced_thresholds(crs[0], level_reached_by(crs_peaks, targets["crs_grade3"].value), crs)
    neuro_new = spaced_thresholds(
        level_reached_by(neuro_peaks, targets["neurotox_any"].value),
        level_reached_by(neuro_peaks, targets["neurotox_grade3"].value),
        neuro,
    )
    return {CRS_THRESHOLDS: [round(v, 1) for v in crs_new], NEURO_THRESHOLDS: [round(v, 1) for v in neuro_new]}


# ------------------------------------------------------------ stage 6


@dataclass
class RRScan:
    """One run of the calibration cohort (stage 6): CR/CRh and the cycle-1 peak CRS signals.

    Attributes
    ----------
    overrides
        The config overrides the cohort ran with.
    n, seed
        Cohort size and seed.
    cr_crh
        The CR/CRh rate (assessable patients).
    grade1
        The grade-1 CRS threshold of the run (pg/mL).
    peaks
        Each patient's cycle-1 peak CRS signal (pg/mL).
    responses
        Each patient's CR/CRh (1, 0 or NaN).
    """

    overrides: dict[str, Any]
    n: int
    seed: int
    cr_crh: float
    grade1: float
    peaks: list[float]
    responses: list[float]

    @property
    def crs_any(self) -> float:
        """The share of patients whose peak CRS signal reaches the grade-1 threshold."""
        return share_reaching(self.peaks, self.grade1)

    def quantiles(self, qs: tuple[float, ...] = SCAN_QUANTILES) -> dict[float, float]:
        """Quantiles of the peak CRS signal (pg/mL)."""
        return {q: float(np.quantile(self.peaks, q)) for q in qs}

    def format(self) -> str:
        """What ``blinasim calibrate scan`` prints."""
        lines = [
            f"CR/CRh {self.cr_crh:.3f} ({self.n} patients, seed {self.seed}, overrides {self.overrides})",
            f"CRS any grade {self.crs_any:.3f} (peak cycle-1 CRS signal >= {self.grade1:g} pg/mL)",
        ]
        lines += [f"  {q:.2f} quantile of the peak CRS signal: {v:8.1f} pg/mL" for q, v in self.quantiles().items()]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The record written with ``--json``."""
        return {"overrides": self.overrides, "peaks": self.peaks, "cr_crh": self.responses}


def rr_scan(
    cohort: list[dict[str, Any]],
    seed: int,
    overrides: dict[str, Any] | None = None,
    *,
    runner: Runner | None = None,
    workers: int = 2,
) -> RRScan:
    """Stage 6: run the MT103-211-like calibration cohort once with ``overrides``.

    Parameters
    ----------
    cohort
        The patients (:func:`blinasim.trials.cohort.draw_cohort`).
    seed
        Root seed of the runs (the calibration uses the cohort's seed).
    overrides
        Config overrides for every patient (the values scanned).
    runner, workers
        Where the patients run (:func:`blinasim.trials.trial.run_cohorts`).
    """
    overrides = dict(overrides or {})
    results = run_cohorts({RR_TRIAL: cohort}, seed, overrides, workers, runner)
    return RRScan(
        overrides,
        len(cohort),
        seed,
        rates(results, RR_TRIAL)["cr_crh"].value,
        load_config(None, overrides).toxicity.crs_il6_thresholds_pg_per_ml[0],
        [r[CRS_PEAK] for r in results],
        [r["cr_crh"] for r in results],
    )


# ------------------------------------------------------------ stage 7


@dataclass
class ToxicityStep:
    """One run of the cohort in stage 7: its overrides, rates and cycle-1 peaks."""

    step: str
    overrides: dict[str, Any]
    rates: dict[str, float]
    crs_peaks: list[float]
    neuro_peaks: list[float]
    seconds: float = float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "overrides": self.overrides,
            "rates": self.rates,
            "crs_peaks": self.crs_peaks,
            "neuro_peaks": self.neuro_peaks,
        }


@dataclass
class ToxicityCalibration:
    """The outcome of stage 7: the three steps and the overrides found (``result``).

    ``n`` counts the patients of every cohort; ``seeds`` are the cohorts' seeds, in run order."""

    n: int
    seeds: list[int]
    overrides: dict[str, Any]
    steps: list[ToxicityStep] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record written with ``--json``."""
        return {
            "n": self.n,
            "seeds": self.seeds,
            "overrides": self.overrides,
            "steps": [s.to_json() for s in self.steps],
            "result": self.result,
        }


def calibrate_toxicity(
    cohorts: Mapping[int, list[dict[str, Any]]],
    overrides: dict[str, Any] | None = None,
    *,
    runner: Runner | None = None,
    workers: int = 2,
    on_message: Callable[[str], None] | None = None,
) -> ToxicityCalibration:
    """Stage 7: set the IL-6 gain and the CRS and neurotoxicity thresholds from the cohorts' peaks.

    The peaks of every cohort are pooled, so that no one cohort's draw sets the mapping: a
    cohort of 200 R/R patients can sit 15-20% off the average in the level its 86th percentile
    reaches (docs/validation.md, 'Stage 7 on four cohorts').

    Parameters
    ----------
    cohorts
        Seed -> MT103-211-like calibration patients (:func:`blinasim.trials.cohort.draw_cohort`
        with that seed); each cohort runs with its own seed as the root seed.
    overrides
        Config overrides the procedure starts from (kept in every step).
    runner, workers
        Where the patients run; without a runner one pool of ``workers`` processes serves the
        three steps, each of which runs every cohort's patients in one batch.
    on_message
        Called with a line after each step and each value set (``print`` on the command line).

    Returns
    -------
    ToxicityCalibration
        The steps and ``result``: the overrides set beyond ``overrides``.
    """
    if not cohorts:
        raise ValueError("stage 7 needs at least one cohort")
    say = on_message or (lambda msg: None)
    overrides = dict(overrides or {})
    record = ToxicityCalibration(sum(len(c) for c in cohorts.values()), list(cohorts), dict(overrides))
    shown = TRIAL_TARGETS[RR_TRIAL]

    def run(step: str, over: dict[str, Any], pool: Runner) -> ToxicityStep:
        t0 = time.time()
        jobs = [job for seed, cohort in cohorts.items() for job in patient_jobs({RR_TRIAL: cohort}, seed, over)]
        results = list(pool.map(run_patient, jobs))
        rr = rates(results, RR_TRIAL)
        done = ToxicityStep(
            step,
            dict(over),
            {name: rr[name].value for name in shown},
            [r[CRS_PEAK] for r in results],
            [r[NEURO_PEAK] for r in results],
            time.time() - t0,
        )
        say(f"{step} ({done.seconds:.0f} s): " + ", ".join(f"{k} {v:.3f}" for k, v in done.rates.items()))
        record.steps.append(done)
        return done

    config = load_config(None, overrides)
    with runner_or_pool(runner, workers) as pool:
        first = run("1: current settings", overrides, pool)
        gain = il6_gain(
            config.cytokines.il6_per_ifng,
            config.toxicity.crs_il6_thresholds_pg_per_ml[0],
            first.crs_peaks,
            TARGET_BY_NAME["crs_any"].value,
        )
        step2 = {**overrides, IL6_GAIN: float(gain)}
        say(f"  {IL6_GAIN} {config.cytokines.il6_per_ifng:g} -> {gain:.4g}")
        second = run("2: IL-6 gain set", step2, pool)
        step3 = {**step2, **toxicity_thresholds(second.crs_peaks, second.neuro_peaks, config.toxicity)}
        say(f"  {CRS_THRESHOLDS} {step3[CRS_THRESHOLDS]}")
        say(f"  {NEURO_THRESHOLDS} {step3[NEURO_THRESHOLDS]}")
        run("3: check on the calibration cohort", step3, pool)
    record.result = {k: v for k, v in step3.items() if k not in overrides}
    return record
