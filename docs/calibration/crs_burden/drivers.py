"""What decides a patient's cycle-1 CRS peak: its own IL-6 response or its burden (docs/validation.md,
"Re-fit of CR/CRh on four cohorts", CRS drivers).

    python docs/calibration/crs_burden/drivers.py SEED FILE.json [FILE.json ...]

Each FILE is a ``probe.py`` record of the ``mt103_211`` cohort of seed SEED (one entry per patient,
in the cohort's order). Draws the same cohort again for each patient's ``patient.il6_response`` and
prints, per file: the Spearman correlation of the peak CRS signal with the IL-6 response and with the
marrow blast fraction; the least-squares slopes of the log peak on the log IL-6 response and on the
blast fraction, with the share of the log peak's variance the two explain (and again with the
marrow T-cell share, the blood T-cells and the blood blasts beside them, each on the log scale); and the share of each
burden group (< 50%, >= 50% marrow blasts) above the cohort's 86th and 97th percentiles of the peak
(where stage 7 puts the grade-1 and grade-3 thresholds).

It also prints the peak's 50th, 86th and 97th percentiles and warns when the upper tail is **capped**:
a grade-3 CRS holds the infusion and brings dexamethasone, so a peak cannot climb far past the
grade-3 threshold of the mapping it ran with (``toxicity.crs_il6_thresholds_pg_per_ml``, the
defaults' unless ``--grade3 X`` gives another). When the 86th percentile sits within 10% of that
threshold, the percentiles compare capped peaks, not the surges: run the probe again with the IL-6
gain lowered (``cytokines.il6_per_ifng``) until the 86th percentile is near the grade-1 threshold,
as stage 7 would set it (docs/validation.md, "CRS by burden, gain-matched").
"""

from __future__ import annotations

import json
import sys

import numpy as np
from probe import capped_note, grade3_threshold  # docs/calibration/crs_burden/probe.py
from scipy.stats import spearmanr

from blinasim.trials.cohort import draw_cohort

#: The other drawn attributes the wider regression takes (each on the log scale).
WIDER = ("patient.marrow_t_cell_share_of_normal", "patient.t_cells_per_ul", "patient.peripheral_blasts_per_ul")


def _fit(y: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Least-squares coefficients of ``y`` on an intercept and ``columns``, the share of variance
    explained, and the coefficients' standard errors (ordinary least squares)."""
    x = np.c_[np.ones(len(y)), *columns]
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    residual = y - x @ coef
    sigma2 = (residual**2).sum() / (len(y) - x.shape[1])
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(x.T @ x)))
    return coef, 1.0 - (residual**2).sum() / ((y - y.mean()) ** 2).sum(), se


def main(argv: list[str]) -> None:
    grade3 = grade3_threshold({})
    if "--grade3" in argv:
        i = argv.index("--grade3")
        try:
            grade3 = float(argv[i + 1])
        except (IndexError, ValueError):
            raise SystemExit("--grade3 takes the grade-3 threshold in pg/mL, a number") from None
        argv = argv[:i] + argv[i + 2 :]
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
        coef, r2, se = _fit(log_peak, log_il6, burden)
        wide = [np.log([p[key] for p in patients]) for key in WIDER]
        coef_w, r2_w, _ = _fit(log_peak, log_il6, burden, *wide)
        q86, q97 = np.quantile(peak, 0.86), np.quantile(peak, 0.97)
        groups = [burden < 0.5, burden >= 0.5]
        tails = " | ".join(
            f"n={g.sum()} >86th {np.mean(peak[g] > q86):.3f} >97th {np.mean(peak[g] > q97):.3f}" for g in groups
        )
        print(
            f"{name}: peak percentiles 50/86/97 {np.quantile(peak, 0.5):.1f} / {q86:.1f} / {q97:.1f} pg/mL"
            + (f" -- {note}" if (note := capped_note(peak, grade3)) else "")
        )
        print(
            f"  rho IL-6 response {spearmanr(log_il6, peak)[0]:.2f}, burden {spearmanr(burden, peak)[0]:+.2f}; "
            f"slope per log IL-6 response {coef[1]:.2f}, per unit burden {coef[2]:+.2f} (SE {se[2]:.2f}), R2 {r2:.2f}; "
            f"{tails}"
        )
        print(
            f"  with the T-cells and blood blasts: per log IL-6 response {coef_w[1]:.2f}, per unit burden "
            f"{coef_w[2]:+.2f}, "
            + ", ".join(f"per log {key.split('.')[1]} {c:+.2f}" for key, c in zip(WIDER, coef_w[3:], strict=True))
            + f", R2 {r2_w:.2f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
