"""Response and survival by baseline marrow blasts (blinasim.experiments.burden_report).

A hand-built store: the groups, the odds ratios (Woolf, by hand) and the hazard ratios (the
library's Cox model on the groups' own patients), and what is left out (runs not done, read-outs
not assessable, patients below 5% blasts).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from blinasim import stats
from blinasim.experiments.burden_report import BURDEN_VARIABLE, burden_groups, group_of
from blinasim.experiments.store import DONE, FAILED, STATUS_VAR


def woolf(a: int, b: int, c: int, d: int) -> tuple[float, float, float]:
    """Odds ratio of a/b against c/d with Woolf's 95% interval, by hand."""
    est = (a * d) / (b * c)
    half = 1.959963984540054 * math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return est, est * math.exp(-half), est * math.exp(half)


def test_odds_ratio_is_woolfs_and_says_nan_where_it_does_not_exist():
    assert stats.odds_ratio(40, 60, 50, 140) == pytest.approx(woolf(40, 20, 50, 90), rel=1e-12)
    assert stats.odds_ratio(40, 60, 50, 140, 0.9)[1] > woolf(40, 20, 50, 90)[1]  # narrower at 90%
    est, lo, hi = stats.odds_ratio(60, 60, 50, 140)  # no non-responder in the group: infinite odds
    assert est == math.inf and math.isnan(lo) and math.isnan(hi)
    assert stats.odds_ratio(0, 60, 50, 140)[0] == 0.0
    assert all(math.isnan(v) for v in stats.odds_ratio(0, 0, 3, 4))
    assert all(math.isnan(v) for v in stats.odds_ratio(0, 5, 0, 5))  # 0/0


def test_groups_are_the_pooled_analysis_bounds():
    got = group_of(np.array([0.0, 0.049, 0.05, 0.2499, 0.25, 0.4999, 0.5, 0.97, np.nan]))
    assert list(got) == ["< 5%", "< 5%", "5-25%", "5-25%", "25-50%", "25-50%", ">= 50%", ">= 50%", ""]


def _store(seed: int = 3, n: int = 240) -> xr.Dataset:
    """One arm, n patients, two replicates: response falls with burden, survival shortens."""
    rng = np.random.default_rng(seed)
    bf = rng.uniform(0.01, 0.95, n)
    p = np.where(bf >= 0.5, 0.3, 0.6)
    shape = (1, n, 2)
    cr = (rng.random(shape) < p[None, :, None]).astype(np.float64)
    mrd = cr * (rng.random(shape) < 0.7)
    crs = (rng.random(shape) < np.where(bf >= 0.5, 0.3, 0.1)[None, :, None]).astype(np.float64)
    hazard = np.where(bf >= 0.5, 2.0, 1.0)[None, :, None] / 200.0
    death = rng.exponential(1.0 / hazard, size=shape)
    os_days = np.minimum(death, 730.0)
    event = rng.exponential(0.5 / hazard, size=shape)
    efs_days = np.minimum(event, os_days)
    status = np.full(shape, DONE, dtype=np.int8)
    status[0, :5, 0] = FAILED  # not done: left out whatever their values
    mrd[0, 5:9, 1] = np.nan  # not assessable: left out of the MRD numbers only
    dims = ("arm", "sample", "replicate")
    return xr.Dataset(
        {
            BURDEN_VARIABLE: (("sample",), bf),
            STATUS_VAR: (dims, status),
            "cr": (dims, cr),
            "cr_crh": (dims, cr),
            "mrd_response": (dims, mrd),
            "crs_any": (dims, crs),
            "os_days": (dims, os_days),
            "os_event": (dims, (death <= 730.0).astype(np.float64)),
            "efs_days": (dims, efs_days),
            "efs_event": (dims, np.ones(shape)),
        },
        coords={"arm": ["blinatumomab"], "sample": np.arange(n), "replicate": np.arange(2)},
    )


def test_rates_odds_and_hazard_ratios_of_each_group_against_at_least_half_blasts():
    ds = _store()
    binary = {name: ds[name] for name in ("cr", "cr_crh", "mrd_response", "crs_any")}
    result = burden_groups(ds, binary, ["blinatumomab"])
    t = result.table.set_index(["group", "read_out"])
    labels = np.repeat(group_of(ds[BURDEN_VARIABLE].values)[:, None], 2, axis=1)
    done = ds[STATUS_VAR].values[0] == DONE
    assert set(t.index.get_level_values("group")) == {">= 50%", "25-50%", "5-25%", "< 5%"}

    def counts(name, group):
        v = ds[name].values[0][done & (labels == group)]
        v = v[np.isfinite(v)]
        return int((v > 0.5).sum()), int(v.size)

    for name in ("cr", "mrd_response", "crs_any"):
        kr, nr = counts(name, ">= 50%")
        for group in ("25-50%", "5-25%"):
            k, n = counts(name, group)
            row = t.loc[(group, name)]
            assert (row.events, row.n) == (k, n)
            assert (row.effect, row.effect_low, row.effect_high) == pytest.approx(woolf(k, n - k, kr, nr - kr))
            # built in: response falls and CRS rises with burden
            assert row.effect > 1.0 if name != "crs_any" else row.effect < 1.0
        assert math.isnan(t.loc[("< 5%", name)].effect)  # listed, not compared
    groups = [">= 50%", "25-50%", "5-25%", "< 5%"]
    assert sum(t.loc[(g, "cr")].patients for g in groups) == int(done.sum())  # the failed runs left out
    assert sum(t.loc[(g, "cr")].n for g in groups) == int(done.sum())
    assert sum(t.loc[(g, "mrd_response")].n for g in groups) == int(done.sum()) - 4  # the 4 not assessable
    for x in ("os", "efs"):
        d, e = ds[f"{x}_days"].values[0], ds[f"{x}_event"].values[0] > 0.5
        ref = done & (labels == ">= 50%")
        for group in ("25-50%", "5-25%"):
            m = done & (labels == group)
            row = t.loc[(group, x)]
            assert (row.effect, row.effect_low, row.effect_high) == pytest.approx(
                stats.hazard_ratio(d[ref], e[ref], d[m], e[m])
            )
            assert row.effect < 1.0  # built in: half the hazard below 50% blasts
    assert t.loc[("5-25%", "cr")].published == 3.93 and t.loc[("25-50%", "os")].published == 0.63
    text = "\n".join(result.to_markdown())
    assert "## Response and survival by baseline marrow blasts" in text
    assert "| >= 50% |" in text and "1 (reference)" in text and "| OR CRS any |" in text


def test_no_table_without_the_burden_or_with_a_single_group():
    ds = _store()
    binary = {"cr": ds["cr"]}
    assert burden_groups(ds.drop_vars(BURDEN_VARIABLE), binary, ["blinatumomab"]) is None
    packed = ds.assign({BURDEN_VARIABLE: (("sample",), np.full(ds.sizes["sample"], 0.8))})
    assert burden_groups(packed, binary, ["blinatumomab"]) is None
    mrd_level = ds.assign({BURDEN_VARIABLE: (("sample",), np.full(ds.sizes["sample"], 1e-3))})
    assert burden_groups(mrd_level, binary, ["blinatumomab"]) is None
