"""Writing run results: netCDF for ``*.nc`` paths, Zarr otherwise.

Writes go to a temporary sibling first and are renamed into place only when
complete, so a failed or interrupted write never leaves a half-written result
under the requested name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import xarray as xr

from blinasim.extras import requires_extra


def _encodable(ds: xr.Dataset) -> xr.Dataset:
    """Strings as fixed-width unicode so that every backend stores them."""
    out = ds.copy()
    for name, var in ds.variables.items():
        if var.dtype == object or var.dtype.kind == "U":
            out[name] = var.astype(str)
    return out


def require_backend(path: str | os.PathLike) -> None:
    """Check that the file format of ``path`` can be written here (netCDF needs the ``netcdf`` extra).

    Raises
    ------
    blinasim.extras.MissingExtraError
        For a ``*.nc`` path when netCDF4 is not installed.
    """
    if Path(path).suffix == ".nc":
        with requires_extra("netcdf", "writing netCDF (*.nc)"):
            import netCDF4  # noqa: F401


def write_dataset(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path``; return the final path. Refuses to overwrite."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"output path {str(target)!r} already exists; choose another or remove it")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"output directory {str(parent)!r} does not exist")
    require_backend(target)
    ds = _encodable(ds)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=parent))
    try:
        if target.suffix == ".nc":
            tmp_file = tmp / target.name
            ds.to_netcdf(tmp_file, engine="netcdf4")
            os.replace(tmp_file, target)
            tmp.rmdir()
        else:
            tmp_store = tmp / "store"
            with warnings.catch_warnings():
                # Consolidated metadata is what lets ``xarray.open_zarr`` open the
                # store without a fallback warning; zarr 3 notes it is an extension.
                warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
                ds.to_zarr(tmp_store, mode="w-", consolidated=True)
            os.replace(tmp_store, target)
            tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
