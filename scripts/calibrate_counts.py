"""Calibration of the blood-count model's uncertain parameters (docs/validation.md, "Count recovery").

    python scripts/calibrate_counts.py --n 200 --seed 2024 [--workers 2] [--json out.json]

Runs the MT103-211-like cohort once, keeps each patient's marrow series, and scores a grid of
``counts.leukemic_suppression`` x the cohort's entry platelet distribution (median, log-sd) on
them: the counts are a deterministic post-processing of the lattice run
(:mod:`blinasim.clinical.blood_counts`), so every candidate is exact without rerunning the
lattice. The score is the sum over CR/CRh (0.43), CR (0.33) and CRh (0.10) of the squared miss
in units of the trial's standard error (MT103-211, n = 189).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from dataclasses import replace

import numpy as np

from blinasim.clinical import blood_counts, endpoints
from blinasim.core.model import simulate
from blinasim.core.seeds import run_seed
from blinasim.core.worker import runner_or_pool
from blinasim.trials import cohort
from blinasim.trials.trial import patient_config

TRIAL = "mt103_211"
TARGETS = {"cr_crh": 0.43, "cr": 0.33, "crh": 0.10}
TRIAL_N = 189


def run_one(job):
    """One patient's lattice series (what the count model and the response need)."""
    index, overrides, seed = job
    ds = simulate(patient_config(TRIAL, overrides), seed=run_seed(seed, index, 0))
    return {
        "time": ds.time.values,
        "blast_fraction": ds.marrow_blast_fraction.values,
        "hematopoiesis": ds.normal_hematopoiesis.values,
        "blood_blasts": ds.blasts.sel(compartment="blood").values,
    }


def patients(n: int, seed: int, median: float, log_sd: float) -> list[dict]:
    """The cohort drawn with another entry platelet distribution (the other attributes are unchanged:
    each attribute has its own stream)."""
    attrs = tuple(
        replace(a, params={"median": median, "log_sd": log_sd}) if a.key == "patient.platelets_per_nl" else a
        for a in cohort.MT103_211.attributes
    )
    return cohort.draw_cohort(replace(cohort.MT103_211, attributes=attrs), n, seed)


def score(series: list[dict], cohort_patients: list[dict], suppression: float) -> dict:
    """Response counts of the cohort under one candidate, with the score."""
    tally = dict.fromkeys(("cr", "crh", "cri", "cr_crh", "cr_cri", "not_assessable"), 0)
    for s, p in zip(series, cohort_patients, strict=True):
        cfg = patient_config(TRIAL, p, {"counts.leukemic_suppression": suppression})
        anc, plt = blood_counts.blood_counts(s["time"], s["hematopoiesis"], s["blast_fraction"], cfg)
        pb = endpoints.blood_blasts_per_ul(s["blood_blasts"], cfg)
        r = endpoints.response(s["time"], s["blast_fraction"], pb, anc, plt, endpoints.assessment_days(cfg), cfg)
        if math.isnan(r.cr):
            tally["not_assessable"] += 1
            continue
        for k in ("cr", "crh", "cri", "cr_crh", "cr_cri"):
            tally[k] += int(getattr(r, k))
    n = len(series) - tally["not_assessable"]
    misses = {e: (tally[e] / n - p) / math.sqrt(p * (1 - p) / TRIAL_N) for e, p in TARGETS.items()}
    return {**tally, "n": n, "score": sum(v * v for v in misses.values()), "misses_se": misses}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--suppression", type=float, nargs="+", default=[2.0, 3.0, 4.0, 5.0])
    ap.add_argument("--platelet-median", type=float, nargs="+", default=[50.0, 70.0, 100.0])
    ap.add_argument("--platelet-log-sd", type=float, nargs="+", default=[0.9, 0.6])
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    base = cohort.draw_cohort(TRIAL, args.n, args.seed)
    with runner_or_pool(None, args.workers) as pool:
        series = list(pool.map(run_one, [(i, p, args.seed) for i, p in enumerate(base)]))
    rows = []
    for k, med, sd in itertools.product(args.suppression, args.platelet_median, args.platelet_log_sd):
        row = {"leukemic_suppression": k, "platelet_median": med, "platelet_log_sd": sd}
        row.update(score(series, patients(args.n, args.seed, med, sd), k))
        rows.append(row)
        print(json.dumps(row), flush=True)
    best = min(rows, key=lambda r: r["score"])
    print("best:", json.dumps(best))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": args.n, "seed": args.seed, "grid": rows, "best": best}, f, indent=1, default=float)


if __name__ == "__main__":
    np.seterr(invalid="ignore")
    main()
