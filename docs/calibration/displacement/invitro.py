"""The in-vitro co-culture of Philipp 2022 at several exhaustion increments per engagement (docs/validation.md,
"CRS by burden: the T-cells' partial displacement", last paragraph; docs/calibration/displacement/README.md).

    python docs/calibration/displacement/invitro.py

Runs :func:`blinasim.trials.calibration.assay.in_vitro_assay` (seeds 1-4) with
``tcells.exhaustion_per_engagement`` at 0.005 (the default), 0.01, 0.02 and 0.04, and prints the T-cells'
remaining lytic function at day 7 (Philipp 2022: lysis still 88% after 7 days; target >= 0.75) and its
fall from day 7 to day 28 (9% / 88%, about 0.10).
"""

from __future__ import annotations

import statistics

from blinasim.trials.calibration.assay import in_vitro_assay

INCREMENTS = (0.005, 0.01, 0.02, 0.04)
SEEDS = (1, 2, 3, 4)


def main() -> None:
    for exh in INCREMENTS:
        runs = [in_vitro_assay({"tcells.exhaustion_per_engagement": exh}, seed) for seed in SEEDS]
        day7 = [r["invitro_function_day7"] for r in runs]
        ratio = [r["invitro_day28_over_day7"] for r in runs]
        print(
            f"exhaustion per engagement {exh}: function at day 7 {statistics.mean(day7):.3f} "
            f"(seeds 1-4: {', '.join(f'{v:.3f}' for v in day7)}); day 28 / day 7 {statistics.mean(ratio):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
