"""Treatment-related death of salvage chemotherapy (blinasim.clinical.course): a hazard per day of
severe neutropenia during a course's aplasia, acting through the course's death machinery."""

from __future__ import annotations

import math

import numpy as np
import pytest

import blinasim
from blinasim.clinical import course
from blinasim.kernels.rng import CHEMO_CHOICE, CHEMO_TOXIC_DEATH, GLUCOCORTICOID
from conftest import hand_lattice, make_config

DAYS = 84.0


def lattice(anc_per_ul: float, cr_crh: float = 0.0, response_day: float = math.nan, cells=(1e11, 0.0, 0.0)):
    """A hand-made lattice run of ``DAYS`` days with a constant neutrophil count."""
    return hand_lattice(cells, cr_crh, response_day, DAYS, neutrophils_per_ul=anc_per_ul)


def chemo_config(hazard: float, **dotted):
    base = {
        "treatment__regimen": "none",
        "treatment__chemotherapy": "flag",
        "course__plan": "chemotherapy",
        "course__hsct_uptake": 0.0,
        "course__remission_death_per_year": 0.0,
        "chemotherapy__toxic_death_per_neutropenic_day": hazard,
    }
    base.update(dotted)
    return make_config(**base)


def test_stream_18_is_the_toxic_death_and_distinct():
    assert CHEMO_TOXIC_DEATH == 18
    assert CHEMO_TOXIC_DEATH not in (CHEMO_CHOICE, GLUCOCORTICOID, 15)


def test_neutropenic_intervals_use_the_run_then_repeat_its_last_covered_course():
    times = np.arange(0.0, 57.0, 1.0)
    anc = np.full(len(times), 2000.0)
    anc[5:15] = 100.0  # course 1: neutropenic intervals ending on days 5..14 (10 days)
    anc[33:37] = 100.0  # course 2: ending on days 33..36 (4 days)
    windows = [(0.0, 28.0), (28.0, 56.0), (84.0, 112.0)]
    got = course.neutropenic_intervals(times, anc, 500.0, windows)
    days = [b - a for a, b in got]
    assert sum(days) == pytest.approx(10 + 4 + 4)
    assert got[0] == (4.0, 5.0) and got[10] == (32.0, 33.0)
    assert got[-4:] == [(88.0, 89.0), (89.0, 90.0), (90.0, 91.0), (91.0, 92.0)]  # course 2 shifted to day 84
    assert course.neutropenic_intervals(times, anc, 50.0, windows) == []  # never below 50
    # a window the run covers in part: its covered records, then the template beyond the run's end
    part = course.neutropenic_intervals(times, anc, 500.0, [(0.0, 28.0), (50.0, 78.0)])
    # (the run, to day 56, has no low count in 50-56; course 1's days 6-13 shifted to 56-63 follow)
    assert part[10:] == [(float(d), float(d + 1)) for d in range(56, 64)]


def test_death_day_is_where_the_cumulative_hazard_reaches_the_tolerance():
    intervals = [(2.0, 12.0), (30.0, 40.0)]
    assert course.chemotherapy_death_day(intervals, 0.1, 0.5) == pytest.approx(7.0)
    assert course.chemotherapy_death_day(intervals, 0.1, 1.5) == pytest.approx(35.0)
    assert course.chemotherapy_death_day(intervals, 0.1, 2.5) == math.inf
    assert course.chemotherapy_death_day(intervals, 0.0, 1e-9) == math.inf


def test_deep_aplasia_kills_at_the_analytic_rate_and_never_without_the_hazard():
    """Neutrophils 50/uL throughout, a non-responder: the two induction courses' windows give 56
    neutropenic days, so a death from treatment with probability 1 - exp(-56 h), before day 56."""
    h = 0.01
    run = lattice(50.0)
    seeds = range(600)
    # Disease deaths counted from the assessment, so that none competes inside the windows.
    deaths = [course.follow(run, chemo_config(h, course__failure_survival_from="assessment"), s) for s in seeds]
    toxic = [r for r in deaths if r.death_cause == course.DEATH_TREATMENT]
    p = 1.0 - math.exp(-56 * h)
    k = len(toxic)
    assert abs(k - p * len(seeds)) < 4 * math.sqrt(len(seeds) * p * (1 - p))
    for r in toxic:
        assert r.os_event == 1 and r.os_days < 56.0
        assert r.event_cause == course.DEATH_TREATMENT  # a non-responder: the death is its first event cause
    zero = [course.follow(run, chemo_config(0.0, course__failure_survival_from="assessment"), s) for s in seeds]
    assert not any(r.death_cause == course.DEATH_TREATMENT for r in zero)
    assert all(r.os_days >= 56.0 for r in zero)  # disease deaths come after the assessment


def test_no_neutropenia_no_treatment_death_and_the_arm_is_otherwise_unchanged():
    run = lattice(2000.0)
    for s in range(50):
        a, b = course.follow(run, chemo_config(0.2), s), course.follow(run, chemo_config(0.0), s)
        assert a.death_cause != course.DEATH_TREATMENT
        assert (a.os_days, a.efs_days, a.event_cause) == (b.os_days, b.efs_days, b.event_cause)


def test_death_before_the_response_makes_a_non_responder():
    # a responder at day 28 in permanent aplasia with a hazard that kills within days
    run = lattice(50.0, cr_crh=1.0, response_day=28.0, cells=(0.0, 0.0, 0.0))
    r = course.follow(run, chemo_config(1.0), 3)
    assert r.death_cause == course.DEATH_TREATMENT and r.os_days < 28.0
    assert (r.efs_days, r.efs_event) == (0.0, 1) and math.isnan(r.rfs_days)


def test_blinatumomab_arm_has_no_treatment_death():
    run = lattice(50.0, cr_crh=0.0)
    for s in range(50):
        cfg = make_config(
            course__plan="mt103_211", course__hsct_uptake=0.0, chemotherapy__toxic_death_per_neutropenic_day=0.2
        )
        ref = make_config(course__plan="mt103_211", course__hsct_uptake=0.0)
        a, b = course.follow(run, cfg, s), course.follow(run, ref, s)
        assert a.death_cause != course.DEATH_TREATMENT
        assert (a.os_days, a.event_cause) == (b.os_days, b.event_cause)


def test_end_to_end_the_run_records_the_death_and_its_cause_and_rescores_the_response():
    cfg = chemo_config(1.0, simulation__days=20.0, patient__neutrophils_per_ul=200.0)
    ds = blinasim.simulate(cfg, seed=11)
    assert "death_treatment" in ds.event_cause.attrs["flag_meanings"].split()
    assert ds.os_event.item() == 1 and ds.os_days.item() < 20.0
    assert ds.event_cause.item() == course.DEATH_TREATMENT
    # died before the first assessment (day 28, after the run's end): a failure, not "not assessable"
    for name in ("cr", "cr_crh", "cr_crh_cri", "cr_cri"):
        assert ds[name].item() == 0.0
    off = blinasim.simulate(chemo_config(0.0, simulation__days=20.0, patient__neutrophils_per_ul=200.0), seed=11)
    assert off.event_cause.item() != course.DEATH_TREATMENT
    assert math.isnan(off.cr.item())  # alive, the run ends before the first assessment: not assessable
    np.testing.assert_array_equal(ds.marrow_blast_fraction.values, off.marrow_blast_fraction.values)
