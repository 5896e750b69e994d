"""Hash the output of a fixed set of varied runs, to prove a refactor changes no result.

    python scripts/hash_runs.py [--out hashes.txt]

Each line is ``name sha256``: the hash covers every data variable and coordinate
(name, dtype, shape, bytes; strings as UTF-8) and every attribute but the software
versions, the creation time (a run's ``date_created``, the store's ``created``) and the git commit. The sweep store's timing and worker variables (wall time, CPU time,
host:pid) are left out: they are measurements, not results. Run it before and
after a change that must not change behaviour, and compare the two lists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

import blinasim
from blinasim.core.output import PROVENANCE_ATTRS

ROOT = Path(__file__).resolve().parent.parent

#: name -> overrides of the built-in default config (short runs, varied processes).
CONFIGS: dict[str, dict] = {
    "default_14d": {"simulation.days": 14.0},
    "flat_regimen": {"simulation.days": 10.0, "treatment.regimen": "flat"},
    "mrd_regimen": {"simulation.days": 10.0, "treatment.regimen": "mrd", "patient.marrow_blast_fraction": 0.01},
    "no_treatment": {"simulation.days": 7.0, "treatment.regimen": "none"},
    "nivolumab": {"simulation.days": 10.0, "treatment.checkpoint_inhibitor": "nivolumab"},
    "pembrolizumab": {"simulation.days": 10.0, "treatment.checkpoint_inhibitor": "pembrolizumab"},
    "salvage_chemo": {"simulation.days": 10.0, "treatment.regimen": "none", "treatment.chemotherapy": "salvage"},
    "no_dexamethasone": {"simulation.days": 10.0, "treatment.dexamethasone_premedication": False},
    "resistance": {
        "simulation.days": 12.0,
        "disease.lineage_switch_per_division": 0.05,
        "patient.kmt2a_rearranged": True,
    },
    "high_burden_tcells": {
        "simulation.days": 8.0,
        "patient.marrow_blast_fraction": 0.95,
        "patient.t_cells_per_ul": 2500.0,
    },
    "two_cycles_small": {"simulation.days": 60.0, "treatment.cycles": 2, "simulation.lattice_size": 48},
}

#: Attributes that are not results: software versions and the store's creation time.
SKIP_ATTRS = {
    "blinasim_version",
    "numpy_version",
    "numba_version",
    "mesa_version",
    "versions",
    "software",
    "created",
    *PROVENANCE_ATTRS,  # a run's creation date and git commit
}
SKIP_VARS = {"run_seconds", "run_cpu_seconds", "run_write_seconds", "run_worker"}


def _feed(h, name: str, arr: np.ndarray) -> None:
    h.update(name.encode())
    h.update(str(arr.dtype).encode())
    h.update(str(arr.shape).encode())
    if arr.dtype.kind in "OUS":
        h.update("\x1f".join(str(x) for x in arr.ravel()).encode())
    else:
        h.update(np.ascontiguousarray(arr).tobytes())


def dataset_hash(ds: xr.Dataset) -> str:
    h = hashlib.sha256()
    for name in sorted(ds.variables):
        if name in SKIP_VARS:
            continue
        var = ds.variables[name]
        _feed(h, str(name), np.asarray(var.values))
        attrs = {k: v for k, v in var.attrs.items() if k not in SKIP_ATTRS}
        h.update(json.dumps(attrs, sort_keys=True, default=str).encode())
    attrs = {k: v for k, v in ds.attrs.items() if k not in SKIP_ATTRS and "version" not in k}
    h.update(json.dumps(attrs, sort_keys=True, default=str).encode())
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    lines = []
    for name, over in CONFIGS.items():
        ds = blinasim.simulate(blinasim.load_config(None, over))
        lines.append(f"{name} {dataset_hash(ds)}")
        print(lines[-1], flush=True)
    tmp = Path(tempfile.mkdtemp())
    try:
        from blinasim import Experiment, open_results, run_sweep

        store = tmp / "arms.zarr"
        run_sweep(Experiment.from_toml(ROOT / "experiments" / "arm_comparison.toml"), store, workers=2, progress=False)
        ds = open_results(store).load()
        lines.append(f"sweep_arm_comparison {dataset_hash(ds)}")
        print(lines[-1], flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
