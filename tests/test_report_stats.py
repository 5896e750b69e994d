"""The statistics of reports and trials (blinasim.stats) against values computed independently
(formulas, hand-worked small examples, textbook data), and the survival section of a report on a
store whose runs carry the time-to-event outputs of the clinical course (synthetic values)."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
import xarray as xr

import blinasim.experiments.sweep
from blinasim import stats
from blinasim.experiments.experiment import Experiment
from blinasim.experiments.report import Endpoint, make_report, paired_differences
from blinasim.experiments.store import open_results
from blinasim.experiments.sweep import InProcessExecutor
from tests.sweep_helpers import write_experiment

pytest.importorskip("statsmodels", reason="statsmodels is in the report extra")

# Freireich et al. 1963 (Gehan 1965): weeks in remission of 21 leukaemia patients on 6-mercaptopurine
# and 21 on placebo; the textbook log-rank and Cox example (Kleinbaum & Klein, Survival Analysis;
# R's MASS::gehan).
MP_T = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP_E = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PL_T = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
PL_E = [1] * 21


# ------------------------------------------------------------------ proportions


@pytest.mark.parametrize(("k", "n"), [(5, 10), (1, 20), (17, 18), (0, 7), (7, 7)])
def test_wilson_interval_matches_the_formula(k, n):
    z = NormalDist().inv_cdf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    est, lo, hi = stats.wilson_ci(k, n, 0.95)
    assert est == p
    assert lo == pytest.approx(max(0.0, centre - half), abs=1e-12)
    assert hi == pytest.approx(min(1.0, centre + half), abs=1e-12)
    assert (lo == 0.0) == (k == 0) and (hi == 1.0) == (k == n)


def test_exact_interval_of_no_event_is_the_rule_of_three_kind():
    # Clopper-Pearson with 0 of n: the upper bound solves (1 - p)^n = alpha / 2.
    _, lo, hi = stats.proportion_ci(0, 10, 0.95, method="exact")
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    assert math.isnan(stats.proportion_ci(0, 0)[0])


# --------------------------------------------------------- skewed quantities


def test_percentile_bootstrap_of_three_values_is_the_exact_bootstrap_range():
    # The 27 equally likely resamples of (1, 2, 3): the mean is 1 (or 3) with probability 1/27 > 2.5%,
    # so the exact 95% percentile interval is (1, 3).
    assert stats.bootstrap_ci(np.array([1.0, 2.0, 3.0]), method="percentile") == (2.0, 1.0, 3.0)


def test_bootstrap_interval_of_a_zero_heavy_non_negative_quantity_is_not_negative():
    x = np.r_[np.zeros(15), 1e9, 3e9, 5.0]  # final blasts: most runs cleared, a few did not
    m, lo, hi = stats.bootstrap_ci(x)
    t_half = 2.1098 * x.std(ddof=1) / math.sqrt(x.size)  # Student t, 17 df
    assert m - t_half < 0  # the interval the old report printed
    assert 0.0 <= lo < m < hi <= x.max()
    assert stats.bootstrap_ci(x) == (m, lo, hi)  # seeded: the same every time
    assert stats.bootstrap_ci(np.full(5, 2.5)) == (2.5, 2.5, 2.5)


def test_median_interval_is_the_order_statistics_interval():
    x = np.arange(20.0)
    # Largest k with P(Binomial(20, 1/2) <= k - 1) <= 2.5%: the interval is (x_(k), x_(n + 1 - k)).
    cdf = np.cumsum([math.comb(20, i) for i in range(21)]) / 2**20
    k = int(np.flatnonzero(cdf <= 0.025)[-1]) + 1
    med, lo, hi = stats.median_ci(x, 0.95)
    assert (med, lo, hi) == (9.5, x[k - 1], x[20 - k])
    assert math.isnan(stats.median_ci(np.array([1.0, 2.0]))[1])  # too few values for a 95% interval


def test_rounding_noise_is_zero_and_real_differences_are_not():
    d = np.array([-7.2e-11, 3e-17, 1e-6, -0.02])
    assert list(stats.zero_noise(d, scale=0.9)) == [0.0, 0.0, 1e-6, -0.02]
    assert list(stats.zero_noise(d, scale=0.0)) == list(d)


def test_paired_differences_count_noise_as_equal():
    a = np.array([0.1 + 0.2, 0.5, 0.25, 0.7]).reshape(1, 2, 2)
    b = np.array([0.3, 0.5 + 1e-12, 0.25, 0.9]).reshape(1, 2, 2)  # 0.1 + 0.2 - 0.3 = 5.6e-17
    values = xr.DataArray(np.concatenate([a, b]), dims=("arm", "sample", "replicate"))
    row = paired_differences([Endpoint("x", "numeric", values)], ["a", "b"], 0.95).iloc[0]
    assert (row.n_equal, row.n_b_higher, row.n_b_lower) == (3, 1, 0)
    assert row.mean_diff == pytest.approx(0.2 / 4, rel=1e-12) and row.median_diff == 0.0
    assert 0.0 <= row.ci_low <= row.mean_diff <= row.ci_high <= 0.2


# ------------------------------------------------------- tests and multiplicity


def test_spearman_p_value_is_exact_at_small_n():
    # Of the 4! orderings, one gives rho = 1 and one rho = -1: two-sided p = 2/24.
    r = stats.spearman(np.arange(4.0), np.arange(4.0) ** 2)
    assert r["rho"] == 1.0 and r["p_method"] == "exact" and r["p_value"] == pytest.approx(2 / 24, abs=1e-12)
    # n = 20, perfectly monotone: a Monte-Carlo permutation p-value is never 0: one-sided at least
    # 1/(9999 + 1) (the observed pairing counts), two-sided twice that.
    mid = stats.spearman(np.arange(20.0), np.arange(20.0) ** 3)
    assert mid["p_method"] == "permutation" and mid["p_value"] == pytest.approx(2 / 10000)
    big = stats.spearman(np.arange(60.0), np.arange(60.0) ** 3)
    assert big["p_method"] == "t" and 0 <= big["p_value"] < 1e-4 and stats.format_p(big["p_value"]) == "< 1e-4"


def test_holm_by_hand_and_p_values_never_print_as_zero():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01, max(0.03, 2 * 0.03), max(0.06, 1 * 0.04)
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, math.nan])[:3], [0.03, 0.06, 0.06])
    assert math.isnan(stats.holm([0.5, math.nan])[1])
    assert stats.format_p(0.0) == "< 1e-4" and stats.format_p(3e-7) == "< 1e-4"
    assert stats.format_p(0.0123) == "0.012" and stats.format_p(math.nan) == ""


# --------------------------------------------------------------------- survival


def test_kaplan_meier_and_its_greenwood_log_log_interval_by_hand():
    km = stats.kaplan_meier([1.0, 2.0, 2.0, 3.0, 4.0], [True, True, False, True, False])
    np.testing.assert_allclose(km.survival, [4 / 5, 4 / 5 * 3 / 4, 4 / 5 * 3 / 4 * 1 / 2])
    assert list(km.at_risk) == [5, 4, 2] and km.median() == 3.0
    z = NormalDist().inv_cdf(0.975)
    greenwood = np.cumsum([1 / (5 * 4), 1 / (4 * 3), 1 / (2 * 1)])
    se = np.sqrt(greenwood) / np.abs(np.log(km.survival))
    np.testing.assert_allclose(km.lower, km.survival ** np.exp(z * se), rtol=1e-9)
    np.testing.assert_allclose(km.upper, km.survival ** np.exp(-z * se), rtol=1e-9)
    assert km.at_risk_at(2.0) == 4 and km.at_risk_at(4.5) == 0


def test_gehan_median_log_rank_and_hazard_ratio_match_the_textbook():
    mp, pl = stats.kaplan_meier(MP_T, MP_E), stats.kaplan_meier(PL_T, PL_E)
    # R: survfit(Surv(time, cens) ~ treat, data = MASS::gehan): medians 23 (16, NA) and 8 (4, 12).
    assert mp.median() == 23.0 and pl.median() == 8.0
    lo, hi = mp.median_ci()
    assert lo == 16.0 and math.isnan(hi)
    assert pl.median_ci() == (4.0, 12.0)
    # Log-rank chi-square 16.79 on 1 df, p = 4.2e-5 (Kleinbaum & Klein; R survdiff).
    chi2, p = stats.logrank(MP_T, MP_E, PL_T, PL_E)
    assert chi2 == pytest.approx(16.79, abs=0.01) and p == pytest.approx(4.17e-5, rel=0.01)
    # Cox model, Efron ties (R coxph): placebo vs 6-MP HR 4.817 (2.147, 10.81).
    hr, lo, hi = stats.hazard_ratio(MP_T, MP_E, PL_T, PL_E)
    assert (hr, lo, hi) == pytest.approx((4.817, 2.147, 10.81), rel=1e-3)
    assert stats.hazard_ratio(PL_T, PL_E, MP_T, MP_E)[0] == pytest.approx(1 / hr)
    assert all(math.isnan(v) for v in stats.hazard_ratio([1.0, 2.0], [0, 0], PL_T, PL_E))


def test_the_trial_layer_uses_the_library_kaplan_meier():
    from blinasim.clinical.endpoints import kaplan_meier

    assert kaplan_meier is stats.kaplan_meier


# -------------------------------------------------------- a store with survival


def _with_clinical_course(real):
    """``simulate`` with the time-to-event outputs of issue 15 filled in: exponential survival,
    hazard twice as high in the "flat" arm, censored at 2 years; responders (two in three) have
    relapse-free survival and may reach MRD negativity."""

    def run(cfg, seed=None, **kw):
        ds = real(cfg, seed=seed, **kw)
        rng = np.random.default_rng(seed)
        rate = (2.0 if cfg.treatment.regimen == "flat" else 1.0) / 300.0
        death = rng.exponential(1 / rate)
        os_days = min(death, 730.0)
        responded = rng.random() < 2 / 3
        rfs = min(rng.exponential(0.5 / rate), os_days) if responded else math.nan
        mrd_day = rng.uniform(14, 100) if responded and rng.random() < 0.7 else math.nan
        flags = {"flag_values": np.arange(7, dtype=np.int8), "flag_meanings": (
            "none relapse_cd19_positive relapse_cd19_negative lineage_switch death_disease death_remission "
            "death_transplant")}  # fmt: skip
        ds["os_days"] = ((), os_days, {"units": "day", "long_name": "overall survival"})
        ds["os_event"] = ((), float(death <= 730.0), {"units": "1", "long_name": "death (1) or censored (0)"})
        ds["rfs_days"] = ((), rfs, {"units": "day", "long_name": "relapse-free survival"})
        ds["rfs_event"] = ((), float(rfs < os_days or death <= 730.0) if responded else math.nan, {"units": "1"})
        ds["days_to_mrd_negative"] = ((), mrd_day, {"units": "day", "long_name": "first MRD < 1e-4 (NaN if never)"})
        ds["event_cause"] = ((), np.int8(4 if death <= 730.0 else 0), {"units": "1", **flags})
        return ds

    return run


@pytest.fixture(scope="module")
def survival_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("surv")
    mp = pytest.MonkeyPatch()
    mp.setattr(blinasim.experiments.sweep, "simulate", _with_clinical_course(blinasim.experiments.sweep.simulate))
    try:
        exp = write_experiment(d, replicates=12)
        Experiment.from_toml(exp).run(d / "s.zarr", executor=InProcessExecutor(), progress=False)
    finally:
        mp.undo()
    return d / "s.zarr"


def _km_by_hand(t, e):
    """(median, survival after the last event time) by the product-limit formula."""
    t, e = np.asarray(t, dtype=float), np.asarray(e, dtype=bool)
    s, median = 1.0, math.nan
    for u in np.unique(t[e]):
        s *= 1 - np.sum((t == u) & e) / np.sum(t >= u)
        if s <= 0.5 and math.isnan(median):
            median = float(u)
    return median, s


def _km_median_by_hand(t, e):
    return _km_by_hand(t, e)[0]


def test_report_survival_section(survival_store, tmp_path):
    rep = make_report(survival_store, tmp_path / "rep", variables=["mrd"], formats=("png",))
    ds = open_results(survival_store)
    sv = rep.survival
    assert sv is not None and {"os", "rfs"} <= set(sv.curves) <= {"os", "rfs", "efs"}
    med = sv.medians.set_index(["endpoint", "arm"])
    for a, arm in enumerate(rep.arms):
        days = ds.os_days.isel(arm=a).values.ravel()
        event = ds.os_event.isel(arm=a).values.ravel() > 0.5
        row = med.loc[("os", arm)]
        assert row.n == 24 and row.events == event.sum()
        assert row.median_days == _km_median_by_hand(days, event)
        assert row.ci_low <= row.median_days and not row.ci_high < row.median_days
        # Relapse-free survival: only the responders (rfs_event NaN for the others).
        assert med.loc[("rfs", arm)].n == np.isfinite(ds.rfs_event.isel(arm=a).values).sum() < 24
    test = sv.tests.set_index("endpoint").loc["os"]
    a_days, a_ev = ds.os_days.isel(arm=0).values.ravel(), ds.os_event.isel(arm=0).values.ravel() > 0.5
    b_days, b_ev = ds.os_days.isel(arm=1).values.ravel(), ds.os_event.isel(arm=1).values.ravel() > 0.5
    assert (test.logrank_chi2, test.p_value) == pytest.approx(stats.logrank(a_days, a_ev, b_days, b_ev))
    assert test.hr_ci_low < test.hazard_ratio < test.hr_ci_high and test.hazard_ratio > 1  # "flat" dies faster
    assert test.hr_ci_low < 2.0 < test.hr_ci_high  # the true ratio
    np.testing.assert_allclose(sv.tests.p_holm, stats.holm(sv.tests.p_value.values))  # NaN where no test
    assert (sv.tests.p_holm.dropna() >= sv.tests.p_value.dropna()).all()
    land = sv.landmarks.set_index(["endpoint", "arm", "months"])
    r12 = land.loc[("os", rep.arms[0], 12)]
    assert r12.survival == pytest.approx(sv.curves["os"][rep.arms[0]].at(12 * stats.DAYS_PER_MONTH))
    assert r12.ci_low <= r12.survival <= r12.ci_high
    assert math.isnan(land.loc[("os", rep.arms[0], 24)].survival) or ds.os_days.max() >= 730
    # The pairs are in the survival section, not averaged as endpoints.
    assert not {"os_days", "os_event", "rfs_days", "rfs_event"} & set(rep.endpoints.endpoint)
    # days_to_mrd_negative: censored at os_days when never reached.
    tte = rep.time_to_event.set_index(["endpoint", "arm"]).loc[("days_to_mrd_negative", rep.arms[0])]
    d = ds.days_to_mrd_negative.isel(arm=0).values.ravel()
    t = np.where(np.isfinite(d), d, ds.os_days.isel(arm=0).values.ravel())
    assert tte.events == np.isfinite(d).sum() and tte.censored == 24 - tte.events
    want_median, want_s = _km_by_hand(t, np.isfinite(d))
    assert tte.km_median == want_median or (math.isnan(want_median) and math.isnan(tte.km_median))
    assert tte.share_by_end == pytest.approx(1 - want_s)
    assert tte.follow_up_max == pytest.approx(t.max())
    # Coded causes are counted by their meanings.
    causes = set(rep.categories[rep.categories.endpoint == "event_cause"].category)
    assert causes <= {"none", "death_disease"} and "death_disease" in causes
    # Files, figure objects, text.
    out = tmp_path / "rep"
    assert (out / "km_os.png").read_bytes()[:4] == b"\x89PNG" and (out / "survival_tests.csv").exists()
    fig = rep.figure_objects["km_os"]
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert str(int(ds.os_days.isel(arm=0).size)) in texts  # number at risk at month 0: every run
    text = rep.to_markdown()
    assert "## Survival" in text and "Multiplicity" in text and "Holm" in text
    assert f"{int(sv.tests.p_value.notna().sum())} log-rank tests" in text  # those with a p-value


def test_report_displays_in_jupyter(survival_store, tmp_path):
    rep = make_report(survival_store, tmp_path / "rep", variables=["mrd", "kills"], formats=("svg",))
    assert rep._repr_markdown_() == rep.to_markdown()
    html = rep._repr_html_()
    assert html.count("<img") == len(rep.figure_objects) >= 3 and "<table" in html
    from matplotlib.figure import Figure

    assert all(isinstance(f, Figure) for f in rep.figure_objects.values())
    assert {"timecourse_mrd", "timecourse_kills", "km_os", "km_rfs"} <= set(rep.figure_objects)


# ---------------------------------------------------------------------- figures


def test_time_course_figures_have_a_panel_per_arm_and_long_name_units_axes(survival_store, tmp_path):
    rep = make_report(survival_store, tmp_path / "rep", variables=["blasts", "kills", "mrd"], formats=("png",))
    ds = open_results(survival_store)
    blasts = rep.figure_objects["timecourse_blasts"]
    panels = [ax for ax in blasts.axes if ax.get_title()]
    assert sorted(ax.get_title() for ax in panels) == sorted(
        f"{arm}: {c}" for arm in rep.arms for c in ds.compartment.values
    )
    ylabel = blasts.get_supylabel()
    # Cell counts are UDUNITS "1" (a count): dimensionless units are left out of the label.
    assert ds.blasts.attrs["units"] == "1"
    assert ylabel == ds.blasts.attrs["long_name"]
    assert {ax.get_xlabel() for ax in panels} <= {"time [day]", ""}
    kills = rep.figure_objects["timecourse_kills"].get_supylabel()
    hours = float(np.median(np.diff(ds.time.values))) * 24
    assert f"per {hours:.3g}-h record interval" in kills
    mrd = rep.figure_objects["timecourse_mrd"].get_supylabel()
    assert mrd == ds.mrd.attrs["long_name"]  # dimensionless: no "[1]" and no "(1)"
    for label in (ylabel, kills, mrd):
        assert "_" not in label and "(1)" not in label


def test_sensitivity_heat_map_labels_fit_in_the_figure():
    import pandas as pd

    from blinasim.experiments.report import sensitivity_figure, sensitivity_heatmap

    params = ["patient.a_very_long_parameter_name_indeed", "tcells.lysis_probability", "pk.clearance"]
    eps = ["final_marrow_blast_fraction_with_a_long_name", "min_mrd"]
    rows = [
        {"endpoint": e, "arm": "A", "parameter": p, "method": "spearman", "rho": 0.1 * (i - j),
         "rho_ci_low": 0.1 * (i - j) - 0.2, "rho_ci_high": 0.1 * (i - j) + 0.2, "p_value": 0.5, "n": 12}
        for i, e in enumerate(eps) for j, p in enumerate(params)
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    for fig in (sensitivity_heatmap(table, "A"), sensitivity_figure(table, eps[0])):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        box = fig.bbox
        labels = [t for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels()) if t.get_text()]
        assert labels
        for t in labels:
            ext = t.get_window_extent(renderer)
            assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1, t.get_text()
    bars = sensitivity_figure(table, eps[0]).axes[0]
    # Interval whiskers: one error bar per parameter, spanning the bootstrap interval of rho.
    segs = [seg for coll in bars.collections for seg in coll.get_segments()]
    assert len(segs) == len(params)
    np.testing.assert_allclose(sorted(abs(s[1][1] - s[0][1]) for s in segs), [0.4] * len(params))


def test_report_statistics_name_the_report_extra_before_any_work(monkeypatch, tmp_path):
    import sys

    from blinasim.extras import MissingExtraError

    for name in [m for m in sys.modules if m == "statsmodels" or m.startswith("statsmodels.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "statsmodels", None)
    with pytest.raises(MissingExtraError, match=r'pip install "blinasim\[report\]"'):
        make_report(tmp_path / "no-such-store.zarr", formats=())
    with pytest.raises(MissingExtraError, match=r"blinasim\[report\]"):
        stats.hazard_ratio(MP_T, MP_E, PL_T, PL_E)
    assert stats.logrank(MP_T, MP_E, PL_T, PL_E)[0] > 16  # scipy alone: no extra needed
