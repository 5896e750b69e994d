"""Stage 8 of the calibration: survival (docs/validation.md, "Survival").

    python scripts/calibrate_survival.py --n 200 --seed 8191 [--medians 1e-7,1e-6,1e-5,1e-4]

Runs the lattice part of n MT103-211-like and n BLAST-like virtual patients
once, then follows every clinical course again for each candidate cohort median
of ``patient.sanctuary_fraction`` and prints each survival target's model value
and miss (:mod:`blinasim.trials.calibration.survival`). The candidate with the
smallest summed squared miss over the MT103-211 RFS and the BLAST RFS at 18
months is reported as the choice.
"""

from __future__ import annotations

import argparse
import math
import pickle
import time
from pathlib import Path

from blinasim.trials.calibration.survival import SURVIVAL_TARGETS, course_settings, lattice_runs, miss, scan_sanctuary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=8191)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--medians", default="1e-8,1e-7,1e-6,1e-5,1e-4")
    parser.add_argument("--cache", type=Path, help="keep the lattice runs in this file and reuse them")
    parser.add_argument(
        "--course",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a course setting (number) for every candidate, e.g. course.regrowth_log_sd=1 (a sensitivity)",
    )
    args = parser.parse_args()
    try:
        course = course_settings(args.course)
    except ValueError as err:
        parser.error(f"--course {err}")
    start = time.perf_counter()
    if args.cache and args.cache.exists():
        runs = pickle.loads(args.cache.read_bytes())
        print(f"lattice runs: {len(runs)} patients from {args.cache}", flush=True)
    else:
        runs = lattice_runs(args.n, args.seed, workers=args.workers)
        print(f"lattice runs: {len(runs)} patients in {time.perf_counter() - start:.0f} s", flush=True)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(runs))
    medians = [float(m) for m in args.medians.split(",")]
    start = time.perf_counter()
    table = scan_sanctuary(runs, args.seed, medians, course)
    print(f"courses followed again for {len(medians)} candidates in {time.perf_counter() - start:.0f} s")
    header = "sanctuary median | " + " | ".join(f"{t.trial} {t.name} (target {t.value})" for t in SURVIVAL_TARGETS)
    print(header)
    best, best_score = None, math.inf
    for median, values in table:
        cells = []
        for t in SURVIVAL_TARGETS:
            v = values[(t.trial, t.name)]
            cells.append(f"{v:.3g} (miss {miss(t, v):+.2f})")
        print(f"{median:.0e} | " + " | ".join(cells))
        fitted = [t for t in SURVIVAL_TARGETS if t.name in ("median_rfs_months", "rfs_18_months")]
        score = sum(miss(t, values[(t.trial, t.name)]) ** 2 for t in fitted)
        if score < best_score:
            best, best_score = median, score
    print(f"choice: sanctuary median {best:.0e} (summed squared miss of the two RFS targets {best_score:.3f})")


if __name__ == "__main__":
    main()
