"""CRS by marrow blast burden from a stage-7 record (docs/validation.md, "Dexamethasone once per path to IL-6").

    python docs/calibration/crs_burden/by_burden.py docs/calibration/stage7/RECORD.json [STEP]

Stage 7 (``blinasim calibrate toxicity --json``) keeps every patient's cycle-1 peak CRS signal
and neurotoxicity exposure, in cohort order; the cohort is redrawn from the record's size and
seed to give each patient's marrow blast fraction. Prints, below 50% blasts and at or above, the
share of patients whose peak reaches the grade-1 and grade-3 thresholds of the step's settings
(the last step, the check, by default), the median peak, and the Spearman correlation of burden
and peak.
"""

from __future__ import annotations

import json
import statistics
import sys

from scipy.stats import spearmanr

from blinasim.params.schema import load_config
from blinasim.trials.cohort import draw_cohort


def main(argv: list[str]) -> None:
    record = json.load(open(argv[0]))
    step = record["steps"][int(argv[1]) if len(argv) > 1 else -1]
    config = load_config(None, {**record["overrides"], **step["overrides"]})
    crs_t = config.toxicity.crs_il6_thresholds_pg_per_ml
    neuro_t = config.toxicity.neuro_thresholds_pg_per_ml
    burden = [p["patient.marrow_blast_fraction"] for p in draw_cohort("mt103_211", record["n"], record["seed"])]
    print(f"{argv[0]}, step {step['step']!r}: CRS thresholds {crs_t}, neurotoxicity {neuro_t}")
    for lo, hi in ((0.0, 0.5), (0.5, 1.01)):
        idx = [i for i, b in enumerate(burden) if lo <= b < hi]
        crs = [step["crs_peaks"][i] for i in idx]
        neuro = [step["neuro_peaks"][i] for i in idx]
        n = len(idx)
        print(
            f"  blasts [{lo}, {min(hi, 1.0)}): n={n}; CRS >= 1 {sum(p >= crs_t[0] for p in crs) / n:.3f}, "
            f">= 3 {sum(p >= crs_t[2] for p in crs) / n:.3f}, median peak {statistics.median(crs):.1f} pg/mL; "
            f"neurotoxicity >= 1 {sum(p >= neuro_t[0] for p in neuro) / n:.3f}, >= 3 {sum(p >= neuro_t[2] for p in neuro) / n:.3f}"
        )
    rho = spearmanr(burden, step["crs_peaks"]).statistic
    print(f"  Spearman correlation of burden and peak CRS signal: {rho:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
