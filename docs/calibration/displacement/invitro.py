"""The in-vitro co-culture of Philipp 2022 under several parameter sets (docs/validation.md, "CRS by burden:
the T-cells' partial displacement"; docs/calibration/displacement/README.md).

    python docs/calibration/displacement/invitro.py                  # the exhaustion scan (invitro.txt)
    python docs/calibration/displacement/invitro.py '{overrides}' ...  # one line per set of overrides

Runs :func:`blinasim.trials.calibration.assay.in_vitro_assay` (seeds 1-4) per set and prints the T-cells'
remaining lytic function at day 7 (Philipp 2022: lysis still 88% after 7 days; target >= 0.75) and its
fall from day 7 to day 28 (9% / 88%, about 0.10). Without arguments the sets are
``tcells.exhaustion_per_engagement`` at 0.005 (the default), 0.01, 0.02 and 0.04. Records:
``invitro.txt`` (no arguments); ``invitro_treg.txt`` (the Treg half-maximal share at 0.020, 0.016 and 0.014
with ``patient.marrow_t_cell_displacement`` 0.25); ``invitro_reserve.txt`` (displacement 0.25 in a worktree
with ``reserve_probe.patch``, ``BLINASIM_RESERVE='{"cost": 0.5, "recovery_hours": 6.0}'``).
"""

from __future__ import annotations

import json
import statistics
import sys

from blinasim.trials.calibration.assay import in_vitro_assay

INCREMENTS = (0.005, 0.01, 0.02, 0.04)
SEEDS = (1, 2, 3, 4)


def report(label: str, overrides: dict) -> str:
    """One line: the mean day-7 function (and each seed's) and the mean day-28 / day-7 ratio under ``overrides``."""
    runs = [in_vitro_assay(overrides, seed) for seed in SEEDS]
    day7 = [r["invitro_function_day7"] for r in runs]
    ratio = [r["invitro_day28_over_day7"] for r in runs]
    return (
        f"{label}: function at day 7 {statistics.mean(day7):.3f} "
        f"(seeds 1-4: {', '.join(f'{v:.3f}' for v in day7)}); day 28 / day 7 {statistics.mean(ratio):.3f}"
    )


def main(argv: list[str]) -> None:
    if argv:
        sets = []
        for arg in argv:
            try:
                overrides = json.loads(arg)
            except json.JSONDecodeError as exc:
                sys.exit(f"each argument is a JSON object of config overrides; {arg!r} is not JSON ({exc.msg})")
            if not isinstance(overrides, dict):
                sys.exit(f"each argument is a JSON object of config overrides, not {arg!r}")
            sets.append((json.dumps(overrides), overrides))
    else:
        sets = [(f"exhaustion per engagement {exh}", {"tcells.exhaustion_per_engagement": exh}) for exh in INCREMENTS]
    for label, overrides in sets:
        print(report(label, overrides), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
