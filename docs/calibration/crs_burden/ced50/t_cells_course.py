"""Marrow and blood T-cells of the default patient over cycle 1 (docs/validation.md, "CRS by burden:
the pre-phase's suppression at its sourced potency").

    python docs/calibration/crs_burden/ced50/t_cells_course.py ['{"overrides": ...}' ...]

Runs the default patient (seed 5) for 28 days with each set of overrides (``'{}'``: the defaults) and
prints the T-cells of marrow and blood on days 0, 1, 3, 7, 10, 14, 17, 21 and 27.
"""

from __future__ import annotations

import json
import sys

import numpy as np

import blinasim

DAYS = (0, 1, 3, 7, 10, 14, 17, 21, 27)


def main(argv: list[str]) -> None:
    for arg in argv or ["{}"]:
        config = blinasim.load_config(None, {"simulation.days": 28.0, "course.plan": "none", **json.loads(arg)})
        ds = blinasim.simulate(config, seed=5)
        t = ds.time.values
        print(f"overrides {arg}")
        print("  day   marrow T   blood T   total (x day 0)")
        marrow, blood = (ds.t_cells.sel(compartment=c).values for c in ("marrow", "blood"))
        total0 = marrow[0] + blood[0]
        for day in DAYS:
            i = int(np.argmin(abs(t - day)))
            print(f"  {day:3d}  {marrow[i]:9.3g}  {blood[i]:8.3g}  {(marrow[i] + blood[i]) / total0:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
