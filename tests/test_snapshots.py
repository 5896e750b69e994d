"""Lattice snapshots (output.snapshot_every_days): off by default, and when on, pictures that agree with the census."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

import blinasim
from blinasim.core.output import PROVENANCE_ATTRS
from blinasim.core.snapshot import LATTICE_MEANINGS

SMALL = {"simulation": {"days": 3.0, "lattice_size": 24}}


def _cfg(**output) -> dict:
    cfg = json.loads(json.dumps(SMALL))
    if output:
        cfg["output"] = output
    return cfg


def test_off_by_default_the_dataset_and_its_stored_config_have_no_trace_of_snapshots():
    ds = blinasim.simulate(_cfg())
    assert not {"lattice", "lattice_t_cells", "time_snapshot", "x", "y"} & set(ds.variables)
    assert "output" not in json.loads(ds.attrs["config"])
    # Asking for 0 explicitly is the default too: the same stored config, the same numbers.
    same = blinasim.simulate(_cfg(snapshot_every_days=0.0))
    # date_created and blinasim_commit describe when and from which code a run was made, not the run.
    for run in (ds, same):
        for key in PROVENANCE_ATTRS:
            run.attrs.pop(key, None)
    xr.testing.assert_identical(ds, same)


def test_snapshots_do_not_change_the_run():
    plain = blinasim.simulate(_cfg())
    shot = blinasim.simulate(_cfg(snapshot_every_days=1.0))
    for name in plain.data_vars:
        np.testing.assert_array_equal(plain[name].values, shot[name].values, err_msg=name)


def test_snapshot_times_codes_and_flags():
    ds = blinasim.simulate(_cfg(snapshot_every_days=1.0))
    assert ds.lattice.dims == ("time_snapshot", "y", "x")
    assert ds.lattice.shape == (4, 24, 24)
    np.testing.assert_array_equal(ds.time_snapshot.values, [0.0, 1.0, 2.0, 3.0])
    assert ds.lattice.attrs["flag_meanings"].split() == list(LATTICE_MEANINGS)
    np.testing.assert_array_equal(ds.lattice.attrs["flag_values"], np.arange(len(LATTICE_MEANINGS)))
    assert ds.lattice.values.min() >= 0 and ds.lattice.values.max() < len(LATTICE_MEANINGS)
    # Every marrow T-cell stands on one site.
    agents = ds.t_cells.sel(compartment="marrow", time=ds.time_snapshot.values).values / ds.attrs["cells_per_agent"]
    np.testing.assert_allclose(ds.lattice_t_cells.values.sum(axis=(1, 2)), agents)
    # Sites showing a T-cell are exactly the sites with at least one.
    shows_t = ds.lattice.values >= LATTICE_MEANINGS.index("t_cell_naive")
    np.testing.assert_array_equal(shows_t, ds.lattice_t_cells.values > 0)
    assert "output" in json.loads(ds.attrs["config"])


def test_without_t_cells_the_picture_counts_the_census():
    cfg = _cfg(snapshot_every_days=1.0)
    cfg["patient"] = {"t_cells_per_ul": 0.0, "marrow_t_cell_fraction": 0.0}
    ds = blinasim.simulate(cfg)
    scale = ds.attrs["cells_per_agent"]
    at = {"time": ds.time_snapshot.values, "compartment": "marrow"}
    codes = ds.lattice.values.reshape(ds.sizes["time_snapshot"], -1)

    def count(*names):
        return np.isin(codes, [LATTICE_MEANINGS.index(n) for n in names]).sum(axis=1)

    blasts = count("blast_cd19_positive", "blast_cd19_negative", "blast_lineage_switched")
    weight = ds.blast_weight.sel(time=ds.time_snapshot.values).values if "blast_weight" in ds else scale
    np.testing.assert_allclose(blasts * weight, ds.blasts.sel(**at).values)
    np.testing.assert_allclose(count("normal_b_cell") * scale, ds.normal_b_cells.sel(**at).values)
    np.testing.assert_allclose(
        count("other_marrow_cell") * scale, ds.other_marrow_cells.sel(time=ds.time_snapshot.values).values
    )


def test_snapshots_survive_zarr_and_netcdf(tmp_path):
    ds = blinasim.simulate(_cfg(snapshot_every_days=1.5))
    np.testing.assert_array_equal(ds.time_snapshot.values, [0.0, 1.5, 3.0])
    for name in ("run.zarr", "run.nc"):
        path = blinasim.write_dataset(ds, tmp_path / name)
        back = xr.open_zarr(path) if name.endswith(".zarr") else xr.open_dataset(path)
        np.testing.assert_array_equal(back.lattice.values, ds.lattice.values)
        assert back.lattice.attrs["flag_meanings"] == ds.lattice.attrs["flag_meanings"]
        back.close()
