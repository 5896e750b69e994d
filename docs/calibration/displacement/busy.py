"""How busy the T-cells are at two burdens under overrides (docs/calibration/displacement/README.md, "What
limits a T-cell's kills in a packed marrow").

    python docs/calibration/displacement/busy.py '{overrides}'

One patient (48 x 48 lattice, the first 6 days, seed 3) at marrow blasts 0.3 and 0.8, as ``engaged_share.py``,
with the regulatory T-cells' suppression and the share of exhausted T-cells (means over days 1-6) added,
and the kills per blast of day 0 per day. ``busy.txt``: ``patient.marrow_t_cell_displacement`` 0.25 with
``drug.adhesion_beta`` 0.033 (the default), 0.1, 0.3 and 1.0.
"""

import json
import sys

import numpy as np

from blinasim.core.model import simulate
from blinasim.params.schema import load_config

DAYS = 6.0


def _total(da):
    return da.sum([d for d in da.dims if d != "time"]).values


extra = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
for burden in (0.3, 0.8):
    over = {"simulation.lattice_size": 48, "simulation.days": DAYS, "patient.marrow_blast_fraction": burden, **extra}
    ds = simulate(load_config(None, over), seed=3)
    t = _total(ds["t_cells"])
    share = _total(ds["t_cells_engaged"]) / t
    after_day1 = slice(len(share) // 6, None)  # days 1-6 of the 6
    kills = float(ds.kills.sum())
    per_t = kills / float(t.mean()) / DAYS
    b0 = float(_total(ds["blasts"])[0])
    treg = float(ds["treg_suppression"].values[after_day1].mean())
    exh = float(np.mean((_total(ds["t_cells_exhausted"]) / t)[after_day1]))
    print(
        f"{json.dumps(extra)} blasts {burden}: engaged mean {np.mean(share[after_day1]):.3f} max {share.max():.3f}; "
        f"Treg suppression {treg:.2f}; exhausted {exh:.2f}; "
        f"kills/T/day {per_t:.2f}; mean T {t.mean():.0f}; blasts at 0 {b0:.0f}; kills/blast at 0 per day {kills / b0 / DAYS:.3f}",
        flush=True,
    )
