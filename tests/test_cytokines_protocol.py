"""Cytokine surge, CRS and neurotoxicity grading, dexamethasone, tocilizumab and the protocol engine."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from blinasim.clinical.cytokines import CytokineModel, DrugEffects, grade
from blinasim.clinical.protocol import (
    STATUS_DISCONTINUED,
    STATUS_HELD,
    ProtocolEngine,
    build_schedule,
    needs_prephase,
    toxicity_rules,
)
from blinasim.core.processes.glucocorticoid import hazard_per_day
from blinasim.params.schema import load_config
from tests.conftest import NO_TOX_RULES, make_config, run

NO_DEX = {"treatment__dexamethasone_premedication": False, "treatment__dexamethasone_prephase": "never"}


def events(ds):
    return json.loads(ds.attrs["events"])


def first_peak(ds, start, end):
    window = ds.il6.sel(time=slice(start, end))
    i = int(window.argmax("time"))
    return float(window.time[i]), float(window[i])


# ----------------------------------------------------------------- unit level


def test_grade_mapping():
    thresholds = [100.0, 400.0, 1500.0, 5000.0]
    assert [grade(v, thresholds) for v in (0, 99.9, 100, 399, 400, 1500, 4999, 5000, 1e9)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        3,
        4,
        4,
    ]


def test_cytokines_relax_exactly_to_their_steady_state():
    cfg = load_config(None)
    model = CytokineModel(cfg)
    model.cytokines_desensitisation = 0.0
    cfg_c = cfg.cytokines
    # Without desensitisation (share 0) a constant input gives IFN-g = q E / (V k).
    for _ in range(2000):
        model.step(0.0, 0.1, engaged_cells=1e9, engaged_share=0.0)
    k = np.log(2) / cfg_c.ifng_half_life_h
    expected = cfg_c.ifng_release_pg_per_cell_h * 1e9 / (cfg_c.distribution_volume_l * 1000) / k
    assert model.ifng == pytest.approx(expected * model.competence, rel=1e-6)
    assert model.il6 == pytest.approx(cfg_c.il6_per_ifng * model.ifng, rel=1e-3)


def test_il6_response_scales_only_the_patients_il6():
    """The patient's myeloid IL-6 response multiplies IL-6 production; IFN-gamma, the T-cells'
    own release, does not depend on it, and the neurotoxicity exposure follows the sum."""
    cytokines = {}
    for response in (1.0, 3.0, 0.0):
        model = CytokineModel(load_config(None, {"patient.il6_response": response}))
        for i in range(120):
            model.step(i * 0.1, 0.1, 1e10, 0.02)
        cytokines[response] = model
    base, high, none = cytokines[1.0], cytokines[3.0], cytokines[0.0]
    assert high.ifng == base.ifng == none.ifng > 0
    assert high.il6 == pytest.approx(3.0 * base.il6, rel=1e-12) and none.il6 == 0.0
    assert high.crs_signal == pytest.approx(3.0 * base.crs_signal, rel=1e-12)
    assert none.neuro_exposure < base.neuro_exposure < high.neuro_exposure


def _surge(model: CytokineModel, start_h: float, infusing: bool = True, hours: float = 6.0) -> float:
    """A 6-hour burst of engaged T-cells starting at ``start_h`` (after ``start_h`` quiet hours
    under infusion), then quiet to ``start_h + 72``; the peak neurotoxicity exposure of the burst."""
    t, dt, peak = 0.0, 0.25, 0.0
    while t < start_h + 72.0:
        engaged = 1e10 if start_h <= t < start_h + hours else 0.0
        t += dt
        model.step(t, dt, engaged, 0.0, infusing=infusing)
        if t >= start_h:
            peak = max(peak, model.neuro_exposure)
    return peak


def test_neurotoxicity_needs_a_cns_primed_by_days_of_infusion():
    """The CNS priming ([Klinger2020]) rises over days of infusion (a transit chain, mean transit
    time ``neuro_priming_days``), so the same cytokine burst exposes the brain far less on day 0
    than on day 9 ([Stein2019]: median onset about day 9); switched off, the two are equal."""
    primed = load_config(None, {"cytokines.neuro_priming_days": 6.0})
    day0 = _surge(CytokineModel(primed), 0.0)
    day9 = _surge(CytokineModel(primed), 9 * 24.0)
    assert day9 > 10.0 * day0 > 0.0
    # The mean transit time of the chain: after 6 days of infusion p is 1 - e^-3 (1 + 3 + 9/2).
    model = CytokineModel(primed)
    for i in range(6 * 24 * 4):
        model.step((i + 1) * 0.25, 0.25, 0.0, 0.0, infusing=True)
    assert model.neuro_priming == pytest.approx(1 - np.exp(-3.0) * (1 + 3 + 4.5), abs=0.01)
    # Off the infusion the priming wanes through the same delay: within two weeks (a cycle's break).
    level = model.neuro_priming
    for i in range(14 * 24 * 4):
        model.step(6 * 24 + (i + 1) * 0.25, 0.25, 0.0, 0.0, infusing=False)
    assert model.neuro_priming < 0.5 * level
    # Without priming the exposure is the cytokines' alone, whenever the burst comes.
    plain = load_config(None, {"cytokines.neuro_priming_days": 0.0})
    assert _surge(CytokineModel(plain), 0.0) == pytest.approx(_surge(CytokineModel(plain), 9 * 24.0), rel=1e-9)
    # Priming does not touch CRS.
    a, b = CytokineModel(primed), CytokineModel(plain)
    for i in range(40):
        a.step((i + 1) * 0.25, 0.25, 1e10, 0.0)
        b.step((i + 1) * 0.25, 0.25, 1e10, 0.0)
    assert a.crs_signal == b.crs_signal > 0 and a.neuro_exposure < b.neuro_exposure


def test_dexamethasone_suppresses_release_and_decays():
    cfg = load_config(None)
    effects = DrugEffects([(0.0, 20.0)], [])
    half = cfg.dexamethasone.effect_half_life_h
    assert effects.dex_amount_mg(0.0, half) == 20.0
    assert effects.dex_amount_mg(half, half) == pytest.approx(10.0)
    assert effects.dex_amount_mg(-1.0, half) == 0.0
    with_dex, without = CytokineModel(cfg), CytokineModel(cfg)
    with_dex.effects = effects
    for i in range(100):
        with_dex.step(i * 0.1, 0.1, 1e10, 0.05)
        without.step(i * 0.1, 0.1, 1e10, 0.05)
    assert with_dex.ifng < 0.5 * without.ifng and with_dex.il6 < 0.5 * without.il6


@pytest.mark.parametrize("sites", ["each_cell_type", "each_path"])
def test_dexamethasone_suppression_sites(sites):
    """At steady state under a constant dexamethasone amount, IL-6 falls by the suppression ``s``
    (``Emax D / (D + ED50)``, [Brandl2007]) once per site it passes: on each cell type (the default)
    the T-cells' IFN-gamma release and again the macrophages' IL-6, so the IFN-gamma path carries
    ``(1 - s)^2`` and the DAMP path ``1 - s``; once on each path to IL-6 both carry ``1 - s``."""

    class ConstantDex(DrugEffects):
        def dex_amount_mg(self, t_hours, half_life_h):
            return 20.0

    # The DAMP path is off by default; switched on here to test it.
    cfg = load_config(None, {"cytokines.damp_release_pg_per_cell": 0.01, "dexamethasone.suppression_sites": sites})
    dex = cfg.dexamethasone
    s = dex.max_suppression * 20.0 / (20.0 + dex.cytokine_ed50_mg)
    ifng_path = (1.0 - s) ** 2 if sites == "each_cell_type" else 1.0 - s
    for engaged, killed, expected in ((1e10, 0.0, ifng_path), (0.0, 1e9, 1.0 - s)):
        with_dex, without = CytokineModel(cfg), CytokineModel(cfg)
        with_dex.effects = ConstantDex([], [])
        for i in range(4000):
            for model in (with_dex, without):
                model.step((i + 1) * 0.1, 0.1, engaged, 0.0, killed_cells=killed * 0.1)
        assert with_dex.dex_suppression == pytest.approx(s, rel=1e-6)
        assert without.il6 > 0.0
        assert with_dex.il6 / without.il6 == pytest.approx(expected, rel=1e-6)
        if engaged:
            assert with_dex.ifng / without.ifng == pytest.approx(1.0 - s, rel=1e-6)


def test_cytokine_suppression_and_debulking_have_their_own_ed50():
    """The cytokine suppression reads ``dexamethasone.cytokine_ed50_mg`` and the lymphoblast kill
    ``dexamethasone.ed50_mg``: moving one leaves the other law where it was."""

    def suppression(cfg):
        model = CytokineModel(cfg)
        model.effects = DrugEffects([(0.0, 20.0)], [])
        model.step(1.0, 1.0, 0.0, 0.0)
        return model.dex_suppression

    base = load_config(None, {})
    low_cytokine = load_config(None, {"dexamethasone.cytokine_ed50_mg": 0.7})
    low_kill = load_config(None, {"dexamethasone.ed50_mg": 0.7})
    amount = 20.0 * 0.5 ** (1.0 / base.dexamethasone.effect_half_life_h)
    emax = base.dexamethasone.max_suppression
    assert suppression(low_cytokine) == pytest.approx(emax * amount / (amount + 0.7), rel=1e-12)
    assert suppression(low_cytokine) > suppression(base)
    assert suppression(low_kill) == suppression(base)
    assert hazard_per_day(low_cytokine, amount) == hazard_per_day(base, amount)
    assert hazard_per_day(low_kill, amount) > hazard_per_day(base, amount)


def test_tocilizumab_blocks_the_crs_driver_and_raises_serum_il6():
    cfg = load_config(None)
    blocked, free = CytokineModel(cfg), CytokineModel(cfg)
    blocked.effects = DrugEffects([], [0.0])
    for i in range(240):
        blocked.step(i * 0.1, 0.1, 1e10, 0.01)
        free.step(i * 0.1, 0.1, 1e10, 0.01)
    assert blocked.il6 > free.il6  # less receptor-mediated clearance
    assert blocked.effective_il6 < 0.5 * free.effective_il6


def test_rules_are_data_and_follow_the_config():
    cfg = load_config(None, {"protocol.crs_hold_grade": 2})
    rules = {r.name: r for r in toxicity_rules(cfg)}
    assert rules["crs_hold"].at_least == 2 and rules["crs_hold"].action == "hold"
    assert rules["crs_discontinue"].at_least == 4
    assert rules["neuro_hold"].resume_after_days == 3.0 and rules["neuro_hold"].max_hold_days == 7.0


def test_premedication_before_cycle_starts_and_step_up():
    cfg = load_config(None, {"treatment.cycles": 2, "treatment.dexamethasone_prephase": "never"})
    effects = DrugEffects([], [])
    engine = ProtocolEngine(cfg, build_schedule(cfg.treatment, cfg.patient), effects, prephase=False, dt_hours=0.1)
    dt = 0.1
    for tick in range(int(60 * 24 / dt)):
        engine.step(tick * dt, 0, 0)
    times = [round(t, 6) for t, _ in effects.dex_doses]
    # 1 h before day 0 (given before the start), before the day-7 step-up and the day-42 cycle start.
    assert times == pytest.approx([-1.0, 7 * 24 - 1.0, 42 * 24 - 1.0], abs=dt + 1e-9)
    assert all(mg == 20.0 for _, mg in effects.dex_doses)


def test_engine_holds_until_resolution_restarts_at_step_up_and_escalates():
    cfg = load_config(None, {"treatment.regimen": "flat", "treatment.dexamethasone_prephase": "never"})
    effects = DrugEffects([], [])
    engine = ProtocolEngine(cfg, build_schedule(cfg.treatment, cfg.patient), effects, prephase=False, dt_hours=0.1)
    dt = 0.1
    # CRS grade 3 from hour 10 to hour 20, grade 1 to hour 30, then resolved.
    crs = [0] * 100 + [3] * 100 + [1] * 100 + [0] * 3000
    rates = [engine.step(i * dt, g, 0) for i, g in enumerate(crs)]
    assert rates[99] == 28.0 and rates[100] == 0.0  # the hold starts on the grade-3 tick
    assert max(rates[100:310]) == 0.0  # withheld until grade 0 (hour 30), then 1 h of premedication
    assert rates[309] == 0.0 and rates[310] == 9.0  # restart at the step-up dose
    escalation = 310 + int(7 * 24 / dt)
    assert rates[escalation - 1] == 9.0 and rates[escalation] == 28.0  # back to 28 after 7 days
    kinds = [e.kind for e in engine.events]
    assert kinds.count("hold") == 1 and kinds.count("restart") == 1
    # Tocilizumab at grade >= 3, redosed after 8 h while grade 3 persists.
    assert [e.day * 24 for e in engine.events if e.kind == "tocilizumab"] == pytest.approx([10.0, 18.0])
    premeds = [e.day * 24 for e in engine.events if e.note.startswith("premedication")]
    # Before the start, before the restart (hold >= 4 h) and 1 h before the escalation.
    assert premeds == pytest.approx([-1.0, 30.0, (escalation - 10) * dt], abs=dt + 1e-9)
    assert engine.clock_h == pytest.approx((len(crs) - 210) * dt)  # the treatment clock stopped while held


def test_engine_neuro_hold_longer_than_seven_days_discontinues():
    cfg = load_config(None, {"treatment.regimen": "flat"})
    engine = ProtocolEngine(
        cfg, build_schedule(cfg.treatment, cfg.patient), DrugEffects([], []), prephase=False, dt_hours=0.1
    )
    dt = 0.1
    statuses = []
    for i in range(int(9 * 24 / dt)):
        engine.step(i * dt, 0, 3 if i >= 10 else 0)
        statuses.append(engine.status)
    assert statuses[20] == STATUS_HELD and statuses[-1] == STATUS_DISCONTINUED
    stop = next(e for e in engine.events if e.kind == "discontinue")
    assert 7.0 < stop.day < 7.2


def test_prephase_follows_the_burden_rule():
    assert needs_prephase(load_config(None, {"patient.marrow_blast_fraction": 0.6}))
    assert not needs_prephase(load_config(None, {"patient.marrow_blast_fraction": 0.3}))
    assert needs_prephase(
        load_config(None, {"patient.marrow_blast_fraction": 0.3, "patient.peripheral_blasts_per_ul": 20000.0})
    )
    assert not needs_prephase(load_config(None, {"treatment.dexamethasone_prephase": "never"}))
    ds = run(patient__marrow_blast_fraction=0.6, simulation__days=0.5, simulation__lattice_size=16)
    prephase = [e for e in events(ds) if e["note"] == "pre-phase"]
    assert len(prephase) == 5 and all(e["day"] < 0 for e in prephase)
    # 10 mg/m2/day, capped at 24 mg.
    assert prephase[0]["value"] == pytest.approx(min(10 * ds.attrs["body_surface_area_m2"], 24.0))


# ------------------------------------------------------------- model level


def test_il6_peaks_after_start_and_step_up_decays_and_spares_cycle_2():
    """The surge comes 6-48 h after the start and after the step-up, decays within ~2 days
    (below half its peak 2 days later), and the start of cycle 2 brings no surge
    (its peak is below a quarter of cycle 1's)."""
    ds = run(simulation__days=46.0, simulation__lattice_size=64, treatment__cycles=2, **NO_DEX, **NO_TOX_RULES)
    t_peak, peak = first_peak(ds, 0.0, 6.9)
    assert 0.25 <= t_peak <= 2.0
    assert float(ds.il6.sel(time=t_peak + 2.0, method="nearest")) < 0.5 * peak
    t_step, step_peak = first_peak(ds, 7.0, 12.0)
    assert 7.25 <= t_step <= 9.0
    assert step_peak > 1.2 * float(ds.il6.sel(time=7.0))
    _, cycle2 = first_peak(ds, 42.0, 46.0)
    assert cycle2 < 0.25 * peak


@pytest.mark.slow
def test_il6_peak_and_crs_grade_rise_with_marrow_burden():
    """Averaged over 3 seeds, the first IL-6 peak rises monotonically along a burden ladder
    and so does the mean maximal CRS grade (strictly from the lowest to the highest rung)."""
    peaks, grades = [], []
    for burden in (0.05, 0.3, 0.6, 0.9):
        p, g = [], []
        for seed in range(3):
            ds = run(
                patient__marrow_blast_fraction=burden,
                treatment__regimen="flat",
                simulation__days=5.0,
                simulation__lattice_size=64,
                simulation__seed=seed,
                patient__t_cells_per_ul=1200.0,
                **NO_DEX,
            )
            p.append(first_peak(ds, 0.0, 5.0)[1])
            g.append(int(ds.max_crs_grade))
        peaks.append(np.mean(p))
        grades.append(np.mean(g))
    assert all(b > a for a, b in itertools.pairwise(peaks)), peaks
    assert all(b >= a for a, b in itertools.pairwise(grades)), grades
    assert grades[-1] > grades[0], grades


def test_dexamethasone_lowers_the_peak_but_not_killing():
    common = {
        "simulation__days": 4.0,
        "simulation__lattice_size": 64,
        "treatment__dexamethasone_prephase": "never",
        # the T-cells' cytotoxicity is the claim; dexamethasone's own kill of lymphoblasts (debulking,
        # tests/test_burden.py) is switched off here
        "dexamethasone__blast_kill_per_day_max": 0.0,
        **NO_TOX_RULES,
    }
    with_dex = run(treatment__dexamethasone_premedication=True, **common)
    without = run(treatment__dexamethasone_premedication=False, **common)
    assert first_peak(with_dex, 0, 4)[1] < 0.6 * first_peak(without, 0, 4)[1]
    kills_with, kills_without = float(with_dex.kills.sum()), float(without.kills.sum())
    # Common random numbers: without a hold in either arm the agents see identical draws;
    # dexamethasone acts on cytokine release only (Brandl 2007).
    assert abs(kills_with - kills_without) <= 0.02 * kills_without


def test_step_up_lowers_the_first_peak_compared_with_flat_dosing():
    # Without the toxicity rules: a hold, its dexamethasone course or a discontinuation would cut either peak.
    common = {"simulation__days": 6.0, "simulation__lattice_size": 64, **NO_DEX, **NO_TOX_RULES}
    step_up = first_peak(run(treatment__regimen="rr_step_up", **common), 0, 6)[1]
    flat = first_peak(run(treatment__regimen="flat", **common), 0, 6)[1]
    assert step_up < 0.8 * flat


def test_forced_grade_3_holds_then_restarts_at_the_step_up_dose():
    # Low thresholds force a grade 3 event; grade 4 is out of reach.
    ds = run(
        treatment__regimen="flat",
        simulation__days=14.0,
        simulation__lattice_size=48,
        toxicity__crs_il6_thresholds_pg_per_ml=[1.0, 2.0, 3.0, 1e9],
        toxicity__neuro_thresholds_pg_per_ml=[1e6, 2e6, 3e6, 4e6],
        **NO_DEX,
    )
    ev = events(ds)
    hold = next(e for e in ev if e["kind"] == "hold")
    restart = next(e for e in ev if e["kind"] == "restart")
    assert hold["value"] == 3 and restart["day"] > hold["day"]
    held = ds.sel(time=slice(hold["day"] + 0.05, restart["day"] - 1e-6))
    assert float(held.dose_rate.max()) == 0.0
    assert (held.treatment_status == STATUS_HELD).all()
    # Restart at the step-up dose (the exact resolution rule is checked on the engine below).
    after = ds.dose_rate.sel(time=slice(restart["day"] + 0.05, restart["day"] + 6.5))
    assert float(after.max()) == 9.0
    assert any(e["kind"] == "tocilizumab" for e in ev)
    assert any(e["note"] == "CRS course" for e in ev)


def test_forced_grade_4_ends_treatment():
    # No tocilizumab: with it, whether the blocked IL-6 signal still crosses 4 pg/mL after the
    # grade-3 hold is a close race that depends on the seed (about 3 seeds in 4 cross).
    ds = run(
        treatment__regimen="flat",
        simulation__days=6.0,
        simulation__lattice_size=48,
        toxicity__crs_il6_thresholds_pg_per_ml=[1.0, 2.0, 3.0, 4.0],
        protocol__tocilizumab_grade=5,
        **NO_DEX,
    )
    stop = next(e for e in events(ds) if e["kind"] == "discontinue")
    after = ds.sel(time=slice(stop["day"] + 0.05, None))
    assert float(after.dose_rate.max()) == 0.0
    assert (after.treatment_status == STATUS_DISCONTINUED).all()
    assert float(ds.discontinuation_day) == pytest.approx(stop["day"])
    assert int(ds.max_crs_grade) == 4


def test_contract_variables_are_filled():
    ds = run(simulation__days=2.0, simulation__lattice_size=48, **NO_DEX)
    assert float(ds.il6.max()) > 0 and float(ds.ifng.max()) > 0
    assert int(ds.max_crs_grade) == int(ds.crs_grade.max())
    assert ds.crs_grade.dtype == np.int8


def test_recorded_grades_are_the_grades_of_the_recorded_signals():
    """The graded signals are recorded as maxima over each record interval, like the grades, and the
    grades rise monotonically with them: each record's grade is the grade of its signal."""
    cfg = load_config(None)
    ds = run(
        simulation__days=3.0,
        simulation__lattice_size=48,
        patient__marrow_blast_fraction=0.8,
        patient__il6_response=20.0,
        **NO_DEX,
    )
    assert int(ds.max_crs_grade) >= 1 and int(ds.max_neurotoxicity_grade) >= 1  # the check is not vacuous
    crs = [grade(v, cfg.toxicity.crs_il6_thresholds_pg_per_ml) for v in ds.crs_signal.values]
    neuro = [grade(v, cfg.toxicity.neuro_thresholds_pg_per_ml) for v in ds.neuro_exposure.values]
    assert crs == ds.crs_grade.values.tolist()
    assert neuro == ds.neurotoxicity_grade.values.tolist()


def test_make_config_accepts_new_sections():
    cfg = make_config(cytokines__il6_half_life_h=1.0, dexamethasone__ed50_mg=2.0)
    assert cfg.cytokines.il6_half_life_h == 1.0 and cfg.dexamethasone.ed50_mg == 2.0
