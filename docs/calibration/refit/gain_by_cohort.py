"""The IL-6 gain that stage 7's first step would set on each cohort (docs/validation.md, "Re-fit of
CR/CRh on four cohorts", the validation's reading and the defaults on seed 11).

    python docs/calibration/refit/gain_by_cohort.py FILE.json [FILE.json ...]

Stage 7 scales the gain so that the 86th percentile of the cycle-1 peak CRS signal sits at the grade-1
threshold (100 pg/mL); the peak is about proportional to the gain, so a cohort run at gain G asks for
G x 100 / its 86th percentile. Each FILE holds MT103-211-like patients' peaks at the default gain of
the time (2.942) in one of three forms: a list of per-patient records (``cohort.py``,
``scripts/burden_subgroups.py``, the validation's fixtures), a ``blinasim calibrate verify`` record
(its MT103-211-like ``patients``) or a stage-7 record (its last step's ``crs_peaks``, at that step's
gain). Prints the gain per file and pooled over the files.
"""

from __future__ import annotations

import json
import sys

import numpy as np

GAIN = 2.942
GRADE1 = 100.0


def peaks_and_gain(path: str) -> tuple[list[float], float]:
    """The file's cycle-1 peak CRS signals and the IL-6 gain they ran at."""
    data = json.load(open(path))
    if isinstance(data, dict) and "steps" in data:
        step = data["steps"][-1]
        return step["crs_peaks"], step["overrides"].get("cytokines.il6_per_ifng", GAIN)
    records = data["patients"] if isinstance(data, dict) else data
    return [r["crs_signal_peak_cycle1"] for r in records if r.get("trial", "mt103_211") == "mt103_211"], GAIN


def main(files: list[str]) -> None:
    pooled: list[float] = []
    for name in files:
        peaks, gain = peaks_and_gain(name)
        if abs(gain - GAIN) > 1e-3:
            raise SystemExit(f"{name}: ran at IL-6 gain {gain}, not {GAIN}; pool only files of one gain")
        pooled += peaks
        q86 = np.quantile(peaks, 0.86)
        print(f"{name}: 86th percentile {q86:.1f} pg/mL, gain {gain * GRADE1 / q86:.3f}")
    q86 = np.quantile(pooled, 0.86)
    print(f"pooled ({len(pooled)} patients): 86th percentile {q86:.1f} pg/mL, gain {GAIN * GRADE1 / q86:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
