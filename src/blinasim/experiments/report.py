"""Reports on an experiment store: endpoints per arm, paired differences, time courses, sensitivity.

Only runs marked "done" enter a report. Endpoints are

- the scalar variables of a run (``cr_crh``, ``mrd_response``,
  ``max_crs_grade``, ``relapse_day``, ``relapse_type``, and any new one), picked
  up automatically; an endpoint that is NaN in every run is listed as not
  assessed rather than summarised;
- endpoints derived from the time courses when their variables exist:
  final marrow blast fraction, minimum MRD, first day with MRD below the
  MRD-negativity threshold of each run's config (``endpoints.mrd_threshold``),
  total blasts at the end, blasts killed, peak drug concentration;
- yes/no endpoints derived from the maximum grades: CRS of any grade
  (``crs_any``), CRS grade >= 3 (``crs_grade3``), and the same for
  neurotoxicity, as defined once for trials, calibration and reports in
  :data:`blinasim.clinical.endpoints.YES_NO_ENDPOINTS`.

Per arm: the mean with a Student-t confidence interval, the median and the
10th and 90th percentiles; for yes/no endpoints the proportion with a Wilson
interval; for categorical endpoints the counts. Between arms: differences
paired by (sample, replicate) — the runs of a pair share their seed (common
random numbers) — with a paired-t interval, the counts of higher, lower and
equal pairs, and the variance ratio Var(B-A) / (Var A + Var B), which is below
1 when pairing sharpens the comparison. Time courses: median and 10-90%
band per arm. Sobol (S1, ST) or Morris (mu*, sigma) indices for sensitivity
experiments, computed with SALib on the replicate means of each sample;
Spearman rank correlations for random and Latin-hypercube samples and for
virtual-patient cohorts (the patients' drawn attributes). For a cohort
experiment (``method = "cohort"``) the trial's rates come first: per arm with
Wilson intervals, beside the calibration target of the trial where there is
one, and split at the cohort median of each drawn attribute.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from blinasim.clinical.endpoints import TRIAL_ENDPOINTS, YES_NO_ENDPOINTS
from blinasim.core.io import WRITER_FILE, OutputError, check_writable_dir, describe_os_error, make_partial_dir
from blinasim.errors import BlinasimError
from blinasim.experiments.store import (
    DONE,
    FAILED,
    PENDING,
    RUN_DIMS,
    STATUS_VAR,
    damaged_runs,
    format_damaged,
    open_results,
    read_status,
    run_config,
    run_variables,
)
from blinasim.extras import requires_extra
from blinasim.trials.calibration.targets import TARGET_BY_NAME, TRIAL_TARGETS
from blinasim.trials.trial import wilson_ci

#: Yes/no endpoints stored as run scalars (floats with NaN for "not assessed").
BINARY_ENDPOINTS = tuple(e.name for e in YES_NO_ENDPOINTS if e.source == e.name)
#: Yes/no endpoints derived from another read-out of the run (CRS of any grade from the maximum grade, ...).
DERIVED_YES_NO = tuple(e for e in YES_NO_ENDPOINTS if e.source != e.name)
#: Read-outs summarised as numbers even when a small store only saw 0 and 1 (grades).
GRADE_SOURCES = frozenset(e.source for e in DERIVED_YES_NO)
#: The rates a virtual trial reports, in this order (those the store has).
TRIAL_RATES = tuple(e.name for e in TRIAL_ENDPOINTS)
#: Time courses drawn by default, in this order, when the store has them.
DEFAULT_FIGURES = (
    "marrow_blast_fraction",
    "mrd",
    "blasts",
    "t_cells",
    "t_cells_engaged",
    "t_cells_exhausted",
    "bite_concentration",
    "dose_rate",
    "kills",
    "il6",
    "ifng",
    "crs_grade",
    "pdl1_mean",
)
#: Variables drawn on a log axis.
LOG_SCALE = {"mrd", "blasts", "blasts_cd19_negative", "blasts_lineage_switched", "normal_b_cells", "il6", "ifng"}


class ReportError(BlinasimError):
    """A store that cannot be reported on, or a bad report option: one line per problem."""


@dataclass
class Endpoint:
    name: str
    kind: str  # "numeric", "binary", "categorical"
    values: xr.DataArray  # dims (arm, sample, replicate)
    units: str = ""
    long_name: str = ""
    derived: bool = False


# ------------------------------------------------------------- endpoints


def _as_str(a: np.ndarray) -> np.ndarray:
    """Any string array (numpy StringDType from Zarr included) as fixed-width unicode."""
    return np.asarray(a).astype(object).astype(str)


def _derived(ds: xr.Dataset) -> list[Endpoint]:
    out = []

    def add(name, values, units, long_name):
        out.append(Endpoint(name, "numeric", values.astype(np.float64), units, long_name, derived=True))

    if "marrow_blast_fraction" in ds:
        add(
            "final_marrow_blast_fraction",
            ds.marrow_blast_fraction.isel(time=-1, drop=True),
            "1",
            "marrow blast fraction at the end of the run",
        )
    if "mrd" in ds:
        mrd = ds.mrd.load()
        add("min_mrd", mrd.min("time"), "1", "lowest MRD during the run")
        m = mrd.transpose(*RUN_DIMS, "time").values
        threshold = mrd_thresholds(ds)
        below = np.isfinite(m) & (m < threshold[:, :, None, None])
        day = np.where(below.any(axis=-1), ds.time.values[below.argmax(axis=-1)], np.nan)
        levels = np.unique(threshold)
        level = f"{levels[0]:g}" if levels.size == 1 else "endpoints.mrd_threshold of each run"
        add(
            "day_mrd_negative",
            xr.DataArray(day, dims=RUN_DIMS, coords={d: ds[d] for d in RUN_DIMS}),
            "day",
            f"first day with MRD < {level} (endpoints.mrd_threshold; NaN: never)",
        )
    if "blasts" in ds:
        total = ds.blasts.sum("compartment", min_count=1) if "compartment" in ds.blasts.dims else ds.blasts
        add("final_blasts", total.isel(time=-1, drop=True), "cells", "leukemic cells at the end (all compartments)")
    if "kills" in ds:
        add("total_kills", ds.kills.sum("time", min_count=1), "cells", "blasts killed during the run")
    if "bite_concentration" in ds:
        add("peak_bite_concentration", ds.bite_concentration.max("time"), "pg/mL", "peak serum blinatumomab")
    for e in DERIVED_YES_NO:
        if e.source in ds and ds[e.source].dims == RUN_DIMS:
            g = ds[e.source].load()
            flag = xr.DataArray(e.flags(g.values), coords=g.coords, dims=g.dims)
            out.append(Endpoint(e.name, "binary", flag, "1", f"{e.description} (from {e.source})", derived=True))
    return out


def mrd_thresholds(ds: xr.Dataset) -> np.ndarray:
    """The MRD-negativity threshold (``endpoints.mrd_threshold``) of every (arm, sample) of a store,
    from each run's config (per sample only when the sampler varies it)."""
    per_sample = "endpoints.mrd_threshold" in json.loads(ds.attrs.get("parameters", "[]"))
    out = np.empty((ds.sizes["arm"], ds.sizes["sample"]))
    for a in range(out.shape[0]):
        if per_sample:
            out[a] = [run_config(ds, a, s).endpoints.mrd_threshold for s in range(out.shape[1])]
        else:
            out[a] = run_config(ds, a, 0).endpoints.mrd_threshold
    return out


def _looks_binary(var: xr.DataArray) -> bool:
    """A float 0-d endpoint in units of 1 whose values are all 0 or 1 (NaN: not assessed)."""
    if var.dtype.kind != "f" or var.attrs.get("units") != "1":
        return False
    if "1/0" in str(var.attrs.get("long_name", "")):
        return True
    values = np.asarray(var.values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.isin(finite, (0.0, 1.0)).all())


def endpoints(ds: xr.Dataset) -> tuple[list[Endpoint], list[str]]:
    """The endpoints of a store (masked to done runs) and notes on those without any value."""
    found: list[Endpoint] = []
    notes: list[str] = []
    for name in run_variables(ds):
        var = ds[name]
        if var.dims != RUN_DIMS:
            continue
        attrs = var.attrs
        if var.dtype.kind in "OUST":
            kind = "categorical"
        elif name in GRADE_SOURCES:
            kind = "numeric"  # a grade, even when a small store only saw grades 0 and 1
        elif attrs.get("run_dtype") == "bool" or name in BINARY_ENDPOINTS or _looks_binary(var):
            kind = "binary"
        else:
            kind = "numeric"
        found.append(Endpoint(name, kind, var, str(attrs.get("units", "")), str(attrs.get("long_name", ""))))
    found.extend(_derived(ds))
    kept = []
    for ep in found:
        ep.values = ep.values.load()
        if ep.kind == "categorical":
            vals = np.where(ds[STATUS_VAR].values == DONE, _as_str(ep.values.values), "")
            ep.values = ep.values.copy(data=vals)
            present = set(vals.ravel()) - {""}
            if not present or present <= {"not_assessed"}:
                notes.append(f"{ep.name}: not assessed in this store")
                continue
        elif not np.isfinite(ep.values.values.astype(np.float64)).any():
            notes.append(f"{ep.name}: not assessed (NaN in every done run)")
            continue
        kept.append(ep)
    return kept, notes


# ------------------------------------------------------------- statistics


def _t_quantile(confidence: float, dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, dof))


def mean_ci(x: np.ndarray, confidence: float) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if n < 2:
        return m, math.nan, math.nan
    half = _t_quantile(confidence, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return m, m - half, m + half


def summarise(eps: list[Endpoint], arms: list[str], confidence: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numeric and binary endpoints per arm; categorical counts per arm."""
    rows, cats = [], []
    for ep in eps:
        for i, arm in enumerate(arms):
            vals = ep.values.isel(arm=i).values.ravel()
            if ep.kind == "categorical":
                vals = _as_str(vals)
                vals = vals[vals != ""]
                for cat, count in zip(*np.unique(vals, return_counts=True), strict=True):
                    cats.append(
                        {"endpoint": ep.name, "arm": arm, "category": str(cat), "count": int(count), "n": vals.size}
                    )
                continue
            x = vals.astype(np.float64)
            x = x[np.isfinite(x)]
            row: dict[str, Any] = {"endpoint": ep.name, "arm": arm, "kind": ep.kind, "units": ep.units, "n": x.size}
            if ep.kind == "binary":
                k = int(np.count_nonzero(x > 0.5))
                p, lo, hi = wilson_ci(k, x.size, confidence)
                row.update(estimate=p, ci_low=lo, ci_high=hi, sd=math.nan, median=math.nan, p10=math.nan, p90=math.nan)
            else:
                m, lo, hi = mean_ci(x, confidence)
                row.update(
                    estimate=m,
                    ci_low=lo,
                    ci_high=hi,
                    sd=float(x.std(ddof=1)) if x.size > 1 else math.nan,
                    median=float(np.median(x)) if x.size else math.nan,
                    p10=float(np.quantile(x, 0.1)) if x.size else math.nan,
                    p90=float(np.quantile(x, 0.9)) if x.size else math.nan,
                )
            rows.append(row)
    cols = ["endpoint", "arm", "kind", "units", "n", "estimate", "ci_low", "ci_high", "sd", "median", "p10", "p90"]
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(cats, columns=["endpoint", "arm", "category", "count", "n"])


def arm_pairs(arms: list[str]) -> list[tuple[int, int]]:
    """Every other arm against the first (the reference); all pairs when there are at most four arms."""
    if len(arms) <= 4:
        return [(i, j) for i in range(len(arms)) for j in range(i + 1, len(arms))]
    return [(0, j) for j in range(1, len(arms))]


def paired_differences(eps: list[Endpoint], arms: list[str], confidence: float) -> pd.DataFrame:
    """Arm B minus arm A, paired by (sample, replicate) on common random numbers."""
    rows = []
    for ep in eps:
        if ep.kind == "categorical":
            continue
        for i, j in arm_pairs(arms):
            a = ep.values.isel(arm=i).values.astype(np.float64).ravel()
            b = ep.values.isel(arm=j).values.astype(np.float64).ravel()
            ok = np.isfinite(a) & np.isfinite(b)
            a, b = a[ok], b[ok]
            d = b - a
            m, lo, hi = mean_ci(d, confidence)
            var_sum = float(a.var(ddof=1) + b.var(ddof=1)) if d.size > 1 else math.nan
            rows.append(
                {
                    "endpoint": ep.name,
                    "arm_a": arms[i],
                    "arm_b": arms[j],
                    "n_pairs": int(d.size),
                    "mean_diff": m,
                    "ci_low": lo,
                    "ci_high": hi,
                    "sd_diff": float(d.std(ddof=1)) if d.size > 1 else math.nan,
                    "median_diff": float(np.median(d)) if d.size else math.nan,
                    "n_b_higher": int(np.count_nonzero(d > 0)),
                    "n_b_lower": int(np.count_nonzero(d < 0)),
                    "n_equal": int(np.count_nonzero(d == 0)),
                    "variance_ratio": float(d.var(ddof=1)) / var_sum if d.size > 1 and var_sum > 0 else math.nan,
                }
            )
    cols = [
        "endpoint", "arm_a", "arm_b", "n_pairs", "mean_diff", "ci_low", "ci_high", "sd_diff",
        "median_diff", "n_b_higher", "n_b_lower", "n_equal", "variance_ratio",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------ sensitivity


def sensitivity(
    ds: xr.Dataset, eps: list[Endpoint], arms: list[str], confidence: float
) -> tuple[pd.DataFrame | None, list[str]]:
    """Sobol or Morris indices (SALib), or Spearman rank correlations, per arm and endpoint."""
    meta = json.loads(ds.attrs.get("sampler", "{}"))
    method = meta.get("method", "none")
    params = json.loads(ds.attrs.get("parameters", "[]"))
    notes: list[str] = []
    if method not in ("sobol", "morris", "random", "lhs", "cohort") or not params:
        return None, notes
    rows = []
    for ep in eps:
        if ep.kind == "categorical":
            continue
        for i, arm in enumerate(arms):
            y_runs = ep.values.isel(arm=i).values.astype(np.float64)  # (sample, replicate)
            with warnings.catch_warnings():
                # A sample whose runs all failed or have no value is legitimately empty (NaN, counted below).
                warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
                y = np.nanmean(np.where(np.isfinite(y_runs), y_runs, np.nan), axis=1) if y_runs.size else y_runs
            missing = int(np.count_nonzero(~np.isfinite(y)))
            if method in ("sobol", "morris") and missing:
                notes.append(
                    f"sensitivity of {ep.name} in arm {arm!r}: {missing} of {y.size} samples have no value "
                    "(failed or pending runs, or NaN endpoint); Sobol/Morris need every sample"
                )
                continue
            finite = y[np.isfinite(y)]
            if finite.size < 3 or np.ptp(finite) == 0:
                notes.append(f"sensitivity of {ep.name} in arm {arm!r}: constant or too few values; not computed")
                continue
            if method == "sobol":
                with requires_extra("sensitivity", "Sobol sensitivity indices"):
                    from SALib.analyze import sobol

                res = sobol.analyze(
                    meta["problem"], y, calc_second_order=bool(meta.get("second_order")), conf_level=confidence, seed=0
                )
                for k, p in enumerate(params):
                    rows.append(
                        {"endpoint": ep.name, "arm": arm, "parameter": p, "method": "sobol",
                         "S1": res["S1"][k], "S1_conf": res["S1_conf"][k], "ST": res["ST"][k], "ST_conf": res["ST_conf"][k]}
                    )  # fmt: skip
            elif method == "morris":
                with requires_extra("sensitivity", "Morris sensitivity indices"):
                    from SALib.analyze import morris

                x = ds["sampler_design"].values
                res = morris.analyze(
                    meta["problem"], x, y, num_levels=int(meta.get("levels", 4)), conf_level=confidence, seed=0
                )
                for k, p in enumerate(params):
                    rows.append(
                        {"endpoint": ep.name, "arm": arm, "parameter": p, "method": "morris",
                         "mu": float(res["mu"][k]), "mu_star": float(res["mu_star"][k]),
                         "mu_star_conf": float(res["mu_star_conf"][k]), "sigma": float(res["sigma"][k])}
                    )  # fmt: skip
            else:
                from scipy import stats

                for p in params:
                    x = ds[p].values
                    if x.dtype.kind not in "fiub":
                        continue
                    ok = np.isfinite(y)
                    if np.ptp(x[ok].astype(np.float64)) == 0:
                        continue  # a parameter constant over these samples (e.g. no KMT2A-r patient drawn)
                    rho, pval = stats.spearmanr(x[ok].astype(np.float64), y[ok])
                    rows.append(
                        {"endpoint": ep.name, "arm": arm, "parameter": p, "method": "spearman",
                         "rho": float(rho), "p_value": float(pval), "n": int(ok.sum())}
                    )  # fmt: skip
    return (pd.DataFrame(rows) if rows else None), notes


# ------------------------------------------------------------ virtual trials


def trial_rates(ds: xr.Dataset, table: pd.DataFrame) -> pd.DataFrame | None:
    """The rates of a cohort experiment per arm (from the endpoint table) beside the trial's targets."""
    meta = json.loads(ds.attrs.get("sampler", "{}"))
    if meta.get("method") != "cohort":
        return None
    cohort = str(meta.get("cohort", ""))
    targets = {name: TARGET_BY_NAME[name] for name in TRIAL_TARGETS.get(cohort, ()) if name in TARGET_BY_NAME}
    rows = []
    for name in TRIAL_RATES:
        sub = table[(table.endpoint == name) & (table.kind == "binary")]
        for _, r in sub.iterrows():
            t = targets.get(name)
            k = round(float(r.estimate) * int(r.n)) if r.n else 0
            rows.append(
                {
                    "endpoint": name,
                    "arm": r.arm,
                    "n": int(r.n),
                    "events": k,
                    "rate": r.estimate,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "target": t.value if t is not None else math.nan,
                    "target_in_ci": (bool(r.ci_low <= t.value <= r.ci_high) if t is not None and r.n else ""),
                    "target_source": t.source if t is not None else "",
                }
            )
    cols = ["endpoint", "arm", "n", "events", "rate", "ci_low", "ci_high", "target", "target_in_ci", "target_source"]
    return pd.DataFrame(rows, columns=cols)


def trial_strata(ds: xr.Dataset, eps: list[Endpoint], arms: list[str], confidence: float) -> pd.DataFrame | None:
    """Trial rates split at the cohort median of each drawn attribute (both values for yes/no attributes)."""
    meta = json.loads(ds.attrs.get("sampler", "{}"))
    params = json.loads(ds.attrs.get("parameters", "[]"))
    if meta.get("method") != "cohort" or not params:
        return None
    rows = []
    by_name = {ep.name: ep for ep in eps if ep.kind == "binary"}
    for p in params:
        x = np.asarray(ds[p].values)
        if x.dtype.kind == "b":
            groups = [("no", ~x), ("yes", x)]
        else:
            x = x.astype(np.float64)
            med = float(np.median(x))
            groups = [(f"<= {med:.4g}", x <= med), (f"> {med:.4g}", x > med)]
        for name in TRIAL_RATES:
            ep = by_name.get(name)
            if ep is None:
                continue
            for i, arm in enumerate(arms):
                y = ep.values.isel(arm=i).values.astype(np.float64)  # (sample, replicate)
                for label, mask in groups:
                    v = y[mask].ravel()
                    v = v[np.isfinite(v)]
                    k = int(np.count_nonzero(v > 0.5))
                    rate, lo, hi = wilson_ci(k, v.size, confidence)
                    rows.append(
                        {"attribute": p, "stratum": label, "endpoint": name, "arm": arm, "n": int(v.size),
                         "events": k, "rate": rate, "ci_low": lo, "ci_high": hi}
                    )  # fmt: skip
    cols = ["attribute", "stratum", "endpoint", "arm", "n", "events", "rate", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------- figures


def _quantiles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, 10% and 90% over the first axis, ignoring NaN (pending/failed runs)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        q = np.nanquantile(values, [0.5, 0.1, 0.9], axis=0)
    return q[0], q[1], q[2]


def timecourse_figure(ds: xr.Dataset, name: str, arms: list[str]):
    """Median and 10-90% band per arm of one time course (one panel per compartment)."""
    with requires_extra("report", "report figures"):
        from matplotlib.figure import Figure

    var = ds[name]
    extra = [d for d in var.dims if d not in (*RUN_DIMS, "time")]
    if len(extra) > 1:
        return None
    panels = list(ds[extra[0]].values) if extra else [None]
    fig = Figure(figsize=(5.0 * len(panels), 3.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    t = ds.time.values
    values = var.load().values
    log = name in LOG_SCALE and np.nanmax(np.where(np.isfinite(values), values, -np.inf)) > 0
    colours = [f"C{k % 10}" for k in range(len(arms))]
    for ax, panel in zip(axes, panels, strict=True):
        for i, arm in enumerate(arms):
            v = values[i] if panel is None else values[i, ..., list(panels).index(panel)]
            runs = v.reshape(-1, v.shape[-1])  # (runs, time)
            if not np.isfinite(runs).any():
                continue
            med, lo, hi = _quantiles(runs)
            if log:  # a log axis cannot show zero: leave gaps rather than distorted bands
                med, lo, hi = (np.where(q > 0, q, np.nan) for q in (med, lo, hi))
            band = np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(t, lo, hi, where=band, color=colours[i], alpha=0.2, linewidth=0)
            ax.plot(t, med, color=colours[i], label=f"{arm} (median, 10-90%)")
        if log:
            ax.set_yscale("log", nonpositive="mask")
        ax.set_xlabel("time (day)")
        units = var.attrs.get("units", "")
        ax.set_ylabel(f"{name} ({units})" if units else name)
        title = var.attrs.get("long_name", name)
        ax.set_title(title if panel is None else f"{title}: {panel}", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return fig


def sensitivity_figure(table: pd.DataFrame, endpoint: str):
    with requires_extra("report", "report figures"):
        from matplotlib.figure import Figure

    sub = table[table.endpoint == endpoint]
    method = sub.method.iloc[0]
    arms = list(dict.fromkeys(sub.arm))
    params = list(dict.fromkeys(sub.parameter))
    fig = Figure(figsize=(1.2 + 1.3 * len(params) * max(1, len(arms)) / 2, 3.6), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(arms)
    x = np.arange(len(params))
    for k, arm in enumerate(arms):
        s = sub[sub.arm == arm].set_index("parameter").loc[params]
        if method == "sobol":
            ax.bar(x + k * width, s.ST, width, yerr=s.ST_conf, label=f"{arm}: ST", color=f"C{k}", alpha=0.5)
            ax.bar(x + k * width, s.S1, width * 0.5, yerr=s.S1_conf, label=f"{arm}: S1", color=f"C{k}")
            ax.set_ylabel("Sobol index")
        elif method == "morris":
            ax.bar(x + k * width, s.mu_star, width, yerr=s.mu_star_conf, label=f"{arm}: mu*", color=f"C{k}")
            ax.set_ylabel("Morris mu* (design units)")
        else:
            ax.bar(x + k * width, s.rho, width, label=arm, color=f"C{k}")
            ax.set_ylabel("Spearman rho")
            ax.axhline(0, color="k", linewidth=0.5)
    ax.set_xticks(x + width * (len(arms) - 1) / 2, [p.split(".")[-1] for p in params], rotation=20, fontsize=8)
    ax.set_title(f"sensitivity of {endpoint}", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _save(fig, directory: Path, stem: str, formats: tuple[str, ...]) -> list[Path]:
    out = []
    for fmt in formats:
        path = directory / f"{stem}.{fmt}"
        fig.savefig(path, dpi=120, metadata={"Date": None} if fmt == "svg" else None)
        out.append(path)
    return out


# ------------------------------------------------------------------- report


@dataclass
class Report:
    """A report on a store; :meth:`to_markdown` is what ``blinasim report`` prints."""

    store: str
    name: str
    arms: list[str]
    counts: dict[str, int]
    confidence: float
    endpoints: pd.DataFrame
    categories: pd.DataFrame
    paired: pd.DataFrame
    sensitivity: pd.DataFrame | None
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    out_dir: Path | None = None
    #: cohort experiments: the trial's rates per arm beside its targets, and by patient attribute
    trial: pd.DataFrame | None = None
    strata: pd.DataFrame | None = None
    cohort: str = ""

    def to_markdown(self) -> str:
        pct = f"{self.confidence:.0%}"
        c = self.counts
        lines = [
            f"# Experiment {self.name!r}",
            "",
            f"Store `{self.store}`: {c['done']} runs done, {c['failed']} failed, {c['pending']} pending. "
            f"Only done runs are summarised.",
            "",
        ]
        if self.trial is not None:
            lines += [f"## Virtual trial {self.cohort!r}: rates per arm ({pct} Wilson interval)", ""]
            if self.trial.empty:
                lines.append("No trial endpoint has a value yet.")
            else:
                lines.append(
                    "target: the published rate the model is calibrated against (blinasim.trials.calibration.TARGETS); "
                    "target_in_ci: whether it lies in the interval."
                )
                lines.append("")
                lines += _table(
                    self.trial,
                    ["endpoint", "arm", "n", "events", "rate", "ci_low", "ci_high", "target", "target_in_ci"],
                )
            lines.append("")
        lines += [f"## Endpoints per arm (mean and {pct} t-interval; proportions with a Wilson interval)", ""]
        if self.endpoints.empty:
            lines.append("No endpoint has a value yet.")
        else:
            lines += _table(
                self.endpoints,
                ["endpoint", "arm", "n", "estimate", "ci_low", "ci_high", "median", "p10", "p90", "units"],
            )
        if not self.categories.empty:
            lines += ["", "## Categorical endpoints (counts)", ""]
            lines += _table(self.categories, ["endpoint", "arm", "category", "count", "n"])
        if not self.paired.empty:
            lines += [
                "",
                f"## Paired differences (B - A, paired by sample and replicate; {pct} paired-t interval)",
                "",
                "variance_ratio = Var(B - A) / (Var A + Var B): below 1, common random numbers sharpen the comparison.",
                "",
            ]
            lines += _table(
                self.paired,
                ["endpoint", "arm_a", "arm_b", "n_pairs", "mean_diff", "ci_low", "ci_high", "n_b_higher",
                 "n_b_lower", "n_equal", "variance_ratio"],
            )  # fmt: skip
        if self.sensitivity is not None and not self.sensitivity.empty:
            method = self.sensitivity.method.iloc[0]
            cols = {
                "sobol": ["endpoint", "arm", "parameter", "S1", "S1_conf", "ST", "ST_conf"],
                "morris": ["endpoint", "arm", "parameter", "mu_star", "mu_star_conf", "sigma", "mu"],
                "spearman": ["endpoint", "arm", "parameter", "rho", "p_value", "n"],
            }[method]
            lines += ["", f"## Sensitivity ({method})", ""]
            lines += _table(self.sensitivity, cols)
        if self.strata is not None and not self.strata.empty:
            lines += [
                "",
                f"## Trial rates by patient attribute (split at the cohort median; {pct} Wilson interval)",
                "",
                "The full table (every trial endpoint) is `trial_strata.csv`; here the trial's primary endpoint.",
                "",
            ]
            present = list(dict.fromkeys(self.strata.endpoint))
            primary = next((e for e in TRIAL_TARGETS.get(self.cohort, ()) if e in present), present[0])
            lines += _table(
                self.strata[self.strata.endpoint == primary],
                ["attribute", "stratum", "endpoint", "arm", "n", "events", "rate", "ci_low", "ci_high"],
            )
        if self.figures:
            lines += ["", "## Figures", ""]
            lines += [f"- `{p.name}`" for p in self.figures if p.suffix == ".png"]
        if self.notes:
            lines += ["", "## Notes", ""]
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "" if np.isnan(v) else str(v)
        return f"{v:.4g}"
    # A cell of a Markdown table: '|' would split it, a line break would end the row.
    return str(v).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _table(df: pd.DataFrame, cols: list[str]) -> list[str]:
    cols = [c for c in cols if c in df.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        out.append("| " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    return out


#: The file a report directory holds to say it is one: JSON with the format and the files the report wrote.
REPORT_MARKER = ".blinasim-report.json"
REPORT_FORMAT = "blinasim-report/1"


def _replaceable_report(target: Path) -> str | None:
    """Why ``target`` may not be replaced by a new report (None when it may: it is a report
    directory, recognised by its marker, holding only the files that report wrote)."""
    marker = target / REPORT_MARKER
    if not target.is_dir():
        return f"{str(target)!r} exists and is not a directory"
    try:
        info = json.loads(marker.read_text())
        written = set(info["files"]) if info.get("format") == REPORT_FORMAT else None
    except (OSError, ValueError, KeyError, TypeError):
        written = None
    if written is None:
        return f"{str(target)!r} exists and is not a blinasim report directory (no {REPORT_MARKER})"
    extra = sorted(p.name for p in target.iterdir() if p.name not in written and p.name != REPORT_MARKER)
    if extra:
        listed = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        return f"{str(target)!r} is a report directory but also holds files the report did not write ({listed})"
    return None


def default_report_dir(store: str | os.PathLike) -> Path:
    p = Path(store)
    return p.with_name(p.name.removesuffix(".zarr") + "_report")


def make_report(
    store: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    confidence: float = 0.95,
    variables: list[str] | None = None,
    formats: tuple[str, ...] = ("png", "svg"),
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Summarise a store and write the report directory (replaced as a whole, never half-written).

    The directory is written under a temporary name beside ``out_dir`` and renamed into
    place. An existing ``out_dir`` is replaced only when it is a report directory
    (its ``.blinasim-report.json`` marker lists the files it wrote) holding nothing else;
    any other existing path is refused, never deleted. A store with damaged runs
    (:func:`blinasim.experiments.store.damaged_runs`) is refused, naming them.

    Writes ``summary.md``, ``endpoints.csv``, ``categories.csv``,
    ``paired_differences.csv``, ``sensitivity.csv`` (sensitivity experiments),
    ``trial_rates.csv`` and ``trial_strata.csv`` (cohort experiments)
    and ``timecourse_<variable>.{png,svg}`` / ``sensitivity_<endpoint>.{png,svg}``.
    """
    if not 0 < confidence < 1:
        raise ReportError(f"confidence = {confidence!r}: must be between 0 and 1, e.g. 0.95")
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise ReportError(f"figure format(s) {', '.join(map(repr, bad))}: allowed png, svg, pdf")
    if formats:  # figures need matplotlib: say so before any work (no formats: tables only)
        with requires_extra("report", "report figures"):
            import matplotlib  # noqa: F401
    ds = open_results(store)
    arms = [str(a) for a in ds.arm.values]
    status = read_status(store)
    damaged = damaged_runs(store, status)
    if damaged:
        raise ReportError(
            [
                f"store {str(store)!r} has {len(damaged)} damaged run(s) (changed on disk since written); "
                "re-run them with `blinasim sweep EXPERIMENT --out STORE --resume`, then report",
                *format_damaged(arms, damaged),
            ]
        )
    counts = {
        "done": int(np.count_nonzero(status == DONE)),
        "failed": int(np.count_nonzero(status == FAILED)),
        "pending": int(np.count_nonzero(status == PENDING)),
    }
    if variables is not None:
        unknown = [v for v in variables if v not in ds or "time" not in ds[v].dims]
        if unknown:
            have = sorted(n for n in run_variables(ds) if "time" in ds[n].dims)
            raise ReportError(
                f"unknown time-course variable(s) {', '.join(map(repr, unknown))}; the store has: {', '.join(have)}"
            )
    target = Path(out_dir) if out_dir is not None else default_report_dir(store)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ReportError(f"report directory {str(target)!r}: directory {str(parent)!r} does not exist")
    if target.exists() or target.is_symlink():
        why = _replaceable_report(target)
        if why is not None:
            raise ReportError(f"{why}; nothing was changed. Choose another --out (or remove it yourself)")
    try:
        check_writable_dir(parent, f"report directory {str(target)!r}")
    except OutputError as exc:
        raise ReportError(exc.problems) from None

    say = progress or (lambda msg: None)
    say(f"store opened: {sum(counts.values())} runs ({counts['done']} done); computing endpoints and intervals")
    eps, notes = endpoints(ds)
    table, cats = summarise(eps, arms, confidence)
    paired = paired_differences(eps, arms, confidence) if len(arms) > 1 else pd.DataFrame()
    sens, sens_notes = sensitivity(ds, eps, arms, confidence)
    notes += sens_notes
    trial = trial_rates(ds, table)
    strata = trial_strata(ds, eps, arms, confidence)
    if counts["done"] == 0:
        notes.insert(0, "no run is done yet: nothing to summarise")

    try:
        tmp = make_partial_dir(target)
    except OSError as exc:
        raise ReportError(f"cannot write report directory {str(target)!r}: {describe_os_error(exc)}") from None
    figures: list[Path] = []
    try:
        names = variables if variables is not None else [n for n in DEFAULT_FIGURES if n in ds and "time" in ds[n].dims]
        for name in names if counts["done"] else []:
            say(f"drawing figure {name}")
            vals = ds[name].values
            if variables is None and (not np.isfinite(vals).any() or np.nanmax(np.abs(vals)) == 0):
                notes.append(f"time course {name}: zero or missing in every run; no figure")
                continue
            fig = timecourse_figure(ds, name, arms) if formats else None
            if fig is not None:
                figures += _save(fig, tmp, f"timecourse_{name}", formats)
        if sens is not None and formats:
            for ep in dict.fromkeys(sens.endpoint):
                figures += _save(sensitivity_figure(sens, ep), tmp, f"sensitivity_{ep}", formats)
        report = Report(
            str(store),
            str(ds.attrs.get("experiment_name", "")),
            arms,
            counts,
            confidence,
            table,
            cats,
            paired,
            sens,
            [],
            notes,
            trial=trial,
            strata=strata,
            cohort=str(json.loads(ds.attrs.get("sampler", "{}")).get("cohort", "")),
        )
        table.to_csv(tmp / "endpoints.csv", index=False)
        cats.to_csv(tmp / "categories.csv", index=False)
        paired.to_csv(tmp / "paired_differences.csv", index=False)
        if sens is not None:
            sens.to_csv(tmp / "sensitivity.csv", index=False)
        if trial is not None:
            trial.to_csv(tmp / "trial_rates.csv", index=False)
        if strata is not None:
            strata.to_csv(tmp / "trial_strata.csv", index=False)
        report.figures = [target / p.name for p in figures]
        (tmp / "summary.md").write_text(report.to_markdown())
        (tmp / WRITER_FILE).unlink()  # the marker below says what this directory is
        written = sorted(p.name for p in tmp.iterdir())
        (tmp / REPORT_MARKER).write_text(json.dumps({"format": REPORT_FORMAT, "files": written}, indent=1) + "\n")
        old = None
        if target.exists():
            why = _replaceable_report(target)  # again: it may have changed while the report was made
            if why is not None:
                raise ReportError(f"{why}; nothing was changed. Choose another --out (or remove it yourself)")
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ReportError(
            f"cannot write report directory {str(target)!r}: {describe_os_error(exc)}; nothing was changed"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.out_dir = target
    return report
