"""Reports: endpoints with confidence intervals, paired differences, figures, sensitivity indices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import blinasim
import blinasim.experiments.sweep
from blinasim.experiments.experiment import Experiment
from blinasim.experiments.report import ReportError, make_report, mean_ci, paired_differences, wilson_ci
from blinasim.experiments.store import open_results
from blinasim.experiments.sweep import InProcessExecutor
from tests.sweep_helpers import write_experiment

PARAMS = """
[sampler.parameters]
"patient.marrow_blast_fraction" = { low = 0.2, high = 0.8 }
"tcells.lysis_probability" = { low = 0.1, high = 0.9 }
"""


def sweep(exp_path, store):
    return Experiment.from_toml(exp_path).run(store, executor=InProcessExecutor(), progress=False)


@pytest.fixture(scope="module")
def two_arm_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    extra = '[[inject_failure]]\narm = "flat"\nsample = 0\nreplicate = 2\n'
    exp = write_experiment(
        d, replicates=3, extra=extra, base="[base]\nsimulation.days = 1.0\nsimulation.lattice_size = 16\n"
    )
    sweep(exp, d / "s.zarr")
    return d / "s.zarr"


def test_statistics_helpers():
    # The mean's interval is a BCa bootstrap interval, no longer a Student-t one: the t-interval of
    # (1, 2, 3) is 2 -+ 4.3027 / sqrt(3) = (-0.484, 4.484), below the smallest value and negative for
    # a positive quantity; the bootstrap interval stays inside [min, max] of the data.
    m, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0, np.nan]), 0.95)
    assert m == 2.0 and 1.0 <= lo < 2.0 < hi <= 3.0
    assert 2 - 4.302653 / math.sqrt(3) < 0  # what the t-interval gave
    assert math.isnan(mean_ci(np.array([1.0]), 0.95)[1])
    p, lo, hi = wilson_ci(5, 10, 0.95)
    assert p == 0.5 and lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    assert wilson_ci(0, 10, 0.95)[1] == 0.0


def test_report_of_a_two_arm_store(two_arm_store, tmp_path):
    out = tmp_path / "rep"
    rep = make_report(two_arm_store, out, variables=["marrow_blast_fraction", "mrd", "blasts"])
    assert rep.counts == {"done": 11, "failed": 1, "pending": 0}
    files = {p.name for p in out.iterdir()}
    assert {"summary.md", "endpoints.csv", "paired_differences.csv", "categories.csv"} <= files
    for stem in ("timecourse_marrow_blast_fraction", "timecourse_mrd", "timecourse_blasts"):
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (out / f"{stem}.svg").read_text()[:2000]
    table = pd.read_csv(out / "endpoints.csv")
    row = table[(table.endpoint == "final_marrow_blast_fraction") & (table.arm == "flat")].iloc[0]
    assert row.n == 5  # six runs, one failed
    assert row.ci_low <= row.estimate <= row.ci_high
    ds = open_results(two_arm_store)
    direct = ds.marrow_blast_fraction.isel(arm=1, time=-1).values
    assert row.estimate == pytest.approx(np.nanmean(direct))
    # Paired by (sample, replicate): the failed run's pair is left out.
    paired = pd.read_csv(out / "paired_differences.csv")
    p = paired[paired.endpoint == "final_marrow_blast_fraction"].iloc[0]
    assert (p.arm_a, p.arm_b, p.n_pairs) == ("step_up", "flat", 5)
    a = ds.marrow_blast_fraction.isel(arm=0, time=-1).values.ravel()
    b = ds.marrow_blast_fraction.isel(arm=1, time=-1).values.ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    assert p.mean_diff == pytest.approx(np.mean(b[ok] - a[ok]))
    text = (out / "summary.md").read_text()
    assert "11 runs done, 1 failed" in text and "Paired differences" in text
    assert text == rep.to_markdown()


def test_common_random_numbers_sharpen_paired_comparisons(two_arm_store):
    rep = make_report(two_arm_store, formats=("png",), variables=["mrd"])
    p = rep.paired.set_index("endpoint").loc["final_marrow_blast_fraction"]
    assert p.variance_ratio < 0.5  # pairs share their seed: most of the noise cancels


def test_endpoints_without_values_are_listed_not_summarised(tmp_path):
    exp = write_experiment(tmp_path, replicates=1)
    sweep(exp, tmp_path / "s.zarr")
    ds = open_results(tmp_path / "s.zarr")
    rep = make_report(tmp_path / "s.zarr", tmp_path / "rep", formats=("png",))
    nan_endpoints = [n for n in ("cr_crh", "mrd_response", "relapse_day") if n in ds and np.isnan(ds[n].values).all()]
    for name in nan_endpoints:
        assert name not in set(rep.endpoints.endpoint)
        assert any(note.startswith(f"{name}: not assessed") for note in rep.notes)


def test_binary_endpoints_are_picked_up_as_proportions(tmp_path, monkeypatch):
    real = blinasim.experiments.sweep.simulate

    def with_response(cfg, seed=None, **kw):
        ds = real(cfg, seed=seed, **kw)
        ds["cr_crh"] = ((), np.bool_(seed % 3 == 0), {"units": "1", "long_name": "CR/CRh (filled by a test)"})
        return ds

    monkeypatch.setattr(blinasim.experiments.sweep, "simulate", with_response)
    exp = write_experiment(tmp_path, replicates=3)
    sweep(exp, tmp_path / "s.zarr")
    ds = open_results(tmp_path / "s.zarr")
    assert ds.cr_crh.attrs["run_dtype"] == "bool"
    rep = make_report(tmp_path / "s.zarr", tmp_path / "rep", variables=["mrd"], formats=("png",))
    rows = rep.endpoints[rep.endpoints.endpoint == "cr_crh"]
    assert list(rows.kind) == ["binary", "binary"]
    seeds = ds.run_seed.values.ravel()
    expected = np.mean(seeds % 3 == 0)
    for _, row in rows.iterrows():
        assert row.estimate == pytest.approx(expected) and 0 <= row.ci_low <= row.estimate <= row.ci_high <= 1
    # Same seeds in both arms: every pair agrees.
    pair = rep.paired.set_index("endpoint").loc["cr_crh"]
    assert pair.n_equal == 6 and pair.mean_diff == 0


@pytest.mark.parametrize(
    ("sampler", "columns"),
    [
        ('[sampler]\nmethod = "sobol"\nn = 4\n' + PARAMS, {"S1", "S1_conf", "ST", "ST_conf"}),
        ('[sampler]\nmethod = "morris"\nn = 4\n' + PARAMS, {"mu_star", "mu_star_conf", "sigma"}),
        ('[sampler]\nmethod = "lhs"\nn = 6\n' + PARAMS, {"rho", "p_value"}),
    ],
)
def test_sensitivity_indices(tmp_path, sampler, columns):
    exp = write_experiment(
        tmp_path,
        # no pre-phase: its debulking of the > 50%-blast patients would reorder the final blast fractions
        arms='[[arm]]\nname = "flat"\ntreatment.regimen = "flat"\ntreatment.dexamethasone_prephase = "never"\n',
        sampler=sampler,
        replicates=1,
    )
    sweep(exp, tmp_path / "s.zarr")
    rep = make_report(tmp_path / "s.zarr", tmp_path / "rep", variables=["mrd"], formats=("png",))
    sens = rep.sensitivity
    assert sens is not None and columns <= set(sens.columns)
    rows = sens[sens.endpoint == "final_marrow_blast_fraction"].set_index("parameter")
    assert set(rows.index) == {"patient.marrow_blast_fraction", "tcells.lysis_probability"}
    # Over one simulated day, the final blast fraction is mostly the initial one.
    first = columns & {"ST", "mu_star", "rho"}
    key = next(iter(first))
    assert abs(rows.loc["patient.marrow_blast_fraction", key]) > abs(rows.loc["tcells.lysis_probability", key])
    assert (tmp_path / "rep" / "sensitivity_final_marrow_blast_fraction.png").exists()
    assert (tmp_path / "rep" / "sensitivity.csv").exists()
    assert (tmp_path / "rep" / "sensitivity_heatmap.png").exists()
    if key == "rho":  # an interval on every rho, Holm-adjusted p-values, a note on small n
        ok = sens.rho_ci_low.notna()
        assert ok.any() and (sens.rho_ci_low[ok] <= sens.rho[ok]).all() and (sens.rho[ok] <= sens.rho_ci_high[ok]).all()
        assert (sens.p_holm >= sens.p_value).all() and (sens.p_value > 0).all()
        assert (sens.p_method == "exact").all()  # n = 6: exact permutation p-values
        assert any("Spearman tests on n = 6 samples" in n for n in rep.notes)


def test_report_options_are_checked_and_nothing_is_half_written(two_arm_store, tmp_path):
    with pytest.raises(ReportError, match="confidence"):
        make_report(two_arm_store, tmp_path / "r", confidence=1.5)
    with pytest.raises(ReportError, match="unknown time-course variable"):
        make_report(two_arm_store, tmp_path / "r", variables=["blastz"])
    with pytest.raises(ReportError, match="figure format"):
        make_report(two_arm_store, tmp_path / "r", formats=("gif",))
    (tmp_path / "notareport").mkdir()
    (tmp_path / "notareport" / "precious.txt").write_text("keep me")
    with pytest.raises(ReportError, match="not a blinasim report directory"):
        make_report(two_arm_store, tmp_path / "notareport")
    assert not (tmp_path / "r").exists()
    assert (tmp_path / "notareport" / "precious.txt").read_text() == "keep me"
    # A report directory is replaced as a whole.
    make_report(two_arm_store, tmp_path / "r", variables=["mrd"], formats=("svg",))
    assert sorted(p.name for p in (tmp_path / "r").glob("timecourse_*")) == ["timecourse_mrd.svg"]
    make_report(two_arm_store, tmp_path / "r", variables=["blasts"], formats=("svg",))
    assert sorted(p.name for p in (tmp_path / "r").glob("timecourse_*")) == ["timecourse_blasts.svg"]


def test_paired_differences_of_more_than_four_arms_use_the_first_as_reference():
    import xarray as xr

    from blinasim.experiments.report import Endpoint

    arms = [f"a{i}" for i in range(5)]
    values = xr.DataArray(np.arange(5 * 2 * 2, dtype=float).reshape(5, 2, 2), dims=("arm", "sample", "replicate"))
    table = paired_differences([Endpoint("x", "numeric", values)], arms, 0.95)
    assert list(zip(table.arm_a, table.arm_b, strict=True)) == [("a0", "a1"), ("a0", "a2"), ("a0", "a3"), ("a0", "a4")]
    assert list(table.mean_diff) == [4.0, 8.0, 12.0, 16.0]


def test_day_mrd_negative_uses_each_runs_mrd_threshold(tmp_path):
    """The first day with MRD below the MRD-negativity threshold comes from each run's config
    (``endpoints.mrd_threshold``), not from a copy of its value."""
    arms = '[[arm]]\nname = "strict"\n\n[[arm]]\nname = "loose"\nendpoints.mrd_threshold = 0.9\n'
    exp = write_experiment(
        tmp_path, arms=arms, replicates=1, base="[base]\nsimulation.days = 1.0\nsimulation.lattice_size = 16\n"
    )
    sweep(exp, tmp_path / "s.zarr")
    ds = open_results(tmp_path / "s.zarr")
    rep = make_report(tmp_path / "s.zarr", tmp_path / "rep", variables=["mrd"], formats=("png",))
    from blinasim.experiments.report import endpoints

    eps = {e.name: e for e in endpoints(ds)[0]}
    day = eps["day_mrd_negative"].values
    for a, threshold in enumerate((1e-4, 0.9)):
        mrd = ds.mrd.isel(arm=a).values  # (sample, replicate, time)
        below = mrd < threshold
        want = np.where(below.any(axis=-1), ds.time.values[below.argmax(axis=-1)], np.nan)
        np.testing.assert_array_equal(day.isel(arm=a).values, want)
    assert np.isfinite(day.isel(arm=1).values).all()  # every run starts below 0.9
    assert "first day with MRD < endpoints.mrd_threshold of each run" in eps["day_mrd_negative"].long_name
    # A "day of X" read-out is a censored time to event now (Kaplan-Meier), not a mean over the runs
    # that got there: every run of the loose arm has the event at day 0; the strict arm's runs that
    # never got below 1e-4 are censored at the end of the run.
    assert "day_mrd_negative" not in set(rep.endpoints.endpoint)
    tte = rep.time_to_event.set_index(["endpoint", "arm"])
    loose = tte.loc[("day_mrd_negative", "loose")]
    assert loose.events == loose.n == 2 and loose.km_median == 0.0 and loose.share_by_end == 1.0
    if ("day_mrd_negative", "strict") in tte.index:
        strict = tte.loc[("day_mrd_negative", "strict")]
        reached = np.isfinite(day.isel(arm=0).values).sum()
        assert strict.events == reached and strict.censored == 2 - reached


def test_grade_endpoints_of_the_report_are_the_trial_endpoints(two_arm_store):
    """CRS and neurotoxicity rates are derived with the one definition of each endpoint."""
    from blinasim.clinical.endpoints import ENDPOINT_BY_NAME
    from blinasim.experiments.report import endpoints

    ds = open_results(two_arm_store)
    eps = {e.name: e for e in endpoints(ds)[0]}
    for name in ("crs_any", "crs_grade3", "neurotox_any", "neurotox_grade3"):
        e = ENDPOINT_BY_NAME[name]
        if name not in eps:
            continue
        grades = ds[e.source].values
        want = np.where(np.isfinite(grades), (grades >= e.threshold).astype(float), np.nan)
        np.testing.assert_array_equal(eps[name].values.values, want)
        assert eps[name].long_name == f"{e.description} (from {e.source})"
    assert {"crs_any", "neurotox_any"} <= set(eps)
