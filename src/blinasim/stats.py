"""Statistics shared by trials and reports, each computed by a library rather than by hand.

=====================================  ==============================================================
read-out                               computed by
=====================================  ==============================================================
proportion and its interval            ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``
                                       (Wilson score interval; ``"exact"``: Clopper-Pearson)
mean of a skewed quantity              ``scipy.stats.bootstrap`` (BCa, 9999 resamples, seeded);
                                       an interval of resampled means never leaves [min x, max x]
median and its interval                ``scipy.stats.quantile_test(...).confidence_interval``
                                       (distribution-free, from order statistics)
Kaplan-Meier survival                  ``scipy.stats.ecdf`` on ``CensoredData``; pointwise interval
                                       ``.sf.confidence_interval(method="log-log")`` (Greenwood)
median survival and its interval       ``statsmodels`` ``SurvfuncRight.quantile_ci`` (Brookmeyer-
                                       Crowley on the log scale, as R's ``survfit`` by default)
odds ratio and its interval            ``scipy.stats.contingency.odds_ratio(kind="sample")`` (Woolf:
                                       normal interval of the log odds ratio)
log-rank test                          ``scipy.stats.logrank``
hazard ratio                           ``statsmodels`` ``PHReg`` (Cox model, Efron ties)
Spearman rank correlation              ``scipy.stats.spearmanr``; permutation p-value
                                       (``scipy.stats.permutation_test``): exact for n <= 7,
                                       9999 seeded random pairings for n < 50
multiplicity                           ``statsmodels.stats.multitest.multipletests(method="holm")``
=====================================  ==============================================================

statsmodels comes with the ``report`` extra; scipy is a core dependency.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from blinasim.extras import requires_extra

#: Seed of every bootstrap: a report is the same every time it is made.
BOOTSTRAP_SEED = 0
#: Resamples of every bootstrap.
BOOTSTRAP_RESAMPLES = 9999
#: Relative tolerance below which a paired difference is rounding noise and shown as 0: a
#: difference smaller than NOISE_TOLERANCE times the magnitude of the values compared
#: (the largest absolute value of the endpoint over both arms).
NOISE_TOLERANCE = 1e-9
#: Largest n for which a Spearman p-value is the exact permutation p-value (n! orderings).
SPEARMAN_EXACT_MAX_N = 7
#: Smallest n for which a Spearman p-value is scipy's t approximation; below, a permutation p-value.
SPEARMAN_T_MIN_N = 50
#: Random pairings of a Monte-Carlo permutation p-value (seeded).
SPEARMAN_PERMUTATIONS = 9999
#: p-values below this print as "< 1e-4"; the CSV files keep the number.
P_DISPLAY_FLOOR = 1e-4
#: Days per month for landmark times (365.25 / 12).
DAYS_PER_MONTH = 30.4375


# ------------------------------------------------------------------ proportions


def proportion_ci(k: int, n: int, confidence: float = 0.95, method: str = "wilson") -> tuple[float, float, float]:
    """``(k / n, low, high)``: a proportion and its Wilson score (or ``"exact"`` Clopper-Pearson)
    interval from :func:`scipy.stats.binomtest`; NaN when ``n`` is 0."""
    if n == 0:
        return math.nan, math.nan, math.nan
    from scipy import stats

    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method=method)
    # The interval reaches 0 (1) exactly when k = 0 (k = n); no rounding residue.
    lo = 0.0 if k == 0 else float(ci.low)
    hi = 1.0 if k == n else float(ci.high)
    return k / n, lo, hi


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(k / n, low, high)``: the proportion and its Wilson score interval (NaN when ``n`` is 0)."""
    return proportion_ci(k, n, confidence, "wilson")


def odds_ratio(k1: int, n1: int, k0: int, n0: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(OR, low, high)``: the odds of ``k1`` events in ``n1`` against ``k0`` in ``n0`` (the
    reference), the sample odds ratio with Woolf's interval
    (:func:`scipy.stats.contingency.odds_ratio`, ``kind="sample"``). NaN when either group is
    empty or the odds are 0/0 (no event, or no non-event, in either group); with one empty cell
    the estimate is 0 or infinite and has no interval (NaN bounds)."""
    if n1 == 0 or n0 == 0:
        return math.nan, math.nan, math.nan
    from scipy.stats.contingency import odds_ratio as scipy_odds_ratio

    table = [[int(k1), int(n1 - k1)], [int(k0), int(n0 - k0)]]
    with np.errstate(all="ignore"):  # an empty cell divides by zero; handled below
        res = scipy_odds_ratio(table, kind="sample")
        ci = res.confidence_interval(confidence_level=confidence)
    est, lo, hi = float(res.statistic), float(ci.low), float(ci.high)
    if math.isnan(est):
        return math.nan, math.nan, math.nan
    if est == 0.0 or math.isinf(est):  # an empty cell: Woolf's interval does not exist
        return est, math.nan, math.nan
    return est, lo, hi


# --------------------------------------------------------- skewed quantities


def bootstrap_ci(
    x: np.ndarray,
    confidence: float = 0.95,
    statistic: Callable[..., float] = np.mean,
    *,
    method: str = "BCa",
    seed: int = BOOTSTRAP_SEED,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
) -> tuple[float, float, float]:
    """``(statistic(x), low, high)`` with a bootstrap interval (:func:`scipy.stats.bootstrap`,
    ``method`` "BCa" or "percentile", seeded). NaN values are dropped; fewer than two values give
    NaN bounds; constant data give a zero-width interval. The bounds of a resampled mean stay
    within the range of the data, so a non-negative quantity never gets a negative bound."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    est = float(statistic(x))
    if x.size < 2:
        return est, math.nan, math.nan
    if np.ptp(x) == 0:
        return est, est, est
    from scipy import stats

    def run(m: str):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DegenerateDataWarning: handled below
            res = stats.bootstrap(
                (x,),
                statistic,
                confidence_level=confidence,
                method=m,
                n_resamples=n_resamples,
                rng=np.random.default_rng(seed),
                vectorized=statistic in (np.mean, np.median),
            )
        return float(res.confidence_interval.low), float(res.confidence_interval.high)

    lo, hi = run(method)
    if not (np.isfinite(lo) and np.isfinite(hi)) and method != "percentile":
        lo, hi = run("percentile")  # BCa undefined (e.g. a jackknife without spread)
    return est, lo, hi


def median_ci(x: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(median, low, high)``: the median with its distribution-free interval from order statistics
    (:func:`scipy.stats.quantile_test`); a bound the sample is too small for is NaN."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    med = float(np.median(x))
    from scipy import stats

    ci = stats.quantile_test(x, q=med, p=0.5).confidence_interval(confidence)
    lo, hi = float(ci.low), float(ci.high)
    return med, (lo if np.isfinite(lo) else math.nan), (hi if np.isfinite(hi) else math.nan)


def zero_noise(d: np.ndarray, scale: float, tolerance: float = NOISE_TOLERANCE) -> np.ndarray:
    """``d`` with differences smaller than ``tolerance * scale`` set to exactly 0 (rounding noise
    of floating-point sums, e.g. -7e-11 between two equal fractions)."""
    d = np.asarray(d, dtype=np.float64).copy()
    if np.isfinite(scale) and scale > 0:
        d[np.abs(d) <= tolerance * scale] = 0.0
    return d


# ------------------------------------------------------- tests and multiplicity


def spearman(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Spearman's rho with its two-sided p-value and a paired bootstrap interval (percentile, 999
    resamples, seeded). The p-value (``p_method``) is ``"exact"`` (all n! pairings) for n <=
    SPEARMAN_EXACT_MAX_N, ``"permutation"`` (SPEARMAN_PERMUTATIONS random pairings, seeded; never
    below 2 / (resamples + 1)) below SPEARMAN_T_MIN_N, and scipy's ``"t"`` approximation above."""
    from scipy import stats

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.size
    res = stats.spearmanr(x, y)
    rho, p = float(res.statistic), float(res.pvalue)
    method = "exact" if n <= SPEARMAN_EXACT_MAX_N else ("permutation" if n < SPEARMAN_T_MIN_N else "t")

    def rho_of(a, b, axis=-1):  # Spearman's rho along an axis: Pearson's r of the ranks (vectorised)
        ra, rb = stats.rankdata(a, axis=axis), stats.rankdata(b, axis=axis)
        return stats.pearsonr(ra, rb, axis=axis).statistic

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # constant resamples: rho undefined (NaN)
        if method != "t":  # permute x against a fixed y (scipy's Spearman example)
            p = float(
                stats.permutation_test(
                    (x,),
                    lambda a, axis=-1: rho_of(a, np.broadcast_to(y, a.shape), axis=axis),
                    permutation_type="pairings",
                    n_resamples=math.inf if method == "exact" else SPEARMAN_PERMUTATIONS,
                    vectorized=True,
                    rng=np.random.default_rng(BOOTSTRAP_SEED),
                ).pvalue
            )
        lo = hi = math.nan
        if n >= 4:
            ci = stats.bootstrap(
                (x, y),
                rho_of,
                paired=True,
                vectorized=True,
                method="percentile",
                confidence_level=confidence,
                n_resamples=999,
                rng=np.random.default_rng(BOOTSTRAP_SEED),
            ).confidence_interval
            lo, hi = float(ci.low), float(ci.high)
    return {"rho": rho, "rho_ci_low": lo, "rho_ci_high": hi, "p_value": p, "p_method": method, "n": n}


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (``statsmodels.stats.multitest.multipletests``); NaN stays NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        with requires_extra("report", "Holm-adjusted p-values"):
            from statsmodels.stats.multitest import multipletests

        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def format_p(p: float, floor: float = P_DISPLAY_FLOOR) -> str:
    """A p-value for a table: two significant digits, never 0 ("< 1e-4" below the floor)."""
    if p is None or not np.isfinite(p):
        return ""
    if p < floor:
        return f"< {floor:.0e}".replace("e-0", "e-")
    return f"{p:.2g}"


# --------------------------------------------------------------------- survival


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan-Meier estimate (:func:`scipy.stats.ecdf`): survival just after each distinct event
    time, with the number at risk and a pointwise interval (Greenwood's variance on the
    log(-log) scale, ``confidence_interval(method="log-log")``)."""

    times: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    durations: np.ndarray | None = None
    observed: np.ndarray | None = None

    def at(self, t: float) -> float:
        """Survival at time ``t`` (a step function, right-continuous)."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return 1.0 if i < 0 else float(self.survival[i])

    def interval_at(self, t: float) -> tuple[float, float]:
        """The pointwise interval at time ``t`` ((1, 1) before the first event)."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return (1.0, 1.0) if i < 0 else (float(self.lower[i]), float(self.upper[i]))

    def median(self) -> float:
        """The first time survival falls to 0.5 or below (NaN if it never does)."""
        below = np.flatnonzero(self.survival <= 0.5)
        return float(self.times[below[0]]) if below.size else math.nan

    def median_ci(self, confidence: float = 0.95) -> tuple[float, float]:
        """Interval of the median (Brookmeyer-Crowley on the log scale, statsmodels
        ``SurvfuncRight.quantile_ci``, as R's ``survfit``); a bound the data cannot reach is NaN."""
        return survival_quantile_ci(self.durations, self.observed, 0.5, confidence)

    def at_risk_at(self, t: float) -> int:
        """Subjects still followed (no event, not censored) just before time ``t``."""
        if self.durations is None:
            raise ValueError("this curve was built without its data")
        return int(np.count_nonzero(self.durations >= t))


def _check(durations, observed) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(durations, dtype=np.float64)
    o = np.asarray(observed, dtype=bool)
    if d.shape != o.shape:
        raise ValueError(f"durations and observed differ in shape: {d.shape} vs {o.shape}")
    if d.size and (np.isnan(d).any() or (d < 0).any()):
        raise ValueError("durations must be finite and >= 0")
    return d.ravel(), o.ravel()


def censored(durations, observed):
    """:class:`scipy.stats.CensoredData` of right-censored follow-up times."""
    from scipy import stats

    d, o = _check(durations, observed)
    return stats.CensoredData(uncensored=d[o], right=d[~o])


def kaplan_meier(durations, observed, confidence: float = 0.95) -> SurvivalCurve:
    """Kaplan-Meier estimate from follow-up ``durations`` and ``observed`` (True: the event,
    False: censored at that time), by :func:`scipy.stats.ecdf`. Censored times tied with event
    times count as at risk at the event (the usual convention)."""
    d, o = _check(durations, observed)
    times = np.unique(d[o])
    if times.size == 0:
        e = np.array([], dtype=np.float64)
        return SurvivalCurve(e, e, e.astype(np.int64), e.astype(np.int64), e, e, d, o)
    from scipy import stats

    sf = stats.ecdf(censored(d, o)).sf
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sf.confidence_interval(confidence, method="log-log")
        lo, hi = ci.low.evaluate(times), ci.high.evaluate(times)
    surv = sf.evaluate(times)
    # Survival 0 or 1 has no log(-log) interval: 0 stays 0, the interval is NaN otherwise.
    lo = np.where(surv == 0, 0.0, np.where((surv < 1) & np.isfinite(lo), lo, np.nan))
    hi = np.where(surv == 0, 0.0, np.where((surv < 1) & np.isfinite(hi), hi, np.nan))
    at_risk = np.array([np.count_nonzero(d >= t) for t in times], dtype=np.int64)
    events = np.array([np.count_nonzero((d == t) & o) for t in times], dtype=np.int64)
    return SurvivalCurve(times, surv, at_risk, events, lo, hi, d, o)


def survival_quantile_ci(durations, observed, q: float = 0.5, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of the time by which a share ``q`` has had the event (``q = 0.5``: the median):
    the times whose survival is compatible with 1 - q (Brookmeyer-Crowley), with Greenwood's
    variance on the log scale (statsmodels ``SurvfuncRight.quantile_ci``, ``method="log"``, the
    default of R's ``survfit``)."""
    d, o = _check(durations, observed)
    if not o.any():
        return math.nan, math.nan
    with requires_extra("report", "the interval of a Kaplan-Meier median"):
        from statsmodels.duration.survfunc import SurvfuncRight
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = SurvfuncRight(d, o.astype(np.float64)).quantile_ci(q, alpha=1 - confidence, method="log")
    lo, hi = float(lo), float(hi)
    return (lo if np.isfinite(lo) else math.nan), (hi if np.isfinite(hi) else math.nan)


def logrank(durations_a, observed_a, durations_b, observed_b) -> tuple[float, float]:
    """``(chi2, p)`` of the two-sided log-rank test (:func:`scipy.stats.logrank`; chi2 on 1 df is
    the square of scipy's z statistic)."""
    from scipy import stats

    a, b = censored(durations_a, observed_a), censored(durations_b, observed_b)
    oa, ob = np.asarray(observed_a, dtype=bool), np.asarray(observed_b, dtype=bool)
    if len(a) == 0 or len(b) == 0 or not (oa.any() or ob.any()):
        return math.nan, math.nan  # no event in either group: nothing to test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no variance (e.g. all events at one time): NaN
        res = stats.logrank(a, b)
    return float(res.statistic) ** 2, float(res.pvalue)


def hazard_ratio(
    durations_a, observed_a, durations_b, observed_b, confidence: float = 0.95
) -> tuple[float, float, float]:
    """``(HR, low, high)`` of group B relative to group A from a Cox proportional-hazards model
    with the group as its only covariate (statsmodels ``PHReg``, Efron's method for ties, Wald
    interval). NaN when either group has no event (the estimate does not exist)."""
    da, oa = _check(durations_a, observed_a)
    db, ob = _check(durations_b, observed_b)
    if not (oa.any() and ob.any()):
        return math.nan, math.nan, math.nan
    with requires_extra("report", "hazard ratios"):
        from statsmodels.duration.hazard_regression import PHReg
    t = np.concatenate([da, db])
    e = np.concatenate([oa, ob]).astype(np.float64)
    x = np.concatenate([np.zeros(da.size), np.ones(db.size)])[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = PHReg(t, x, status=e, ties="efron").fit()
        lo, hi = np.exp(fit.conf_int(alpha=1 - confidence)[0])
    return float(np.exp(fit.params[0])), float(lo), float(hi)
