"""Calibrate a few uncertain parameters against the trial targets (BIOLOGY.md).

Procedure (documented in docs/validation.md; rerun with the same arguments to
reproduce it exactly):

1. Virtual cohorts: ``--n`` MT103-211-like and ``--n`` BLAST-like patients drawn
   with :func:`blinasim.cohort.draw_cohort` from ``--seed``; run seeds from
   ``SeedSequence(seed, spawn_key=(patient, 0))``. The same patients and seeds are
   used for every candidate (common random numbers), so candidates differ only
   by their parameters.
2. Candidates: a Latin hypercube (scipy.stats.qmc, seeded) of ``--points`` points
   over the calibrated parameters and their ranges (log scale), plus the
   current defaults as point 0.
3. Score: the sum over targets of ((model - target) / SE)^2, SE the binomial
   standard error of a cohort of the trial's size (MT103-211: 189 patients;
   BLAST: 116), i.e. a miss counts in units of what the trial itself could
   resolve.
4. The best candidate is written to ``--out`` (JSON with every candidate's
   endpoints and score). ``--refine FILE`` starts a second stage: a Latin
   hypercube in a box of +-``--width`` (log10) around the best candidate of an
   earlier stage, which is re-evaluated as point 0. Verification at >= 200
   patients per trial is ``scripts/virtual_trial.py``.

Targets: CR/CRh after 2 cycles 43% (MT103-211); complete MRD response after
cycle 1 78% (BLAST); CRS any grade 14% and grade >= 3 3% (R/R, step-up).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from multiprocessing import get_context

import numpy as np
from scipy.stats import qmc

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

PARAMETERS = {
    # key: (low, high) searched on a log scale
    "tcells.contacts_per_hour": (5.0, 120.0),
    "tcells.exhaustion_per_engaged_day": (0.05, 2.0),
    "tcells.activated_division_per_day": (0.05, 0.6),
    "cytokines.ifng_release_pg_per_cell_h": (1e-4, 3e-3),
}
TARGETS = {  # name: (target rate, trial size)
    "cr_crh": (0.43, 189),
    "mrd_response": (0.78, 116),
    "crs_any": (0.14, 189),
    "crs_grade3": (0.03, 189),
}
LATTICE = {"mt103_211": 120, "blast": 224}
DAYS = {"mt103_211": 84.0, "blast": 30.0}


def run_one(args):
    import blinasim
    from blinasim.seeds import run_seed

    trial, index, overrides, seed = args
    over = dict(overrides)
    over["simulation.lattice_size"] = LATTICE[trial]
    over["simulation.days"] = DAYS[trial]
    over["simulation.record_every_hours"] = 6.0
    ds = blinasim.simulate(blinasim.load_config(None, over), seed=run_seed(seed, index, 0))
    return trial, float(ds.cr_crh), float(ds.mrd_response), int(ds.max_crs_grade)


def evaluate(pool, params, cohorts, seed):
    jobs = []
    for trial, patients in cohorts.items():
        for i, patient in enumerate(patients):
            jobs.append((trial, i, {**patient, **params}, seed))
    results = pool.map(run_one, jobs, chunksize=1)
    mt = [r for r in results if r[0] == "mt103_211"]
    bl = [r for r in results if r[0] == "blast"]
    values = {
        "cr_crh": float(np.nanmean([r[1] for r in mt])),
        "mrd_response": float(np.nanmean([r[2] for r in bl])),
        "crs_any": float(np.mean([r[3] >= 1 for r in mt])),
        "crs_grade3": float(np.mean([r[3] >= 3 for r in mt])),
    }
    score = 0.0
    for name, (target, size) in TARGETS.items():
        se = math.sqrt(target * (1 - target) / size)
        score += ((values[name] - target) / se) ** 2
    return values, score


def main() -> None:
    from blinasim.cohort import draw_cohort
    from blinasim.config import load_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24, help="patients per trial per candidate")
    ap.add_argument("--points", type=int, default=15, help="Latin hypercube points")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="calibration.json")
    ap.add_argument("--refine", default=None, help="JSON of an earlier stage: search around its best candidate")
    ap.add_argument("--width", type=float, default=0.25, help="half-width of the refinement box (log10)")
    args = ap.parse_args()

    defaults = load_config(None)
    current = {k: getattr(getattr(defaults, k.split(".")[0]), k.split(".")[1]) for k in PARAMETERS}
    lows = np.log10([lo for lo, _ in PARAMETERS.values()])
    highs = np.log10([hi for _, hi in PARAMETERS.values()])
    if args.refine:
        with open(args.refine) as fh:
            earlier = json.load(fh)["records"]
        current = min(earlier, key=lambda r: r["score"])["params"]
        centre = np.log10([current[k] for k in PARAMETERS])
        lows = np.maximum(lows, centre - args.width)
        highs = np.minimum(highs, centre + args.width)
    design = qmc.LatinHypercube(d=len(PARAMETERS), seed=args.seed).random(args.points)
    candidates = [current] + [
        {k: float(10 ** (lows[j] + u[j] * (highs[j] - lows[j]))) for j, k in enumerate(PARAMETERS)} for u in design
    ]
    cohorts = {trial: draw_cohort(trial, args.n, args.seed) for trial in ("mt103_211", "blast")}
    records = []
    with get_context("forkserver").Pool(args.workers) as pool:
        for c, params in enumerate(candidates):
            t0 = time.time()
            values, score = evaluate(pool, params, cohorts, args.seed)
            records.append({"candidate": c, "params": params, "endpoints": values, "score": score})
            print(f"[{c:2d}] score {score:8.1f}  {values}  {params}  ({time.time() - t0:.0f} s)", flush=True)
            with open(args.out, "w") as fh:
                json.dump({"targets": TARGETS, "n": args.n, "seed": args.seed, "records": records}, fh, indent=1)
    best = min(records, key=lambda r: r["score"])
    print("best:", json.dumps(best, indent=1))


if __name__ == "__main__":
    main()
