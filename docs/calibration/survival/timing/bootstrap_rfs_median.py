"""The sampling spread of stage 8's MT103-211 median RFS: a bootstrap over the CR/CRh patients of one or
more calibration caches pooled (docs/validation.md, "The pace of regrowth and BLAST's event timing").

    python docs/calibration/survival/timing/bootstrap_rfs_median.py CACHE.pkl SEED [CACHE.pkl SEED ...]

Each cache (``scripts/calibrate_survival.py --cache``, written at the current defaults) is followed at the
current defaults with its seed; 500 resamples of the responders (generator seed 1).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

from blinasim.stats import kaplan_meier
from blinasim.trials.calibration.survival import MONTH, follow_rows


def median_months(rows: list[dict[str, float]]) -> float:
    return kaplan_meier([r["rfs_days"] for r in rows], [r["rfs_event"] == 1.0 for r in rows]).median() / MONTH


def main(argv: list[str]) -> None:
    if not argv or len(argv) % 2 or not all(Path(p).is_file() for p in argv[::2]):
        sys.exit("usage: bootstrap_rfs_median.py CACHE.pkl SEED [CACHE.pkl SEED ...]")
    rows = []
    for cache, seed in zip(argv[::2], argv[1::2], strict=True):
        runs = pickle.loads(Path(cache).read_bytes())
        rows += [r for r in follow_rows(runs, int(seed))["mt103_211"] if r["cr_crh"] == 1.0]
    rng = np.random.default_rng(1)
    boot = [median_months([rows[i] for i in rng.integers(0, len(rows), len(rows))]) for _ in range(500)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    print(
        f"{len(rows)} responders; median RFS {median_months(rows):.2f} months; bootstrap SD {np.std(boot):.2f}, "
        f"2.5-97.5% {lo:.2f}-{hi:.2f}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
