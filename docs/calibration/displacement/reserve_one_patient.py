"""One patient (48 x 48 lattice, 10 days, marrow blasts 0.8, seed 3) with and without the lytic-reserve probe
(docs/calibration/displacement/README.md, "A lytic reserve per T-cell").

    PYTHONPATH=TREE/src python docs/calibration/displacement/reserve_one_patient.py

TREE is a worktree with `reserve_probe.patch` applied; ``BLINASIM_RESERVE='{"cost": C, "recovery_hours": H}'``
sets the probe's reserve (cost 0, its default, must give the hash of the unpatched code). Prints a hash of
the marrow blast fraction series, its last value and the blasts killed.
"""

from __future__ import annotations

import hashlib

import numpy as np

from blinasim.core.model import simulate
from blinasim.params.schema import load_config

if __name__ == "__main__":
    cfg = load_config(
        None, {"simulation.lattice_size": 48, "simulation.days": 10.0, "patient.marrow_blast_fraction": 0.8}
    )
    ds = simulate(cfg, seed=3)
    series = np.ascontiguousarray(ds["marrow_blast_fraction"].values)
    print(hashlib.sha256(series.tobytes()).hexdigest()[:16], float(series[-1]), int(ds.kills.sum()))
