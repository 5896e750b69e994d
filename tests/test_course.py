"""The clinical course over years (blinasim.clinical.course): rules, laws and outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import blinasim
from blinasim.clinical import course
from conftest import hand_lattice as lattice
from conftest import make_config


def config(**dotted):
    base = {"course__plan": "mt103_211", "course__hsct_uptake": 0.0, "course__remission_death_per_year": 0.0}
    base.update(dotted)
    return make_config(**base)


def test_no_plan_means_no_course_and_censored_survival():
    ds = blinasim.simulate(make_config(simulation__days=1.0))
    assert ds.os_event.item() == 0 and ds.os_days.item() == pytest.approx(1.0)
    assert ds.transplanted.item() == 0 and math.isnan(ds.transplant_day.item())
    assert ds.event_cause.attrs["flag_meanings"].split() == list(course.EVENT_CAUSES)
    assert list(ds.event_cause.attrs["flag_values"]) == list(range(len(course.EVENT_CAUSES)))


def test_refractory_patient_fails_induction_and_dies_of_disease_at_the_sourced_median():
    """Without response, death from disease comes at an exponential time of the configured median counted
    from the start of treatment (the default), so some refractory patients die inside the induction."""
    cfg = config(patient__sanctuary_fraction=0.0, course__failure_rescued_share=0.0)
    assert cfg.course.failure_survival_from == "treatment_start"
    median = cfg.course.failure_survival_median_days
    run = lattice(cells=(1e11, 0, 0), cr_crh=0.0)
    assessment = course.plan_cycles(cfg)[0][1][1]  # end of cycle 2's infusion
    days = []
    for seed in range(400):
        r = course.follow(run, cfg, seed)
        assert (r.efs_days, r.efs_event) == (0.0, 1)
        assert math.isnan(r.rfs_days) and math.isnan(r.rfs_event)
        assert r.transplanted == 0
        assert r.event_cause == (course.DEATH_DISEASE if r.os_event else course.NONE)
        assert np.nanmax(r.mrd) <= 1.0
        if r.os_event and r.os_days < assessment:
            assert r.cycles_given == (1 if r.os_days <= 42.0 else 2)  # cycle 2 starts on day 42
            assert np.isnan(r.mrd[r.times > r.os_days]).all()
        days.append(r.os_days if r.os_event else math.inf)
    # Exponential times with the configured median; the few beyond 2 years are censored (median unaffected).
    assert abs(np.median(days) - median) < 0.2 * median
    inside = sum(d < assessment for d in days) / len(days)
    expected = 1.0 - 0.5 ** (assessment / median)
    assert abs(inside - expected) < 4 * math.sqrt(expected * (1 - expected) / len(days))


def test_refractory_death_counted_from_the_assessment_never_falls_inside_the_induction():
    cfg = config(patient__sanctuary_fraction=0.0, course__failure_survival_from="assessment")
    median = cfg.course.failure_survival_median_days
    run = lattice(cells=(1e11, 0, 0), cr_crh=0.0)
    assessment = course.plan_cycles(cfg)[0][1][1]
    delays = []
    for seed in range(400):
        r = course.follow(run, cfg, seed)
        assert r.os_days >= assessment and r.cycles_given == 2
        delays.append(r.os_days - assessment if r.os_event else math.inf)
    assert abs(np.median(delays) - median) < 0.2 * median
    # The same draws: each death moves by the assessment day between the two origins.
    start = course.follow(run, config(patient__sanctuary_fraction=0.0), 5)
    later = course.follow(run, cfg, 5)
    assert later.os_days == pytest.approx(min(start.os_days + assessment, cfg.course.follow_up_days))


def test_the_rescued_share_keeps_the_median_and_leaves_long_term_survivors():
    """Later therapy rescues a share of the refractory patients: they die only at the remission hazard;
    the others die sooner, so that the median stays the configured one."""
    share, per_year = 0.3, 0.05
    cfg = config(
        patient__sanctuary_fraction=0.0, course__failure_rescued_share=share, course__remission_death_per_year=per_year
    )
    median, horizon = cfg.course.failure_survival_median_days, cfg.course.follow_up_days
    short = course.failure_short_median_days(cfg.course)
    assert short < median
    run = lattice(cells=(1e11, 0, 0), cr_crh=0.0)
    t_end = float(run.times[-1])
    n = 600
    results = [course.follow(run, cfg, seed) for seed in range(n)]
    days = [r.os_days if r.os_event else math.inf for r in results]
    assert abs(np.median(days) - median) < 0.15 * median
    # Alive at 2 years: the rescued who escape the remission hazard after the lattice run, and the few
    # others whose exponential time outlasts the follow-up.
    alive = sum(not r.os_event for r in results) / n
    expected = share * math.exp(-per_year / 365.0 * (horizon - t_end)) + (1 - share) * 0.5 ** (horizon / short)
    assert abs(alive - expected) < 4 * math.sqrt(expected * (1 - expected) / n)
    # A rescued patient who dies dies in remission, never of disease.
    causes = {r.event_cause for r in results if r.os_event}
    assert causes == {course.DEATH_DISEASE, course.DEATH_REMISSION}
    remission_deaths = sum(r.event_cause == course.DEATH_REMISSION for r in results) / n
    expected = share * (1 - math.exp(-per_year / 365.0 * (horizon - t_end)))
    assert abs(remission_deaths - expected) < 4 * math.sqrt(expected * (1 - expected) / n)


def test_the_rescue_keeps_every_other_draw():
    """The rescue draws on its own stream: a patient not rescued keeps the quantile of its exponential time
    (scaled to the shorter median), and at share 0 the short median is the configured one exactly."""
    base = config(patient__sanctuary_fraction=0.0, course__failure_rescued_share=0.0)
    assert course.failure_short_median_days(base.course) == base.course.failure_survival_median_days
    cfg = config(patient__sanctuary_fraction=0.0, course__failure_rescued_share=0.2)
    ratio = course.failure_short_median_days(cfg.course) / cfg.course.failure_survival_median_days
    run = lattice(cells=(1e11, 0, 0), cr_crh=0.0)
    scaled = rescued = 0
    for seed in range(60):
        before, after = course.follow(run, base, seed), course.follow(run, cfg, seed)
        if not after.os_event:  # rescued (no remission hazard here) or beyond the follow-up
            rescued += before.os_event
            continue
        assert after.os_days == pytest.approx(before.os_days * ratio, rel=1e-9)
        scaled += 1
    assert scaled > 30 and rescued > 3
    # A responder who never relapses faces no death from disease: the share changes nothing.
    cured = lattice(cells=(0, 0, 0), cr_crh=1.0)
    for seed in range(5):
        a, b = course.follow(cured, base, seed), course.follow(cured, cfg, seed)
        assert (a.os_days, a.rfs_days, a.event_cause) == (b.os_days, b.rfs_days, b.event_cause)


def test_the_short_median_solves_the_mixture_at_the_configured_median():
    cfg = config(course__failure_rescued_share=0.09, course__failure_survival_median_days=168.0)
    c = cfg.course
    short = course.failure_short_median_days(c)
    mu = c.remission_death_per_year / 365.0
    at_median = c.failure_rescued_share * math.exp(-mu * 168.0) + (1 - c.failure_rescued_share) * 0.5 ** (168.0 / short)
    assert at_median == pytest.approx(0.5, abs=1e-12)
    with pytest.raises(blinasim.BlinasimError, match=r"course.failure_rescued_share.*0.4"):
        config(course__failure_rescued_share=0.5)


def test_extinct_disease_without_sanctuary_never_relapses():
    cfg = config(patient__sanctuary_fraction=0.0)
    r = course.follow(lattice(cells=(0, 0, 0)), cfg, seed=3)
    assert r.os_event == 0 and r.os_days == pytest.approx(cfg.course.follow_up_days)
    assert r.rfs_event == 0.0 and r.rfs_days == pytest.approx(cfg.course.follow_up_days - 28.0)
    assert r.event_cause == course.NONE and r.cycles_given == 5


def test_residual_disease_regrows_to_a_relapse_at_the_net_growth_rate():
    """1e6 CD19-negative cells (no drug acts on them) reach 5% marrow blasts at ln(N / 1e6) / (b - d)."""
    cfg = config(patient__sanctuary_fraction=0.0)
    r = course.follow(lattice(cells=(0, 1e6, 0)), cfg, seed=1)
    dis = cfg.disease
    f = cfg.endpoints.relapse_blast_fraction
    threshold = f / (1 - f) * (1e12 - 1e6)  # blasts / (blasts + normal nucleated cells) = f
    expected = 84.0 + math.log(threshold / 1e6) / (dis.blast_birth_rate_per_day - dis.blast_death_rate_per_day)
    assert r.event_cause == course.RELAPSE_CD19_NEG
    assert r.rfs_event == 1.0
    assert abs(r.rfs_days + 28.0 - expected) <= 2 * cfg.course.step_days
    # Death from disease follows the relapse; the course MRD stops at the relapse.
    assert r.os_days >= r.rfs_days + 28.0
    after = r.times > r.rfs_days + 28.0 + cfg.course.step_days
    assert np.isnan(r.mrd[after]).all()


def test_each_patient_regrows_at_its_own_pace_after_the_lattice_run():
    """With ``course.regrowth_log_sd`` each patient's leukemia divides and dies at its own multiple ``f`` of
    the disease's rates from the end of the lattice run: 1e6 CD19-negative cells reach 5% marrow blasts at
    ln(N / 1e6) / (f (b - d)). ``ln f`` is the log-SD times a standard normal deviate clipped at 2 SD."""
    sd, n = 1.0, 400
    cfg = config(patient__sanctuary_fraction=0.0, course__regrowth_log_sd=sd)
    dis = cfg.disease
    net = dis.blast_birth_rate_per_day - dis.blast_death_rate_per_day
    f = cfg.endpoints.relapse_blast_fraction
    threshold = f / (1 - f) * (1e12 - 1e6)
    run = lattice(cells=(0, 1e6, 0))
    logs = []
    for seed in range(n):
        factor = course.regrowth_factor(cfg, seed)
        logs.append(math.log(factor))
        if seed < 40:
            r = course.follow(run, cfg, seed)
            expected = 84.0 + math.log(threshold / 1e6) / (factor * net)
            if expected < cfg.course.follow_up_days - 2 * cfg.course.step_days:
                assert r.event_cause == course.RELAPSE_CD19_NEG
                assert abs(r.rfs_days + 28.0 - expected) <= 2 * cfg.course.step_days
            else:  # too slow to relapse within the follow-up
                assert r.event_cause == course.NONE
    logs = np.array(logs) / sd
    assert np.abs(logs).max() <= course.REGROWTH_CLIP_SD + 1e-12
    c = course.REGROWTH_CLIP_SD
    tail = 0.5 * math.erfc(c / math.sqrt(2))  # P(z > c)
    density = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    clipped_sd = math.sqrt(1 - 2 * tail - 2 * c * density + 2 * c * c * tail)
    assert abs(logs.mean()) < 4 * clipped_sd / math.sqrt(n)
    assert abs(logs.std() - clipped_sd) < 4 * clipped_sd / math.sqrt(2 * n)
    assert abs(np.mean(np.abs(logs) >= c - 1e-12) - 2 * tail) < 4 * math.sqrt(2 * tail / n)


def test_the_regrowth_spares_the_lattice_run_and_draws_nothing_at_log_sd_zero():
    """The patient's pace acts only in the follow-up: the sanctuary on the lattice run's records is the same
    whatever the factor. At log-sd 0 the factor is exactly 1 and the course is bit-identical to the default's."""
    run = lattice(cells=(1e6, 0, 0))
    base = config(patient__sanctuary_fraction=1e-2)
    paced = config(patient__sanctuary_fraction=1e-2, course__regrowth_log_sd=1.5)
    off = config(patient__sanctuary_fraction=1e-2, course__regrowth_log_sd=0.0)
    n = len(run.times)
    moved = 0
    for seed in range(10):
        a, b, z = course.follow(run, base, seed), course.follow(run, paced, seed), course.follow(run, off, seed)
        assert course.regrowth_factor(off, seed) == 1.0
        np.testing.assert_array_equal(a.sanctuary[:n], b.sanctuary[:n])
        np.testing.assert_array_equal(a.sanctuary, z.sanctuary)
        assert (a.os_days, a.rfs_days, a.event_cause) == (z.os_days, z.rfs_days, z.event_cause)
        moved += a.rfs_days != b.rfs_days
    assert moved >= 8  # the pace moves the relapse of nearly every patient


def test_drug_in_later_cycles_kills_cd19_positive_cells_at_the_measured_hazard():
    """Cycles 3-5 act on CD19+ residual disease at the hazard the lattice measured (CD19 loss off, so that
    no CD19-negative daughter escapes the drug: the next test)."""
    cfg = config(patient__sanctuary_fraction=0.0, course__step_days=0.25, disease__cd19_loss_per_division=0.0)
    run = lattice(cells=(1e8, 0, 0))
    # The lattice measured 0.5/day during its infusions.
    run.dose_rate[:] = 28.0
    run.cycle[:] = 2
    run.kills[1:] = 0.5 * 1e8 * 0.25
    assert course.infusion_hazard(run) == pytest.approx(0.5)
    r = course.follow(run, cfg, seed=0)
    assert r.event_cause == course.NONE and r.rfs_event == 0.0  # extinct under 3 more cycles
    assert not math.isnan(r.days_to_mrd_negative)


def _killed_residue(loss: float, seed: int):
    """1e8 CD19+ cells under 3 more cycles at 0.5/day (no sanctuary, no transplant), CD19 loss at ``loss``."""
    cfg = config(patient__sanctuary_fraction=0.0, disease__cd19_loss_per_division=loss)
    run = lattice(cells=(1e8, 0, 0))
    run.dose_rate[:] = 28.0
    run.cycle[:] = 2
    run.kills[1:] = 0.5 * 1e8 * 0.25
    return course.follow(run, cfg, seed)


def test_cd19_loss_in_the_follow_up_lets_cd19_negative_daughters_escape_the_drug():
    """A CD19+ residue dividing under later cycles gives CD19-negative daughters at the loss rate per
    division; the drug spares them, so they relapse CD19-negative. Without loss the residue dies out."""
    dis = config().disease
    # Expected CD19-negative daughters: loss x births while the residue dies at 0.5/day net of its growth.
    loss = 5e-8
    expected = (
        loss * 1e8 * dis.blast_birth_rate_per_day / (0.5 + dis.blast_death_rate_per_day - dis.blast_birth_rate_per_day)
    )
    escaped = [_killed_residue(loss, seed).event_cause == course.RELAPSE_CD19_NEG for seed in range(40)]
    assert expected < 2.0  # a rate at which escape is a matter of chance, not certainty
    # Each daughter founds a relapse with its survival probability 1 - d/b: P(escape) = 1 - exp(-m (1 - d/b)).
    p = 1.0 - math.exp(-expected * (1.0 - dis.blast_death_rate_per_day / dis.blast_birth_rate_per_day))
    assert abs(np.mean(escaped) - p) < 3.5 * math.sqrt(p * (1 - p) / 40) + 0.05
    assert all(_killed_residue(1e-4, seed).event_cause == course.RELAPSE_CD19_NEG for seed in range(5))
    assert all(_killed_residue(0.0, seed).event_cause == course.NONE for seed in range(5))


def test_a_course_without_cd19_positive_divisions_draws_as_without_cd19_loss():
    """The losses are drawn on their own stream: a course with no CD19+ cell to divide is bit-identical
    whatever the loss rate."""
    run = lattice(cells=(0, 1e6, 0))
    a = course.follow(run, config(patient__sanctuary_fraction=0.0, disease__cd19_loss_per_division=0.0), 4)
    b = course.follow(run, config(patient__sanctuary_fraction=0.0, disease__cd19_loss_per_division=1e-3), 4)
    assert (a.rfs_days, a.os_days, a.event_cause) == (b.rfs_days, b.os_days, b.event_cause)
    np.testing.assert_array_equal(a.mrd, b.mrd)


def test_transplant_uptake_timing_and_graft_versus_leukemia():
    cfg = config(
        course__hsct_uptake=0.4,
        course__trm_probability=0.0,
        course__gvl_escape_probability=0.0,
        patient__sanctuary_fraction=0.0,
    )
    run = lattice(cells=(0, 1e7, 0))
    results = [course.follow(run, cfg, seed) for seed in range(300)]
    tx = [r for r in results if r.transplanted]
    k = len(tx)
    assert abs(k / 300 - 0.4) < 3.5 * math.sqrt(0.4 * 0.6 / 300)
    assert all(r.transplant_day >= 84.0 for r in tx)
    # Without a transplant the CD19-negative residue relapses; with one (3 logs, then GVL) it does not.
    assert all(r.event_cause == course.RELAPSE_CD19_NEG for r in results if not r.transplanted)
    assert all(r.event_cause == course.NONE for r in tx)


def test_a_graft_that_escapes_lets_the_residue_grow_back_to_a_relapse():
    """With probability ``gvl_escape_probability`` the graft does not hold the leukemia: the residue left by
    the conditioning (3 logs of 1e7 cells) grows back at the net growth rate to a relapse. The escape is
    drawn on its own stream, so a patient whose graft holds is bit-identical to one at probability 0."""
    p, n = 0.4, 300
    kw = dict(course__hsct_uptake=1.0, course__trm_probability=0.0, patient__sanctuary_fraction=0.0)
    cfg, held = config(course__gvl_escape_probability=p, **kw), config(course__gvl_escape_probability=0.0, **kw)
    run = lattice(cells=(0, 1e7, 0))
    dis = cfg.disease
    f = cfg.endpoints.relapse_blast_fraction
    threshold = f / (1 - f) * (1e12 - 1e7)
    birth, death = dis.blast_birth_rate_per_day, dis.blast_death_rate_per_day
    spread = math.sqrt((birth + death) / (birth - death) / 1e4) / (birth - death)
    relapsed = 0
    for seed in range(n):
        a, b = course.follow(run, cfg, seed), course.follow(run, held, seed)
        assert a.transplanted == b.transplanted == 1 and b.event_cause == course.NONE
        if a.event_cause == course.NONE:
            assert (a.os_days, a.rfs_days) == (b.os_days, b.rfs_days)
            np.testing.assert_array_equal(a.mrd, b.mrd)
            continue
        assert a.event_cause == course.RELAPSE_CD19_NEG
        expected = a.transplant_day + math.log(threshold / 1e4) / (birth - death)
        # The residue is a birth-death process from 1e4 cells: its time to the threshold varies with an SD of
        # sqrt((b + d) / (b - d) / 1e4) / (b - d) days (under a day), plus the course's step.
        assert abs(a.rfs_days + 28.0 - expected) <= 3 * cfg.course.step_days + 4 * spread
        relapsed += 1
    assert abs(relapsed / n - p) < 3.5 * math.sqrt(p * (1 - p) / n)


def test_after_a_transplant_every_non_relapse_death_is_the_transplants():
    """The remission hazard runs until the transplant and stops after it: the transplant-related mortality
    counts every non-relapse death after the transplant. A cured patient transplanted on day 228 (200 days
    after the response) dies in remission only before that day, at the hazard's probability, and is then never
    transplanted."""
    per_year, n = 2.0, 300
    cfg = config(
        course__hsct_uptake=1.0,
        course__hsct_delay_days=200.0,
        course__trm_probability=0.0,
        course__remission_death_per_year=per_year,
        patient__sanctuary_fraction=0.0,
    )
    results = [course.follow(lattice(cells=(0, 0, 0)), cfg, seed) for seed in range(n)]
    died = [r for r in results if r.os_event]
    assert all(r.event_cause == course.DEATH_REMISSION and 84.0 <= r.os_days < 228.0 for r in died)
    # A patient who dies before the planned transplant is never transplanted.
    assert all(r.transplanted == 0 and math.isnan(r.transplant_day) for r in died)
    assert all(r.transplanted == 1 and r.transplant_day == pytest.approx(228.0) for r in results if not r.os_event)
    expected = 1.0 - math.exp(-per_year / 365.0 * (228.0 - 84.0))  # from the end of the lattice run (day 84)
    assert abs(len(died) / n - expected) < 3.5 * math.sqrt(expected * (1 - expected) / n)
    # Without the transplant the same hazard goes on to the end of the follow-up.
    untransplanted = config(course__remission_death_per_year=per_year, patient__sanctuary_fraction=0.0)
    later = [course.follow(lattice(cells=(0, 0, 0)), untransplanted, seed) for seed in range(n)]
    assert sum(r.os_event and r.os_days >= 228.0 for r in later) > n / 5


def test_transplant_related_deaths_follow_their_probability():
    cfg = config(course__hsct_uptake=1.0, course__trm_probability=0.25, patient__sanctuary_fraction=0.0)
    results = [course.follow(lattice(), cfg, seed) for seed in range(400)]
    trm = sum(r.event_cause == course.DEATH_TRANSPLANT for r in results)
    # Deaths later than the follow-up are censored: P(death within 2 years | TRM) is ~1 at a 120-day mean.
    assert abs(trm / 400 - 0.25) < 3.5 * math.sqrt(0.25 * 0.75 / 400)


def test_a_sanctuary_reseeds_the_marrow_and_relapses_after_an_extinct_marrow():
    cfg = config(patient__sanctuary_fraction=1e-3)
    run = lattice(cells=(0, 0, 0))
    run.cells[0] = (1e11, 0, 0)  # the baseline burden sets the sanctuary's size
    r = course.follow(run, cfg, seed=5)
    assert r.event_cause == course.RELAPSE_CD19_POS
    assert r.sanctuary[0] == pytest.approx(1e8)


def _infused_lattice(blasts: float, hazard: float):
    """A hand lattice of ``blasts`` CD19+ cells under infusion, its measured kill hazard ``hazard`` per day."""
    run = lattice(cells=(blasts, 0, 0))
    run.dose_rate[:] = 28.0
    run.cycle[:] = 1
    run.kills[1:] = hazard * blasts * 0.25
    return run


def test_the_sanctuary_kill_saturates_in_the_sanctuarys_size():
    """``course.sanctuary_kill_half_cells`` K: the kill per sanctuary cell is the factor x the marrow's hazard x
    K / (K + cells), so the cells killed a day never exceed factor x hazard x K; K 0 is the exact product."""
    off = config(course__sanctuary_kill_factor=0.5, course__sanctuary_kill_half_cells=0.0)
    on = config(course__sanctuary_kill_factor=0.5, course__sanctuary_kill_half_cells=1e7)
    assert course.sanctuary_kill(off.course, 0.8, 1e9) == 0.5 * 0.8
    for cells in (0.0, 1e3, 1e7, 1e9, 1e12):
        per_cell = course.sanctuary_kill(on.course, 0.8, cells)
        assert per_cell == pytest.approx(0.4 * 1e7 / (1e7 + cells))
        assert per_cell * cells < 0.4 * 1e7
    assert course.sanctuary_kill(on.course, 0.8, 1e12) * 1e12 == pytest.approx(0.4 * 1e7, rel=1e-4)


def test_a_large_sanctuary_outgrows_a_saturated_kill_and_a_small_one_does_not():
    """Under an infusion whose kill the marrow measured at 1/day (factor 0.5): without saturation the
    sanctuary dies out whatever its size; with K = 1e7 a sanctuary of 1e9 cells loses ~1% of that kill and
    grows, while one of 1e5 cells (far below K) dies out as before."""
    kw = {"course__sanctuary_kill_factor": 0.5, "course__plan": "none"}
    n = None
    for share, big in ((0.1, True), (1e-5, False)):
        run = _infused_lattice(1e10, 1.0)
        n = len(run.times)
        plain = course.follow(
            run, config(patient__sanctuary_fraction=share, course__sanctuary_kill_half_cells=0.0, **kw), seed=2
        )
        saturated = course.follow(
            run, config(patient__sanctuary_fraction=share, course__sanctuary_kill_half_cells=1e7, **kw), seed=2
        )
        start = share * 1e10
        assert plain.sanctuary[0] == saturated.sanctuary[0] == pytest.approx(start)
        assert plain.sanctuary[n - 1] == 0.0  # 0.5/day against a net growth of 0.07
        if big:
            assert saturated.sanctuary[n - 1] > start
        else:
            assert saturated.sanctuary[n - 1] == 0.0


def test_mrd_plan_counts_remission_from_day_zero():
    cfg = config(course__plan="blast", patient__sanctuary_fraction=0.0)
    r = course.follow(lattice(cells=(0, 1e6, 0), cr_crh=math.nan, days=30.0, mrd_response=0.0), cfg, seed=2)
    assert r.rfs_event == 1.0 and r.efs_days == pytest.approx(r.rfs_days)  # from day 0


def test_course_is_bit_identical_for_a_seed_and_varies_between_seeds():
    cfg = config(course__hsct_uptake=0.5, patient__sanctuary_fraction=1e-5)
    run = lattice(cells=(1e5, 1e3, 0))
    a, b = course.follow(run, cfg, 11), course.follow(run, cfg, 11)
    assert a.mrd.tobytes() == b.mrd.tobytes() and a.os_days == b.os_days
    assert len({course.follow(run, cfg, s).os_days for s in range(10)}) > 1


def test_a_simulated_patient_carries_the_course():
    cfg = make_config(simulation__days=2.0, course__plan="custom", course__custom_cycles=2, course__follow_up_days=60.0)
    ds = blinasim.simulate(cfg)
    assert ds.course_time.values[0] == 0.0 and ds.course_time.values[-1] == pytest.approx(60.0)
    assert ds.course_mrd.dims == ("course_time",)
    np.testing.assert_array_equal(ds.course_mrd.values[: ds.sizes["time"]], ds.mrd.values)
    assert ds.os_days.item() <= 60.0


def test_a_stored_run_is_followed_again_under_other_course_settings():
    from blinasim.core.output import COURSE_VARIABLES, with_course

    cfg = make_config(simulation__days=2.0, course__plan="custom", course__custom_cycles=1, course__follow_up_days=90.0)
    ds = blinasim.simulate(cfg, seed=5)
    assert set(COURSE_VARIABLES) <= set(ds.data_vars)
    again = with_course(ds, cfg, 5)
    for name in COURSE_VARIABLES:
        assert again[name].values.tobytes() == ds[name].values.tobytes(), name
    longer = with_course(ds, cfg.with_overrides({"course.follow_up_days": 120.0}), 5)
    assert longer.course_time.values[-1] == pytest.approx(120.0)


def test_the_trial_plans_give_the_published_cycles():
    def starts(plan):
        return [(s, e - s) for s, e in course.plan_cycles(make_config(course__plan=plan))[0]]

    # MT103-211: up to 5 cycles of 4 weeks on / 2 off; response after 2.
    assert starts("mt103_211") == [(42.0 * k, 28.0) for k in range(5)]
    assert course.plan_cycles(make_config(course__plan="mt103_211"))[1:] == (2, False)
    # TOWER: 2 induction + 3 consolidation cycles (4 on / 2 off), then 4 weeks every 12 weeks for 12 months.
    tower = starts("tower")
    assert tower[:5] == [(42.0 * k, 28.0) for k in range(5)]
    assert [s for s, _ in tower[5:]] == [210.0, 294.0, 378.0, 462.0]
    assert all(on == 28.0 for _, on in tower)
    # BLAST: up to 4 cycles, response = complete MRD response after cycle 1.
    assert len(starts("blast")) == 4 and course.plan_cycles(make_config(course__plan="blast"))[1:] == (1, True)
    custom = make_config(course__plan="custom", course__custom_cycles=3, course__custom_on_days=14.0,
                         course__custom_off_days=7.0)  # fmt: skip
    assert [(s, e) for s, e in course.plan_cycles(custom)[0]] == [(0.0, 14.0), (21.0, 35.0), (42.0, 56.0)]


def test_non_responders_get_only_the_response_cycles():
    cfg = config(patient__sanctuary_fraction=0.0)
    r = course.follow(lattice(cells=(1e11, 0, 0), cr_crh=0.0), cfg, seed=0)
    assert r.cycles_given == 2


def test_a_chemotherapy_arms_sanctuary_follows_the_chemotherapy_factor_not_blinatumomabs():
    """A salvage course kills the sanctuary at ``chemotherapy.sanctuary_kill_factor`` of the regimen's marrow
    kill; blinatumomab's fitted ``course.sanctuary_kill_factor`` and its saturation do not touch a chemotherapy
    arm (bit-identical), and a larger chemotherapy factor leaves a smaller sanctuary after the first course."""
    base = {
        "treatment__regimen": "none",
        "treatment__chemotherapy": "hidac",
        "course__plan": "chemotherapy",
        "patient__sanctuary_fraction": 1e-2,
    }
    run = lattice(cells=(1e10, 0, 0), cr_crh=0.0)
    plain = course.follow(run, config(**base), seed=4)
    other_blinatumomab = course.follow(
        run, config(**base, course__sanctuary_kill_factor=0.9, course__sanctuary_kill_half_cells=0.0), seed=4
    )
    np.testing.assert_array_equal(plain.sanctuary, other_blinatumomab.sanctuary)
    stronger = course.follow(run, config(**base, chemotherapy__sanctuary_kill_factor=0.9), seed=4)
    after_first_course = np.searchsorted(run.times, 28.0)
    assert plain.sanctuary[0] == stronger.sanctuary[0] == pytest.approx(1e8)
    assert stronger.sanctuary[after_first_course] < 0.5 * plain.sanctuary[after_first_course]
