"""The blinatumomab label's clinical rules, each a named rule of the protocol engine (BlincytoPI).

The engine is driven with scripted grades (and seizures) on a 6-min clock, so
each test states exactly what the label prescribes for one situation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from blinasim.clinical import endpoints
from blinasim.clinical.cytokines import DrugEffects
from blinasim.clinical.protocol import (
    STATUS_DISCONTINUED,
    STATUS_HELD,
    ProtocolEngine,
    build_schedule,
    toxicity_rules,
)
from blinasim.clinical.seizures import SEIZURE_GRADE, SeizureModel
from blinasim.kernels import rng
from blinasim.params.schema import ConfigError, load_config
from blinasim.trials.trial import rates
from tests.conftest import run

DT = 0.1  # hours per tick


def engine_for(**overrides) -> ProtocolEngine:
    cfg = load_config(None, {"treatment.dexamethasone_prephase": "never", **overrides})
    return ProtocolEngine(cfg, build_schedule(cfg.treatment, cfg.patient), DrugEffects([], []), False, DT)


def drive(engine, crs=(), neuro=(), seizures=None, ticks=None):
    """Step the engine over scripted grades (lists per tick; missing ticks are grade 0); the rates."""
    n = ticks or max(len(crs), len(neuro))
    seizures = seizures or {}
    return [
        engine.step(i * DT, crs[i] if i < len(crs) else 0, neuro[i] if i < len(neuro) else 0, seizures.get(i, 0))
        for i in range(n)
    ]


def hours(engine, kind, note=None):
    return [e.day * 24 for e in engine.events if e.kind == kind and (note is None or e.note.startswith(note))]


def ticks(h):
    return round(h / DT)


# ------------------------------------------------------------------ rule 1: tocilizumab


def test_rules_are_named_and_tocilizumab_is_checked_first():
    names = [r.name for r in toxicity_rules(load_config(None))]
    assert names[0] == "crs_tocilizumab"
    for name in ("crs_discontinue", "neuro_discontinue", "seizure_discontinue", "crs_hold", "neuro_hold"):
        assert name in names
    assert "seizure_hold" in names and "new_cycle_after_hold" in names


def test_crs_jumping_straight_to_grade_4_gets_tocilizumab_and_is_treated_after_the_stop():
    engine = engine_for(**{"treatment.regimen": "flat"})
    # CRS jumps from 0 to grade 4 at hour 10 and stays there for 30 h.
    crs = [0] * ticks(10) + [4] * ticks(30) + [0] * ticks(30)
    rates = drive(engine, crs=crs)
    stop = hours(engine, "discontinue")
    assert stop == pytest.approx([10.0])
    assert engine.status == STATUS_DISCONTINUED and max(rates[ticks(10) :]) == 0.0
    # Tocilizumab on the tick of the stop, then every 8 h while grade 4 persists after the drug has stopped.
    assert hours(engine, "tocilizumab") == pytest.approx([10.0, 18.0, 26.0, 34.0])
    assert engine.effects.toci_doses == pytest.approx([10.0, 18.0, 26.0, 34.0])
    # The label's dexamethasone course for grade 4 CRS: 8 mg every 8 h from the stop.
    assert hours(engine, "dexamethasone", "CRS course")[:3] == pytest.approx([10.0, 18.0, 26.0])


def test_tocilizumab_keeps_its_redosing_interval_when_grades_flicker():
    engine = engine_for(**{"treatment.regimen": "flat"})
    # Grade 3 and 2 alternate every hour: a dose at most every 8 h.
    crs = ([3] * 10 + [2] * 10) * 20
    drive(engine, crs=crs)
    doses = hours(engine, "tocilizumab")
    assert len(doses) >= 2 and min(np.diff(doses)) >= 8.0 - 1e-9


# ------------------------------------------------------------------ rule 2: dexamethasone for neurotoxicity


def test_neurotoxicity_hold_gets_the_dexamethasone_course():
    engine = engine_for(**{"treatment.regimen": "flat"})
    neuro = [0] * ticks(10) + [3] * ticks(12) + [0] * ticks(24 * 5)
    drive(engine, neuro=neuro)
    assert hours(engine, "hold") == pytest.approx([10.0])
    course = [e for e in engine.events if e.kind == "dexamethasone" and e.note == "neurotoxicity course"]
    mg = engine.cfg.dexamethasone.neuro_treatment_mg
    assert [e.day * 24 for e in course] == pytest.approx([10.0 + 8.0 * k for k in range(9)])
    assert all(e.value == mg for e in course)
    taper = [e.value for e in engine.events if e.note == "neurotoxicity taper"]
    assert taper == pytest.approx([2 * mg, 1.5 * mg, mg, 0.5 * mg])
    # The doses act on the cytokine model (the shared drug effects), not only in the log.
    assert (10.0, mg) in engine.effects.dex_doses


def test_grade_4_neurotoxicity_discontinues_with_dexamethasone():
    engine = engine_for(**{"treatment.regimen": "flat"})
    drive(engine, neuro=[0] * ticks(10) + [4] * ticks(5), ticks=ticks(20))
    assert [e.note for e in engine.events if e.kind == "discontinue"] == ["neuro_discontinue"]
    assert hours(engine, "dexamethasone", "neurotoxicity course")[0] == pytest.approx(10.0)


def test_a_running_course_is_not_doubled():
    engine = engine_for(**{"treatment.regimen": "flat"})
    # CRS grade 3 and neurotoxicity grade 3 start on the same tick: one course, not two.
    n = ticks(10)
    drive(engine, crs=[0] * n + [3] * ticks(5), neuro=[0] * n + [3] * ticks(5), ticks=ticks(30))
    assert len(hours(engine, "hold")) == 2
    assert hours(engine, "dexamethasone", "CRS course")[0] == pytest.approx(10.0)
    assert hours(engine, "dexamethasone", "neurotoxicity course") == []


# ------------------------------------------------------------------ rule 4: neurotoxicity at the step-up dose


def test_neurotoxicity_during_the_step_up_discontinues():
    engine = engine_for()  # rr_step_up: 9 ug/day for the first 7 days
    drive(engine, neuro=[0] * ticks(48) + [3] * ticks(12), ticks=ticks(24 * 4))
    stop = [e for e in engine.events if e.kind == "discontinue"]
    assert len(stop) == 1 and stop[0].note.startswith("neuro_hold: occurred at the step-up dose")
    assert hours(engine, "hold") == [] and engine.status == STATUS_DISCONTINUED


def test_probe_grade_3_recurring_at_9_ug_per_day_restarts_at_most_once():
    """The issue's probe: grade 3 that recurs at 9 ug/day used to hold and restart again and again."""
    engine = engine_for(**{"treatment.regimen": "flat"})
    # Grade 3 for 12 h every 5 days, for 40 days.
    neuro = ([3] * ticks(12) + [0] * ticks(108)) * 8
    neuro = [0] * ticks(10) + neuro
    drive(engine, neuro=neuro)
    kinds = [e.kind for e in engine.events]
    assert kinds.count("hold") == 1 and kinds.count("restart") == 1
    assert engine.status == STATUS_DISCONTINUED
    assert hours(engine, "restart") and engine.events[kinds.index("restart")].value == 9.0


def test_neurotoxicity_after_escalating_back_to_28_holds_again():
    """Only a toxicity at the step-up dose ends treatment: at 28 ug/day a second grade 3 holds again."""
    engine = engine_for(**{"treatment.regimen": "flat"})
    first = [0] * ticks(10) + [3] * ticks(12)
    # Restart ~3 days later at 9 ug/day, back to 28 after 7 more days; recurrence 3 days after that.
    quiet = [0] * ticks(24 * 13)
    neuro = first + quiet + [3] * ticks(12) + [0] * ticks(24 * 5)
    rates = drive(engine, neuro=neuro)
    assert 28.0 in rates[len(first) + ticks(24 * 11) : len(first) + len(quiet)]
    assert len(hours(engine, "hold")) == 2 and hours(engine, "discontinue") == []
    assert len(hours(engine, "restart")) == 2


def test_neurotoxicity_that_takes_more_than_7_days_to_resolve_discontinues():
    engine = engine_for(**{"treatment.regimen": "flat"})
    drive(engine, neuro=[0] * ticks(10) + [3] * ticks(24 * 9))
    stop = [e for e in engine.events if e.kind == "discontinue"]
    assert len(stop) == 1 and "not resolved within 7 days" in stop[0].note
    assert 7.0 < stop[0].day - 10.0 / 24 < 7.1


# ------------------------------------------------------------------ rule 3: seizures


def test_first_seizure_holds_with_an_anti_epileptic_and_a_second_discontinues():
    engine = engine_for(**{"treatment.regimen": "flat"})
    first, second = ticks(10), ticks(24 * 5)
    neuro = [0] * first + [2] * ticks(12) + [0] * ticks(24 * 8)
    statuses = []
    for i in range(len(neuro)):
        engine.step(i * DT, 0, neuro[i], {first: SEIZURE_GRADE, second: SEIZURE_GRADE}.get(i, 0))
        statuses.append(engine.status)
    assert statuses[first] == STATUS_HELD
    assert hours(engine, "seizure") == pytest.approx([first * DT, second * DT])
    assert [e.value for e in engine.events if e.kind == "anti-epileptic"] == [1.0, 2.0]
    assert [e.note for e in engine.events if e.kind == "hold"] == ["seizure_hold"]
    assert hours(engine, "dexamethasone", "neurotoxicity course")[0] == pytest.approx(first * DT)
    # Restarted (neurotoxicity <= 1 for 3 days), then the second seizure ends treatment.
    assert len(hours(engine, "restart")) == 1
    assert [e.note for e in engine.events if e.kind == "discontinue"] == ["seizure_discontinue"]
    assert engine.seizures == 2 and statuses[-1] == STATUS_DISCONTINUED


def test_a_seizure_below_the_hold_grade_does_not_hold():
    engine = engine_for(**{"treatment.regimen": "flat", "protocol.seizure_hold_grade": 4})
    rates = drive(engine, seizures={ticks(10): SEIZURE_GRADE}, ticks=ticks(20))
    assert min(rates) == 28.0 and hours(engine, "seizure") == pytest.approx([10.0])


def test_seizure_stream_is_its_own():
    ids = [v for k, v in vars(rng).items() if k.isupper() and isinstance(v, int)]
    assert rng.SEIZURE == 14 and ids.count(14) == 1


def test_seizure_hazard_follows_the_neurotoxicity_grade():
    cfg = load_config(None)
    model = SeizureModel(cfg, seed=2**64 - 5, dt_hours=DT)  # run seeds use all 64 bits
    hazards = cfg.toxicity.seizure_hazard_per_day
    assert model.probability(0) == 0.0
    for g in range(1, 5):
        assert model.probability(g) == pytest.approx(1 - math.exp(-hazards[g - 1] * DT / 24))
    assert model.probability(4) > model.probability(3) > model.probability(2)
    # No draw at grade 0; the draws are a function of (seed, tick) only.
    n = 100_000
    hits = sum(model.step(t, 4) > 0 for t in range(n))
    again = sum(SeizureModel(cfg, 2**64 - 5, DT).step(t, 4) > 0 for t in range(n))
    assert hits == again
    expected = n * model.probability(4)
    assert abs(hits - expected) < 5 * math.sqrt(expected)
    assert all(model.step(t, 0) == 0 for t in range(1000))


def test_seizures_in_a_run_are_counted_logged_and_reproducible():
    """With a seizure hazard high enough to fire at the first neurotoxicity grade, a run reports its seizures."""
    dotted = {
        "toxicity__seizure_hazard_per_day": [200.0, 200.0, 200.0, 200.0],
        "treatment__regimen": "flat",
        "simulation__days": 3.0,
        # A CNS primed from the start: neurotoxicity (and so a seizure) can come within these 3 days.
        "cytokines__neuro_priming_days": 0.0,
    }
    a, b = run(**dotted), run(**dotted)
    assert int(a.seizures) >= 1
    kinds = list(a.event_kind.values)
    assert kinds.count("seizure") == int(a.seizures) and kinds.count("anti-epileptic") == int(a.seizures)
    assert int(a.seizures) == int(b.seizures) and list(a.event_day.values) == list(b.event_day.values)
    assert int(run(treatment__regimen="flat", simulation__days=3.0).seizures) <= int(a.seizures)
    # A trial records the count per patient and rates it ("seizure").
    reads = endpoints.patient_read_outs(a, 5.0)
    assert reads["seizures"] == float(a.seizures)
    assert rates([{"trial": "t", **reads}], "t")["seizure"].successes == 1


# ------------------------------------------------------------------ rule 7: an interruption > 7 days starts a new cycle


def crs_hold(days, from_h=240.0, **overrides):
    """An engine (rr_step_up) with CRS grade 3 from ``from_h`` for ``days`` days, run for 100 days; its rates."""
    engine = engine_for(**overrides)
    rates = drive(engine, crs=[0] * ticks(from_h) + [3] * ticks(24 * days), ticks=ticks(24 * 100))
    return engine, np.asarray(rates)


def infused_days(rates) -> float:
    return float((rates > 0).sum()) * DT / 24


def test_a_hold_longer_than_7_days_starts_a_new_cycle():
    """CRS grade 3 on day 10 of cycle 1, resolved 8 days later: the restart is cycle 2, with the step-up
    dose for 7 days and its full 28 days of infusion; the rest of cycle 1 is not given."""
    engine, rates = crs_hold(8, **{"treatment.cycles": 2})
    (restart,) = [e for e in engine.events if e.kind == "restart"]
    assert restart.note.startswith("new_cycle_after_hold: cycle 2 (cycle 1 interrupted 8.04 days")
    assert engine.cycle == 2
    at = ticks(restart.day * 24)
    assert infused_days(rates[:at]) == pytest.approx(10.0, abs=DT / 24)
    new = rates[at:]
    assert infused_days(new) == pytest.approx(28.0, abs=DT / 24)
    assert (new[: ticks(24 * 28)] > 0).all()  # one contiguous cycle from the restart
    assert set(new[: ticks(24 * 7)]) == {9.0} and set(new[ticks(24 * 7) : ticks(24 * 28)]) == {28.0}


def test_a_hold_of_up_to_7_days_continues_the_same_cycle():
    """A 6-day interruption: cycle 1 continues to its 28 days of infusion, then the break, then cycle 2."""
    engine, rates = crs_hold(6, **{"treatment.cycles": 2})
    (restart,) = [e for e in engine.events if e.kind == "restart"]
    assert restart.note == ""
    at = ticks(restart.day * 24)
    assert (rates[at : at + ticks(24 * 18)] > 0).all() and not (
        rates[at + ticks(24 * 18) :][: ticks(24 * 14)] > 0
    ).any()
    assert infused_days(rates) == pytest.approx(56.0, abs=DT / 24)


def test_without_a_next_cycle_the_interrupted_one_is_given_again_in_full():
    """One planned cycle interrupted for 8 days: a new cycle of 28 days (with its step-up), not the 18 days
    left of the old one, which is what the same run gives with the rule switched off."""
    engine, rates = crs_hold(8, **{"treatment.cycles": 1})
    assert engine.cycle == 2 and infused_days(rates) == pytest.approx(10.0 + 28.0, abs=DT / 24)
    off, rates_off = crs_hold(8, **{"treatment.cycles": 1, "protocol.new_cycle_after_hold_days": 365.0})
    assert off.cycle == 1 and infused_days(rates_off) == pytest.approx(28.0, abs=DT / 24)


def test_a_hold_during_the_break_starts_no_new_cycle():
    """A hold that interrupts no infusion (between cycles) only delays the next cycle on the treatment clock."""
    engine, rates = crs_hold(9, from_h=24 * 30.0, **{"treatment.cycles": 2})
    planned = build_schedule(engine.cfg.treatment, engine.cfg.patient)
    assert engine.schedule == planned and not any("new_cycle" in e.note for e in engine.events)
    assert infused_days(rates) == pytest.approx(56.0, abs=DT / 24)


# ------------------------------------------------------------------ rule 8: dexamethasone per m2 for children


def dex_given(engine, note):
    return [e.value for e in engine.events if e.kind == "dexamethasone" and e.note == note]


@pytest.mark.parametrize(
    ("patient", "per_m2"),
    [
        ({"patient.weight_kg": 70.0, "patient.height_cm": 170.0}, False),  # adult: flat doses
        ({"patient.weight_kg": 20.0, "patient.height_cm": 115.0}, True),  # child < 45 kg
        # MT103-205 doses every child per m2 whatever the weight (the cohort's treatment.bsa_dosing_below_kg)
        ({"patient.weight_kg": 60.0, "patient.height_cm": 170.0, "treatment.bsa_dosing_below_kg": 350.0}, True),
    ],
)
def test_children_dosed_per_m2_get_dexamethasone_per_m2_capped_at_the_adult_dose(patient, per_m2):
    """Label: below 45 kg premedication 5 mg/m2 (at most 20 mg) and the CRS course 5 mg/m2 (at most 8 mg)
    every 8 h; the decision is the one that doses blinatumomab per m2."""
    engine = engine_for(**patient)
    drive(engine, crs=[0] * ticks(24 * 8) + [3] * ticks(12), ticks=ticks(24 * 12))
    cfg = engine.cfg
    bsa = cfg.patient.body_surface_area_m2
    premed, course = (min(20.0, 5.0 * bsa), min(8.0, 5.0 * bsa)) if per_m2 else (20.0, 8.0)
    assert (engine.step_up_rate < 9.0) == per_m2  # blinatumomab per m2 too (5 ug/m2/day below 1.8 m2)
    given = dex_given(engine, "premedication")  # before the infusion and before the step-up
    assert len(given) == 2 and given == pytest.approx([premed] * 2)
    assert dex_given(engine, "premedication before restart") == pytest.approx([premed])
    assert dex_given(engine, "CRS course") == pytest.approx([course] * 9)
    assert dex_given(engine, "CRS taper") == pytest.approx([2 * course, 1.5 * course, course, 0.5 * course])
    if per_m2 and bsa > 8.0 / 5.0:
        assert course == 8.0  # the adult dose caps it


def test_the_neurotoxicity_course_of_a_child_is_per_m2():
    engine = engine_for(**{"treatment.regimen": "flat", "patient.weight_kg": 20.0, "patient.height_cm": 115.0})
    drive(engine, neuro=[0] * ticks(10) + [3] * ticks(12), ticks=ticks(24 * 5))
    mg = 5.0 * engine.cfg.patient.body_surface_area_m2
    assert mg < engine.cfg.dexamethasone.neuro_treatment_mg
    assert dex_given(engine, "neurotoxicity course") == pytest.approx([mg] * 9)


# ------------------------------------------------------------------ rule 5: naming


def test_cycles_after_consolidation_are_maintenance():
    cfg = load_config(None, {"treatment.cycles": 7, "treatment.maintenance_days_off": 50.0})
    starts = [s.start_day for s in build_schedule(cfg.treatment, cfg.patient).segments if s.start_day > 7]
    gaps = np.diff([0.0, *starts])
    # Induction (1-2) and consolidation (3-5): 28 + 14; maintenance cycle 6: 28 + 50.
    assert list(gaps) == pytest.approx([42.0] * 5 + [78.0])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("treatment.consolidation_days_off", "treatment.maintenance_days_off"),
        ("treatment.cycles_before_long_break", "treatment.cycles_before_maintenance"),
    ],
)
def test_a_renamed_key_names_its_new_key(tmp_path, old, new):
    with pytest.raises(ConfigError) as err:
        load_config(None, {old: 5})
    assert f"'{new}'" in str(err.value) and "renamed" in str(err.value)
    section, key = old.split(".")
    path = tmp_path / "old.toml"
    path.write_text(f"[{section}]\n{key} = 5\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"'{new}'" in str(err.value) and "renamed" in str(err.value)


# ------------------------------------------------------------------ rule 6: cycles of custom schedules


def custom(schedule, **more):
    return load_config(None, {"treatment.regimen": "custom", "treatment.schedule": schedule, **more})


TWO_CYCLES = [
    {"start_day": 0.0, "end_day": 7.0, "dose_ug_per_day": 9.0},
    {"start_day": 7.0, "end_day": 28.0, "dose_ug_per_day": 28.0},
    {"start_day": 42.0, "end_day": 70.0, "dose_ug_per_day": 28.0},
]


def test_custom_schedule_cycles_are_inferred_from_the_gaps():
    cfg = custom(TWO_CYCLES)
    assert [s.cycle for s in build_schedule(cfg.treatment, cfg.patient).segments] == [1, 1, 2]
    # "After cycle 1" is read at the true end of cycle 1, not at the end of the schedule.
    assert endpoints.assessment_days(cfg) == pytest.approx([28.0, 70.0])
    # An interruption of up to 7 days continues the cycle; a longer one starts a new cycle.
    short = custom([{"start_day": 0.0, "end_day": 10.0, "dose_ug_per_day": 28.0}, TWO_CYCLES[2] | {"start_day": 17.0}])
    assert [s.cycle for s in build_schedule(short.treatment, short.patient).segments] == [1, 1]
    long = custom([{"start_day": 0.0, "end_day": 10.0, "dose_ug_per_day": 28.0}, TWO_CYCLES[2] | {"start_day": 17.5}])
    assert [s.cycle for s in build_schedule(long.treatment, long.patient).segments] == [1, 2]


def test_custom_schedule_cycles_can_be_named():
    named = [dict(TWO_CYCLES[0], cycle=1), dict(TWO_CYCLES[1], cycle=2), dict(TWO_CYCLES[2], cycle=3)]
    cfg = custom(named)
    assert [s.cycle for s in build_schedule(cfg.treatment, cfg.patient).segments] == [1, 2, 3]
    assert endpoints.assessment_days(cfg) == pytest.approx([7.0, 28.0])
    with pytest.raises(ConfigError, match="must not decrease"):
        custom([dict(TWO_CYCLES[0], cycle=2), dict(TWO_CYCLES[2], cycle=1)])


def test_custom_two_cycle_run_reads_mrd_after_cycle_1():
    ds = run(
        treatment__regimen="custom",
        treatment__schedule=TWO_CYCLES,
        simulation__days=30.0,
        simulation__lattice_size=32,
    )
    assert set(np.unique(ds.cycle.values)) <= {1, 2} and int(ds.cycle.sel(time=27.0, method="nearest")) == 1
    # Cycle 1 ends on day 28, inside the 30-day run: its MRD response is read (before, it waited for day 70).
    assert not math.isnan(float(ds.mrd_response))
