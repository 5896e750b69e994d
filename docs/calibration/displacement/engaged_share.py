"""How busy the T-cells are at g 0.25 (docs/calibration/displacement/README.md, "A lytic reserve per T-cell").

    python docs/calibration/displacement/engaged_share.py

One patient (48 x 48 lattice, the first 6 days, seed 3, `patient.marrow_t_cell_displacement` 0.25) at
marrow blasts 0.3 and 0.8: the share of the T-cells engaged (mean over days 1-6, and its maximum) and the
targets killed per T-cell per day. If few are engaged and each kills far below 2 a day (the low end of
Halle 2016's in-vivo range), a cap on the kill capacity at that range cannot bind.
"""

from __future__ import annotations

import numpy as np

from blinasim.core.model import simulate
from blinasim.params.schema import load_config

DAYS = 6.0


def _total(da):
    return da.sum([d for d in da.dims if d != "time"]).values


if __name__ == "__main__":
    for burden in (0.3, 0.8):
        over = {
            "simulation.lattice_size": 48,
            "simulation.days": DAYS,
            "patient.marrow_blast_fraction": burden,
            "patient.marrow_t_cell_displacement": 0.25,
        }
        ds = simulate(load_config(None, over), seed=3)
        share = _total(ds["t_cells_engaged"]) / _total(ds["t_cells"])
        per_day = float(ds.kills.sum()) / float(_total(ds["t_cells"]).mean()) / DAYS
        print(
            f"marrow blasts {burden}: engaged share, days 1-6 mean {np.mean(share[len(share) // 6 :]):.3f}, "
            f"max {share.max():.3f}; kills per T-cell per day {per_day:.2f}"
        )
