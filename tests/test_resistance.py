"""Resistance: CD19 loss, lineage switch, exhaustion and PD-1/PD-L1, checkpoint inhibitors, chemotherapy."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import blinasim
from blinasim.clinical.combination import CombinationDrugs
from blinasim.params.schema import load_config
from tests.conftest import NO_TOX_RULES, agents, run, total

NO_TOXICITY_RULES = {
    "treatment__dexamethasone_premedication": False,
    "treatment__dexamethasone_prephase": "never",
    "protocol__crs_hold_grade": 5,
    "protocol__crs_discontinue_grade": 5,
    "protocol__tocilizumab_grade": 5,
    "protocol__neuro_hold_grade": 5,
    "protocol__neuro_discontinue_grade": 5,
}


def in_vitro(schedule, days, **extra):
    """An in-vitro-like co-culture: a full lattice of blasts replenished by division, a fixed
    set of effector T-cells (no regulatory T-cells, whose suppression test_tregs.py covers;
    no division, death or contraction), no blood and no trafficking, a constant drug level
    while infused, and no toxicity rules."""
    cfg = {
        "simulation__lattice_size": 48,
        "simulation__days": days,
        "simulation__record_every_hours": 24.0,
        "patient__marrow_blast_fraction": 0.9,
        "patient__marrow_cellularity": 1.0,
        "patient__normal_b_fraction": 0.0,
        "patient__t_cells_per_ul": 0.0,
        "patient__b_cells_per_ul": 0.0,
        "patient__peripheral_blasts_per_ul": 0.0,
        "patient__treg_fraction_of_cd4": 0.0,
        "disease__blast_birth_rate_per_day": 1.0,
        "disease__blast_death_rate_per_day": 0.0,
        "tcells__death_rate_per_day": 0.0,
        "tcells__activated_division_per_day": 0.0,
        "tcells__contraction_rate_per_day": 0.0,
        "treatment__regimen": "custom",
        "treatment__schedule": schedule,
        **NO_TOXICITY_RULES,
    }
    cfg.update(extra)
    return run(**cfg)


def kills_per_t_cell_per_day(ds, start, end):
    window = ds.sel(time=slice(start + 1e-9, end))
    return float((window.kills / window.t_cells.sum("compartment")).mean())


def test_no_loss_no_switch_means_no_cd19_negative_or_switched_cell():
    ds = run(
        treatment__regimen="flat",
        simulation__days=10.0,
        simulation__lattice_size=64,
        patient__kmt2a_rearranged=True,
        disease__cd19_loss_per_division=0.0,
        disease__lineage_switch_per_division_kmt2a=0.0,
        disease__lineage_switch_per_division=0.0,
    )
    assert float(ds.blasts_cd19_negative.max()) == 0.0
    assert float(ds.blasts_lineage_switched.max()) == 0.0
    assert float(ds.cumulative_cd19_loss_events[-1]) == 0.0


def test_cd19_negative_share_rises_under_pressure():
    """With CD19 loss on (1% of divisions) and strong killing, CD19-negative blasts escape:
    their share of surviving blasts rises over time (start, middle and end, 2 seeds)."""
    shares = []
    for seed in range(2):
        ds = run(
            treatment__regimen="flat",
            simulation__days=16.0,
            simulation__lattice_size=64,
            simulation__seed=seed,
            disease__cd19_loss_per_division=0.01,
            patient__marrow_t_cell_fraction=0.15,
        )
        neg = total(ds, "blasts_cd19_negative")
        all_blasts = total(ds, "blasts")
        share = np.where(all_blasts > 0, neg / np.maximum(all_blasts, 1e-300), np.nan)
        shares.append([share[np.searchsorted(ds.time.values, d)] for d in (2.0, 8.0, 16.0)])
    mean = np.nanmean(shares, axis=0)
    assert mean[0] < mean[1] < mean[2], mean
    assert mean[2] > 5 * max(mean[0], 1e-3)


@pytest.mark.slow
def test_lineage_switch_happens_overwhelmingly_in_kmt2a_patients():
    """Default rates, default lattice, 4 weeks of flat dosing, 2 seeds per group."""

    def switches(kmt2a):
        out = 0
        for seed in range(2):
            ds = run(
                treatment__regimen="flat",
                simulation__days=28.0,
                simulation__lattice_size=160,
                simulation__seed=seed,
                patient__kmt2a_rearranged=kmt2a,
                # the switch is the claim: dexamethasone's debulking (fewer dividing blasts) is off here
                dexamethasone__blast_kill_per_day_max=0.0,
            )
            out += int(agents(ds, ds.cumulative_lineage_switch_events.values)[-1])
        return out

    with_kmt2a, without = switches(True), switches(False)
    assert with_kmt2a >= 5
    assert with_kmt2a >= 20 * max(without, 1) or without == 0


def test_lineage_switch_rate_rises_with_immune_pressure():
    """Switches per blast birth under treatment (IFN-gamma, immune pressure) against none. The
    per-division rate is high enough (1e-2) for tens of events: at 1e-3 there are a handful and
    the ratio is noise."""
    common = {
        "simulation__days": 14.0,
        "simulation__lattice_size": 64,
        "patient__kmt2a_rearranged": True,
        "disease__lineage_switch_per_division_kmt2a": 1e-2,
    }
    treated = run(treatment__regimen="flat", **common)
    untreated = run(treatment__regimen="none", **common)
    for ds in (treated, untreated):
        assert float(ds.cumulative_lineage_switch_events[-1]) / ds.attrs["cells_per_agent"] >= 10

    def per_birth(ds):
        births = float(ds.cumulative_births.sel(population="blast")[-1])
        return float(ds.cumulative_lineage_switch_events[-1]) / births

    assert per_birth(treated) > 2 * per_birth(untreated)


@pytest.mark.slow
def test_continuous_exposure_exhausts_killing_and_a_break_restores_it():
    """Philipp 2022 in silico: under continuous exposure killing per T-cell falls over 4 weeks
    (week 4 below half of week 1); after 3 weeks on, a 1-week treatment-free interval
    restores it (the week after the break kills > 1.5x the week before it)."""
    on = {"start_day": 0.0, "end_day": 35.0, "dose_ug_per_day": 28.0}
    continuous = in_vitro([on], 35.0)
    week1 = kills_per_t_cell_per_day(continuous, 0, 7)
    week4 = kills_per_t_cell_per_day(continuous, 21, 28)
    assert week4 < 0.5 * week1
    exhausted = continuous.t_cells_exhausted.sum("compartment") / continuous.t_cells.sum("compartment")
    assert float(exhausted.sel(time=28.0)) > 0.5 > float(exhausted.sel(time=7.0))

    rest = in_vitro(
        [
            {"start_day": 0.0, "end_day": 21.0, "dose_ug_per_day": 28.0},
            {"start_day": 28.0, "end_day": 35.0, "dose_ug_per_day": 28.0},
        ],
        35.0,
    )
    before = kills_per_t_cell_per_day(rest, 14, 21)
    after = kills_per_t_cell_per_day(rest, 28, 35)
    assert after > 1.5 * before
    assert after > 1.5 * kills_per_t_cell_per_day(continuous, 28, 35)


@pytest.mark.slow
def test_anti_pd1_helps_only_when_pd_l1_is_there():
    """Same seed (common random numbers) with and without nivolumab: with PD-L1 pinned at 1
    killing rises; with PD-L1 pinned at 0 the runs are identical."""
    on = [{"start_day": 0.0, "end_day": 21.0, "dose_ug_per_day": 28.0}]
    high = {"disease__pdl1_baseline": 1.0, "disease__pdl1_max": 1.0}
    zero = {"disease__pdl1_baseline": 0.0, "disease__pdl1_max": 0.0}
    kills_high = [
        float(in_vitro(on, 21.0, treatment__checkpoint_inhibitor=c, **high).kills.sum()) for c in ("none", "nivolumab")
    ]
    assert kills_high[1] > 1.1 * kills_high[0]
    without = in_vitro(on, 21.0, treatment__checkpoint_inhibitor="none", **zero)
    with_nivo = in_vitro(on, 21.0, treatment__checkpoint_inhibitor="nivolumab", **zero)
    assert float(with_nivo.pd1_occupancy.max()) > 0.8
    for name in ("kills", "blasts", "t_cells", "t_cells_exhausted"):
        xr.testing.assert_identical(with_nivo[name], without[name])


def test_checkpoint_pk_follows_the_label_schedules():
    nivo = CombinationDrugs(load_config(None, {"treatment.checkpoint_inhibitor": "nivolumab"}), 0.0).anti_pd1
    assert nivo.dose_days(42.0) == [0.0, 14.0, 28.0, 42.0]
    c0 = nivo.concentration_ug_per_ml(0.0)
    assert c0 == pytest.approx(240.0 / 6.8)
    assert nivo.concentration_ug_per_ml(13.99) == pytest.approx(c0 * 0.5 ** (13.99 / 25.0))
    pembro = CombinationDrugs(load_config(None, {"treatment.checkpoint_inhibitor": "pembrolizumab"}), 3.0).anti_pd1
    assert pembro.dose_days(45.0) == [3.0, 24.0, 45.0] and pembro.concentration_ug_per_ml(2.0) == 0.0
    drugs = CombinationDrugs(load_config(None, {"treatment.ipilimumab": True, "patient.weight_kg": 80.0}), 0.0)
    assert drugs.anti_ctla4.dose_mg == 80.0 and drugs.pd1_occupancy(5.0) == 0.0
    assert 0.8 < drugs.ctla4_blockade(1.0) < 1.0


def test_chemotherapy_lowers_blasts_and_t_cells_while_blinatumomab_spares_non_b_cells():
    """Against the untreated course of the same patient (same seed): chemotherapy depletes
    blasts, T-cells and other marrow cells; blinatumomab depletes blasts and normal B cells
    but not other marrow cells (>= 97% of untreated at every record) nor T-cells."""
    common = {"simulation__days": 7.0, "simulation__lattice_size": 64, "patient__marrow_blast_fraction": 0.5}
    untreated = run(treatment__regimen="none", **common)
    chemo = run(treatment__regimen="none", treatment__chemotherapy="salvage", **common)
    blina = run(treatment__regimen="flat", **common, **NO_TOX_RULES)  # the killing, not the toxicity rules
    for ds in (chemo, blina):
        assert total(ds, "blasts")[-1] < 0.6 * total(untreated, "blasts")[-1]
    assert total(chemo, "t_cells")[-1] < 0.5 * total(untreated, "t_cells")[-1]
    assert chemo.other_marrow_cells.values[-1] < 0.3 * untreated.other_marrow_cells.values[-1]
    assert (blina.other_marrow_cells.values >= 0.97 * untreated.other_marrow_cells.values).all()
    assert (total(blina, "t_cells") >= 0.97 * total(untreated, "t_cells")).all()
    assert float(blina.normal_b_kills.sum()) > 0
    assert total(blina, "normal_b_cells")[-1] < total(untreated, "normal_b_cells")[-1]


def test_chemotherapy_courses_follow_the_schedule():
    drugs = CombinationDrugs(
        load_config(None, {"treatment.chemotherapy": "salvage", "treatment.chemotherapy_start_day": 2.0}), 0.0
    )
    assert drugs.chemo_days == [(2.0, 7.0), (30.0, 35.0)]
    assert [drugs.chemotherapy_active(d) for d in (1.9, 2.0, 6.9, 7.0, 31.0)] == [False, True, True, False, True]
    with pytest.raises(blinasim.ConfigError, match="overlap"):
        load_config(None, {"chemotherapy.interval_days": 3.0})


def test_pre_existing_escape_clones_and_pd_l1_induction():
    ds = run(
        simulation__days=3.0,
        simulation__lattice_size=64,
        treatment__regimen="flat",
        disease__cd19_negative_fraction=0.2,
        **NO_TOXICITY_RULES,
    )
    share = total(ds, "blasts_cd19_negative")[0] / total(ds, "blasts")[0]
    assert 0.15 < share < 0.25
    # PD-L1 starts at its baseline and rises once IFN-gamma appears.
    assert float(ds.pdl1_mean[0]) == pytest.approx(0.05, rel=1e-6)
    assert float(ds.pdl1_mean.max()) > 0.3


def test_a_checkpoint_inhibitor_alone_leaves_the_leukemia_untreated():
    """The documented decision (docs/resistance.md): PD-1 blockade only releases a brake on
    blinatumomab-bridged killing, so nivolumab alone occupies PD-1 and changes nothing else."""
    common = {
        "simulation__lattice_size": 40,
        "simulation__days": 14.0,
        "treatment__regimen": "none",
        "disease__pdl1_baseline": 0.5,
    }
    untreated = run(**common)
    alone = run(treatment__checkpoint_inhibitor="nivolumab", **common)
    assert float(alone.pd1_occupancy.max()) > 0.8
    for name in ("kills", "blasts", "t_cells", "marrow_blast_fraction"):
        xr.testing.assert_identical(alone[name], untreated[name])
