"""Verification of a calibration: fresh MT103-211-like and BLAST-like virtual trials against the trials.

Each trial endpoint is reported with its Wilson 95% confidence interval; a
claimed endpoint (:data:`blinasim.trials.calibration.targets.CLAIMED`) beside
the trial's value and whether that value lies inside the interval. Then the
other calibration targets (blood kinetics of the BLAST-like patients, Klinger
2012; the in-vitro exhaustion assay, Philipp 2022) with their misses, and
response against the regulatory-T share (Duell 2017, not a target). The
verification of docs/validation.md runs 200 + 200 patients on a seed no
calibration step saw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from blinasim.core.worker import Runner, runner_or_pool
from blinasim.trials.calibration.assay import run_assay
from blinasim.trials.calibration.targets import CLAIMED, TARGET_BY_NAME, TARGETS, score, summarise
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import TREG_CUTOFF, Rate, rates, run_cohorts, treg_split

#: The trials a verification runs.
VERIFY_TRIALS = ("mt103_211", "blast")
#: The claimed endpoints' trial values: (trial, rate name) -> target.
RATE_TARGETS: dict[tuple[str, str], float] = {(trial, name): TARGET_BY_NAME[name].value for trial, name in CLAIMED}
#: The rows of the Treg split (:func:`blinasim.trials.trial.treg_split`), as printed.
TREG_ROWS = (
    ("responders_below", "responders with Tregs below the cutoff"),
    ("nonresponders_above", "non-responders with Tregs above it"),
    ("response_below", "CR/CRh below the cutoff"),
    ("response_above", "CR/CRh above the cutoff"),
)


@dataclass
class Verification:
    """The outcome of :func:`verify`.

    Attributes
    ----------
    n, seed, overrides
        Patients per trial, the cohort and run seed, the config overrides.
    patients
        Every patient's read-outs with its drawn ``attributes``.
    rates
        Trial -> endpoint -> :class:`blinasim.trials.trial.Rate`.
    values, misses, score
        Every calibration target's model value and miss, and the score.
    treg
        Response against the Treg share (:func:`blinasim.trials.trial.treg_split`).
    seconds
        Wall time of the virtual patients.
    """

    n: int
    seed: int
    overrides: dict[str, Any]
    patients: list[dict[str, Any]]
    rates: dict[str, dict[str, Rate]]
    values: dict[str, float]
    misses: dict[str, float]
    score: float
    treg: dict[str, Rate]
    seconds: float = float("nan")

    def verdicts(self) -> dict[tuple[str, str], bool]:
        """Whether each claimed endpoint's trial value lies inside the model's 95% interval."""
        out = {}
        for (trial, name), target in RATE_TARGETS.items():
            lo, hi = self.rates[trial][name].ci95
            out[(trial, name)] = lo <= target <= hi
        return out

    def endpoints(self) -> dict[str, dict[str, Any]]:
        """``"trial.endpoint"`` -> value, n, 95% interval and the trial's value (None if not claimed)."""
        out = {}
        for trial, by_name in self.rates.items():
            for name, rate in by_name.items():
                lo, hi = rate.ci95
                target = RATE_TARGETS.get((trial, name))
                out[f"{trial}.{name}"] = {"value": rate.value, "n": rate.n, "ci95": [lo, hi], "target": target}
        return out

    def format(self) -> str:
        """What ``blinasim calibrate verify`` prints, as plain text (tables in fixed-width columns)."""
        lines: list[str] = []
        for block in self.blocks():
            if isinstance(block, str):
                lines.append(block)
                continue
            _headers, rows = block
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        return "\n".join(lines)

    def blocks(self) -> list[str | tuple[list[str], list[list[str]]]]:
        """The verification as lines of text and tables (``(headers, rows)``), in order: each trial's
        endpoints with their verdicts, every calibration target with its miss, the Treg split. The command
        line draws the tables with :mod:`blinasim.terminal`; :meth:`format` writes them as plain columns."""
        out: list[str | tuple[list[str], list[list[str]]]] = [
            f"{len(self.patients)} virtual patients in {self.seconds:.0f} s "
            f"(seed {self.seed}, overrides {self.overrides})"
        ]
        inside = self.verdicts()
        for trial, by_name in self.rates.items():
            rows = []
            for name, rate in by_name.items():
                target = RATE_TARGETS.get((trial, name))
                verdict = (
                    "" if target is None else ("inside" if inside[(trial, name)] else "MISS") + f" (trial {target:.2f})"
                )
                rows.append([name, str(rate), verdict])
            out += ["", f"{trial}:", (["endpoint", "rate (95% CI)", "trial value in the interval"], rows)]
        out += [
            "",
            "all calibration targets (miss in units of what the study resolves; one-sided targets count shortfalls):",
            (
                ["target", "model", "trial", "miss", "source"],
                [
                    [
                        target.name,
                        f"{self.values[target.name]:.3f}",
                        f"{target.value:.3f}",
                        f"{self.misses[target.name]:+.2f}",
                        target.source,
                    ]
                    for target in TARGETS
                ],
            ),
            f"  score {self.score:.1f}",
            "",
            "regulatory T-cells, MT103-211-like (Duell 2017, not a calibration target: all 22 responders below "
            f"{TREG_CUTOFF:.2%} Tregs of CD4, 14 of 20 non-responders above):",
            (["patients", "share (95% CI)"], [[text, str(self.treg[key])] for key, text in TREG_ROWS]),
        ]
        return out

    def to_json(self) -> dict[str, Any]:
        """The record written with ``--json`` (read by ``scripts/validation_figures.py``)."""
        return {
            "n": self.n,
            "seed": self.seed,
            "overrides": self.overrides,
            "endpoints": self.endpoints(),
            "targets": self.values,
            "misses": self.misses,
            "score": self.score,
            "treg_split": {k: {"successes": v.successes, "n": v.n} for k, v in self.treg.items()},
            "patients": self.patients,
        }


def verify(
    n: int = 200,
    seed: int = 7,
    overrides: dict[str, Any] | None = None,
    *,
    assays: int = 2,
    runner: Runner | None = None,
    workers: int = 2,
) -> Verification:
    """Run ``n`` MT103-211-like and ``n`` BLAST-like patients and compare them with every target.

    Parameters
    ----------
    n
        Patients per trial.
    seed
        Cohort and run seed (pick one no calibration step used).
    overrides
        Config overrides for every patient (a candidate's values; none for the defaults).
    assays
        In-vitro co-culture seeds (``seed``, ``seed + 1``, ...).
    runner, workers
        Where the patients and assays run (:func:`blinasim.trials.trial.run_cohorts`).
    """
    overrides = dict(overrides or {})
    cohorts = {trial: draw_cohort(trial, n, seed) for trial in VERIFY_TRIALS}
    with runner_or_pool(runner, workers) as pool:
        t0 = time.time()
        patients = run_cohorts(cohorts, seed, overrides, runner=pool)
        seconds = time.time() - t0
        vitro = list(pool.map(run_assay, [(overrides, seed + k) for k in range(assays)]))
    by_trial = {trial: rates(patients, trial) for trial in cohorts}
    values = summarise(patients, vitro)
    total, misses = score(values)
    for r in patients:
        r["attributes"] = cohorts[r["trial"]][r["patient"]]
    return Verification(n, seed, overrides, patients, by_trial, values, misses, total, treg_split(patients), seconds)
