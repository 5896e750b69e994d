"""Response and toxicity by marrow blast burden on an MT103-211-like cohort (docs/validation.md, "Burden").

    python scripts/burden_subgroups.py N SEED '{"course.plan": "none", ...overrides}' [OUT.json]

Runs N patients of the ``mt103_211`` cohort (seed SEED) with the overrides, and prints the trial's rates (Wilson 95% intervals) for patients below 50% marrow
blasts, at or above 50%, and all, as the pooled analysis of five trials split them
([BMBlasts2023] on docs/references.md).

The trial's settings (``blinasim.trials.trial.TRIAL_SETTINGS``) win over the overrides, as in every
trial run: the ``course.plan`` of the commands recorded in docs/validation.md did not replace the
trial's plan, so those records are the trial's whole course (and a run with ``'{}'`` reproduces the
validation test's patients of the same seed).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import rates, run_cohorts


def by_burden(
    n: int, seed: int, extra: dict, out: str | None = None, adjust: Callable[[dict], None] | None = None
) -> tuple[list[float], list[dict]]:
    """Run N patients of the ``mt103_211`` cohort with ``extra``; returns each patient's marrow blast
    fraction and read-outs, and writes them to ``out`` (JSON, one record per patient) when given.
    ``adjust``, when given, changes each drawn patient's attributes in place before the run."""
    patients = draw_cohort("mt103_211", n, seed)
    if adjust is not None:
        for patient in patients:
            adjust(patient)
    results = run_cohorts({"mt103_211": patients}, seed, overrides=extra, workers=2)
    burden = [p["patient.marrow_blast_fraction"] for p in patients]
    if out is not None:
        with open(out, "w") as fh:
            json.dump([{"bf": b, **r} for b, r in zip(burden, results, strict=True)], fh)
    return burden, results


def main(argv: list[str]) -> None:
    extra = json.loads(argv[2]) if len(argv) > 2 else {}
    burden, results = by_burden(int(argv[0]), int(argv[1]), extra, argv[3] if len(argv) > 3 else None)
    for lo, hi in ((0.0, 0.5), (0.5, 1.0), (0.0, 1.0)):
        group = [r for b, r in zip(burden, results, strict=True) if lo <= b < hi]
        rt = rates(group, "mt103_211")
        print(f"blasts [{lo},{hi}): n={len(group)}", "; ".join(f"{k}={v}" for k, v in rt.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
