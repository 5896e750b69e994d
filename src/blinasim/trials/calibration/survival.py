"""Stage 8: survival, the clinical course against the trials' time-to-event figures.

The lattice part of each virtual patient runs once (:func:`lattice_runs`);
the clinical course, which is cheap and event-driven, is then followed again
from each stored lattice run under candidate course settings
(:func:`blinasim.core.output.with_course`), so a scan costs seconds, not a
trial per candidate.

Targets (:data:`SURVIVAL_TARGETS`): MT103-211 [Topp2015] median RFS 5.9 months
and median OS 6.1 months, MRD response among CR/CRh 82% (95% CI 72-90%);
BLAST [Gokbuget2018] RFS at 18 months 54% and median OS 36.5 months
(Ph-negative). The BLAST course is followed for :data:`BLAST_FOLLOW_UP_DAYS`
so that its median OS can be estimated.

BLAST's final analysis [Gokbuget2020] adds two subgroup targets
(:data:`SUBGROUP_TARGETS`): alive without relapse at 5 years, 40.5% of the
patients transplanted in continuous remission and 19.4% of the others.

Three parameters without a published value are calibrated together
(:func:`scan_course`): the cohort median of the sanctuary share
(``patient.sanctuary_fraction``; the cohort draws it lognormal,
:data:`blinasim.trials.cohort.SANCTUARY`, and a scan scales every patient's
draw by the same factor), and blinatumomab's kill there
(``course.sanctuary_kill_factor`` and its saturation
``course.sanctuary_kill_half_cells``). The score (:func:`score`) is the summed
squared miss of :data:`FIT_TARGETS`: every survival target that a course
setting moves, and the two subgroups. Several calibration seeds are pooled,
each course followed with its own seed. Every other course parameter keeps its
published or approximate value, and every target's miss is reported
(docs/validation.md, "The sanctuary's kill fitted jointly").
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from blinasim.clinical.endpoints import kaplan_meier
from blinasim.core.model import simulate
from blinasim.core.output import with_course
from blinasim.core.seeds import run_seed
from blinasim.core.worker import Runner, runner_or_pool
from blinasim.params.defaults import LITERATURE
from blinasim.params.schema import Config
from blinasim.trials.calibration.targets import RESPONSE_DEPTH
from blinasim.trials.cohort import SANCTUARY, draw_cohort
from blinasim.trials.trial import patient_config

#: days per month (365.25 / 12)
MONTH = 30.4375
#: follow-up of the BLAST-like course in the calibration: long enough to reach its median OS
BLAST_FOLLOW_UP_DAYS = 1826.0
#: the subgroups' landmark: alive without relapse at 5 years
FIVE_YEARS_DAYS = 5 * 365.25


@dataclass(frozen=True)
class SurvivalTarget:
    """A published time-to-event figure: ``kind`` is "median" (months) or "rate" (a proportion)."""

    name: str
    trial: str
    value: float
    kind: str
    source: str


SURVIVAL_TARGETS: tuple[SurvivalTarget, ...] = (
    SurvivalTarget("median_rfs_months", "mt103_211", 5.9, "median", "[Topp2015]: median RFS of CR/CRh responders"),
    SurvivalTarget("median_os_months", "mt103_211", 6.1, "median", "[Topp2015]: median OS, all 189 patients"),
    SurvivalTarget(
        "mrd_response_among_cr_crh",
        "mt103_211",
        RESPONSE_DEPTH["mt103_211"].value,
        "rate",
        RESPONSE_DEPTH["mt103_211"].source,
    ),
    SurvivalTarget("rfs_18_months", "blast", 0.54, "rate", "[Gokbuget2018]: Ph-negative RFS at 18 months 54%"),
    SurvivalTarget("median_os_months", "blast", 36.5, "median", "[Gokbuget2018]: Ph-negative median OS 36.5 months"),
)

#: BLAST's final analysis by transplant in continuous remission: alive without relapse at 5 years.
SUBGROUP_TARGETS: tuple[SurvivalTarget, ...] = (
    SurvivalTarget(
        "alive_relapse_free_5y_transplanted",
        "blast",
        0.405,
        "rate",
        "[Gokbuget2020]: 40.5% of the patients transplanted in continuous remission (74 of 110)",
    ),
    SurvivalTarget(
        "alive_relapse_free_5y_not_transplanted",
        "blast",
        0.194,
        "rate",
        "[Gokbuget2020]: 19.4% of the patients not transplanted in continuous remission",
    ),
)

#: The scored targets of the joint fit: the survival targets a course setting moves (the MRD response among
#: the CR/CRh is the lattice's) and BLAST's two subgroups.
FIT_TARGETS: tuple[SurvivalTarget, ...] = (
    tuple(t for t in SURVIVAL_TARGETS if t.name != "mrd_response_among_cr_crh") + SUBGROUP_TARGETS
)


@dataclass
class LatticeRun:
    """One virtual patient's lattice part: its trial, index, overrides and run Dataset."""

    trial: str
    index: int
    overrides: dict[str, Any]
    dataset: Any


def _lattice_job(job: tuple[str, int, dict[str, Any], int]) -> LatticeRun:
    trial, index, overrides, seed = job
    config = patient_config(trial, overrides)
    return LatticeRun(trial, index, overrides, simulate(config, seed=run_seed(seed, index, 0)))


def lattice_runs(n: int, seed: int, workers: int = 2, runner: Runner | None = None) -> list[LatticeRun]:
    """Run the lattice part of ``n`` MT103-211-like and ``n`` BLAST-like patients, cohorts and runs
    seeded as :func:`blinasim.trials.calibration.verify.verify` (and tests/test_validation.py) do."""
    jobs = [
        (trial, i, patient, seed)
        for trial in ("mt103_211", "blast")
        for i, patient in enumerate(draw_cohort(trial, n, seed))
    ]
    with runner_or_pool(runner, workers) as run:
        return list(run.map(_lattice_job, jobs))


def course_config(run: LatticeRun, overrides: dict[str, Any]) -> Config:
    """The patient's config with ``overrides`` (course settings) applied last."""
    follow = {"course.follow_up_days": BLAST_FOLLOW_UP_DAYS} if run.trial == "blast" else {}
    return patient_config(run.trial, run.overrides, {**follow, **overrides})


def survival_values(
    runs: Sequence[LatticeRun], seed: int, overrides: Callable[[LatticeRun], dict[str, Any]] = lambda r: {}
) -> dict[tuple[str, str], float]:
    """The model's value of every :data:`SURVIVAL_TARGETS` entry, each course followed again with
    ``overrides(run)``; keys are ``(trial, name)``."""
    return values_from_rows(follow_rows(runs, seed, overrides))


def follow_rows(
    runs: Sequence[LatticeRun], seed: int, overrides: Callable[[LatticeRun], dict[str, Any]] = lambda r: {}
) -> dict[str, list[dict[str, float]]]:
    """Each run's course followed again with ``overrides(run)`` (run seed from ``seed`` and its index): the
    read-outs the targets need, per trial. Rows of several calibration seeds can be pooled."""
    rows: dict[str, list[dict[str, float]]] = {"mt103_211": [], "blast": []}
    for run in runs:
        ds = with_course(run.dataset, course_config(run, overrides(run)), run_seed(seed, run.index, 0))
        rows[run.trial].append(
            {
                name: float(ds[name].values)
                for name in ("os_days", "os_event", "rfs_days", "rfs_event", "cr_crh", "mrd_response", "transplant_day")
            }
        )
    return rows


def transplanted_in_remission(row: dict[str, float]) -> bool:
    """Whether a followed course (a :func:`follow_rows` row) had a transplant in continuous remission: a
    transplant with no relapse before it."""
    if math.isnan(row["transplant_day"]):
        return False
    return row["rfs_event"] != 1.0 or row["rfs_days"] > row["transplant_day"]


def alive_relapse_free(rows: Sequence[dict[str, float]]) -> int:
    """How many of ``rows`` are alive without relapse at 5 years (relapse-free past 5 years, or censored
    without an event: the follow-up is 5 years)."""
    return sum(1 for r in rows if r["rfs_days"] > FIVE_YEARS_DAYS - 1e-9 or r["rfs_event"] != 1.0)


def values_from_rows(rows: dict[str, list[dict[str, float]]]) -> dict[tuple[str, str], float]:
    """The :data:`SURVIVAL_TARGETS` values of :func:`follow_rows`' read-outs."""
    out: dict[tuple[str, str], float] = {}
    mt = rows["mt103_211"]
    responders = [r for r in mt if r["cr_crh"] == 1.0]
    out[("mt103_211", "median_rfs_months")] = _median(responders, "rfs") / MONTH
    out[("mt103_211", "median_os_months")] = _median(mt, "os") / MONTH
    # the trial's definition, the endpoint's: MRD < 1e-4 on an assessment day within the 2 cycles
    mrd = [r["mrd_response"] == 1.0 for r in responders]
    out[("mt103_211", "mrd_response_among_cr_crh")] = float(np.mean(mrd)) if mrd else math.nan
    bl = rows["blast"]
    out[("blast", "rfs_18_months")] = _curve(bl, "rfs").at(18 * MONTH) if bl else math.nan
    out[("blast", "median_os_months")] = _median(bl, "os") / MONTH
    for target, transplanted in zip(SUBGROUP_TARGETS, (True, False), strict=True):
        group = [r for r in bl if transplanted_in_remission(r) is transplanted]
        out[("blast", target.name)] = alive_relapse_free(group) / len(group) if group else math.nan
    out[("blast", "transplanted_share")] = sum(transplanted_in_remission(r) for r in bl) / len(bl) if bl else math.nan
    return out


def _curve(rows: list[dict[str, float]], endpoint: str):
    rows = [r for r in rows if not math.isnan(r[f"{endpoint}_event"])]
    return kaplan_meier([r[f"{endpoint}_days"] for r in rows], [r[f"{endpoint}_event"] == 1.0 for r in rows])


def _median(rows: list[dict[str, float]], endpoint: str) -> float:
    return _curve(rows, endpoint).median() if rows else math.nan


def miss(target: SurvivalTarget, value: float) -> float:
    """The signed miss: log2 of model / target for a median, model - target for a rate."""
    if math.isnan(value):
        return math.nan
    if target.kind == "median":
        return math.log2(value / target.value)
    return value - target.value


def scored_value(target: SurvivalTarget, values: dict[tuple[str, str], float]) -> float:
    """The target's value in ``values``; a median not reached within the follow-up (NaN or infinite) is read as
    the BLAST follow-up's length, a lower bound of its miss."""
    v = values[(target.trial, target.name)]
    if target.kind == "median" and not math.isfinite(v):
        return BLAST_FOLLOW_UP_DAYS / MONTH
    return v


def score(values: dict[tuple[str, str], float], targets: Sequence[SurvivalTarget] = FIT_TARGETS) -> float:
    """The joint fit's score: the summed squared miss (:func:`miss`) of ``targets``."""
    return sum(miss(t, scored_value(t, values)) ** 2 for t in targets)


def scaled_sanctuary(share: float, factor: float) -> dict[str, Any]:
    """The override that moves one patient's drawn ``patient.sanctuary_fraction`` to a cohort median
    ``factor`` times the one it was drawn at: the patient keeps its place in the distribution (capped
    at the attribute's upper bound)."""
    return {"patient.sanctuary_fraction": min(share * factor, SANCTUARY.high)}


def course_settings(items: Sequence[str]) -> dict[str, float]:
    """``KEY=NUMBER`` course settings (``course.regrowth_log_sd=1``) as overrides, for a scan's sensitivity;
    a ValueError names the item that is not one, and what is allowed."""
    allowed = sorted(k for k in LITERATURE if k.startswith("course."))
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in allowed:
            raise ValueError(f"{item!r}: {key!r} is not a course setting; one of {', '.join(allowed)}")
        try:
            out[key] = float(value)
        except ValueError:
            raise ValueError(f"{item!r}: expected {key}=NUMBER, e.g. course.regrowth_log_sd=1") from None
    return out


def scan_sanctuary(
    runs: Sequence[LatticeRun], seed: int, medians: Sequence[float], course: dict[str, Any] | None = None
) -> list[tuple[float, dict[tuple[str, str], float]]]:
    """The targets' model values with the cohort median of ``patient.sanctuary_fraction`` set to
    each of ``medians``: every patient's draw is scaled by ``median / drawn median``
    (:func:`scaled_sanctuary`); ``course``: settings applied to every course as well (a sensitivity)."""
    base = SANCTUARY.params["median"]
    out = []
    for median in medians:
        factor = median / base

        def scaled(run: LatticeRun, factor: float = factor) -> dict[str, Any]:
            return {**(course or {}), **scaled_sanctuary(run.overrides.get("patient.sanctuary_fraction", base), factor)}

        out.append((float(median), survival_values(runs, seed, scaled)))
    return out


@dataclass(frozen=True)
class CoursePoint:
    """One candidate of the joint fit: blinatumomab's kill in the sanctuary relative to the marrow's
    (``course.sanctuary_kill_factor``), its saturation (``course.sanctuary_kill_half_cells``; 0: none) and
    the cohort median of ``patient.sanctuary_fraction``."""

    kill_factor: float
    half_cells: float
    median: float

    def overrides(self, run: LatticeRun, drawn: float) -> dict[str, Any]:
        """The course settings of this point for ``run``, whose sanctuary share was drawn at the cohort
        median ``drawn``."""
        share = run.overrides.get("patient.sanctuary_fraction", drawn)
        return {
            "course.sanctuary_kill_factor": self.kill_factor,
            "course.sanctuary_kill_half_cells": self.half_cells,
            **scaled_sanctuary(share, self.median / drawn),
        }


def default_point() -> CoursePoint:
    """Today's defaults as a :class:`CoursePoint`."""
    return CoursePoint(
        float(LITERATURE["course.sanctuary_kill_factor"].value),
        float(LITERATURE["course.sanctuary_kill_half_cells"].value),
        float(SANCTUARY.params["median"]),
    )


def point_row(point: CoursePoint, values: dict[tuple[str, str], float], targets: Sequence[SurvivalTarget]) -> str:
    """One line of a scan's table: the point, each target's value with its miss (a median not reached shown as
    the follow-up's length, as :func:`score` counts it), the BLAST-like patients' transplanted share and the
    score."""
    cells = []
    for t in targets:
        v = scored_value(t, values)
        cells.append(f"{v:.3g} ({miss(t, v):+.2f})")
    return (
        f"{point.kill_factor:g} | {point.half_cells:.0e} | {point.median:.0e} | "
        + " | ".join(cells)
        + f" | {values[('blast', 'transplanted_share')]:.2f} | {score(values):.3f}"
    )


#: the pooled calibration seeds of a scan in a worker process (set by its initializer, _set_pooled)
_POOLED: list[tuple[Sequence[LatticeRun], int]] = []


def _set_pooled(pools: Sequence[tuple[Sequence[LatticeRun], int]]) -> None:
    _POOLED[:] = list(pools)


def pooled_values(
    pools: Sequence[tuple[Sequence[LatticeRun], int]],
    overrides: Callable[[LatticeRun], dict[str, Any]],
) -> dict[tuple[str, str], float]:
    """The targets' values on several calibration seeds pooled: ``pools`` holds each seed's lattice runs and
    the seed; every course is followed with its own seed and ``overrides(run)``."""
    rows: dict[str, list[dict[str, float]]] = {"mt103_211": [], "blast": []}
    for runs, seed in pools:
        for trial, part in follow_rows(runs, seed, overrides).items():
            rows[trial] += part
    return values_from_rows(rows)


def _values_at(
    pools: Sequence[tuple[Sequence[LatticeRun], int]], job: tuple[CoursePoint, float, dict[str, Any]]
) -> dict[tuple[str, str], float]:
    point, drawn, course = job
    return pooled_values(pools, lambda run: {**course, **point.overrides(run, drawn)})


def _point_values(job: tuple[CoursePoint, float, dict[str, Any]]) -> dict[tuple[str, str], float]:
    """A worker's :func:`_values_at` on the pools its initializer was given."""
    return _values_at(_POOLED, job)


def scan_course(
    pools: Sequence[tuple[Sequence[LatticeRun], int]],
    points: Sequence[CoursePoint],
    drawn: float | None = None,
    course: dict[str, Any] | None = None,
    workers: int = 1,
) -> list[tuple[CoursePoint, dict[tuple[str, str], float]]]:
    """Stage 8's joint scan: the targets' values (:func:`values_from_rows`) at every point, on the seeds of
    ``pools`` pooled. ``drawn``: the cohort median the caches' sanctuary shares were drawn at (default:
    today's); ``course``: other course settings for every point (a sensitivity). ``workers`` > 1 follows the
    points in spawned processes, each given the pools once (each point's courses in one process, so the result
    does not depend on it; spawned, not forked, because a forked multi-threaded process can deadlock)."""
    drawn = float(SANCTUARY.params["median"]) if drawn is None else float(drawn)
    jobs = [(p, drawn, dict(course or {})) for p in points]
    if workers > 1 and len(jobs) > 1:
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(workers, len(jobs)), initializer=_set_pooled, initargs=(list(pools),)) as pool:
            values = pool.map(_point_values, jobs, chunksize=1)
    else:
        values = [_values_at(pools, job) for job in jobs]
    return list(zip(points, values, strict=True))
