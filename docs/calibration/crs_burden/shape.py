"""The first cytokine surge of one patient across marrow blast burden (docs/validation.md, "CRS by burden: the shape of the first surge").

    python docs/calibration/crs_burden/shape.py '{"overrides": ...}' ['{"more overrides": ...}' ...]

One reference patient (the defaults, with the R/R cohorts' median marrow T-cell share of the normal
marrow, 0.08, so infiltration displaces the marrow T-cells) is run for the first 24 days of cycle 1
at marrow blast fractions 0.1-0.95, every other attribute and the seed fixed. Per burden it prints
the marrow T-cells at entry, the most marrow T-cells in a synapse in days 0-2 and their share of the
marrow T-cells, the cytokine competence on day 1 and day 7, the peak CRS signal of days 0-7 (the
first-dose surge) and of days 7-24 (the step-up). Each argument is one set of overrides (``'{}'``:
the defaults); the patients run on two worker processes.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import blinasim

BURDENS = (0.1, 0.3, 0.5, 0.7, 0.85, 0.95)
SEED = 5
#: The cohorts' median marrow T-cell share of the normal marrow (blinasim.trials.cohort).
T_CELL_SHARE = 0.08


def one(job: tuple[float, dict]) -> dict:
    burden, extra = job
    overrides = {
        "patient.marrow_blast_fraction": burden,
        "patient.marrow_t_cell_share_of_normal": T_CELL_SHARE,
        "simulation.days": 24.0,
        "course.plan": "none",
        **extra,
    }
    ds = blinasim.simulate(blinasim.load_config(None, overrides), seed=SEED)
    t = ds["time"].values
    marrow_t = ds["t_cells"].sel(compartment="marrow").values
    engaged = ds["t_cells_engaged"].sel(compartment="marrow").values
    crs = ds["crs_signal"].values
    competence = ds["cytokine_competence"].values
    d1, d2, d7 = (int(np.searchsorted(t, d)) for d in (1.0, 2.0, 7.0))
    i = int(np.argmax(engaged[: d2 + 1]))
    return {
        "burden": burden,
        "marrow_t": float(marrow_t[0]),
        "engaged": float(engaged[i]),
        "engaged_share": float(engaged[i] / marrow_t[i]),
        "competence_d1": float(competence[d1]),
        "competence_d7": float(competence[d7]),
        "first_peak": float(crs[: d7 + 1].max()),
        "step_up_peak": float(crs[d7:].max()),
    }


def main(argv: list[str]) -> None:
    for arg in argv or ["{}"]:
        extra = json.loads(arg)
        with ProcessPoolExecutor(2) as pool:
            rows = list(pool.map(one, [(b, extra) for b in BURDENS]))
        print(f"overrides {arg}")
        print("  burden  marrow T  engaged (share)      competence d1/d7  peak d0-7  peak d7-24 (pg/mL)")
        for r in rows:
            print(
                f"  {r['burden']:5.2f}  {r['marrow_t']:8.2e}  {r['engaged']:8.2e} ({r['engaged_share']:.3f})"
                f"  {r['competence_d1']:6.3f}/{r['competence_d7']:.3f}  {r['first_peak']:9.1f}  {r['step_up_peak']:9.1f}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
