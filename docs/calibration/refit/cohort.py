"""One calibration cohort with the marrow T-cell share's median moved (docs/validation.md,
"Re-fit of CR/CRh on four cohorts, with the burden gradient").

    python docs/calibration/refit/cohort.py N SEED MEDIAN '{"overrides": ...}' OUT.json

Draws N patients of the ``mt103_211`` cohort (seed SEED), scales each drawn
``patient.marrow_t_cell_share_of_normal`` by MEDIAN / the cohort's median (the same standard
normals, so the patients are paired across medians; the records made before 2026-12-02 ran while
that median was 0.065) within the attribute's bounds [0.008, 0.5], and
runs them with the overrides (the whole induction with ``"course.plan": "none"``) through
``scripts/burden_subgroups.by_burden``, which writes one record per patient with its marrow blast
fraction ``bf`` (``docs/calibration/crs_burden/cohorts/summarise.py`` reads them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from burden_subgroups import by_burden  # scripts/burden_subgroups.py

from blinasim.trials.cohort import MT103_211

KEY = "patient.marrow_t_cell_share_of_normal"


def main(argv: list[str]) -> None:
    n, seed, median = int(argv[0]), int(argv[1]), float(argv[2])
    drawn = next(a for a in MT103_211.attributes if a.key == KEY).params["median"]

    def scale(patient: dict) -> None:
        patient[KEY] = min(0.5, max(0.008, patient[KEY] * median / drawn))

    by_burden(n, seed, json.loads(argv[3]), argv[4], adjust=scale)


if __name__ == "__main__":
    main(sys.argv[1:])
