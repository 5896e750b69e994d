"""The IL-6 gain that stage 7's first step would set on each calibration cohort of the re-fit
(docs/validation.md, "Re-fit of CR/CRh on four cohorts", the validation's reading).

    python docs/calibration/refit/gain_by_cohort.py FILE.json [FILE.json ...]

Each FILE is a ``cohort.py`` record run with the IL-6 gain GAIN (2.942, the default of its time). Stage 7
scales the gain so that the 86th percentile of the cycle-1 peak CRS signal sits at the grade-1 threshold
(100 pg/mL); the peak is about proportional to the gain, so each cohort's gain is GAIN x 100 / its 86th
percentile. Prints it per file and pooled over the files.
"""

from __future__ import annotations

import json
import sys

import numpy as np

GAIN = 2.942
GRADE1 = 100.0


def main(files: list[str]) -> None:
    pooled = []
    for name in files:
        peaks = [r["crs_signal_peak_cycle1"] for r in json.load(open(name))]
        pooled += peaks
        q86 = np.quantile(peaks, 0.86)
        print(f"{name}: 86th percentile {q86:.1f} pg/mL, gain {GAIN * GRADE1 / q86:.3f}")
    q86 = np.quantile(pooled, 0.86)
    print(f"pooled ({len(pooled)} patients): 86th percentile {q86:.1f} pg/mL, gain {GAIN * GRADE1 / q86:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
