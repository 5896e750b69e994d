"""Run the MT103-211-like and BLAST-like virtual trials and compare them with the trials.

    python scripts/virtual_trial.py --n 200 --seed 7 [--set KEY=VALUE ...] [--json out.json]

Prints each endpoint with its Wilson 95% confidence interval next to the trial's
value and whether the trial's value lies inside the interval, then the other
calibration targets (blood kinetics of the BLAST-like patients, Klinger 2012; the
in-vitro exhaustion assay, Philipp 2022) with their misses
(:mod:`blinasim.trials.calibration`).
"""

from __future__ import annotations

import argparse
import json
import time

from blinasim.params.schema import parse_overrides
from blinasim.trials.calibration import CLAIMED, TARGET_BY_NAME, TARGETS, in_vitro_assay, score, summarise
from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import TREG_CUTOFF, rates, run_cohorts, treg_split

#: The clinical targets with a Wilson interval (the claimed endpoints): (trial, rate name) -> target.
RATE_TARGETS = {(trial, name): TARGET_BY_NAME[name].value for trial, name in CLAIMED}


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
            target = RATE_TARGETS.get((trial, name))
            lo, hi = rate.ci95
            verdict = (
                "" if target is None else (" inside" if lo <= target <= hi else " MISS") + f" (trial {target:.2f})"
            )
            print(f"  {name:16s} {rate}{verdict}")
            summary[f"{trial}.{name}"] = {"value": rate.value, "n": rate.n, "ci95": [lo, hi], "target": target}
    assays = [in_vitro_assay(overrides, args.seed + k) for k in range(2)]
    values = summarise(results, assays)
    total, misses = score(values)
    print("\nall calibration targets (miss in units of what the study resolves; one-sided targets count shortfalls):")
    for target in TARGETS:
        print(
            f"  {target.name:26s} model {values[target.name]:7.3f}  target {target.value:6.3f}  "
            f"miss {misses[target.name]:+6.2f}  ({target.source})"
        )
    print(f"  score {total:.1f}")
    for r in results:
        r["attributes"] = cohorts[r["trial"]][r["patient"]]
    duell = treg_split(results)
    print(
        "\nregulatory T-cells, MT103-211-like (Duell 2017, not a calibration target: all 22 responders below "
        f"{TREG_CUTOFF:.2%} Tregs of CD4, 14 of 20 non-responders above):"
    )
    for key, text in (
        ("responders_below", "responders with Tregs below the cutoff"),
        ("nonresponders_above", "non-responders with Tregs above it"),
        ("response_below", "CR/CRh below the cutoff"),
        ("response_above", "CR/CRh above the cutoff"),
    ):
        print(f"  {text:40s} {duell[key]}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "n": args.n,
                    "seed": args.seed,
                    "overrides": overrides,
                    "endpoints": summary,
                    "targets": values,
                    "misses": misses,
                    "score": total,
                    "treg_split": {k: {"successes": v.successes, "n": v.n} for k, v in duell.items()},
                    "patients": results,
                },
                fh,
                indent=1,
            )


if __name__ == "__main__":
    main()
