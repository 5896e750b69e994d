"""The in-vitro co-culture of Philipp 2022 at several Treg half-maximal shares, at the second candidate's
displacement (docs/calibration/displacement/README.md, "Second candidate").

    python docs/calibration/displacement/invitro_treg.py

Runs :func:`blinasim.trials.calibration.assay.in_vitro_assay` (seeds 1-4) with
``tcells.treg_suppression_half`` at 0.020 (the default), 0.016 and 0.014 and
``patient.marrow_t_cell_displacement`` 0.25, and prints the mean function left at day 7 (Philipp 2022:
at least 0.75) and the day-28 / day-7 ratio (about 0.10).
"""

from __future__ import annotations

import statistics

from blinasim.trials.calibration.assay import in_vitro_assay

HALVES = (0.020, 0.016, 0.014)
SEEDS = (1, 2, 3, 4)


def main() -> None:
    for half in HALVES:
        over = {"tcells.treg_suppression_half": half, "patient.marrow_t_cell_displacement": 0.25}
        runs = [in_vitro_assay(over, seed) for seed in SEEDS]
        day7 = statistics.mean(r["invitro_function_day7"] for r in runs)
        ratio = statistics.mean(r["invitro_day28_over_day7"] for r in runs)
        print(f"Treg half-maximal share {half}: function at day 7 {day7:.3f}; day 28 / day 7 {ratio:.3f}", flush=True)


if __name__ == "__main__":
    main()
