"""blinasim: an agent-based simulator of B-ALL under blinatumomab.

The Python API is the product; the command line is a thin layer over it::

    import blinasim
    cfg = blinasim.load_config("experiments/default.toml", {"patient.t_cells_per_ul": 800.0})
    ds = blinasim.simulate(cfg)            # an xarray.Dataset
    blinasim.write_dataset(ds, "run.zarr") # or "run.nc"
"""

from __future__ import annotations

from blinasim.errors import BlinasimError
from blinasim.params.schema import Config, ConfigError, load_config, validate_config
from blinasim.version import __version__


def simulate(config=None, *, seed=None, progress=None):
    """Simulate one virtual patient and return its ``xarray.Dataset`` (:func:`blinasim.core.model.simulate`)."""
    from blinasim.core.model import simulate as _simulate  # lazy: `import blinasim` does not load numba

    return _simulate(config, seed=seed, progress=progress)


def write_dataset(ds, path):
    """Write a Dataset to ``path`` (``.nc``: netCDF, else Zarr), atomically."""
    from blinasim.core.io import write_dataset as _write  # lazy: `import blinasim` stays light

    return _write(ds, path)


__all__ = [
    "BlinasimError",
    "Config",
    "ConfigError",
    "__version__",
    "load_config",
    "simulate",
    "validate_config",
    "write_dataset",
]

#: The experiments API, imported on first use: ``blinasim.Experiment``, ``blinasim.open_results``, ...
_LAZY = {
    "Experiment": "blinasim.experiments.experiment",
    "open_results": "blinasim.experiments.store",
    "make_report": "blinasim.experiments.report",
    "run_sweep": "blinasim.experiments.sweep",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'blinasim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
