"""Stage 7 of the calibration: the CRS and neurotoxicity mappings, from an MT103-211-like cohort.

    python scripts/calibrate_toxicity.py --n 240 --seed 2024 --json docs/calibration/stage7.json

Each virtual patient now carries its own myeloid IL-6 response
(``patient.il6_response``, drawn by the cohort), so the cycle-1 peaks of the
graded signals spread between patients. Three targets of the R/R trial are
rates of thresholds crossed (CRS of any grade 14% and grade >= 3 3%,
neurotoxicity of any grade ~50% and grade >= 3 ~15%, cycle 1), so each is set
from a quantile of its signal on the calibration cohort:

1. the cohort is run with the current settings; the IL-6 gain
   ``cytokines.il6_per_ifng`` is scaled so that the 86th percentile of the
   cycle-1 peak CRS signal (which is proportional to it) sits on the grade-1
   threshold, which stays where it is;
2. the cohort is run again with that gain; the grade-3 CRS threshold is put on
   the 97th percentile of the peak CRS signal, and the neurotoxicity grade-1
   and grade-3 thresholds on the 50th and 85th percentiles of the peak
   neurotoxicity exposure; grades 2 and 4 keep their places relative to
   grades 1 and 3 on a log scale (:func:`blinasim.trials.calibration.spaced_thresholds`);
3. the cohort is run a third time with everything set, and its rates are
   printed: a check of the procedure on the cohort it was fitted to (the
   protocol reacts to the grades, so the thresholds can move the peaks that
   follow a hold).

The fresh-cohort verification is ``scripts/virtual_trial.py`` (docs/validation.md).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

#: Cycle-1 rates the quantiles are chosen for (BIOLOGY.md; calibration.TARGETS).
CRS_ANY, CRS_GRADE3, NEURO_ANY, NEURO_GRADE3 = 0.14, 0.03, 0.50, 0.15


def main() -> None:
    import numpy as np

    from blinasim.params.schema import load_config, parse_overrides
    from blinasim.trials.calibration import add_rr_cohort_arguments, spaced_thresholds
    from blinasim.trials.cohort import draw_cohort
    from blinasim.trials.trial import rates, run_cohorts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_rr_cohort_arguments(ap)
    args = ap.parse_args()
    overrides = parse_overrides(args.sets)
    cohort = {"mt103_211": draw_cohort("mt103_211", args.n, args.seed)}
    record: dict = {"n": args.n, "seed": args.seed, "overrides": dict(overrides), "steps": []}

    def run(step: str, over: dict) -> tuple[np.ndarray, np.ndarray, list]:
        t0 = time.time()
        results = run_cohorts(cohort, args.seed, over, args.workers)
        crs = np.array([r["crs_signal_peak_cycle1"] for r in results])
        neuro = np.array([r["neuro_exposure_peak_cycle1"] for r in results])
        rr = rates(results, "mt103_211")
        summary = {
            name: rr[name].value for name in ("cr_crh", "crs_any", "crs_grade3", "neurotox_any", "neurotox_grade3")
        }
        print(f"{step} ({time.time() - t0:.0f} s): " + ", ".join(f"{k} {v:.3f}" for k, v in summary.items()))
        record["steps"].append(
            {
                "step": step,
                "overrides": dict(over),
                "rates": summary,
                "crs_peaks": crs.tolist(),
                "neuro_peaks": neuro.tolist(),
            }
        )
        return crs, neuro, results

    config = load_config(None, overrides)
    tox = config.toxicity
    crs, _, _ = run("1: current settings", overrides)
    gain = config.cytokines.il6_per_ifng * tox.crs_il6_thresholds_pg_per_ml[0] / np.quantile(crs, 1 - CRS_ANY)
    step2 = {**overrides, "cytokines.il6_per_ifng": float(gain)}
    print(f"  cytokines.il6_per_ifng {config.cytokines.il6_per_ifng:g} -> {gain:.4g}")
    crs, neuro, _ = run("2: IL-6 gain set", step2)
    crs_thresholds = spaced_thresholds(
        tox.crs_il6_thresholds_pg_per_ml[0], float(np.quantile(crs, 1 - CRS_GRADE3)), tox.crs_il6_thresholds_pg_per_ml
    )
    neuro_thresholds = spaced_thresholds(
        float(np.quantile(neuro, 1 - NEURO_ANY)),
        float(np.quantile(neuro, 1 - NEURO_GRADE3)),
        tox.neuro_thresholds_pg_per_ml,
    )
    step3 = {
        **step2,
        "toxicity.crs_il6_thresholds_pg_per_ml": [round(v, 1) for v in crs_thresholds],
        "toxicity.neuro_thresholds_pg_per_ml": [round(v, 1) for v in neuro_thresholds],
    }
    print(f"  toxicity.crs_il6_thresholds_pg_per_ml {step3['toxicity.crs_il6_thresholds_pg_per_ml']}")
    print(f"  toxicity.neuro_thresholds_pg_per_ml {step3['toxicity.neuro_thresholds_pg_per_ml']}")
    run("3: check on the calibration cohort", step3)
    record["result"] = {k: v for k, v in step3.items() if k not in overrides}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(record, fh, indent=1)


if __name__ == "__main__":
    main()
