"""Calibrate the uncertain parameters against the targets of BIOLOGY.md (blinasim.trials.calibration).

    python scripts/calibrate.py --n 24 --trials 40 --seed 2024 --out calibration.json

Procedure (docs/validation.md; rerun with the same arguments to reproduce it):

1. Virtual cohorts: ``--n`` MT103-211-like and ``--n`` BLAST-like patients drawn
   with :func:`blinasim.trials.cohort.draw_cohort` from ``--seed``; run seeds
   ``SeedSequence(seed, spawn_key=(patient, 0))``. Every candidate runs the same
   patients with the same seeds (common random numbers), plus the in-vitro
   co-culture (Philipp 2022) with ``--assays`` seeds.
2. Search: Bayesian optimisation (optuna's multivariate TPE sampler, seeded,
   one candidate at a time, so the sequence is deterministic) over
   :data:`blinasim.trials.calibration.PARAMETERS` on log scales; candidate 0 is the current defaults.
3. Score: :func:`blinasim.trials.calibration.score`, squared misses in units of what
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

from blinasim.trials.calibration import GRADE3, PARAMETERS, to_overrides


def _assay(args):
    from blinasim.trials.calibration import in_vitro_assay

    overrides, seed = args
    return in_vitro_assay(overrides, seed)


def evaluate(pool, params, cohorts, seed, assays):
    from blinasim.trials.calibration import score, summarise
    from blinasim.trials.trial import run_cohorts

    over = to_overrides(params)
    results = run_cohorts(cohorts, seed, over, pool=pool)
    vitro = pool.map(_assay, [(over, seed + k) for k in range(assays)])
    values = summarise(results, vitro)
    total, misses = score(values)
    return values, misses, total


def current_defaults() -> dict[str, float]:
    """The starting point: the current defaults (docs/parameters.md)."""
    from blinasim.params.schema import load_config

    cfg = load_config(None)
    out = {k: float(getattr(getattr(cfg, k.split(".")[0]), k.split(".")[1])) for k in PARAMETERS if k != GRADE3}
    out[GRADE3] = float(cfg.toxicity.crs_il6_thresholds_pg_per_ml[2])
    return out


def main() -> None:
    import optuna

    from blinasim.trials.calibration import TARGETS
    from blinasim.trials.cohort import draw_cohort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24, help="patients per trial per candidate")
    ap.add_argument("--trials", type=int, default=40, help="candidates, the defaults included")
    ap.add_argument("--startup", type=int, default=12, help="random candidates before the TPE model is used")
    ap.add_argument("--assays", type=int, default=2, help="in-vitro co-culture seeds per candidate")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="calibration.json")
    ap.add_argument(
        "--parameters",
        default=",".join(PARAMETERS),
        help="comma-separated subset of blinasim.trials.calibration.PARAMETERS to search (default: all); the others "
        "keep their current defaults",
    )
    ap.add_argument(
        "--start",
        default=None,
        metavar="JSON:CANDIDATE",
        help="start from a candidate of an earlier run instead of the defaults: it is candidate 0 (for the "
        "searched parameters), and the parameters not searched keep its values instead of the defaults",
    )
    ap.add_argument(
        "--warm-start",
        default=None,
        help="JSON of an earlier run (same --n and --seed): its candidates are told to the optimiser first; "
        "parameters it did not search take their current defaults (or --start's values)",
    )
    args = ap.parse_args()

    searched = [k.strip() for k in args.parameters.split(",") if k.strip()]
    unknown = [k for k in searched if k not in PARAMETERS]
    if unknown:
        raise SystemExit(f"--parameters: unknown {unknown}; allowed: {', '.join(PARAMETERS)}")
    space = {k: v for k, v in PARAMETERS.items() if k in searched}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=args.seed, n_startup_trials=args.startup, multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    defaults = current_defaults()
    base = dict(defaults)
    if args.start:
        path, _, which = args.start.rpartition(":")
        try:
            with open(path) as fh:
                start = next(r for r in json.load(fh)["records"] if r["candidate"] == int(which))
        except (OSError, ValueError, StopIteration, KeyError) as exc:
            raise SystemExit(f"--start {args.start!r}: expected JSON:CANDIDATE of an earlier run ({exc!r})") from None
        base.update({k: v for k, v in start["params"].items() if k in PARAMETERS})
    fixed = {k: v for k, v in base.items() if k not in space}
    records = []
    if args.warm_start:
        with open(args.warm_start) as fh:
            earlier = json.load(fh)
        if (earlier["n"], earlier["seed"]) != (args.n, args.seed):
            raise SystemExit(f"--warm-start {args.warm_start}: n/seed {earlier['n']}/{earlier['seed']} differ")
        distributions = {k: optuna.distributions.FloatDistribution(lo, hi, log=True) for k, (lo, hi) in space.items()}
        for r in earlier["records"]:
            # The optimiser sees the searched parameters (defaults where an earlier stage did not search
            # one); the record keeps what the candidate actually ran with.
            params = {k: r["params"].get(k, base[k]) for k in space}
            study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=r["score"]))
            records.append({**r, "stage": "warm start"})
    else:
        study.enqueue_trial({k: base[k] for k in space})
    cohorts = {trial: draw_cohort(trial, args.n, args.seed) for trial in ("mt103_211", "blast")}
    meta = {
        "n": args.n,
        "seed": args.seed,
        "assays": args.assays,
        "trials": args.trials,
        "startup": args.startup,
        "parameters": {k: list(v) for k, v in space.items()},
        "fixed": fixed,
        "start": args.start,
        "targets": [t.__dict__ for t in TARGETS],
    }
    with get_context("forkserver").Pool(args.workers) as pool:
        for c in range(len(records), len(records) + args.trials):
            trial = study.ask()
            params = {k: trial.suggest_float(k, lo, hi, log=True) for k, (lo, hi) in space.items()}
            params = {**fixed, **params}
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
