"""Calibration targets, the model's value for each, and the score of a candidate.

Every published target (the studies on docs/references.md) that a run can be
compared with is listed in :data:`TARGETS` with its source, the size of the study that
measured it and the virtual trial whose patients give the model's value. A
candidate parameter set is scored by running the same virtual patients
(:mod:`blinasim.trials.cohort`, common random numbers) and the in-vitro
co-culture assay (:mod:`blinasim.trials.calibration.assay`), and summing
squared misses measured in units of what the study itself could resolve:

* clinical rates (CR/CRh, MRD response, CRS): ``(model - target) / SE`` with
  ``SE = sqrt(p (1 - p) / n)`` at the trial's own size ``n``;
* one-sided targets ("at least 90% of patients"): the same, counted only when
  the model falls short;
* the in-vitro exhaustion curve (Philipp 2022, a ratio of lytic activities):
  on a log scale, a factor of 2 counting as one unit.

A rate target has the name of the yes/no endpoint it counts
(:data:`blinasim.clinical.endpoints.YES_NO_ENDPOINTS`), so the endpoint is
defined once for trials, calibration and reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from blinasim.clinical.endpoints import ENDPOINT_BY_NAME


@dataclass(frozen=True)
class Target:
    """One calibration target.

    ``kind``: "rate" (two-sided proportion), "at_least" (one-sided proportion),
    "log_ratio" (a ratio compared on a log scale; ``n`` unused, ``unit`` is the
    factor counted as one unit of miss), "at_least_value" (a value that should
    reach ``value``; ``unit`` is the miss counted as one unit).

    ``trial``: the virtual trial whose patients give the model's value, the rate
    of the yes/no endpoint of the same name; empty for the in-vitro assay's
    read-outs (of the same name). ``claimed``: the calibrated defaults are
    claimed to reproduce it (:data:`CLAIMED`).
    """

    name: str
    value: float
    kind: str
    n: int
    source: str
    unit: float = 0.0
    trial: str = ""
    claimed: bool = False

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
    Target(
        "cr_crh",
        0.43,
        "rate",
        189,
        "MT103-211 (Topp 2015): CR/CRh within 2 cycles, 81/189",
        trial="mt103_211",
        claimed=True,
    ),
    Target(
        "crs_any",
        0.14,
        "rate",
        189,
        "R/R with step-up dosing (label; Topp 2015): CRS any grade, cycle 1",
        trial="mt103_211",
        claimed=True,
    ),
    Target(
        "crs_grade3",
        0.03,
        "rate",
        189,
        "R/R with step-up dosing (label; Topp 2015): CRS grade >= 3, cycle 1",
        trial="mt103_211",
        claimed=True,
    ),
    Target(
        "neurotox_any",
        0.50,
        "rate",
        189,
        "R/R (label; Topp 2015: neurological events 52%): neurotoxicity of any grade in ~50%",
        trial="mt103_211",
        claimed=True,
    ),
    Target(
        "neurotox_grade3",
        0.15,
        "rate",
        189,
        "R/R (label; Topp 2015: grade >= 3 in 13%): neurotoxicity grade >= 3 in ~15%",
        trial="mt103_211",
        claimed=True,
    ),
    Target(
        "mrd_response",
        0.78,
        "rate",
        116,
        "BLAST (Gokbuget 2018): complete MRD response after cycle 1, 88/113",
        trial="blast",
        claimed=True,
    ),
    Target(
        "b_depleted_day2",
        0.9,
        "at_least",
        20,
        "Klinger 2012 (MRD+ patients, ~20 evaluable): blood B cells < 1/uL by day ~2 in (nearly) all patients",
        trial="blast",
    ),
    Target(
        "t_nadir_day1",
        0.9,
        "at_least",
        20,
        "Klinger 2012: blood T-cell nadir within the first day in (nearly) all patients",
        trial="blast",
    ),
    Target(
        "t_expansion_2x",
        0.5,
        "at_least",
        20,
        "Klinger 2012: blood T-cells > 2x baseline by weeks 2-3 (read as: in at least half the patients)",
        trial="blast",
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

#: The (trial, endpoint) rates the calibrated defaults are claimed to reproduce (the targets marked
#: ``claimed``): each trial's value lies inside the 95% Wilson interval of its >= 200-patient virtual
#: trial (docs/validation.md, with the command and its output); tests/test_validation.py checks them.
#: The other targets are reported with their misses, not claimed.
CLAIMED: tuple[tuple[str, str], ...] = tuple((t.trial, t.name) for t in TARGETS if t.claimed)


@dataclass(frozen=True)
class PublishedRate:
    """A trial's published rate, compared in reports and never fitted: ``value`` of ``n`` patients.

    ``name`` is the yes/no endpoint it counts (the endpoint of the same name), or
    ``"mrd_response_among_cr_crh"`` for a response depth (of the CR/CRh within 2 cycles, the share with a
    complete MRD response, < 1e-4; ``n`` is then the trial's responders)."""

    name: str
    value: float
    n: int
    source: str


#: The published rates of the virtual trials that are compared, not calibrated (ALCANTARA, MT103-205),
#: by cohort; reports give them where :data:`TARGETS` has none for the cohort.
PUBLISHED_RATES: dict[str, tuple[PublishedRate, ...]] = {
    "alcantara": (
        PublishedRate("cr_crh", 16 / 45, 45, "[Martinelli2017]: CR/CRh within 2 cycles, 16/45"),
        PublishedRate("cr", 14 / 45, 45, "[Martinelli2017]: CR within 2 cycles, 14/45"),
        PublishedRate("crh", 2 / 45, 45, "[Martinelli2017]: CRh within 2 cycles, 2/45"),
    ),
    "mt103_205": (
        PublishedRate(
            "cr_crh",
            27 / 70,
            70,
            "[VonStackelberg2016]: CR (M1 marrow) within 2 cycles, 27/70 at the recommended dose; read as the "
            "model's CR/CRh (docs/validation.md, Pediatric cohort)",
        ),
    ),
}

#: The published response depth of each virtual trial that has one, by cohort (reports compare the
#: model's :func:`blinasim.experiments.report.response_depth` with it; stage 8 reports MT103-211's,
#: :mod:`blinasim.trials.calibration.survival`).
RESPONSE_DEPTH: dict[str, PublishedRate] = {
    "mt103_211": PublishedRate(
        "mrd_response_among_cr_crh",
        0.82,
        73,
        "[Topp2015]: MRD response (< 1e-4) within 2 cycles in 82% (95% CI 72-90%) of the CR/CRh responders "
        "evaluable for MRD",
    ),
    "alcantara": PublishedRate(
        "mrd_response_among_cr_crh",
        0.88,
        16,
        "[Martinelli2017]: complete MRD response in 14 of the 16 CR/CRh responders",
    ),
    "mt103_205": PublishedRate(
        "mrd_response_among_cr_crh",
        0.52,
        27,
        "[VonStackelberg2016]: complete MRD response in 14 of the 27 children with CR within 2 cycles",
    ),
}

#: The calibration targets each virtual trial is compared with, by name, in the order of :data:`TARGETS`.
TRIAL_TARGETS: dict[str, tuple[str, ...]] = {
    trial: tuple(t.name for t in TARGETS if t.trial == trial)
    for trial in dict.fromkeys(t.trial for t in TARGETS if t.trial)
}


def summarise(results: list[dict[str, Any]], assays: list[dict[str, float]]) -> dict[str, float]:
    """The model's value for every target, in the order of :data:`TARGETS`.

    Parameters
    ----------
    results
        Patient records of a virtual trial (:func:`blinasim.trials.trial.run_cohorts`): a rate
        target's value is the share of its trial's assessable patients with the endpoint of the
        same name (NaN when none is assessable).
    assays
        Read-outs of the in-vitro co-culture (:func:`blinasim.trials.calibration.assay.in_vitro_assay`),
        one per seed: their geometric mean (NaN ignored).
    """
    out: dict[str, float] = {}
    for target in TARGETS:
        if target.trial:
            endpoint = ENDPOINT_BY_NAME[target.name]
            k, n = endpoint.count(r[endpoint.source] for r in results if r["trial"] == target.trial)
            out[target.name] = k / n if n else math.nan
        else:
            values = [a[target.name] for a in assays if not math.isnan(a[target.name])]
            out[target.name] = float(np.exp(np.mean(np.log(np.maximum(values, 1e-6))))) if values else math.nan
    return out


def score(values: dict[str, float], targets: tuple[Target, ...] = TARGETS) -> tuple[float, dict[str, float]]:
    """Sum of squared misses (NaN misses count as 25, i.e. 5 units) and the misses per target."""
    misses = {t.name: t.miss(values.get(t.name, math.nan)) for t in targets}
    total = sum(25.0 if math.isnan(m) else m * m for m in misses.values())
    return total, misses
