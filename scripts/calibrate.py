"""Calibrate the uncertain parameters against the targets of BIOLOGY.md (blinasim.calibration).

    python scripts/calibrate.py --n 24 --trials 40 --seed 2024 --out calibration.json

Procedure (docs/validation.md; rerun with the same arguments to reproduce it):

1. Virtual cohorts: ``--n`` MT103-211-like and ``--n`` BLAST-like patients drawn
   with :func:`blinasim.cohort.draw_cohort` from ``--seed``; run seeds
   ``SeedSequence(seed, spawn_key=(patient, 0))``. Every candidate runs the same
   patients with the same seeds (common random numbers), plus the in-vitro
   co-culture (Philipp 2022) with ``--assays`` seeds.
2. Search: Bayesian optimisation (optuna's multivariate TPE sampler, seeded,
   one candidate at a time, so the sequence is deterministic) over
   :data:`PARAMETERS` on log scales; candidate 0 is the current defaults.
3. Score: :func:`blinasim.calibration.score`, squared misses in units of what
   each study could resolve.
4. Every candidate's parameters, values, misses and score go to ``--out``
   (JSON, rewritten after each candidate, so a stopped search keeps what it
   did). Verification of the best candidate at >= 200 patients per trial is
   ``scripts/virtual_trial.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from multiprocessing import get_context

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

#: Calibrated parameters: (low, high), searched on a log scale; why each is uncertain is in
#: docs/validation.md.
PARAMETERS = {
    "tcells.contacts_per_hour": (5.0, 120.0),
    "tcells.exhaustion_per_engaged_day": (0.02, 1.0),
    "tcells.exhaustion_hill": (2.0, 8.0),
    "tcells.activated_division_per_day": (0.05, 1.0),
    "tcells.activation_half_life_days": (0.5, 5.0),
    "tcells.blood_contact_ul_per_h": (1e-3, 0.1),
    "cytokines.ifng_release_pg_per_cell_h": (1e-4, 3e-3),
}


def _assay(args):
    from blinasim.calibration import in_vitro_assay

    overrides, seed = args
    return in_vitro_assay(overrides, seed)


def evaluate(pool, params, cohorts, seed, assays):
    from blinasim.calibration import score, summarise
    from blinasim.trial import run_cohorts

    results = run_cohorts(cohorts, seed, params, pool=pool)
    vitro = pool.map(_assay, [(params, seed + k) for k in range(assays)])
    values = summarise(results, vitro)
    total, misses = score(values)
    return values, misses, total


def current_defaults() -> dict[str, float]:
    from blinasim.config import load_config

    cfg = load_config(None)
    return {k: float(getattr(getattr(cfg, k.split(".")[0]), k.split(".")[1])) for k in PARAMETERS}


def main() -> None:
    import optuna

    from blinasim.calibration import TARGETS
    from blinasim.cohort import draw_cohort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24, help="patients per trial per candidate")
    ap.add_argument("--trials", type=int, default=40, help="candidates, the defaults included")
    ap.add_argument("--startup", type=int, default=12, help="random candidates before the TPE model is used")
    ap.add_argument("--assays", type=int, default=2, help="in-vitro co-culture seeds per candidate")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="calibration.json")
    args = ap.parse_args()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=args.seed, n_startup_trials=args.startup, multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.enqueue_trial(current_defaults())
    cohorts = {trial: draw_cohort(trial, args.n, args.seed) for trial in ("mt103_211", "blast")}
    records = []
    meta = {
        "n": args.n,
        "seed": args.seed,
        "assays": args.assays,
        "trials": args.trials,
        "startup": args.startup,
        "parameters": {k: list(v) for k, v in PARAMETERS.items()},
        "targets": [t.__dict__ for t in TARGETS],
    }
    with get_context("forkserver").Pool(args.workers) as pool:
        for c in range(args.trials):
            trial = study.ask()
            params = {k: trial.suggest_float(k, lo, hi, log=True) for k, (lo, hi) in PARAMETERS.items()}
            t0 = time.time()
            values, misses, total = evaluate(pool, params, cohorts, args.seed, args.assays)
            study.tell(trial, total)
            records.append({"candidate": c, "params": params, "values": values, "misses": misses, "score": total})
            shown = " ".join(f"{k}={v:.2f}" for k, v in values.items())
            print(f"[{c:2d}] score {total:8.1f}  {shown}  ({time.time() - t0:.0f} s)", flush=True)
            best = min(records, key=lambda r: r["score"] if not math.isnan(r["score"]) else math.inf)
            with open(args.out + ".tmp", "w") as fh:
                json.dump({**meta, "best": best, "records": records}, fh, indent=1)
            os.replace(args.out + ".tmp", args.out)
    print("best:", json.dumps(best, indent=1))


if __name__ == "__main__":
    main()
