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
  (``crs_any``), CRS grade >= 3 (``crs_grade3``), the same for
  neurotoxicity, and a seizure (``seizure``, from the count ``seizures``), as
  defined once for trials, calibration and reports in
  :data:`blinasim.clinical.endpoints.YES_NO_ENDPOINTS`.

Per arm (statistics from :mod:`blinasim.stats`, i.e. scipy.stats and statsmodels): numeric
endpoints as the mean with a seeded BCa bootstrap interval and the median with a
distribution-free interval; yes/no endpoints as a proportion with a Wilson interval; ordinal
grades as distributions and "grade >= k" rates (never means); "day of X" read-outs as censored
times to event (Kaplan-Meier median); categorical endpoints and coded integers (CF
``flag_meanings``) as counts. Survival, for every ``<x>_days``/``<x>_event`` pair of run scalars
(``os``, ``rfs``, ``efs``): Kaplan-Meier per arm with pointwise intervals, the median with its
interval, landmark rates, and per arm pair the log-rank test and a Cox hazard ratio. Between
arms: differences paired by (sample, replicate) — the runs of a pair share their seed (common
random numbers) — with a bootstrap interval of the mean difference (rounding noise counts as 0),
the counts of higher, lower and equal pairs, and the variance ratio Var(B-A) / (Var A + Var B),
which is below 1 when pairing sharpens the comparison. Time courses: one panel per arm, median
and 10-90% band. Sobol (S1, ST) or Morris (mu*, sigma) indices for sensitivity experiments,
computed with SALib on the replicate means of each sample; Spearman rank correlations with
intervals and (Holm-adjusted) p-values for random and Latin-hypercube samples and for
virtual-patient cohorts (the patients' drawn attributes). For a cohort experiment
(``method = "cohort"``) the trial's rates come first: per arm with Wilson intervals, beside the
calibration target of the trial where there is one, and split at the cohort median of each drawn
attribute. The summary states how many comparisons it makes and how p-values are adjusted.
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
from blinasim.errors import BlinasimError, arg
from blinasim.experiments.burden_report import BurdenGroups, burden_groups
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
from blinasim.experiments.trial_report import RandomisedComparison, randomised_comparison
from blinasim.extras import requires_extra
from blinasim.params.schema import ConfigError, load_config
from blinasim.stats import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    DAYS_PER_MONTH,
    NOISE_TOLERANCE,
    SPEARMAN_EXACT_MAX_N,
    SPEARMAN_PERMUTATIONS,
    SPEARMAN_T_MIN_N,
    bootstrap_ci,
    format_p,
    hazard_ratio,
    holm,
    kaplan_meier,
    logrank,
    median_ci,
    spearman,
    wilson_ci,
    zero_noise,
)
from blinasim.trials.calibration.targets import PUBLISHED_RATES, RESPONSE_DEPTH, TARGET_BY_NAME, TRIAL_TARGETS
from blinasim.trials.trial import cohort_settings

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
    kind: str  # "numeric", "binary", "categorical", "ordinal" (grades), "time_to_event" (days to X)
    values: xr.DataArray  # dims (arm, sample, replicate)
    units: str = ""
    long_name: str = ""
    derived: bool = False
    #: time_to_event: the end of each run's follow-up (the censoring time when X never happened)
    follow_up: xr.DataArray | None = None


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


def is_days_to_event(name: str, attrs: Any) -> bool:
    """A "day of X" read-out, NaN when X never happened (``relapse_day``, ``days_to_mrd_negative``,
    ``day_mrd_negative``...): a time to event, censored at the end of the run's follow-up."""
    if str(attrs.get("units", "")) not in ("day", "days", "d"):
        return False
    text = str(attrs.get("long_name", ""))
    return name.startswith("days_to_") or any(s in text for s in ("NaN if", "NaN: never", "NaN: none"))


def follow_up(ds: xr.Dataset) -> xr.DataArray:
    """The end of each done run's follow-up in days: ``os_days`` where the store has it (the day of
    death or of the last contact), else the last time with a recorded marrow read-out, else the
    end of the time axis; NaN for runs not done."""
    t = ds.time.values.astype(np.float64)
    end = np.full(tuple(ds.sizes[d] for d in RUN_DIMS), t[-1] if t.size else np.nan)
    probe = next((v for v in ("mrd", "marrow_blast_fraction") if v in ds and ds[v].dims == (*RUN_DIMS, "time")), None)
    if probe is not None:
        finite = np.isfinite(ds[probe].transpose(*RUN_DIMS, "time").values)
        last = finite.shape[-1] - 1 - np.argmax(finite[..., ::-1], axis=-1)
        end = np.where(finite.any(axis=-1), t[last], end)
    if "os_days" in ds and ds["os_days"].dims == RUN_DIMS:
        os_days = ds["os_days"].values.astype(np.float64)
        end = np.where(np.isfinite(os_days), os_days, end)
    end = np.where(ds[STATUS_VAR].values == DONE, end, np.nan)
    return xr.DataArray(end, dims=RUN_DIMS, coords={d: ds[d] for d in RUN_DIMS})


def _flag_labels(var: xr.DataArray) -> xr.DataArray:
    """A coded integer (CF ``flag_values``/``flag_meanings``) as its meanings."""
    codes = np.atleast_1d(np.asarray(var.attrs["flag_values"])).astype(np.float64)
    meanings = str(var.attrs["flag_meanings"]).split()
    v = np.asarray(var.values, dtype=np.float64)
    out = np.full(v.shape, "", dtype=object)
    for c, m in zip(codes, meanings, strict=False):
        out[v == c] = m
    return var.copy(data=out.astype(str))


def _looks_binary(var: xr.DataArray) -> bool:
    """A 0-d endpoint in units of 1 that says it is yes/no ("1/0", "1 if ...": ``transplanted``),
    or a float one whose values are all 0 or 1 (NaN: not assessed)."""
    if var.dtype.kind not in "fiu" or var.attrs.get("units") != "1":
        return False
    long_name = str(var.attrs.get("long_name", ""))
    if "1/0" in long_name or long_name.startswith("1 if "):
        return True
    if var.dtype.kind != "f":
        return False
    values = np.asarray(var.values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.isin(finite, (0.0, 1.0)).all())


def endpoints(ds: xr.Dataset) -> tuple[list[Endpoint], list[str]]:
    """The endpoints of a store (masked to done runs) and notes on those without any value."""
    found: list[Endpoint] = []
    notes: list[str] = []
    pairs = {f"{x}_{part}" for x in survival_endpoints(ds) for part in ("days", "event")}
    follow = None
    for name in run_variables(ds):
        var = ds[name]
        if var.dims != RUN_DIMS or name in pairs:
            continue  # survival pairs: Kaplan-Meier, log-rank and hazard ratios (:func:`survival`)
        attrs = var.attrs
        flags = np.atleast_1d(np.asarray(attrs.get("flag_values", []))).tolist()
        if "flag_meanings" in attrs and sorted(flags) != [0, 1]:
            kind = "categorical"  # a coded integer (CF flags, e.g. event_cause): counted by meaning
            var = _flag_labels(var)
        elif var.dtype.kind in "OUST":
            kind = "categorical"
        elif name in GRADE_SOURCES:
            kind = "ordinal"  # a grade: its distribution and "grade >= k", never a mean
        elif attrs.get("run_dtype") == "bool" or name in BINARY_ENDPOINTS or flags or _looks_binary(var):
            kind = "binary"
        elif is_days_to_event(name, attrs):
            kind = "time_to_event"
        else:
            kind = "numeric"
        found.append(Endpoint(name, kind, var, str(attrs.get("units", "")), str(attrs.get("long_name", ""))))
    found.extend(_derived(ds))
    for ep in found:
        if (
            ep.kind == "numeric"
            and ep.derived
            and is_days_to_event(ep.name, {"units": ep.units, "long_name": ep.long_name})
        ):
            ep.kind = "time_to_event"
        if ep.kind == "time_to_event":
            follow = follow_up(ds) if follow is None else follow
            ep.follow_up = follow
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


def mean_ci(x: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """The mean with a seeded BCa bootstrap interval (:func:`blinasim.stats.bootstrap_ci`): it
    stays within the range of the data, so a non-negative quantity never gets a negative bound."""
    return bootstrap_ci(x, confidence)


def _grade_rows(ep: Endpoint, arm: str, x: np.ndarray, confidence: float) -> list[dict[str, Any]]:
    """The distribution of an ordinal grade: count and share per grade, and "grade >= k" with a
    Wilson interval (grades are never averaged)."""
    rows = []
    top = int(max(4, np.nanmax(x))) if x.size else 4
    for g in range(top + 1):
        k_eq = int(np.count_nonzero(x == g))
        k_ge = int(np.count_nonzero(x >= g))
        p, lo, hi = wilson_ci(k_ge, x.size, confidence)
        rows.append(
            {"endpoint": ep.name, "arm": arm, "grade": g, "n": int(x.size), "count": k_eq,
             "share": k_eq / x.size if x.size else math.nan, "at_least": k_ge, "share_at_least": p,
             "ci_low": lo, "ci_high": hi}
        )  # fmt: skip
    return rows


def _tte_row(ep: Endpoint, arm: str, days: np.ndarray, follow: np.ndarray, confidence: float) -> dict[str, Any]:
    """A "days to X" read-out per arm as time to event: runs where X never happened are censored
    at the end of their follow-up; Kaplan-Meier median with its interval."""
    ok = np.isfinite(follow)
    d, f = days[ok], follow[ok]
    event = np.isfinite(d)
    t = np.where(event, d, f)
    row: dict[str, Any] = {"endpoint": ep.name, "arm": arm, "n": int(t.size), "events": int(event.sum()),
                           "censored": int((~event).sum())}  # fmt: skip
    if t.size == 0:
        return row | {"km_median": math.nan, "median_ci_low": math.nan, "median_ci_high": math.nan,
                      "share_by_end": math.nan, "end_ci_low": math.nan, "end_ci_high": math.nan,
                      "follow_up_max": math.nan}  # fmt: skip
    km = kaplan_meier(t, event, confidence)
    lo, hi = km.median_ci(confidence) if event.any() else (math.nan, math.nan)
    end = float(t.max())
    s_lo, s_hi = km.interval_at(end) if event.any() else (math.nan, math.nan)
    return row | {
        "km_median": km.median(),
        "median_ci_low": lo,
        "median_ci_high": hi,
        "share_by_end": 1.0 - km.at(end),
        "end_ci_low": 1.0 - s_hi if np.isfinite(s_hi) else math.nan,
        "end_ci_high": 1.0 - s_lo if np.isfinite(s_lo) else math.nan,
        "follow_up_max": end,
    }


@dataclass
class Summary:
    """The per-arm tables of :func:`summarise`."""

    endpoints: pd.DataFrame  # numeric (mean with bootstrap interval, median with its interval) and yes/no
    categories: pd.DataFrame
    grades: pd.DataFrame  # ordinal grades: distribution and "grade >= k"
    time_to_event: pd.DataFrame  # "days to X" with censoring: Kaplan-Meier median


ENDPOINT_COLUMNS = [
    "endpoint", "arm", "kind", "units", "n", "estimate", "ci_low", "ci_high", "sd",
    "median", "median_ci_low", "median_ci_high", "p10", "p90",
]  # fmt: skip
GRADE_COLUMNS = ["endpoint", "arm", "grade", "n", "count", "share", "at_least", "share_at_least", "ci_low", "ci_high"]
TTE_COLUMNS = [
    "endpoint", "arm", "n", "events", "censored", "km_median", "median_ci_low", "median_ci_high",
    "share_by_end", "end_ci_low", "end_ci_high", "follow_up_max",
]  # fmt: skip


def summarise(eps: list[Endpoint], arms: list[str], confidence: float) -> Summary:
    """Per arm: numeric endpoints (mean with a BCa bootstrap interval, median with a
    distribution-free interval, 10th and 90th percentiles), yes/no endpoints (proportion with a
    Wilson interval), categorical counts, grade distributions, and "days to X" read-outs as
    censored times to event (Kaplan-Meier median with its interval)."""
    rows, cats, grades, ttes = [], [], [], []
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
            if ep.kind == "time_to_event":
                assert ep.follow_up is not None
                ttes.append(
                    _tte_row(ep, arm, vals.astype(np.float64), ep.follow_up.isel(arm=i).values.ravel(), confidence)
                )
                continue
            x = vals.astype(np.float64)
            x = x[np.isfinite(x)]
            if ep.kind == "ordinal":
                grades += _grade_rows(ep, arm, x, confidence)
                continue
            row: dict[str, Any] = {"endpoint": ep.name, "arm": arm, "kind": ep.kind, "units": ep.units, "n": x.size}
            nan = math.nan
            if ep.kind == "binary":
                k = int(np.count_nonzero(x > 0.5))
                p, lo, hi = wilson_ci(k, x.size, confidence)
                row.update(estimate=p, ci_low=lo, ci_high=hi, sd=nan, median=nan, median_ci_low=nan,
                           median_ci_high=nan, p10=nan, p90=nan)  # fmt: skip
            else:
                m, lo, hi = mean_ci(x, confidence)
                med, mlo, mhi = median_ci(x, confidence)
                row.update(
                    estimate=m,
                    ci_low=lo,
                    ci_high=hi,
                    sd=float(x.std(ddof=1)) if x.size > 1 else nan,
                    median=med,
                    median_ci_low=mlo,
                    median_ci_high=mhi,
                    p10=float(np.quantile(x, 0.1)) if x.size else nan,
                    p90=float(np.quantile(x, 0.9)) if x.size else nan,
                )
            rows.append(row)
    return Summary(
        pd.DataFrame(rows, columns=ENDPOINT_COLUMNS),
        pd.DataFrame(cats, columns=["endpoint", "arm", "category", "count", "n"]),
        pd.DataFrame(grades, columns=GRADE_COLUMNS),
        pd.DataFrame(ttes, columns=TTE_COLUMNS),
    )


def arm_pairs(arms: list[str]) -> list[tuple[int, int]]:
    """Every other arm against the first (the reference); all pairs when there are at most four arms."""
    if len(arms) <= 4:
        return [(i, j) for i in range(len(arms)) for j in range(i + 1, len(arms))]
    return [(0, j) for j in range(1, len(arms))]


PAIRED_COLUMNS = [
    "endpoint", "arm_a", "arm_b", "n_pairs", "mean_diff", "ci_low", "ci_high", "sd_diff",
    "median_diff", "n_b_higher", "n_b_lower", "n_equal", "variance_ratio",
]  # fmt: skip


def paired_differences(eps: list[Endpoint], arms: list[str], confidence: float) -> pd.DataFrame:
    """Arm B minus arm A, paired by (sample, replicate) on common random numbers: the mean
    difference with a seeded BCa bootstrap interval over the pairs. Differences below
    :data:`~blinasim.stats.NOISE_TOLERANCE` times the endpoint's magnitude (its largest absolute
    value in either arm) are rounding noise and count as 0. Grades and censored times to event
    are compared by their "grade >= k" rates and by the log-rank test instead."""
    rows = []
    for ep in eps:
        if ep.kind not in ("numeric", "binary"):
            continue
        for i, j in arm_pairs(arms):
            a = ep.values.isel(arm=i).values.astype(np.float64).ravel()
            b = ep.values.isel(arm=j).values.astype(np.float64).ravel()
            ok = np.isfinite(a) & np.isfinite(b)
            a, b = a[ok], b[ok]
            scale = float(max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0)))
            d = zero_noise(b - a, scale)
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
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


# --------------------------------------------------------------- survival

#: Landmark times of the survival tables, in months (days: months x 30.4375).
LANDMARK_MONTHS = (6, 12, 18, 24)


def survival_endpoints(ds: xr.Dataset) -> list[str]:
    """The ``<x>`` of every ``<x>_days`` / ``<x>_event`` pair of run scalars (``os``, ``rfs``, ``efs``)."""
    names = set(run_variables(ds))
    return [
        n.removesuffix("_days")
        for n in run_variables(ds)
        if n.endswith("_days") and f"{n.removesuffix('_days')}_event" in names and ds[n].dims == RUN_DIMS
    ]


def _survival_data(ds: xr.Dataset, x: str, arm: int) -> tuple[np.ndarray, np.ndarray]:
    """Follow-up days and events (True: the event) of the done runs of one arm where both are
    known (``rfs_event`` is NaN for runs without a response: not at risk)."""
    done = ds[STATUS_VAR].isel(arm=arm).values.ravel() == DONE
    days = ds[f"{x}_days"].isel(arm=arm).values.astype(np.float64).ravel()
    event = ds[f"{x}_event"].isel(arm=arm).values.astype(np.float64).ravel()
    ok = done & np.isfinite(days) & np.isfinite(event)
    return days[ok], event[ok] > 0.5


@dataclass
class Survival:
    """Kaplan-Meier per arm and endpoint, landmark rates and the tests between arms."""

    curves: dict[str, dict[str, Any]]  # endpoint -> arm -> SurvivalCurve
    medians: pd.DataFrame
    landmarks: pd.DataFrame
    tests: pd.DataFrame


def survival(ds: xr.Dataset, arms: list[str], confidence: float) -> Survival | None:
    """For each ``<x>_days``/``<x>_event`` pair: Kaplan-Meier per arm (scipy.stats.ecdf) with the
    median and its interval, landmark rates at 6, 12, 18 and 24 months where follow-up reaches
    them, and per arm pair the log-rank test (scipy.stats.logrank) and the hazard ratio of B vs A
    (Cox model, statsmodels), with Holm-adjusted p over every log-rank test of the report."""
    names = survival_endpoints(ds)
    if not names:
        return None
    curves: dict[str, dict[str, Any]] = {}
    med, land, tests = [], [], []
    for x in names:
        curves[x] = {}
        data = [_survival_data(ds, x, i) for i in range(len(arms))]
        for i, arm in enumerate(arms):
            d, o = data[i]
            km = kaplan_meier(d, o, confidence)
            curves[x][arm] = km
            lo, hi = km.median_ci(confidence) if o.any() else (math.nan, math.nan)
            med.append({"endpoint": x, "arm": arm, "n": int(d.size), "events": int(o.sum()),
                        "median_days": km.median(), "ci_low": lo, "ci_high": hi,
                        "median_months": km.median() / DAYS_PER_MONTH})  # fmt: skip
            for months in LANDMARK_MONTHS:
                t = months * DAYS_PER_MONTH
                # Defined where follow-up reaches t, or after the curve fell to 0 (everyone had the event).
                reached = d.size > 0 and (bool((d >= t).any()) or (km.survival.size > 0 and km.survival[-1] == 0))
                s_lo, s_hi = km.interval_at(t) if reached else (math.nan, math.nan)
                land.append({"endpoint": x, "arm": arm, "months": months, "day": t,
                             "at_risk": int(np.count_nonzero(d >= t)),
                             "survival": km.at(t) if reached else math.nan, "ci_low": s_lo, "ci_high": s_hi})  # fmt: skip
        for i, j in arm_pairs(arms):
            (da, oa), (db, ob) = data[i], data[j]
            chi2, p = logrank(da, oa, db, ob) if da.size and db.size else (math.nan, math.nan)
            hr, hlo, hhi = hazard_ratio(da, oa, db, ob, confidence)
            tests.append({"endpoint": x, "arm_a": arms[i], "arm_b": arms[j], "n_a": int(da.size),
                          "n_b": int(db.size), "events_a": int(oa.sum()), "events_b": int(ob.sum()),
                          "logrank_chi2": chi2, "p_value": p, "hazard_ratio": hr, "hr_ci_low": hlo,
                          "hr_ci_high": hhi})  # fmt: skip
    tests_df = pd.DataFrame(tests, columns=[
        "endpoint", "arm_a", "arm_b", "n_a", "n_b", "events_a", "events_b", "logrank_chi2", "p_value",
        "hazard_ratio", "hr_ci_low", "hr_ci_high"])  # fmt: skip
    tests_df["p_holm"] = holm(tests_df.p_value.values) if len(tests_df) else []
    return Survival(curves, pd.DataFrame(med), pd.DataFrame(land), tests_df)


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
                for p in params:
                    x = ds[p].values
                    if x.dtype.kind not in "fiub":
                        continue
                    ok = np.isfinite(y)
                    if np.ptp(x[ok].astype(np.float64)) == 0:
                        continue  # a parameter constant over these samples (e.g. no KMT2A-r patient drawn)
                    r = spearman(x[ok].astype(np.float64), y[ok], confidence)
                    rows.append(
                        {"endpoint": ep.name, "arm": arm, "parameter": p, "method": "spearman",
                         "rho": r["rho"], "rho_ci_low": r["rho_ci_low"], "rho_ci_high": r["rho_ci_high"],
                         "p_value": r["p_value"], "p_method": r["p_method"], "n": r["n"]}
                    )  # fmt: skip
    table = pd.DataFrame(rows) if rows else None
    if table is not None and method in ("random", "lhs", "cohort"):
        table["p_holm"] = holm(table.p_value.values)
        small = sorted({int(n) for n in table.n if n < SPEARMAN_T_MIN_N})
        if small:
            notes.append(
                f"Spearman tests on n = {', '.join(map(str, small))} samples: p is a permutation p-value (p_method: "
                f"exact over all n! pairings for n <= {SPEARMAN_EXACT_MAX_N}, the smallest possible being 2/n!; "
                f"else {SPEARMAN_PERMUTATIONS} seeded random pairings, never below 2e-4), not the t approximation, "
                "which is rough for so few samples. Few samples detect only strong monotone effects, and the "
                "bootstrap interval of rho is wide (or missing)"
            )
    return table, notes


# ------------------------------------------------------------ virtual trials


def trial_cohort(ds: xr.Dataset) -> str:
    """The cohort a store's patients were drawn from (its ``cohort`` sampler), or "" for other samplers."""
    meta = json.loads(ds.attrs.get("sampler", "{}"))
    return str(meta.get("cohort", "")) if meta.get("method") == "cohort" else ""


def treatment_departures(ds: xr.Dataset) -> dict[str, list[str]]:
    """For a cohort experiment, each arm's departures from its trial's treatment.

    The trial's treatment is the ``treatment`` section of the defaults (the label's rules) with the
    cohort's trial settings (:func:`blinasim.trials.trial.cohort_settings`): its blinatumomab schedule and
    nothing else. An arm's list names each ``treatment.*`` setting it runs with otherwise (``"key value
    (the trial value)"``); an empty list is an arm that gives the trial's treatment. Stores without a
    cohort sampler, or without the arms' configs, give an empty dict (every arm is compared).
    """
    cohort = trial_cohort(ds)
    if not cohort or "base_config" not in ds.attrs or "arm_overrides" not in ds:
        return {}
    try:
        trial = load_config(None, cohort_settings(cohort)).treatment.model_dump()
    except (ValueError, ConfigError):
        return {}
    out: dict[str, list[str]] = {}
    for a, arm in enumerate(str(x) for x in ds.arm.values):
        given = run_config(ds, a, 0).treatment.model_dump()
        out[arm] = [
            f"treatment.{key} {given[key]!r} (the trial {trial[key]!r})" for key in trial if given[key] != trial[key]
        ]
    return out


def trial_rates(
    ds: xr.Dataset, table: pd.DataFrame, departures: dict[str, list[str]] | None = None
) -> pd.DataFrame | None:
    """The rates of a cohort experiment per arm (from the endpoint table) beside the trial's targets.

    Targets are given only for arms that give the trial's treatment (``departures``, from
    :func:`treatment_departures`): a chemotherapy arm, a combination or another schedule is not the
    treatment the published rate was measured on, so its ``target`` is NaN and ``target_in_ci`` empty.
    """
    cohort = trial_cohort(ds)
    if not cohort:
        return None
    targets: dict[str, Any] = {
        name: TARGET_BY_NAME[name] for name in TRIAL_TARGETS.get(cohort, ()) if name in TARGET_BY_NAME
    }
    if not targets:  # a trial compared, not calibrated (ALCANTARA, MT103-205): its published rates
        targets = {r.name: r for r in PUBLISHED_RATES.get(cohort, ())}
    departures = treatment_departures(ds) if departures is None else departures
    rows = []
    for name in TRIAL_RATES:
        sub = table[(table.endpoint == name) & (table.kind == "binary")]
        for _, r in sub.iterrows():
            t = None if departures.get(str(r.arm)) else targets.get(name)
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


#: The columns of the report's response-depth table (``response_depth.csv`` adds the source).
DEPTH_COLUMNS = ["arm", "responders", "mrd_responders", "depth", "ci_low", "ci_high", "published", "published_in_ci"]


def response_depth(
    ds: xr.Dataset, eps: list[Endpoint], arms: list[str], confidence: float, departures: dict[str, list[str]]
) -> pd.DataFrame | None:
    """The response depth of a cohort experiment per arm: of the CR/CRh (``cr_crh``), the share with a
    complete MRD response (``mrd_response``, on the trial's assessment days), beside the trial's published
    depth (:data:`blinasim.trials.calibration.targets.RESPONSE_DEPTH`) in the arms that give the trial's
    treatment. None unless the store is a cohort experiment whose trial published a depth."""
    published = RESPONSE_DEPTH.get(trial_cohort(ds))
    by_name = {ep.name: ep for ep in eps if ep.kind == "binary"}
    if published is None or "cr_crh" not in by_name or "mrd_response" not in by_name:
        return None
    rows = []
    for i, arm in enumerate(arms):
        response = by_name["cr_crh"].values.isel(arm=i).values.astype(np.float64).ravel()
        mrd = by_name["mrd_response"].values.isel(arm=i).values.astype(np.float64).ravel()
        counted = (response > 0.5) & np.isfinite(mrd)
        n, k = int(counted.sum()), int(np.count_nonzero(mrd[counted] > 0.5))
        rate, lo, hi = wilson_ci(k, n, confidence)
        compared = not departures.get(arm)
        rows.append(
            {"arm": arm, "responders": n, "mrd_responders": k, "depth": rate, "ci_low": lo,
             "ci_high": hi, "published": published.value if compared else math.nan,
             "published_in_ci": (bool(lo <= published.value <= hi) if compared and n else ""),
             "source": published.source if compared else ""}
        )  # fmt: skip
    return pd.DataFrame(rows)


def trial_strata(ds: xr.Dataset, eps: list[Endpoint], arms: list[str], confidence: float) -> pd.DataFrame | None:
    """Trial rates split at the cohort median of each drawn attribute (both values for yes/no attributes, each
    category for categorical ones, e.g. ALCANTARA's ABL1 mutation)."""
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
        elif x.dtype.kind in "OUS":
            x = x.astype(str)
            groups = [(f"= {v}", x == v) for v in sorted(set(x.tolist()))]
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


def axis_label(var: xr.DataArray, name: str, ds: xr.Dataset | None = None) -> str:
    """ "long_name [units]" of a variable; a per-interval sum (``cell_methods`` "time: sum", or a long
    name "... during the record interval") says the interval, e.g. "blasts killed per 0.25-day
    record interval [cells]"; dimensionless ("1") and missing units are left out."""
    long_name = str(var.attrs.get("long_name", "")) or name.replace("_", " ")
    units = str(var.attrs.get("units", ""))
    per_interval = "time: sum" in str(var.attrs.get("cell_methods", "")) or "during the record interval" in long_name
    if per_interval and ds is not None and ds.sizes.get("time", 0) > 1:
        dt = float(np.median(np.diff(ds.time.values.astype(np.float64))))
        span = f"{dt * 24:.3g}-h" if dt < 1 else f"{dt:.3g}-day"
        where = f"per {span} record interval"
        long_name = (
            long_name.replace("during the record interval", where) if "during the record interval" in long_name
            else f"{long_name} {where}"
        )  # fmt: skip
        if units in ("1", ""):
            units = "count"
    return f"{long_name} [{units}]" if units and units != "1" else long_name


def timecourse_figure(ds: xr.Dataset, name: str, arms: list[str]):
    """One panel per arm (a row per compartment): median and 10-90% band of the runs, with the
    other arms' medians as thin grey lines for comparison; shared axes."""
    with requires_extra("report", "report figures"):
        from matplotlib.figure import Figure

    var = ds[name]
    extra = [d for d in var.dims if d not in (*RUN_DIMS, "time")]
    if len(extra) > 1:
        return None
    panels = list(ds[extra[0]].values) if extra else [None]
    n_arms = len(arms)
    fig = Figure(figsize=(1.0 + 3.4 * n_arms, 0.6 + 2.8 * len(panels)), layout="constrained")
    grid = fig.subplots(len(panels), n_arms, squeeze=False, sharex=True, sharey=True)
    t = ds.time.values
    values = var.load().values
    log = name in LOG_SCALE and np.nanmax(np.where(np.isfinite(values), values, -np.inf)) > 0
    label = axis_label(var, name, ds)
    for r, panel in enumerate(panels):
        medians = []
        for i in range(n_arms):
            v = values[i] if panel is None else values[i, ..., r]
            runs = v.reshape(-1, v.shape[-1])  # (runs, time)
            medians.append(_quantiles(runs) if np.isfinite(runs).any() else None)
        for i, arm in enumerate(arms):
            ax = grid[r, i]
            for k, q in enumerate(medians):
                if k != i and q is not None:
                    ax.plot(t, np.where(q[0] > 0, q[0], np.nan) if log else q[0], color="0.6", linewidth=0.8)
            if medians[i] is not None:
                med, lo, hi = medians[i]
                if log:  # a log axis cannot show zero: leave gaps rather than distorted bands
                    med, lo, hi = (np.where(q > 0, q, np.nan) for q in (med, lo, hi))
                band = np.isfinite(lo) & np.isfinite(hi)
                ax.fill_between(
                    t, lo, hi, where=band, color=f"C{i % 10}", alpha=0.25, linewidth=0, label="10-90% of runs"
                )
                ax.plot(t, med, color=f"C{i % 10}", label="median")
            if log:
                ax.set_yscale("log", nonpositive="mask")
            ax.set_title(arm if panel is None else f"{arm}: {panel}", fontsize=9)
            ax.grid(alpha=0.3)
            if r == len(panels) - 1:
                ax.set_xlabel("time [day]")
    handles, labels = grid[0, 0].get_legend_handles_labels()
    if n_arms > 1:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="0.6", linewidth=0.8))
        labels.append("median of the other arms")
    if handles:
        grid[0, 0].legend(handles, labels, fontsize=7)
    fig.supylabel(label, fontsize=9)
    fig.suptitle(str(var.attrs.get("long_name", name)), fontsize=10)
    return fig


def km_figure(curves: dict[str, Any], endpoint: str, long_name: str, confidence: float):
    """Kaplan-Meier curves of every arm of one endpoint: steps with their pointwise interval,
    censoring marks, and the number at risk under the axis (months)."""
    with requires_extra("report", "report figures"):
        from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.6), layout="constrained")
    ax, table = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 0.35 + 0.25 * len(curves)]})
    horizon = max((float(km.durations.max()) for km in curves.values() if km.durations.size), default=0.0)
    horizon_m = horizon / DAYS_PER_MONTH
    for i, (arm, km) in enumerate(curves.items()):
        c = f"C{i % 10}"
        t = np.concatenate([[0.0], km.times, [horizon]]) / DAYS_PER_MONTH
        sv = np.concatenate([[1.0], km.survival, [km.survival[-1] if km.survival.size else 1.0]])
        lo = np.concatenate([[1.0], km.lower, [km.lower[-1] if km.lower.size else 1.0]])
        hi = np.concatenate([[1.0], km.upper, [km.upper[-1] if km.upper.size else 1.0]])
        ax.step(
            t, sv, where="post", color=c, label=f"{arm} (n = {km.durations.size}, events = {int(km.observed.sum())})"
        )
        ax.fill_between(t, lo, hi, step="post", color=c, alpha=0.18, linewidth=0)
        cens = km.durations[~km.observed]
        ax.plot(cens / DAYS_PER_MONTH, [km.at(x) for x in cens], "|", color=c, markersize=7)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("probability event-free" if endpoint != "os" else "probability alive")
    ax.set_title(f"{long_name}: Kaplan-Meier, {confidence:.0%} pointwise interval (log-log)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    step = 6 if horizon_m > 12 else (3 if horizon_m > 4 else 1)
    ticks = np.arange(0, horizon_m + 1e-9, step) if horizon_m > 0 else np.array([0.0])
    table.set_xlabel("time [months]")
    table.set_yticks(range(len(curves)), list(curves)[::-1], fontsize=7)
    table.set_ylim(-0.5, len(curves) - 0.5)
    table.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        table.spines[side].set_visible(False)
    for r, (_arm, km) in enumerate(list(curves.items())[::-1]):
        for tk in ticks:
            table.text(tk, r, str(km.at_risk_at(tk * DAYS_PER_MONTH)), ha="center", va="center", fontsize=7)
    table.set_title("number at risk", fontsize=8, loc="left")
    ax.set_xticks(ticks)
    ax.set_xlim(-0.02 * max(horizon_m, 1), max(horizon_m, 1) * 1.02)
    return fig


#: The index drawn for each sensitivity method, with its interval column.
SENSITIVITY_INDEX = {
    "sobol": ("ST", "ST_conf", "Sobol total index ST"),
    "morris": ("mu_star", "mu_star_conf", "Morris mu* [design units]"),
    "spearman": ("rho", None, "Spearman rho"),
}


def sensitivity_figure(table: pd.DataFrame, endpoint: str, confidence: float = 0.95):
    """Bars of the sensitivity indices of one endpoint with their intervals (Sobol: SALib's
    bootstrap interval of S1 and ST; Morris: of mu*; Spearman: a paired bootstrap interval of rho)."""
    with requires_extra("report", "report figures"):
        from matplotlib.figure import Figure

    sub = table[table.endpoint == endpoint]
    method = sub.method.iloc[0]
    arms = list(dict.fromkeys(sub.arm))
    params = list(dict.fromkeys(sub.parameter))
    fig = Figure(figsize=(2.0 + 1.1 * len(params) * max(1, len(arms)) / 2, 3.8), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(arms)
    x = np.arange(len(params))
    for k, arm in enumerate(arms):
        s = sub[sub.arm == arm].set_index("parameter").reindex(params)
        if method == "sobol":
            ax.bar(x + k * width, s.ST, width, yerr=s.ST_conf, label=f"{arm}: ST", color=f"C{k}", alpha=0.5, capsize=3)
            ax.bar(x + k * width, s.S1, width * 0.5, yerr=s.S1_conf, label=f"{arm}: S1", color=f"C{k}", capsize=2)
        elif method == "morris":
            ax.bar(x + k * width, s.mu_star, width, yerr=s.mu_star_conf, label=f"{arm}: mu*", color=f"C{k}", capsize=3)
        else:
            err = np.vstack([(s.rho - s.rho_ci_low).clip(lower=0), (s.rho_ci_high - s.rho).clip(lower=0)])
            ax.bar(x + k * width, s.rho, width, yerr=np.nan_to_num(err), label=arm, color=f"C{k}", capsize=3)
            ax.axhline(0, color="k", linewidth=0.5)
    ax.set_ylabel(f"{SENSITIVITY_INDEX[method][2]} ({confidence:.0%} interval)", fontsize=8)
    ax.set_xticks(
        x + width * (len(arms) - 1) / 2, [p.split(".")[-1] for p in params], rotation=30, ha="right", fontsize=8
    )
    ax.set_title(f"sensitivity of {endpoint}", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def sensitivity_heatmap(table: pd.DataFrame, arm: str):
    """Parameters x endpoints of one arm's main index (ST, mu* or rho), labels in full (constrained
    layout makes room for them)."""
    with requires_extra("report", "report figures"):
        from matplotlib.figure import Figure

    sub = table[table.arm == arm]
    method = sub.method.iloc[0]
    col, _, label = SENSITIVITY_INDEX[method]
    grid = sub.pivot_table(index="endpoint", columns="parameter", values=col, aggfunc="first", sort=False)
    fig = Figure(figsize=(2.5 + 0.9 * grid.shape[1], 1.2 + 0.32 * grid.shape[0]), layout="constrained")
    ax = fig.subplots()
    v = grid.values.astype(np.float64)
    if method == "spearman":
        im = ax.imshow(v, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    else:
        im = ax.imshow(v, cmap="viridis", vmin=0, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), list(grid.columns), rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(grid.shape[0]), list(grid.index), fontsize=8)
    fig.colorbar(im, ax=ax, label=label)
    ax.set_title(f"sensitivity, arm {arm}", fontsize=9)
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
    #: cohort experiments: the arms that do not give the trial's treatment, with their departures
    #: (:func:`treatment_departures`); their rates are not compared with the trial's targets
    departures: dict[str, list[str]] = field(default_factory=dict)
    #: cohort experiments whose trial published a response depth: the complete MRD response of the CR/CRh
    depth: pd.DataFrame | None = None
    #: ordinal grades: distribution per arm and "grade >= k" with a Wilson interval
    grades: pd.DataFrame | None = None
    #: "days to X" read-outs as censored times to event (Kaplan-Meier median)
    time_to_event: pd.DataFrame | None = None
    #: ``<x>_days``/``<x>_event`` pairs: Kaplan-Meier, landmarks, log-rank and hazard ratios
    survival: Survival | None = None
    #: the figures as matplotlib Figure objects, by file stem (also written to ``out_dir``)
    figure_objects: dict[str, Any] = field(default_factory=dict)
    #: stores with ``[experiment] allocation``: the randomised comparison (TOWER-like trials)
    randomised: RandomisedComparison | None = None
    #: stores whose samples carry the baseline marrow blasts: response and survival by burden group
    burden: BurdenGroups | None = None

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        """Jupyter: the summary's tables as HTML, then every figure inline (PNG)."""
        import base64
        import html
        import io

        parts = [f"<h3>Experiment {html.escape(repr(self.name))}</h3>"]
        for title, df in (
            (f"Virtual trial {self.cohort!r}: rates per arm", self.trial),
            ("Response depth: complete MRD response of the CR/CRh", self.depth),
            ("Endpoints per arm", self.endpoints),
            ("Grades", self.grades),
            ("Times to event (censored)", self.time_to_event),
            ("Survival: medians", self.survival.medians if self.survival else None),
            ("Survival: landmarks", self.survival.landmarks if self.survival else None),
            ("Survival: log-rank and hazard ratios", self.survival.tests if self.survival else None),
            ("Response and survival by baseline marrow blasts", self.burden.table if self.burden else None),
            ("Paired differences", self.paired),
            ("Sensitivity", self.sensitivity),
        ):
            if df is not None and not df.empty:
                parts += [f"<h4>{html.escape(title)}</h4>", df.to_html(index=False, float_format=lambda v: f"{v:.4g}")]
        for stem, fig in self.figure_objects.items():
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=80)
            data = base64.b64encode(buf.getvalue()).decode()
            parts.append(f'<figure><img alt="{html.escape(stem)}" src="data:image/png;base64,{data}"/></figure>')
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        return "\n".join(parts)

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
                calibrated = bool(TRIAL_TARGETS.get(self.cohort))
                lines.append(
                    (
                        "target: the published rate the model is calibrated against "
                        "(blinasim.trials.calibration.TARGETS); "
                        if calibrated
                        else "target: the trial's published rate, compared, not calibrated "
                        "(blinasim.trials.calibration.targets.PUBLISHED_RATES); "
                    )
                    + "target_in_ci: whether it lies in the interval."
                )
                for arm, changed in self.departures.items():
                    lines.append("")
                    lines.append(
                        f"Arm {arm!r} does not give the trial's treatment, so its rates are not compared with "
                        f"the trial's targets: {', '.join(changed)}."
                    )
                lines.append("")
                lines += _table(
                    self.trial,
                    ["endpoint", "arm", "n", "events", "rate", "ci_low", "ci_high", "target", "target_in_ci"],
                )
            lines.append("")
        if self.depth is not None:
            source = next((x for x in self.depth.source if x), "")
            lines += [
                f"## Response depth: complete MRD response of the CR/CRh ({pct} Wilson interval)",
                "",
                "Of the patients with CR/CRh (`cr_crh`), the share with a complete MRD response (`mrd_response`, < "
                "1e-4 on the trial's assessment days); published: the trial's depth"
                + (f", {source}" if source else " (not compared: no arm gives the trial's treatment)")
                + ". Compared, not claimed (docs/validation.md).",
                "",
                *_table(self.depth, DEPTH_COLUMNS),
                "",
            ]
        lines += [
            "## Endpoints per arm",
            "",
            f"Numbers: mean with a {pct} BCa bootstrap interval ({BOOTSTRAP_RESAMPLES} resamples, seed "
            f"{BOOTSTRAP_SEED}; it never leaves the range of the data) and median with a {pct} distribution-free "
            f"interval (order statistics); yes/no endpoints: proportion with a {pct} Wilson interval.",
            "",
        ]
        if self.endpoints.empty:
            lines.append("No endpoint has a value yet.")
        else:
            lines += _table(
                self.endpoints,
                ["endpoint", "arm", "n", "estimate", "ci_low", "ci_high", "median", "median_ci_low",
                 "median_ci_high", "p10", "p90", "units"],
            )  # fmt: skip
        if self.grades is not None and not self.grades.empty:
            lines += [
                "",
                f"## Grades (distribution; share with grade >= k and its {pct} Wilson interval)",
                "",
                "Grades are ordinal: they are counted, never averaged.",
                "",
            ]
            lines += _table(
                self.grades,
                ["endpoint", "arm", "grade", "n", "count", "share", "share_at_least", "ci_low", "ci_high"],
            )
        if self.time_to_event is not None and not self.time_to_event.empty:
            lines += [
                "",
                f"## Times to event (censored; Kaplan-Meier median with its {pct} interval)",
                "",
                "A run in which the event never happened is censored at the end of its follow-up (`os_days` where "
                "the store has it, else the end of the run), not left out; share_by_end is 1 - S at the last "
                "follow-up time.",
                "",
            ]
            lines += _table(self.time_to_event, TTE_COLUMNS)
        if not self.categories.empty:
            lines += ["", "## Categorical endpoints (counts)", ""]
            lines += _table(self.categories, ["endpoint", "arm", "category", "count", "n"])
        if self.survival is not None:
            sv = self.survival
            lines += [
                "",
                f"## Survival (Kaplan-Meier per arm, {pct} intervals)",
                "",
                "Kaplan-Meier: scipy.stats.ecdf; pointwise intervals: Greenwood, log-log; median interval: "
                "Brookmeyer-Crowley (statsmodels). Landmark rates only where follow-up reaches them.",
                "",
            ]
            lines += _table(sv.medians, ["endpoint", "arm", "n", "events", "median_days", "ci_low", "ci_high",
                                         "median_months"])  # fmt: skip
            if not sv.landmarks.empty:
                lines += ["", "Landmark rates (probability event-free at the landmark):", ""]
                lines += _table(sv.landmarks, ["endpoint", "arm", "months", "at_risk", "survival", "ci_low", "ci_high"])
            if not sv.tests.empty:
                lines += [
                    "",
                    "Between arms: log-rank test (scipy.stats.logrank) and hazard ratio of B vs A (Cox model, Efron "
                    f"ties, statsmodels PHReg; {pct} Wald interval). Arms share their seeds (common random numbers), so "
                    "they are not independent samples; the log-rank p then tends to be conservative.",
                    "",
                ]
                lines += _table(
                    sv.tests,
                    ["endpoint", "arm_a", "arm_b", "events_a", "events_b", "logrank_chi2", "p_value", "p_holm",
                     "hazard_ratio", "hr_ci_low", "hr_ci_high"],
                )  # fmt: skip
        if not self.paired.empty:
            lines += [
                "",
                f"## Paired differences (B - A, paired by sample and replicate; {pct} BCa bootstrap interval)",
                "",
                f"Differences below {NOISE_TOLERANCE:g} times the endpoint's magnitude are rounding noise and count "
                "as 0. variance_ratio = Var(B - A) / (Var A + Var B): below 1, common random numbers sharpen the "
                "comparison.",
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
                "spearman": ["endpoint", "arm", "parameter", "rho", "rho_ci_low", "rho_ci_high", "p_value",
                             "p_method", "p_holm", "n"],
            }[method]  # fmt: skip
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
        if self.burden is not None:
            lines += self.burden.to_markdown()
        if self.randomised is not None:
            lines += self.randomised.to_markdown()
        lines += ["", "## Multiplicity", "", self.multiplicity()]
        if self.figures:
            lines += ["", "## Figures", ""]
            lines += [f"- `{p.name}`" for p in self.figures if p.suffix == ".png"]
        if self.notes:
            lines += ["", "## Notes", ""]
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def multiplicity(self) -> str:
        """How many comparisons the report makes and how its p-values are adjusted."""
        n_sens = (
            0
            if self.sensitivity is None or "p_value" not in self.sensitivity
            else int(np.isfinite(self.sensitivity.p_value.astype(float)).sum())
        )
        n_lr = 0 if self.survival is None else int(np.isfinite(self.survival.tests.p_value.astype(float)).sum())
        n_int = len(self.paired)
        text = (
            f"This report computes {n_int} paired-difference intervals, {n_lr} log-rank tests and {n_sens} Spearman "
            f"tests. Intervals are per comparison ({self.confidence:.0%} each, not adjusted): of many intervals, "
            "some miss by chance. Where tests are reported, p_holm is Holm-adjusted (statsmodels multipletests) "
            "within its family (the log-rank tests; the Spearman tests), which keeps the chance of any false "
            'positive in the family at the nominal level; p-values below 1e-4 print as "< 1e-4".'
        )
        return text


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
        cells = [format_p(float(row[c])) if c in ("p_value", "p_holm") else _fmt(row[c]) for c in cols]
        out.append("| " + " | ".join(cells) + " |")
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
    ``trial_rates.csv`` and ``trial_strata.csv`` (cohort experiments), ``response_depth.csv`` (cohorts
    whose trial published a depth: :func:`response_depth`), ``burden_groups.csv``
    (stores whose samples carry the baseline marrow blasts: :mod:`blinasim.experiments.burden_report`),
    ``grades.csv``,
    ``time_to_event.csv``, ``survival_{medians,landmarks,tests}.csv`` (stores with
    ``<x>_days``/``<x>_event`` pairs) and ``timecourse_<variable>``, ``km_<x>``,
    ``sensitivity_<endpoint>`` and ``sensitivity_heatmap`` figures in each of ``formats``. The
    returned :class:`Report` holds the tables, the figures as matplotlib objects
    (``figure_objects``) and displays in Jupyter.
    """
    if not 0 < confidence < 1:
        raise ReportError(f"confidence = {confidence!r}: must be between 0 and 1, e.g. 0.95")
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise ReportError(f"figure format(s) {', '.join(map(repr, bad))}: allowed png, svg, pdf")
    if formats:  # figures need matplotlib: say so before any work (no formats: tables only)
        with requires_extra("report", "report figures"):
            import matplotlib  # noqa: F401
    with requires_extra("report", "report statistics (hazard ratios, median intervals, Holm-adjusted p)"):
        import statsmodels  # noqa: F401
    ds = open_results(store)
    arms = [str(a) for a in ds.arm.values]
    status = read_status(store)
    damaged = damaged_runs(store, status)
    if damaged:
        raise ReportError(
            [
                f"store {str(store)!r} has {len(damaged)} damaged run(s) (changed on disk since written); "
                f"re-run them by resuming the sweep ({arg('resume', True)}), then report",
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
            raise ReportError(f"{why}; nothing was changed. Choose another {arg('out_dir')} (or remove it yourself)")
    try:
        check_writable_dir(parent, f"report directory {str(target)!r}")
    except OutputError as exc:
        raise ReportError(exc.marked) from None

    say = progress or (lambda msg: None)
    say(f"store opened: {sum(counts.values())} runs ({counts['done']} done); computing endpoints and intervals")
    eps, notes = endpoints(ds)
    summary = summarise(eps, arms, confidence)
    table, cats = summary.endpoints, summary.categories
    paired = paired_differences(eps, arms, confidence) if len(arms) > 1 else pd.DataFrame()
    say("survival")
    surv = survival(ds, arms, confidence)
    sens, sens_notes = sensitivity(ds, eps, arms, confidence)
    notes += sens_notes
    departures = treatment_departures(ds)
    trial = trial_rates(ds, table, departures)
    strata = trial_strata(ds, eps, arms, confidence)
    depth = response_depth(ds, eps, arms, confidence, departures)
    burden = burden_groups(ds, {ep.name: ep.values for ep in eps if ep.kind == "binary"}, arms, confidence)
    if counts["done"] == 0:
        notes.insert(0, "no run is done yet: nothing to summarise")

    try:
        tmp = make_partial_dir(target)
    except OSError as exc:
        raise ReportError(f"cannot write report directory {str(target)!r}: {describe_os_error(exc)}") from None
    figures: list[Path] = []
    objects: dict[str, Any] = {}

    def keep(fig, stem: str) -> list[Path]:
        objects[stem] = fig
        return _save(fig, tmp, stem, formats)

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
                figures += keep(fig, f"timecourse_{name}")
        if surv is not None and formats and counts["done"]:
            for x, curves in surv.curves.items():
                say(f"figure km_{x}")
                long_name = str(ds[f"{x}_days"].attrs.get("long_name", "")).split(":")[0] or x
                figures += keep(km_figure(curves, x, long_name, confidence), f"km_{x}")
        if sens is not None and formats:
            for ep in dict.fromkeys(sens.endpoint):
                figures += keep(sensitivity_figure(sens, ep, confidence), f"sensitivity_{ep}")
            for arm in dict.fromkeys(sens.arm):
                stem = "sensitivity_heatmap" if sens.arm.nunique() == 1 else f"sensitivity_heatmap_{arm}"
                figures += keep(sensitivity_heatmap(sens, arm), stem)
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
            cohort=trial_cohort(ds),
            departures={arm: d for arm, d in departures.items() if d},
            depth=depth,
            grades=summary.grades,
            time_to_event=summary.time_to_event,
            survival=surv,
            figure_objects=objects,
            randomised=randomised_comparison(ds, confidence),
            burden=burden,
        )
        if report.randomised is not None:
            report.randomised.rates.to_csv(tmp / "randomised_rates.csv", index=False)
            report.randomised.survival.to_csv(tmp / "randomised_survival.csv", index=False)
            report.randomised.tests.to_csv(tmp / "randomised_tests.csv", index=False)
        table.to_csv(tmp / "endpoints.csv", index=False)
        if not summary.grades.empty:
            summary.grades.to_csv(tmp / "grades.csv", index=False)
        if not summary.time_to_event.empty:
            summary.time_to_event.to_csv(tmp / "time_to_event.csv", index=False)
        if surv is not None:
            surv.medians.to_csv(tmp / "survival_medians.csv", index=False)
            surv.landmarks.to_csv(tmp / "survival_landmarks.csv", index=False)
            surv.tests.to_csv(tmp / "survival_tests.csv", index=False)
        cats.to_csv(tmp / "categories.csv", index=False)
        paired.to_csv(tmp / "paired_differences.csv", index=False)
        if sens is not None:
            sens.to_csv(tmp / "sensitivity.csv", index=False)
        if trial is not None:
            trial.to_csv(tmp / "trial_rates.csv", index=False)
        if strata is not None:
            strata.to_csv(tmp / "trial_strata.csv", index=False)
        if depth is not None:
            depth.to_csv(tmp / "response_depth.csv", index=False)
        if burden is not None:
            burden.table.to_csv(tmp / "burden_groups.csv", index=False)
        report.figures = [target / p.name for p in figures]
        (tmp / "summary.md").write_text(report.to_markdown())
        (tmp / WRITER_FILE).unlink()  # the marker below says what this directory is
        written = sorted(p.name for p in tmp.iterdir())
        (tmp / REPORT_MARKER).write_text(json.dumps({"format": REPORT_FORMAT, "files": written}, indent=1) + "\n")
        old = None
        if target.exists():
            why = _replaceable_report(target)  # again: it may have changed while the report was made
            if why is not None:
                raise ReportError(
                    f"{why}; nothing was changed. Choose another {arg('out_dir')} (or remove it yourself)"
                )
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
