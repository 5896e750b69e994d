"""Optional parts of blinasim, installed as extras, and the one error raised when one is missing.

The core install simulates patients, runs trials and local sweeps and writes
Zarr. Heavier parts come with extras (``pip install "blinasim[all]"`` brings
them all)::

    dask         Dask distributed: sweeps on a cluster (--scheduler, --dask-local)
    sensitivity  SALib: Sobol and Morris samplers and their sensitivity indices
    report       matplotlib and statsmodels: the figures and survival statistics of `blinasim report`
    netcdf       netCDF4: writing *.nc files (`--out run.nc`, `blinasim export`)

Code that needs one imports it where it is used, inside
:func:`requires_extra`, which turns a failed import into a
:class:`MissingExtraError` that names the extra to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from blinasim.errors import BlinasimError

#: Extra name -> what it brings (pyproject.toml, [project.optional-dependencies]).
EXTRAS: dict[str, str] = {
    "dask": "Dask distributed (sweeps on a Dask cluster)",
    "sensitivity": "SALib (Sobol and Morris samplers, sensitivity indices)",
    "report": "matplotlib and statsmodels (report figures; hazard ratios, median intervals, Holm)",
    "netcdf": "netCDF4 (*.nc files)",
    "view": "solara and altair (blinasim view: the live marrow)",
}


class MissingExtraError(BlinasimError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it.

    A :class:`~blinasim.errors.BlinasimError` (one readable line in
    ``problems``) and an :class:`ImportError` (``name`` is the missing
    package), so either ``except`` catches it. The command line shows it under
    its own heading, "missing optional dependency", in every command.

    Parameters
    ----------
    extra
        The extra of blinasim that brings the package (a key of :data:`EXTRAS`).
    feature
        What needed it, in words (e.g. ``"the Sobol sampler"``).
    module
        The module that could not be imported.

    Attributes
    ----------
    problems : list[str]
        One readable line, as on the other errors of the package.
    """

    def __init__(self, extra: str, feature: str, module: str):
        if extra not in EXTRAS:
            raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
        self.extra = extra
        self.feature = feature
        super().__init__(
            f'{feature} needs {module!r}, which is not installed: pip install "blinasim[{extra}]" '
            f"(or blinasim[all] for every optional part)"
        )
        self.name = module

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        # Rebuilt from its parts, so it crosses process boundaries (worker pools, Dask) intact.
        return type(self), (self.extra, self.feature, self.name)


@contextmanager
def requires_extra(extra: str, feature: str) -> Iterator[None]:
    """Import optional packages inside this block; a missing one raises :class:`MissingExtraError`.

    Parameters
    ----------
    extra
        The extra that installs what the block imports.
    feature
        What needs it, for the message.

    Raises
    ------
    MissingExtraError
        When an import in the block fails; the original error is its ``__cause__``.

    Examples
    --------
    >>> with requires_extra("sensitivity", "the Sobol sampler"):
    ...     from SALib.sample import sobol  # doctest: +SKIP
    """
    try:
        yield
    except MissingExtraError:
        raise
    except ImportError as exc:
        missing = (exc.name or str(exc)).split(".")[0]  # the package, not the submodule asked for
        raise MissingExtraError(extra, feature, missing) from exc
