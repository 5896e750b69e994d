"""A crude stand-in for a recruited lymphoid pool, on a cohort (docs/validation.md, "CRS by burden: the
pre-phase's suppression at its sourced potency").

    python docs/calibration/crs_burden/pool_proxy.py N SEED FOLD '{"overrides": ...}' OUT.json

Runs N patients of the ``mt103_211`` cohort (seed SEED) for the first 24 days of cycle 1 with each
drawn blood T-cell count multiplied by FOLD (at most the attribute's bound), so that the drug-induced
redistribution of the first hours carries FOLD times the blood's T-cells into the marrow, where the
leukemia has not displaced them. A probe of the shape a recruited pool would give, not a model: the
blood counts and their read-outs move with it. Prints the groups below 50% marrow blasts and at or
above as ``probe.py`` does; read the record with ``drivers.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from burden_subgroups import by_burden  # scripts/burden_subgroups.py
from probe import report  # docs/calibration/crs_burden/probe.py

USAGE = __doc__.split("\n\n")[1].strip()
T_CELLS = "patient.t_cells_per_ul"
T_CELLS_MAX = 1e5  # the attribute's upper bound (blinasim.params.schema.PatientConfig)


def main(argv: list[str]) -> None:
    if len(argv) != 5:
        sys.exit(USAGE)
    try:
        n, seed, fold, overrides = int(argv[0]), int(argv[1]), float(argv[2]), json.loads(argv[3])
    except ValueError:
        sys.exit("N and SEED take integers, FOLD a number and the overrides a JSON object: " + USAGE)
    out = argv[4]
    extra = {"course.plan": "none", "simulation.days": 24.0, **overrides}

    def adjust(patient: dict) -> None:
        patient[T_CELLS] = min(patient[T_CELLS] * fold, T_CELLS_MAX)

    burden, results = by_burden(n, seed, extra, out, adjust=adjust)
    report(burden, results, extra)


if __name__ == "__main__":
    main(sys.argv[1:])
