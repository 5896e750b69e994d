"""CRS and neurotoxicity by marrow blast burden over cycle 1 (docs/validation.md, "Dexamethasone once per path to IL-6").

    python docs/calibration/crs_burden/probe.py N SEED '{"overrides": ...}' [OUT.json]

Runs N patients of the ``mt103_211`` cohort (seed SEED) for the first 24 days of cycle 1 (where CRS
and the neurotoxicity of the first exposure happen; no response is read) and prints, below 50%
marrow blasts and at or above, the share with CRS of any grade and grade >= 3, the median peak CRS
signal, and neurotoxicity of any grade and grade >= 3.

The grades are those of the defaults' mapping. A variant that raises the surge several-fold puts
its upper tail among the peaks that the grade-3 holds cap (docs/validation.md, "CRS by burden,
gain-matched"); the probe then says so (``CAPPED``), and the variant should be run again with
``cytokines.il6_per_ifng`` lowered before its upper tail is compared.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

import numpy as np
from burden_subgroups import by_burden  # scripts/burden_subgroups.py

import blinasim


def summary(group: list[dict]) -> str:
    n = len(group)
    if n == 0:
        return "n=0"
    share = lambda key, g: sum(r[key] >= g for r in group) / n  # noqa: E731
    peak = statistics.median(r["crs_signal_peak_cycle1"] for r in group)
    return (
        f"n={n} crs>=1 {share('max_crs_grade', 1):.3f} crs>=3 {share('max_crs_grade', 3):.3f} "
        f"median peak {peak:.1f} pg/mL; neuro>=1 {share('max_neurotoxicity_grade', 1):.3f} "
        f"neuro>=3 {share('max_neurotoxicity_grade', 3):.3f}"
    )


#: The 86th percentile of the peaks within this share of the grade-3 threshold reads as capped.
CAPPED_SHARE = 0.9


def grade3_threshold(overrides: dict) -> float:
    """The grade-3 CRS threshold of the mapping a probe runs with (the defaults' unless overridden)."""
    cfg = blinasim.load_config(None, {k: v for k, v in overrides.items() if k.startswith("toxicity.")})
    return cfg.toxicity.crs_il6_thresholds_pg_per_ml[2]


def capped_note(peaks: list[float] | np.ndarray, grade3: float) -> str:
    """A warning when the 86th percentile of the peaks sits among the peaks the grade-3 holds cap."""
    q86 = float(np.quantile(peaks, 0.86))
    if q86 < CAPPED_SHARE * grade3:
        return ""
    return (
        f"CAPPED: the 86th percentile of the peaks, {q86:.1f} pg/mL, is within {1 - CAPPED_SHARE:.0%} of the "
        f"grade-3 threshold {grade3:.1f} pg/mL; lower cytokines.il6_per_ifng before comparing the upper tail"
    )


def report(burden: list[float], results: list[dict], extra: dict) -> None:
    """Print the groups below 50% marrow blasts and at or above (:func:`summary`), and the capped warning."""
    for lo, hi in ((0.0, 0.5), (0.5, 1.01)):
        print(
            f"blasts [{lo},{min(hi, 1.0)}):", summary([r for b, r in zip(burden, results, strict=True) if lo <= b < hi])
        )
    note = capped_note([r["crs_signal_peak_cycle1"] for r in results], grade3_threshold(extra))
    if note:
        print(note)


def main(argv: list[str]) -> None:
    extra = {"course.plan": "none", "simulation.days": 24.0, **(json.loads(argv[2]) if len(argv) > 2 else {})}
    burden, results = by_burden(int(argv[0]), int(argv[1]), extra, argv[3] if len(argv) > 3 else None)
    report(burden, results, extra)


if __name__ == "__main__":
    main(sys.argv[1:])
