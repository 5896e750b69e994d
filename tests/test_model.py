"""Behaviour of the whole model: invariants, drug effects, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import blinasim
from blinasim.core.model import PHASES, POPULATIONS, BlinatumomabModel
from blinasim.core.output import PROVENANCE_ATTRS, UNITLESS
from blinasim.core.phases import with_runs
from blinasim.core.processes import encounter
from tests.conftest import (
    CONTRACT_SCALARS,
    CONTRACT_TIME,
    CONTRACT_TIME_COMPARTMENT,
    NO_TOX_RULES,
    agents,
    make_config,
    run,
    total,
)


def test_dataset_follows_the_output_contract():
    ds = run(simulation__days=1.0)
    assert list(ds.compartment.values) == ["marrow", "blood"]
    assert ds.time.attrs["units"] == "day"
    for name in CONTRACT_TIME:
        assert ds[name].dims == ("time",), name
    for name in CONTRACT_TIME_COMPARTMENT:
        assert ds[name].dims == ("time", "compartment"), name
    for name in CONTRACT_SCALARS:
        assert ds[name].dims == (), name
    for name, var in ds.variables.items():
        # CF: strings and the event log's mixed-unit value carry no units (blinasim.core.output.UNITLESS)
        assert "units" in var.attrs or name in ("compartment", "population", *UNITLESS), name
        assert "units" not in var.attrs or var.attrs["units"] != "cells", name  # not a UDUNITS unit
        assert "long_name" in var.attrs, name
    for key in ("config", "seed", "blinasim_version", "numpy_version", "numba_version", "mesa_version"):
        assert key in ds.attrs
    assert blinasim.validate_config(__import__("json").loads(ds.attrs["config"])).simulation.days == 1.0


def test_phase_order_is_the_documented_one():
    names = [p.name for p in PHASES]
    assert names == [
        "protocol",
        "pk",
        "tcell_trafficking",
        "target_trafficking",
        "motility",
        "encounter",
        "killing",
        "tcell_fate",
        "tcell_sort",
        "cytokines",
        "chemotherapy",
        "glucocorticoid",
        "blast_fate",
        "blast_scale",
        "normal_b_supply",
        "marrow_turnover",
        "target_compaction",
        "record",
    ]
    clocks = {p.name: p.clock for p in PHASES}
    slow = {"target_trafficking", "tcell_fate", "tcell_sort", "chemotherapy", "blast_fate", "normal_b_supply"}
    slow |= {"glucocorticoid", "blast_scale", "marrow_turnover", "target_compaction"}
    assert {name for name, clock in clocks.items() if clock == "slow"} == slow
    assert clocks["record"] == "record"
    assert all(clock == "fast" for name, clock in clocks.items() if name not in slow | {"record"})


def test_no_drug_no_synapse_no_kill():
    ds = run(treatment__regimen="none", simulation__days=3.0)
    assert float(ds.bite_concentration.max()) == 0.0
    assert float(ds.t_cells_engaged.max()) == 0.0
    assert float(ds.kills.sum()) == 0.0
    assert float(ds.normal_b_kills.sum()) == 0.0


@pytest.mark.parametrize("rate", [9.0, 28.0, 200.0])
def test_no_t_cells_no_kill_at_any_drug_level(rate):
    ds = run(
        treatment__regimen="custom",
        treatment__schedule=[{"start_day": 0.0, "end_day": 3.0, "dose_ug_per_day": rate}],
        patient__t_cells_per_ul=0.0,
        patient__marrow_t_cell_fraction=0.0,
        simulation__days=3.0,
    )
    assert float(ds.bite_concentration.max()) > 0
    assert float(total(ds, "t_cells").max()) == 0.0
    assert float(ds.kills.sum()) == 0.0 and float(ds.normal_b_kills.sum()) == 0.0


def test_untreated_blasts_grow_at_the_configured_net_rate():
    """Birth 0.105/day, death 0.035/day: E[N(t)] = N0 exp(0.07 t) (exponential clocks).

    At 1% burden contact inhibition is negligible. Tolerance: the standard error of
    log(N_T / N_0) for a birth-death process is sqrt((b+d)/(b-d) (1-exp(-rT)) / N0)
    ~ 0.044 per seed here (N0 ~ 650, T = 14 d), i.e. 0.003/day; over 6 seeds the SE
    of the mean rate is ~0.0013/day; we accept +-0.006/day (~4.5 SE).
    """
    rates = []
    for seed in range(6):
        ds = run(
            treatment__regimen="none",
            patient__marrow_blast_fraction=0.01,
            patient__peripheral_blasts_per_ul=0.0,
            simulation__lattice_size=280,
            simulation__days=14.0,
            simulation__record_every_hours=24.0,
            simulation__seed=seed,
        )
        n = agents(ds, total(ds, "blasts"))
        rates.append(np.log(n[-1] / n[0]) / 14.0)
    assert np.mean(rates) == pytest.approx(0.07, abs=0.006)


def test_clinical_drug_level_kills_blasts_and_normal_b():
    ds = run(treatment__regimen="flat", simulation__days=6.0, simulation__lattice_size=64)
    blasts = total(ds, "blasts")
    normal_b = total(ds, "normal_b_cells")
    assert blasts[-1] < 0.8 * blasts[0]
    assert normal_b[-1] < 0.8 * normal_b[0]
    assert float(ds.kills.sum()) > 0 and float(ds.normal_b_kills.sum()) > 0
    assert float(ds.t_cells_engaged.max()) > 0


def test_higher_effector_to_target_ratio_kills_faster():
    def remaining(t_fraction):
        out = []
        for seed in range(3):
            ds = run(
                treatment__regimen="flat",
                patient__marrow_t_cell_fraction=t_fraction,
                simulation__days=4.0,
                simulation__lattice_size=64,
                simulation__seed=seed,
                **NO_TOX_RULES,  # the killing, not the protocol's response to toxicity
            )
            b = total(ds, "blasts")
            out.append(b[-1] / b[0])
        return np.mean(out)

    assert remaining(0.15) < remaining(0.03) - 0.05


def test_counts_are_never_negative_and_births_minus_deaths_balance():
    ds = run(
        treatment__regimen="flat", simulation__days=5.0, simulation__lattice_size=64, patient__marrow_blast_fraction=0.4
    )
    births = agents(ds, ds.cumulative_births)
    deaths = agents(ds, ds.cumulative_deaths)
    populations = {
        "blast": total(ds, "blasts"),
        "normal_b": total(ds, "normal_b_cells"),
        "t_cell": total(ds, "t_cells"),
        "other_marrow": ds.other_marrow_cells.values,
    }
    assert list(ds.population.values) == list(POPULATIONS)
    for i, name in enumerate(POPULATIONS):
        n = agents(ds, populations[name])
        assert (n >= 0).all(), name
        np.testing.assert_array_equal(n - n[0], births[:, i] - deaths[:, i], err_msg=name)
    for name in ("blasts", "normal_b_cells", "t_cells", "t_cells_engaged", "t_cells_exhausted"):
        assert float(ds[name].min()) >= 0.0
    # Something actually happened in every population.
    assert (births[-1] > 0).all() and (deaths[-1] > 0).all()


def without_provenance(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    out.attrs = {k: v for k, v in ds.attrs.items() if k not in PROVENANCE_ATTRS}
    return out


def test_same_seed_is_bit_identical_and_different_seeds_differ():
    a = run(treatment__regimen="flat", simulation__days=2.0)
    b = run(treatment__regimen="flat", simulation__days=2.0)
    # Only the creation date and the commit may differ: metadata, not results.
    assert "date_created" in a.attrs
    xr.testing.assert_identical(without_provenance(a), without_provenance(b))
    for name in a.data_vars:
        assert a[name].values.tobytes() == b[name].values.tobytes(), name
    c = run(treatment__regimen="flat", simulation__days=2.0, simulation__seed=99)
    assert not np.array_equal(a.blasts.values, c.blasts.values)


def test_compaction_and_store_growth_do_not_change_counts():
    """Compacting more or less often reorders slots; the model stays consistent."""
    for fraction in (0.01, 1.0):
        model = BlinatumomabModel(
            make_config(treatment__regimen="flat", simulation__days=3.0, simulation__compact_dead_fraction=fraction)
        )
        model.run()
        st = model.state
        tg = st.targets
        pos = tg.view("pos")
        marrow = pos >= 0
        # Every marrow target sits on a site that points back at it.
        assert (st.site_slot[pos[marrow]] == np.flatnonzero(marrow)).all()
        partners = st.tcells.view("partner")
        engaged = partners >= 0
        assert (tg.engaged[partners[engaged]] == 1).all()
        assert int(tg.view("engaged").sum()) == int(engaged.sum())


def test_blood_target_list_equals_a_full_scan_at_every_encounter():
    """The encounter phase keeps the CD19+ blood targets between slow steps instead of
    scanning the target store every tick; the free ones it hands to the kernel must
    be exactly those a full scan finds, in slot order."""
    model = BlinatumomabModel(
        make_config(
            treatment__regimen="flat",
            simulation__days=1.0,
            patient__marrow_nucleated_cells=3e10,
            patient__peripheral_blasts_per_ul=2e4,
            tcells__blood_contact_ul_per_h=1.0,
            simulation__compact_dead_fraction=0.02,
        )
    )
    checked = []

    def checked_encounter(model):
        st, tg = model.state, model.state.targets
        pos, cd19, engaged = tg.view("pos"), tg.view("cd19"), tg.view("engaged")
        listed = np.flatnonzero((pos == -1) & (cd19 > 0.0))
        free = np.flatnonzero((pos == -1) & (cd19 > 0.0) & (engaged == 0))
        encounter.run(model)
        if model.bridge_factor > 0.0:
            np.testing.assert_array_equal(st.blood_targets, listed)
            np.testing.assert_array_equal(st.scratch[: free.size], free)
            checked.append(free.size)

    model.phases = with_runs({p.name: checked_encounter if p.name == "encounter" else p.run for p in PHASES})
    model.run()
    assert len(checked) == model.n_ticks and min(checked) > 0
    assert model.killed_by_kind.sum() > 0


def test_t_cell_store_is_sorted_by_place_after_every_slow_step():
    model = BlinatumomabModel(make_config(treatment__regimen="flat", simulation__days=0.5))
    n_sites = model.state.n_sites
    for _ in range(model.n_ticks):
        slow = model.is_slow_tick
        model.step()
        if slow:
            tc = model.state.tcells
            pos = tc.view("pos")
            assert tc.dead == 0 and (pos != -2).all()
            key = np.where(pos == -1, n_sites, pos)
            assert (np.diff(key) >= 0).all()


def test_t_cells_redistribute_out_of_blood_and_return():
    ds = run(
        treatment__regimen="flat",
        simulation__days=4.0,
        simulation__lattice_size=96,
        patient__marrow_blast_fraction=0.05,
    )
    blood_t = ds.t_cells.sel(compartment="blood").values
    nadir = int(np.argmin(blood_t))
    assert ds.time.values[nadir] < 1.0
    assert blood_t[nadir] < 0.5 * blood_t[0]
    assert blood_t[-1] > 2 * blood_t[nadir]


# ------------------------------------------------------------- output conventions (CF; issue 17)


def test_output_follows_cf_conventions():
    """Coded integers carry flag_values/flag_meanings that cover their values; per-interval sums and maxima carry
    cell_methods; counts of cells have the UDUNITS-valid units "1"; the string relapse_type has no units."""
    import json
    from datetime import datetime, timedelta

    from blinasim.core.output import FLAGS, INTERVAL_METHODS

    ds = run(simulation__days=2.0)
    for name in ("treatment_status", "crs_grade", "neurotoxicity_grade", "max_crs_grade", "max_neurotoxicity_grade"):
        var = ds[name]
        assert var.dtype.kind == "i", name
        values = np.asarray(var.attrs["flag_values"])
        meanings = var.attrs["flag_meanings"].split()
        assert values.dtype == var.dtype and len(values) == len(meanings), name
        assert np.isin(np.unique(var.values), values).all(), name
    assert set(FLAGS) <= set(ds.data_vars)
    assert ds.treatment_status.attrs["flag_meanings"] == "no_infusion_planned infusing withheld discontinued"
    assert 1 in ds.treatment_status.values  # the infusion ran: a real code, not only the default
    hours = ds.time.values[1] * 24 - ds.time.values[0] * 24
    for name, method in INTERVAL_METHODS.items():
        assert ds[name].attrs["cell_methods"] == f"time: {method} (interval: {hours:g} hours)", name
    assert ds.kills.attrs["cell_methods"].startswith("time: sum")
    assert ds.crs_grade.attrs["cell_methods"].startswith("time: maximum")
    assert ds.blasts.attrs["units"] == "1" and ds.blasts.attrs["long_name"].startswith("number of ")
    assert "units" not in ds.relapse_type.attrs and str(ds.relapse_type.values) in ds.relapse_type.attrs["long_name"]
    # Creation date (ISO 8601, UTC) and the code's version.
    created = datetime.fromisoformat(ds.attrs["date_created"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(created.tzinfo) - created) < timedelta(hours=1)
    assert ds.attrs["blinasim_version"] == blinasim.__version__
    # The event log as variables on `event`, the same as the JSON attribute.
    logged = json.loads(ds.attrs["events"])
    assert ds.event_day.dims == ("event",) and ds.sizes["event"] == len(logged) > 0
    assert list(ds.event_kind.values) == [e["kind"] for e in logged]
    assert list(ds.event_day.values) == [e["day"] for e in logged]
    assert list(ds.event_value.values) == [e["value"] for e in logged]
    assert list(ds.event_note.values) == [e["note"] for e in logged]


def test_the_commit_is_recorded_in_a_checkout_and_never_fails_without_git(monkeypatch):
    import shutil
    import subprocess
    from pathlib import Path

    from blinasim import version

    root = Path(version.__file__).resolve().parents[2]
    if shutil.which("git") and (root / ".git").exists():
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
        version.source_commit.cache_clear()
        assert version.source_commit().startswith(head.stdout.strip())
    monkeypatch.setenv("PATH", "")  # no git at all
    version.source_commit.cache_clear()
    try:
        commit = version.source_commit()  # no exception; at most the installed metadata's commit
        assert commit is None or isinstance(commit, str)
    finally:
        version.source_commit.cache_clear()
