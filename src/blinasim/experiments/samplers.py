"""Samplers over config parameters: grid, random, Latin hypercube, Sobol, Morris, CSV, virtual-patient cohorts.

A sampler turns the ``[sampler]`` table of an experiment into a list of
samples, each a mapping from dotted config paths to values. Numeric samplers
draw in a *design space* (the unit interval mapped to ``[low, high]``, or to
``[log10 low, log10 high]`` for ``scale = "log"``); the design matrix is kept
because Sobol and Morris analyses need it exactly as drawn (before integer
parameters are rounded).

Sobol (Saltelli) and Morris designs come from SALib; random draws and Latin
hypercubes from numpy / scipy.stats.qmc, all seeded from the experiment so the
same file always gives the same samples. A cohort sampler draws virtual
patients from a trial population of :mod:`blinasim.trials.cohort` (one sample per
patient, its drawn attributes as the sampled parameters).
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from blinasim.extras import requires_extra
from blinasim.trials.cohort import COHORTS, draw_cohort
from blinasim.trials.trial import cohort_settings

#: Samplers and the keys of ``[sampler]`` each of them uses.
METHODS = ("none", "grid", "random", "lhs", "sobol", "morris", "csv", "cohort")


@dataclass(frozen=True)
class ParameterInfo:
    """What the config schema says about a sampled parameter."""

    path: str
    kind: str  # "float", "int", "bool", "choice", "str", "other"
    choices: tuple[Any, ...] = ()
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class ParameterRange:
    """One sampled parameter after validation."""

    path: str
    info: ParameterInfo
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] | None = None
    num: int | None = None
    scale: str = "linear"

    @property
    def design_bounds(self) -> tuple[float, float]:
        """Bounds in the design space (log10 for log scale)."""
        assert self.low is not None and self.high is not None
        if self.scale == "log":
            return math.log10(self.low), math.log10(self.high)
        return float(self.low), float(self.high)

    def from_design(self, x: float) -> Any:
        """A design-space coordinate to the config value (rounded for integers)."""
        value = 10.0**x if self.scale == "log" else float(x)
        # Keep inside [low, high] against the last ulp of 10**log10(x).
        value = min(max(value, float(self.low)), float(self.high))  # type: ignore[arg-type]
        if self.info.kind == "int":
            return round(value)
        return value

    def from_unit(self, u: float) -> Any:
        """A point of [0, 1) to the config value: scaled, or a uniform choice from ``values``."""
        if self.values is not None:
            k = min(int(u * len(self.values)), len(self.values) - 1)
            return self.values[k]
        lo, hi = self.design_bounds
        return self.from_design(lo + u * (hi - lo))

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "scale": self.scale}
        if self.values is not None:
            out["values"] = list(self.values)
        else:
            out["low"], out["high"] = self.low, self.high
        if self.num is not None:
            out["num"] = self.num
        return out


@dataclass
class SampleSet:
    """The samples of an experiment and what an analysis needs to know about them."""

    method: str
    parameters: list[str]
    #: one row per sample, one column per parameter (config values)
    rows: list[list[Any]]
    #: design-space matrix (n_samples x n_parameters) for numeric samplers, else None
    design: np.ndarray | None = None
    #: labels of samples (CSV ``label`` column), else None
    labels: list[str] | None = None
    #: everything needed to repeat the draw or run the matching analysis
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.rows) if self.parameters else 1

    def overrides(self, sample: int) -> dict[str, Any]:
        if not self.parameters:
            return {}
        return dict(zip(self.parameters, self.rows[sample], strict=True))


def salib_problem(ranges: list[ParameterRange]) -> dict[str, Any]:
    """The SALib problem dict in design space."""
    return {
        "num_vars": len(ranges),
        "names": [r.path for r in ranges],
        "bounds": [list(r.design_bounds) for r in ranges],
    }


def is_power_of_two(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def draw(
    method: str,
    ranges: list[ParameterRange],
    *,
    n: int | None,
    seed: int,
    second_order: bool = False,
    levels: int = 4,
    csv_rows: tuple[list[str], list[list[Any]], list[str] | None] | None = None,
    cohort: str | None = None,
) -> SampleSet:
    """Draw the samples of a validated sampler (see :mod:`blinasim.experiments.spec` for validation)."""
    paths = [r.path for r in ranges]
    meta: dict[str, Any] = {"method": method, "seed": seed, "parameters": [r.describe() for r in ranges]}
    if method == "none":
        return SampleSet("none", [], [[]], meta={"method": "none"})
    if method == "csv":
        assert csv_rows is not None
        columns, rows, labels = csv_rows
        return SampleSet("csv", columns, rows, labels=labels, meta={"method": "csv", "parameters": columns})
    if method == "cohort":
        assert n is not None and cohort is not None
        return draw_cohort_samples(cohort, n, seed)
    if method == "grid":
        axes = []
        for r in ranges:
            if r.values is not None:
                axes.append(list(r.values))
            else:
                lo, hi = r.design_bounds
                xs = np.linspace(lo, hi, int(r.num))  # type: ignore[arg-type]
                axes.append([r.from_design(x) for x in xs])
        rows = [list(p) for p in itertools.product(*axes)]
        return SampleSet("grid", paths, rows, meta=meta)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    d = len(ranges)
    if method in ("random", "lhs"):
        assert n is not None
        if method == "random":
            unit = rng.random((n, d))
        else:
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=d, rng=rng).random(n)
        meta["n"] = n
        rows = [[r.from_unit(u) for r, u in zip(ranges, row, strict=True)] for row in unit]
        numeric = all(r.values is None for r in ranges)
        design = None
        if numeric:
            design = np.array(
                [
                    [lo + u * (hi - lo) for (lo, hi), u in zip((r.design_bounds for r in ranges), row, strict=True)]
                    for row in unit
                ],
                dtype=np.float64,
            ).reshape(n, d)
        return SampleSet(method, paths, rows, design=design, meta=meta)
    problem = salib_problem(ranges)
    if method == "sobol":
        with requires_extra("sensitivity", "the Sobol sampler"):
            from SALib.sample import sobol

        assert n is not None
        x = sobol.sample(problem, n, calc_second_order=second_order, scramble=True, seed=int(seed % 2**32))
        meta.update(n=n, second_order=second_order, problem=problem)
    elif method == "morris":
        with requires_extra("sensitivity", "the Morris sampler"):
            from SALib.sample import morris

        assert n is not None
        x = morris.sample(problem, n, num_levels=levels, seed=int(seed % 2**32))
        meta.update(n=n, levels=levels, problem=problem)
    else:  # pragma: no cover - validated earlier
        raise ValueError(f"unknown sampler {method!r}")
    x = np.asarray(x, dtype=np.float64)
    rows = [[r.from_design(v) for r, v in zip(ranges, row, strict=True)] for row in x]
    return SampleSet(method, paths, rows, design=x, meta=meta)


def draw_cohort_samples(name: str, n: int, seed: int) -> SampleSet:
    """``n`` virtual patients of the cohort ``name`` (:func:`blinasim.trials.cohort.draw_cohort` with ``seed``).

    The sampled parameters are the cohort's drawn attributes, in the order of its
    specification; its fixed settings are not samples (the experiment puts them
    in the base config, see :func:`blinasim.trials.trial.cohort_settings`).
    """
    spec = COHORTS[name]
    keys = [a.key for a in spec.attributes]
    patients = draw_cohort(spec, n, seed)
    rows = [[p[k] for k in keys] for p in patients]
    meta = {
        "method": "cohort",
        "cohort": name,
        "description": spec.description,
        "n": n,
        "seed": seed,
        "parameters": keys,
        "settings": cohort_settings(name),
        "distributions": [
            {"key": a.key, "kind": a.kind, "params": dict(a.params)}
            | ({"low": a.low} if math.isfinite(a.low) else {})
            | ({"high": a.high} if math.isfinite(a.high) else {})
            for a in spec.attributes
        ],
    }
    return SampleSet("cohort", keys, rows, meta=meta)


def read_csv(path: Path) -> tuple[list[str], list[list[str]], list[str] | None]:
    """Header and raw cells of a CSV of samples; an optional ``label`` column names the samples."""
    with open(path, newline="", encoding="utf-8-sig") as fh:  # an Excel CSV starts with a byte-order mark
        reader = csv.reader(row for row in fh if row.strip() and not row.lstrip().startswith("#"))
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError("the file is empty (expected a header row of dotted parameter paths)") from None
        rows = []
        for lineno, row in enumerate(reader, start=2):
            cells = [c.strip() for c in row]
            if len(cells) != len(header):
                raise ValueError(f"row {lineno} has {len(cells)} cells; the header has {len(header)}")
            rows.append(cells)
    if not rows:
        raise ValueError("no samples (only a header row)")
    labels = None
    if "label" in header:
        k = header.index("label")
        labels = [r[k] for r in rows]
        header = header[:k] + header[k + 1 :]
        rows = [r[:k] + r[k + 1 :] for r in rows]
    return header, rows, labels
