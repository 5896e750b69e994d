"""Small experiments and store comparisons shared by the experiment tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import xarray as xr

from blinasim.experiments.store import open_store

#: Runs of a few milliseconds: 16x16 lattice, half a day.
TINY_BASE = """
[base]
simulation.days = 0.5
simulation.lattice_size = 16
"""

TWO_ARMS = """
[[arm]]
name = "step_up"
treatment.regimen = "rr_step_up"

[[arm]]
name = "flat"
treatment.regimen = "flat"
"""


def experiment_text(
    *,
    name: str = "tiny",
    seed: int = 11,
    replicates: int = 2,
    base: str = TINY_BASE,
    arms: str = TWO_ARMS,
    sampler: str = '[sampler]\nmethod = "grid"\n[sampler.parameters]\n"patient.t_cells_per_ul" = { values = [300.0, 900.0] }\n',
    extra: str = "",
) -> str:
    head = f'[experiment]\nname = "{name}"\nseed = {seed}\nreplicates = {replicates}\n'
    return "\n".join(textwrap.dedent(part) for part in (head, base, arms, sampler, extra))


def write_experiment(directory: Path, filename: str = "exp.toml", **kwargs) -> Path:
    path = directory / filename
    path.write_text(experiment_text(**kwargs))
    return path


#: Bookkeeping that legitimately differs between two executions of the same runs.
NONDETERMINISTIC = ("run_seconds", "run_cpu_seconds", "run_write_seconds", "run_worker")


def comparable(store: Path) -> xr.Dataset:
    ds = open_store(store).load()
    ds = ds.drop_vars([v for v in NONDETERMINISTIC if v in ds])
    ds.attrs.pop("created", None)
    ds.attrs.pop("experiment_toml", None)
    return ds


def assert_same_results(a: Path, b: Path) -> None:
    """Two stores hold bit-identical runs, statuses, messages, coordinates and metadata."""
    da, db = comparable(a), comparable(b)
    assert set(da.data_vars) == set(db.data_vars)
    for name in da.data_vars:
        va, vb = da[name].values, db[name].values
        if va.dtype.kind in "fc":
            assert np.array_equal(va, vb, equal_nan=True), name
        else:
            assert np.array_equal(va.astype(object), vb.astype(object)), name
    xr.testing.assert_identical(da, db)
