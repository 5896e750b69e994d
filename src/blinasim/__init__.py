"""blinasim: an agent-based simulator of B-ALL under blinatumomab.

The Python API is the product; the command line is a thin layer over it::

    import blinasim
    cfg = blinasim.load_config("experiments/default.toml", {"patient.t_cells_per_ul": 800.0})
    ds = blinasim.simulate(cfg)            # an xarray.Dataset
    blinasim.write_dataset(ds, "run.zarr") # or "run.nc"
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from blinasim.config import Config, ConfigError, load_config, validate_config

try:
    __version__ = version("blinasim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"


def simulate(
    config: Config | dict | None = None,
    *,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
):
    """Simulate one virtual patient and return its ``xarray.Dataset``.

    Parameters
    ----------
    config
        A :class:`Config`, a nested dict (validated), or None for the defaults.
    seed
        Explicit run seed; by default derived from ``simulation.seed``.
    progress
        Optional callback ``progress(tick, n_ticks)``.
    """
    from blinasim.model import BlinatumomabModel

    if config is None or isinstance(config, dict):
        config = validate_config(config)
    model = BlinatumomabModel(config, seed=seed)
    model.run(progress=progress)
    return model.to_dataset()


def write_dataset(ds, path):
    """Write a Dataset to ``path`` (``.nc``: netCDF, else Zarr), atomically."""
    from blinasim.io import write_dataset as _write

    return _write(ds, path)


__all__ = ["Config", "ConfigError", "__version__", "load_config", "simulate", "validate_config", "write_dataset"]

#: The experiments API, imported on first use: ``blinasim.Experiment``, ``blinasim.open_results``, ...
_LAZY = {
    "Experiment": "blinasim.experiment",
    "open_results": "blinasim.store",
    "make_report": "blinasim.report",
    "run_sweep": "blinasim.sweep",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'blinasim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
