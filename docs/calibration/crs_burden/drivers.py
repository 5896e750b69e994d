"""What decides a patient's cycle-1 CRS peak: its own IL-6 response or its burden (docs/validation.md,
"Re-fit of CR/CRh on four cohorts", CRS drivers).

    python docs/calibration/crs_burden/drivers.py SEED FILE.json [FILE.json ...]

Each FILE is a ``probe.py`` record of the ``mt103_211`` cohort of seed SEED (one entry per patient,
in the cohort's order). Draws the same cohort again for each patient's ``patient.il6_response`` and
prints, per file: the Spearman correlation of the peak CRS signal with the IL-6 response and with the
marrow blast fraction; the least-squares slopes of the log peak on the log IL-6 response and on the
blast fraction, with the share of the log peak's variance the two explain; and the share of each
burden group (< 50%, >= 50% marrow blasts) above the cohort's 86th and 97th percentiles of the peak
(where stage 7 puts the grade-1 and grade-3 thresholds).
"""

from __future__ import annotations

import json
import sys

import numpy as np
from scipy.stats import spearmanr

from blinasim.trials.cohort import draw_cohort


def main(argv: list[str]) -> None:
    seed, files = int(argv[0]), argv[1:]
    for name in files:
        records = json.load(open(name))
        patients = draw_cohort("mt103_211", len(records), seed)
        burden = np.array([p["patient.marrow_blast_fraction"] for p in patients])
        if not np.allclose(burden, [r["bf"] for r in records]):
            raise SystemExit(f"{name}: its patients are not the mt103_211 cohort of seed {seed}")
        log_il6 = np.log([p["patient.il6_response"] for p in patients])
        peak = np.array([r["crs_signal_peak_cycle1"] for r in records])
        log_peak = np.log(np.maximum(peak, 1e-9))
        x = np.c_[np.ones(len(peak)), log_il6, burden]
        coef = np.linalg.lstsq(x, log_peak, rcond=None)[0]
        r2 = 1.0 - ((log_peak - x @ coef) ** 2).sum() / ((log_peak - log_peak.mean()) ** 2).sum()
        q86, q97 = np.quantile(peak, 0.86), np.quantile(peak, 0.97)
        groups = [burden < 0.5, burden >= 0.5]
        tails = " | ".join(
            f"n={g.sum()} >86th {np.mean(peak[g] > q86):.3f} >97th {np.mean(peak[g] > q97):.3f}" for g in groups
        )
        print(
            f"{name}: rho IL-6 response {spearmanr(log_il6, peak)[0]:.2f}, burden {spearmanr(burden, peak)[0]:+.2f}; "
            f"slope per log IL-6 response {coef[1]:.2f}, per unit burden {coef[2]:+.2f}, R2 {r2:.2f}; {tails}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
