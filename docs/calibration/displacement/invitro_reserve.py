"""The in-vitro co-culture of Philipp 2022 (seeds 1-4) at displacement 0.25, for the lytic-reserve probe
(docs/calibration/displacement/README.md, "A lytic reserve per T-cell").

    BLINASIM_RESERVE='{"cost": 0.5, "recovery_hours": 6.0}' PYTHONPATH=TREE/src python docs/calibration/displacement/invitro_reserve.py

TREE is a worktree with `reserve_probe.patch` applied. Prints the mean function left at day 7 and the
day-28 / day-7 ratio.
"""

from __future__ import annotations

import statistics

from blinasim.trials.calibration.assay import in_vitro_assay

if __name__ == "__main__":
    runs = [in_vitro_assay({"patient.marrow_t_cell_displacement": 0.25}, seed) for seed in (1, 2, 3, 4)]
    day7 = statistics.mean(r["invitro_function_day7"] for r in runs)
    ratio = statistics.mean(r["invitro_day28_over_day7"] for r in runs)
    print(f"function at day 7 {day7:.3f}; day 28 / day 7 {ratio:.3f}")
