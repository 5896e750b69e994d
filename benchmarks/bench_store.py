"""Experiment store size and opening time: files on disk and ``open_results`` wall time for N runs.

    .venv/bin/python benchmarks/bench_store.py --samples 9            # 3 arms x 9 samples x 2 replicates = 54 runs
    .venv/bin/python benchmarks/bench_store.py --samples 1667 --json benchmarks/measured/store.json  # 10,002 runs

The store has the variables of a real run (``experiments/default.toml``'s output for a 28-day run on a
16-site lattice: the same variables and time grid as a full-size run) and 3 arms x ``--samples`` samples x
2 replicates. Every run is written the way a sweep writes it (:func:`blinasim.experiments.store.stage_run`
in the worker, :func:`blinasim.experiments.store.pack_staged` in the parent, one shard at a time), with the
data of one real run, so no simulation time is spent. ``open_results`` is timed in a fresh process, the
median of 3: alone (zarr, dask and xarray already imported) and with the imports (blinasim's store module,
then everything ``open_results`` imports), as a user opening the store in a new session meets it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import blinasim
from blinasim.experiments.experiment import Experiment
from blinasim.experiments.store import (
    create_store,
    layout_from_datasets,
    pack_staged,
    run_region_dataset,
    shard_of,
    stage_run,
    store_shard_block,
)

OPEN = """
import sys, time
t0 = time.perf_counter()
from blinasim.experiments.store import open_results
if sys.argv[2] == "warm":  # the libraries a session has loaded anyway
    import dask.array, xarray, zarr
t1 = time.perf_counter()
ds = open_results(sys.argv[1])
print(time.perf_counter() - (t0 if sys.argv[2] == "cold" else t1))
"""


def measure(samples: int, directory: Path, shard_runs: int | None = None) -> dict:
    data = {
        "experiment": {"name": "bench_store", "seed": 1, "replicates": 2},
        "base": {"simulation": {"days": 28.0, "lattice_size": 16}},
        "arm": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
        "sampler": {
            "method": "grid",
            "parameters": {"patient.t_cells_per_ul": {"values": [300.0 + i for i in range(samples)]}},
        },
    }
    plan = Experiment.from_dict(data).plan
    ds = blinasim.simulate(plan.config(0, 0), seed=plan.seed(0, 0))
    layout = layout_from_datasets([ds])
    store = directory / f"runs{plan.n_runs}.zarr"
    create_store(store, plan, layout, shard_runs=shard_runs)
    region, _ = run_region_dataset(ds, layout)
    block = store_shard_block(store)
    t0 = time.perf_counter()
    by_shard: dict = {}
    for idx in plan.runs():
        stage_run(store, idx, region, layout)
        by_shard.setdefault(shard_of(idx, block), []).append(idx)
        if len(by_shard[shard_of(idx, block)]) == min(
            plan.n_runs, block[0] * block[1] * block[2]
        ):  # a full shard: pack it, as a sweep does
            pack_staged(store, layout, by_shard.pop(shard_of(idx, block)))
    for runs in by_shard.values():
        pack_staged(store, layout, runs)
    write_seconds = time.perf_counter() - t0
    files = sum(len(f) for _, _, f in os.walk(store))

    def open_seconds(mode: str) -> float:
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", OPEN, str(store), mode], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(3)
        ]
        return round(sorted(runs)[1], 3)  # the median of 3

    return {
        "runs": plan.n_runs,
        "shard_runs": list(block),
        "files": files,
        "bytes": sum(p.stat().st_size for p in store.rglob("*") if p.is_file()),
        "write_seconds": round(write_seconds, 2),
        # open_results alone (zarr, dask and xarray imported), and with the imports of a fresh process
        "open_results_seconds": open_seconds("warm"),
        "open_results_with_imports_seconds": open_seconds("cold"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, nargs="+", default=[9])
    ap.add_argument("--shard-runs", type=int, default=None, help="output.shard_runs (default: by size)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.samples:
            rec = measure(n, Path(tmp), args.shard_runs)
            print(json.dumps(rec), flush=True)
            records.append(rec)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
