"""One calibration cohort with the marrow T-cell share's median moved (docs/validation.md,
"Re-fit of CR/CRh on four cohorts, with the burden gradient").

    python docs/calibration/refit/cohort.py N SEED MEDIAN '{"overrides": ...}' OUT.json

Draws N patients of the ``mt103_211`` cohort (seed SEED), scales each drawn
``patient.marrow_t_cell_share_of_normal`` by MEDIAN / 0.065 (the cohort's median; the same standard
normals, so the patients are paired across medians) within the attribute's bounds [0.008, 0.5], runs
them with the overrides (the whole induction with ``"course.plan": "none"``) and writes one record per
patient with its marrow blast fraction ``bf``, as ``scripts/burden_subgroups.py`` does
(``docs/calibration/crs_burden/cohorts/summarise.py`` reads them).
"""

from __future__ import annotations

import json
import sys

from blinasim.trials.cohort import draw_cohort
from blinasim.trials.trial import run_cohorts

KEY = "patient.marrow_t_cell_share_of_normal"


def main(argv: list[str]) -> None:
    n, seed, median = int(argv[0]), int(argv[1]), float(argv[2])
    extra, out = json.loads(argv[3]), argv[4]
    patients = draw_cohort("mt103_211", n, seed)
    for p in patients:
        p[KEY] = min(0.5, max(0.008, p[KEY] * median / 0.065))
    results = run_cohorts({"mt103_211": patients}, seed, overrides=extra, workers=2)
    with open(out, "w") as fh:
        json.dump([{"bf": p["patient.marrow_blast_fraction"], **r} for p, r in zip(patients, results, strict=True)], fh)


if __name__ == "__main__":
    main(sys.argv[1:])
