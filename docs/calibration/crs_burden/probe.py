"""CRS and neurotoxicity by marrow blast burden over cycle 1 (docs/validation.md, "CRS and burden").

    python docs/calibration/crs_burden/probe.py N SEED '{"overrides": ...}' [OUT.json]

Runs N patients of the ``mt103_211`` cohort (seed SEED) for the first 24 days of cycle 1 (where CRS
and the neurotoxicity of the first exposure happen; no response is read) and prints, below 50%
marrow blasts and at or above, the share with CRS of any grade and grade >= 3, the median peak CRS
signal, and neurotoxicity of any grade and grade >= 3.
"""

from __future__ import annotations

import json
import statistics
import sys

from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import run_cohorts


def summary(group: list[dict]) -> str:
    n = len(group)
    share = lambda key, g: sum(r[key] >= g for r in group) / n  # noqa: E731
    peak = statistics.median(r["crs_signal_peak_cycle1"] for r in group)
    return (
        f"n={n} crs>=1 {share('max_crs_grade', 1):.3f} crs>=3 {share('max_crs_grade', 3):.3f} "
        f"median peak {peak:.1f} pg/mL; neuro>=1 {share('max_neurotoxicity_grade', 1):.3f} "
        f"neuro>=3 {share('max_neurotoxicity_grade', 3):.3f}"
    )


def main(argv: list[str]) -> None:
    n, seed = int(argv[0]), int(argv[1])
    extra = {"course.plan": "none", "simulation.days": 24.0, **(json.loads(argv[2]) if len(argv) > 2 else {})}
    patients = draw_cohort("mt103_211", n, seed)
    results = run_cohorts({"mt103_211": patients}, seed, overrides=extra, workers=2)
    burden = [p["patient.marrow_blast_fraction"] for p in patients]
    if len(argv) > 3:
        with open(argv[3], "w") as fh:
            json.dump([{"bf": b, **r} for b, r in zip(burden, results, strict=True)], fh)
    for lo, hi in ((0.0, 0.5), (0.5, 1.01)):
        print(
            f"blasts [{lo},{min(hi, 1.0)}):", summary([r for b, r in zip(burden, results, strict=True) if lo <= b < hi])
        )


if __name__ == "__main__":
    main(sys.argv[1:])
