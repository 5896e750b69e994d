"""The randomised comparison of a trial-like experiment (TOWER: blinatumomab vs chemotherapy).

An experiment with ``[experiment] allocation`` (arm name -> weight, e.g.
``{blinatumomab = 2, chemotherapy = 1}``) runs every patient in every arm, on
common random numbers, like any experiment. The randomised comparison then
analyses each patient (sample) only in the arm a **permuted-block
randomisation** assigned it (:func:`allocate`): blocks of ``sum(weights)``
consecutive samples, each block a shuffle of the weights' arm labels, drawn
from the root seed, so the allocation is exact within every block and
reproducible. Why run every arm for every patient: the store stays a full
(arm x sample) grid that the rest of the report reads (the paired,
counterfactual comparison of the same patients comes for free), at the cost
of running the unallocated arm too.

Per arm: CR, CR/CRh/CRi (Wilson intervals), EFS and OS (Kaplan-Meier medians
in months, EFS at 6 months, OS at 6 and 12 months), and for each arm against
the first arm of the allocation the hazard ratios (Cox, with interval) and
log-rank p of EFS and OS. CR/CRh/CRi is the store's ``cr_crh_cri`` when it has
one; otherwise marrow blasts below ``endpoints.cr_blast_fraction`` on any of
the arm's assessment days (:func:`blinasim.clinical.endpoints.assessment_days`),
whatever the count recovery (CRi), read from the stored ``marrow_blast_fraction``.
The published values of TOWER ([Kantarjian2017]) are listed beside the arms
named ``blinatumomab`` and ``chemotherapy``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from blinasim.clinical.endpoints import assessment_days
from blinasim.experiments.store import DONE, STATUS_VAR, run_config
from blinasim.stats import format_p, hazard_ratio, kaplan_meier, logrank, wilson_ci

#: stream of the allocation's generator (distinct from every run's streams)
ALLOCATION_STREAM = 0xA110C
DAYS_PER_MONTH = 365.25 / 12
#: TOWER ([Kantarjian2017]) per arm: CR, CR/CRh/CRi, 6-month EFS, median OS (months); OS HR 0.71
TOWER_TARGETS = {
    "blinatumomab": {"cr": 0.34, "cr_crh_cri": 0.44, "efs_6mo": 0.31, "os_median_months": 7.7},
    "chemotherapy": {"cr": 0.16, "cr_crh_cri": 0.25, "efs_6mo": 0.12, "os_median_months": 4.0},
}
TOWER_OS_HR = 0.71


def allocate(root_seed: int, n_samples: int, allocation: dict[str, int]) -> list[str]:
    """The arm of every sample: permuted blocks of ``sum(weights)`` from the root seed."""
    labels = [arm for arm, w in allocation.items() for _ in range(w)]
    out: list[str] = []
    block = 0
    while len(out) < n_samples:
        rng = np.random.default_rng([int(root_seed) & 0xFFFFFFFFFFFFFFFF, ALLOCATION_STREAM, block])
        out.extend(labels[i] for i in rng.permutation(len(labels)))
        block += 1
    return out[:n_samples]


@dataclass
class RandomisedComparison:
    """The tables of the randomised comparison."""

    allocation: dict[str, int]
    rates: pd.DataFrame
    survival: pd.DataFrame
    tests: pd.DataFrame
    notes: list[str]

    def to_markdown(self) -> list[str]:
        """The section of ``summary.md``."""
        weights = ":".join(str(w) for w in self.allocation.values())
        lines = [
            "",
            f"## Randomised comparison ({' vs '.join(self.allocation)}, {weights})",
            "",
            "Each patient counted only in the arm its permuted-block randomisation assigned "
            "(every patient ran every arm on common random numbers; blinasim.experiments.trial_report).",
            "",
            "| arm | n | CR | CR/CRh/CRi | median EFS (mo) | EFS 6 mo | median OS (mo) | OS 6 mo | OS 12 mo |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        surv = self.survival.set_index("arm")
        for _, r in self.rates.iterrows():
            s = surv.loc[r.arm]
            lines.append(
                f"| {r.arm} | {r.n} | {_rate(r, 'cr')} | {_rate(r, 'cr_crh_cri')} | {_num(s.efs_median_months)} "
                f"| {_pct(s.efs_6mo)} | {_num(s.os_median_months)} | {_pct(s.os_6mo)} | {_pct(s.os_12mo)} |"
            )
        targets = [a for a in self.allocation if a in TOWER_TARGETS]
        if targets:
            lines += ["", "TOWER (Kantarjian 2017): " + "; ".join(
                f"{a}: CR {TOWER_TARGETS[a]['cr']:.0%}, CR/CRh/CRi {TOWER_TARGETS[a]['cr_crh_cri']:.0%}, "
                f"EFS 6 mo {TOWER_TARGETS[a]['efs_6mo']:.0%}, median OS {TOWER_TARGETS[a]['os_median_months']} mo"
                for a in targets) + f"; OS hazard ratio {TOWER_OS_HR}."]  # fmt: skip
        if not self.tests.empty:
            lines += ["", "| endpoint | arm vs reference | hazard ratio (95% CI) | log-rank p |", "|---|---|---|---|"]
            for _, t in self.tests.iterrows():
                lines.append(
                    f"| {t.endpoint} | {t.arm} vs {t.reference} | {_num(t.hazard_ratio)} "
                    f"({_num(t.hr_ci_low)}-{_num(t.hr_ci_high)}) | {format_p(t.p_value)} |"
                )
        if self.notes:
            lines += ["", *(f"- {n}" for n in self.notes)]
        return lines


def _num(v: float) -> str:
    return "NaN" if v is None or not np.isfinite(v) else f"{v:.2f}"


def _pct(v: float) -> str:
    return "NaN" if v is None or not np.isfinite(v) else f"{v:.0%}"


def _rate(r: pd.Series, name: str) -> str:
    if not r[f"{name}_n"]:
        return "not assessable"
    return f"{r[name]:.0%} ({r[f'{name}_low']:.0%}-{r[f'{name}_high']:.0%}; {r[f'{name}_k']}/{r[f'{name}_n']})"


def _cr_crh_cri(ds: xr.Dataset, arm: int) -> np.ndarray:
    """CR/CRh/CRi of every (sample, replicate) of one arm (1/0/NaN)."""
    if "cr_crh_cri" in ds:
        return ds.cr_crh_cri.isel(arm=arm).values.astype(np.float64)
    cfg = run_config(ds, arm, 0)
    days = assessment_days(cfg)
    bf = ds.marrow_blast_fraction.isel(arm=arm).values.astype(np.float64)  # (sample, replicate, time)
    times = ds.time.values.astype(np.float64)
    out = np.full(bf.shape[:2], np.nan)
    idx = [int(np.searchsorted(times, d + 1e-9, side="right")) - 1 for d in days if d <= times[-1] + 1e-9]
    if idx:
        read = bf[:, :, idx]
        known = np.isfinite(read).any(axis=2)
        out[known] = (np.nan_to_num(read, nan=1.0) < cfg.endpoints.cr_blast_fraction).any(axis=2)[known]
    return out


def _survival_at(km, t: float, d: np.ndarray) -> float:
    reached = d.size > 0 and (bool((d >= t).any()) or (km.survival.size > 0 and km.survival[-1] == 0))
    return km.at(t) if reached else math.nan


def randomised_comparison(ds: xr.Dataset, confidence: float = 0.95) -> RandomisedComparison | None:
    """The randomised comparison of a store with an ``allocation`` (``None`` without one)."""
    if "allocation" not in ds.attrs:
        return None
    allocation: dict[str, int] = json.loads(ds.attrs["allocation"])
    arms = [str(a) for a in ds.arm.values]
    assigned = np.asarray(allocate(int(ds.attrs["root_seed"]), ds.sizes["sample"], allocation))
    done = ds[STATUS_VAR].values == DONE  # (arm, sample, replicate)
    rates, surv, data, notes = [], [], {}, []
    if "cr_crh_cri" not in ds:
        notes.append(
            "CR/CRh/CRi: marrow blasts < endpoints.cr_blast_fraction on any of the arm's assessment days, "
            "whatever the count recovery (the store has no cr_crh_cri read-out)"
        )
    for name in allocation:
        a = arms.index(name)
        mask = done[a] & (assigned[:, None] == name)
        row: dict = {"arm": name, "n": int(mask.sum())}
        values = {"cr": ds.cr.isel(arm=a).values.astype(np.float64), "cr_crh_cri": _cr_crh_cri(ds, a)}
        for key, v in values.items():
            ok = mask & np.isfinite(v)
            k, n = int((v[ok] > 0.5).sum()), int(ok.sum())
            p, lo, hi = wilson_ci(k, n, confidence) if n else (math.nan, math.nan, math.nan)
            row |= {key: p, f"{key}_low": lo, f"{key}_high": hi, f"{key}_k": k, f"{key}_n": n}
        rates.append(row)
        srow: dict = {"arm": name}
        for x in ("efs", "os"):
            d = ds[f"{x}_days"].isel(arm=a).values.astype(np.float64)
            e = ds[f"{x}_event"].isel(arm=a).values.astype(np.float64)
            ok = mask & np.isfinite(d) & np.isfinite(e)
            d, o = d[ok], e[ok] > 0.5
            data[(x, name)] = (d, o)
            km = kaplan_meier(d, o, confidence) if d.size else None
            srow[f"{x}_median_months"] = km.median() / DAYS_PER_MONTH if km is not None else math.nan
            for months in (6, 12):
                srow[f"{x}_{months}mo"] = _survival_at(km, months * DAYS_PER_MONTH, d) if km is not None else math.nan
        surv.append(srow)
    tests = []
    reference = next(iter(allocation))
    for name in list(allocation)[1:]:
        for x in ("efs", "os"):
            (dr, orf), (da, oa) = data[(x, reference)], data[(x, name)]
            _, p = logrank(dr, orf, da, oa) if dr.size and da.size else (math.nan, math.nan)
            # The hazard ratio of the reference (e.g. blinatumomab) against the other arm, as TOWER reports it.
            hr, lo, hi = hazard_ratio(da, oa, dr, orf, confidence) if dr.size and da.size else (math.nan,) * 3
            tests.append({"endpoint": x, "arm": reference, "reference": name, "hazard_ratio": hr,
                          "hr_ci_low": lo, "hr_ci_high": hi, "p_value": p})  # fmt: skip
    return RandomisedComparison(
        allocation,
        pd.DataFrame(rates),
        pd.DataFrame(surv),
        pd.DataFrame(
            tests, columns=["endpoint", "arm", "reference", "hazard_ratio", "hr_ci_low", "hr_ci_high", "p_value"]
        ),
        notes,
    )
