"""Run the MT103-211-like and BLAST-like virtual trials and compare them with the trials.

    python scripts/virtual_trial.py --n 200 --seed 7 [--set KEY=VALUE ...] [--json out.json]

Prints each endpoint with its Wilson 95% confidence interval next to the trial's
value and whether the trial's value lies inside the interval.
"""

from __future__ import annotations

import argparse
import json
import time

from blinasim.cohort import draw_cohort
from blinasim.config import parse_overrides
from blinasim.trial import rates, run_cohorts

TARGETS = {
    ("mt103_211", "cr_crh"): 0.43,
    ("mt103_211", "crs_any"): 0.14,
    ("mt103_211", "crs_grade3"): 0.03,
    ("blast", "mrd_response"): 0.78,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="patients per trial")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", dest="sets", action="append", default=[], help="config override KEY=VALUE")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    overrides = parse_overrides(args.sets)
    cohorts = {trial: draw_cohort(trial, args.n, args.seed) for trial in ("mt103_211", "blast")}
    t0 = time.time()
    results = run_cohorts(cohorts, args.seed, overrides, args.workers)
    print(f"{len(results)} virtual patients in {time.time() - t0:.0f} s (seed {args.seed}, overrides {overrides})")
    summary = {}
    for trial in cohorts:
        print(f"\n{trial}:")
        for name, rate in rates(results, trial).items():
            target = TARGETS.get((trial, name))
            lo, hi = rate.ci95
            verdict = (
                "" if target is None else (" inside" if lo <= target <= hi else " MISS") + f" (trial {target:.2f})"
            )
            print(f"  {name:16s} {rate}{verdict}")
            summary[f"{trial}.{name}"] = {"value": rate.value, "n": rate.n, "ci95": [lo, hi], "target": target}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"n": args.n, "seed": args.seed, "overrides": overrides, "endpoints": summary}, fh, indent=1)


if __name__ == "__main__":
    main()
