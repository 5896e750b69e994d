"""CRS by marrow-blast bin from ``probe.py`` records (docs/validation.md, "CRS by burden, bin by bin").

    python docs/calibration/crs_burden/bins/bins.py RECORD.json [RECORD.json ...]

For each record (``python docs/calibration/crs_burden/probe.py N SEED '{overrides}' RECORD.json``): per
bin of the marrow blast fraction, the patients with CRS of any grade (Wilson 95% interval) and of grade
>= 3 and the median cycle-1 peak of the CRS signal; then, below 50% blasts and at or above, the median
peak, their ratio, and each group's share above the record's own 86th percentile of the peaks (the
cohort's CRS rate read without the grade mapping).
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np

from blinasim.stats import wilson_ci

EDGES = (0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 0.971)


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit("usage: bins.py RECORD.json [RECORD.json ...] (records of docs/calibration/crs_burden/probe.py)")
    for path in paths:
        records = json.loads(Path(path).read_text())
        bf = np.array([r["bf"] for r in records])
        grade = np.array([r["max_crs_grade"] for r in records])
        peak = np.array([r["crs_signal_peak_cycle1"] for r in records])
        print(f"{path}: n={len(records)}, CRS any {np.mean(grade >= 1):.3f}, grade >= 3 {np.mean(grade >= 3):.3f}")
        for lo, hi in itertools.pairwise(EDGES):
            m = (bf >= lo) & (bf < hi)
            n, k, k3 = int(m.sum()), int((grade[m] >= 1).sum()), int((grade[m] >= 3).sum())
            p, ci_lo, ci_hi = wilson_ci(k, n)
            print(
                f"  blasts [{lo:.2f}, {min(hi, 0.97):.2f}): n={n:3d}; CRS any {k:3d} ({p:.3f}; {ci_lo:.2f}-{ci_hi:.2f}),"
                f" grade >= 3 {k3:2d}; median peak {np.median(peak[m]):.1f} pg/mL"
            )
        low, high = peak[bf < 0.5], peak[bf >= 0.5]
        q86 = float(np.quantile(peak, 0.86))
        print(
            f"  median peak < 50% {np.median(low):.1f}, >= 50% {np.median(high):.1f} (ratio "
            f"{np.median(high) / np.median(low):.2f}); above the 86th percentile ({q86:.1f} pg/mL): "
            f"< 50% {np.mean(low > q86):.3f}, >= 50% {np.mean(high > q86):.3f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
