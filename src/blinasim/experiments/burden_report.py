"""Response and survival by baseline marrow blasts, in the groups of a pooled analysis of five trials.

A pooled analysis of five blinatumomab trials in relapsed/refractory B-ALL ([BMBlasts2023], 683
patients) split the patients by baseline marrow blasts into >= 50% (the reference), 25-50% and
5-25%, and reported for the two lower groups against the reference the odds ratios of CR and of an
MRD response and the hazard ratios of death and of an event (relapse or death). A store whose
samples carry ``patient.marrow_blast_fraction`` (a cohort experiment, or any sampler that varies
it) gets the same table per arm, so a model's burden effect can be read beside the published one:

- per group: patients, CR/CRh, CR and complete MRD response, and CRS and neurotoxicity of any grade
  and of grade >= 3, with Wilson intervals;
- per lower group against >= 50%: the odds ratio of each (``scipy.stats.contingency.odds_ratio``,
  Woolf interval) and the hazard ratios of EFS and OS (Cox model with the group as the only
  covariate, statsmodels), each where the store has the read-out.

The pooled analysis did not report toxicity by group; CRS is listed because its rise with burden
is the clinical expectation (the label's reason for the pre-phase).

Patients below 5% (e.g. MRD-level disease) form a fourth group, listed with its rates but not
compared: the pooled analysis had no such group. Only done runs count, and a read-out that is NaN
(not assessable) leaves the patient out of that read-out's numbers. The table is made when at least
two of the three published groups hold patients in some arm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from blinasim.experiments.store import DONE, STATUS_VAR
from blinasim.stats import hazard_ratio, odds_ratio, wilson_ci

#: The per-sample variable that holds each patient's baseline marrow blast fraction.
BURDEN_VARIABLE = "patient.marrow_blast_fraction"
#: (label, lower bound inclusive, upper bound exclusive) of the marrow blast fraction.
GROUPS: tuple[tuple[str, float, float], ...] = (
    (">= 50%", 0.50, math.inf),
    ("25-50%", 0.25, 0.50),
    ("5-25%", 0.05, 0.25),
    ("< 5%", -math.inf, 0.05),
)
#: The pooled analysis' reference group, and the groups it compared with it.
REFERENCE = ">= 50%"
COMPARED = ("25-50%", "5-25%")
#: Yes/no read-outs compared by odds ratio, in this order, with their table headers: the responses
#: the pooled analysis compared, and the toxicities (which it did not report by group).
RATES: dict[str, str] = {
    "cr_crh": "CR/CRh",
    "cr": "CR",
    "mrd_response": "MRD response",
    "crs_any": "CRS any",
    "crs_grade3": "CRS >= 3",
    "neurotox_any": "neurotox. any",
    "neurotox_grade3": "neurotox. >= 3",
}
#: Times to event compared by hazard ratio, with their table headers.
TIMES: dict[str, str] = {"efs": "EFS", "os": "OS"}
#: [BMBlasts2023] against >= 50% blasts: (read-out, group) -> (estimate, low, high); NaN where the
#: abstract gives no interval. "CR" as the pooled analysis reports it; an "event" is relapse or death
#: (here EFS), "death" OS.
PUBLISHED: dict[tuple[str, str], tuple[float, float, float]] = {
    ("cr", "25-50%"): (3.50, 2.23, 5.48),
    ("cr", "5-25%"): (3.93, 2.50, 6.18),
    ("mrd_response", "25-50%"): (2.61, math.nan, math.nan),
    ("mrd_response", "5-25%"): (3.37, math.nan, math.nan),
    ("efs", "25-50%"): (0.59, math.nan, math.nan),
    ("efs", "5-25%"): (0.57, math.nan, math.nan),
    ("os", "25-50%"): (0.63, math.nan, math.nan),
    ("os", "5-25%"): (0.54, math.nan, math.nan),
}
COLUMNS = [
    "arm", "group", "patients", "read_out", "measure", "n", "events", "rate", "ci_low", "ci_high",
    "effect", "effect_low", "effect_high", "published", "published_low", "published_high",
]  # fmt: skip


@dataclass
class BurdenGroups:
    """The table (one row per arm, group and read-out) and its section of ``summary.md``."""

    table: pd.DataFrame
    confidence: float

    def to_markdown(self) -> list[str]:
        pct = f"{self.confidence:.0%}"
        t = self.table
        present_rates = [r for r in RATES if r in set(t.read_out)]
        present_times = [x for x in TIMES if x in set(t.read_out)]
        rate_head = ["group", "n"] + [RATES[r] for r in present_rates]
        ratio_head = ["group"] + [f"OR {RATES[r]}" for r in present_rates] + [f"HR {TIMES[x]}" for x in present_times]
        lines = [
            "",
            f"## Response and survival by baseline marrow blasts ({pct} intervals of the ratios)",
            "",
            "Groups of the pooled analysis of five trials ([BMBlasts2023]); odds ratios (OR, Woolf) and "
            "hazard ratios (HR, Cox) of each group against >= 50% blasts (blinasim.experiments.burden_report). "
            "The full table, with the rates' Wilson intervals, is `burden_groups.csv`.",
        ]
        for arm in dict.fromkeys(t.arm):
            sub = t[t.arm == arm]
            rate_rows, ratio_rows = [], []
            for group in dict.fromkeys(sub.group):
                g = sub[sub.group == group].set_index("read_out")
                rate_rows.append(
                    [group, str(int(g.patients.iloc[0]))] + [_rate(g.loc[r]) for r in present_rates if r in g.index]
                )
                if group != "< 5%":
                    ratio_rows.append(
                        [group] + [_effect(g.loc[r]) for r in (*present_rates, *present_times) if r in g.index]
                    )
            lines += ["", f"Arm `{arm}`: rates", "", *_md(rate_head, rate_rows)]
            lines += ["", f"Arm `{arm}`: against >= 50% blasts", "", *_md(ratio_head, ratio_rows)]
        lines += ["", f"Published against >= 50% ([BMBlasts2023], 683 patients): {published_text()}."]
        return lines


def published_text() -> str:
    """The published ratios of :data:`PUBLISHED` in words, for the report."""
    names = {"cr": "CR OR", "mrd_response": "MRD response OR", "efs": "HR of an event (relapse or death)",
             "os": "HR of death"}  # fmt: skip
    parts = []
    for read_out, name in names.items():
        values = []
        for group in COMPARED:
            est, lo, hi = PUBLISHED[(read_out, group)]
            ci = f" ({lo:.2f}-{hi:.2f})" if np.isfinite(lo) else ""
            values.append(f"{est:.2f}{ci} at {group}")
        parts.append(f"{name} {' and '.join(values)}")
    return "; ".join(parts)


def _md(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]


def _num(v: float) -> str:
    return "NaN" if not np.isfinite(v) else f"{v:.2f}"


def _rate(r: pd.Series) -> str:
    if not r.n or not np.isfinite(r.rate):
        return "not assessable"
    return f"{r.rate:.0%} ({r.events}/{r.n})"


def _effect(r: pd.Series) -> str:
    if r.group == REFERENCE:
        return "1 (reference)"
    if not np.isfinite(r.effect):
        return "NaN"
    ci = f" ({_num(r.effect_low)}-{_num(r.effect_high)})" if np.isfinite(r.effect_low) else ""
    return f"{_num(r.effect)}{ci}"


def group_of(fraction: np.ndarray) -> np.ndarray:
    """The group label of each marrow blast fraction (``""`` where it is not finite)."""
    x = np.asarray(fraction, dtype=np.float64)
    out = np.full(x.shape, "", dtype=object)
    for label, lo, hi in GROUPS:
        out[(x >= lo) & (x < hi)] = label
    return out


def burden_groups(
    ds: xr.Dataset, binary: dict[str, xr.DataArray], arms: list[str], confidence: float = 0.95
) -> BurdenGroups | None:
    """The table for a store whose samples carry :data:`BURDEN_VARIABLE` (``None`` otherwise).

    ``binary`` maps a yes/no read-out's name to its flags (1/0/NaN, dims arm, sample, replicate);
    the read-outs of :data:`RATES` found there are compared by odds ratio, and the
    ``<x>_days``/``<x>_event`` pairs of :data:`TIMES` found in ``ds`` by hazard ratio.
    """
    if BURDEN_VARIABLE not in ds or ds[BURDEN_VARIABLE].dims != ("sample",):
        return None
    labels = group_of(ds[BURDEN_VARIABLE].values)
    n_rep = ds.sizes["replicate"]
    labels = np.repeat(labels[:, None], n_rep, axis=1)  # (sample, replicate)
    done = ds[STATUS_VAR].values == DONE  # (arm, sample, replicate)
    rates = [r for r in RATES if r in binary]
    times = [x for x in TIMES if f"{x}_days" in ds and f"{x}_event" in ds]
    populated = {g for g in (*COMPARED, REFERENCE) for a in range(len(arms)) if (done[a] & (labels == g)).any()}
    if len(populated) < 2:
        return None
    rows: list[dict] = []
    for a, arm in enumerate(arms):
        ref = done[a] & (labels == REFERENCE)
        flags = {r: binary[r].isel(arm=a).values.astype(np.float64) for r in rates}  # (sample, replicate)
        tte = {}  # read-out -> (days, event, assessable, the reference group's days and events)
        for x in times:
            d = ds[f"{x}_days"].isel(arm=a).values.astype(np.float64)
            e = ds[f"{x}_event"].isel(arm=a).values.astype(np.float64)
            ok = np.isfinite(d) & np.isfinite(e)
            tte[x] = (d, e > 0.5, ok, d[ref & ok], e[ref & ok] > 0.5)
        for group in (g for g, _, _ in GROUPS if (done[a] & (labels == g)).any()):
            mask = done[a] & (labels == group)
            compare = group in COMPARED and ref.any()
            base = {"arm": arm, "group": group, "patients": int(mask.sum())}
            for r, y in flags.items():
                k, n = _count(y, mask)
                rate = wilson_ci(k, n, confidence)
                effect = odds_ratio(k, n, *_count(y, ref), confidence) if compare else (math.nan,) * 3
                rows.append(_row(base, r, "odds ratio", k, n, rate, effect))
            for x, (d, e, ok, dr, er) in tte.items():
                dg, eg = d[mask & ok], e[mask & ok]
                effect = (math.nan,) * 3
                if compare and dr.size and dg.size:
                    effect = hazard_ratio(dr, er, dg, eg, confidence)
                rows.append(_row(base, x, "hazard ratio", int(eg.sum()), int(dg.size), (math.nan,) * 3, effect))
    return BurdenGroups(pd.DataFrame(rows, columns=COLUMNS), confidence)


def _count(y: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    v = y[mask]
    v = v[np.isfinite(v)]
    return int(np.count_nonzero(v > 0.5)), int(v.size)


def _row(base: dict, read_out: str, measure: str, k: int, n: int, rate, effect) -> dict:
    pub = PUBLISHED.get((read_out, base["group"]), (math.nan,) * 3)
    return {
        **base,
        "read_out": read_out,
        "measure": measure,
        "n": n,
        "events": k,
        "rate": rate[0],
        "ci_low": rate[1],
        "ci_high": rate[2],
        "effect": effect[0],
        "effect_low": effect[1],
        "effect_high": effect[2],
        "published": pub[0],
        "published_low": pub[1],
        "published_high": pub[2],
    }
