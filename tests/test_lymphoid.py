"""Spleen and lymph nodes (docs/model.md 7.19): most of the T-cells, the extramedullary leukemia,
and the share of the cytokine surge that grows with burden."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blinasim.clinical.lymphoid import LymphoidTissue, engaged_at_steady_state, synapse_probability
from blinasim.core.model import BlinatumomabModel
from blinasim.core.processes import glucocorticoid
from blinasim.params.schema import load_config
from tests.conftest import NO_TOX_RULES, make_config, run

SMALL = {"simulation__lattice_size": 40, "simulation__days": 3.0, "lymphoid__enabled": True, **NO_TOX_RULES}


@pytest.mark.parametrize(
    ("t", "b", "o", "rate"),
    [(6e10, 8e10, 4.5e10, 0.5), (6e10, 1e7, 4.5e10, 1.3), (1e9, 5e11, 1e9, 0.02), (3e10, 3e10, 0.0, 2.0)],
)
def test_engaged_t_cells_are_the_steady_state_of_synapse_formation(t, b, o, rate):
    """The closed form is where formation ``rate (T - E)(B - E) / N`` balances ``E / tau``, and the ODE
    integrated from no synapses settles on it; it is below both T-cells and targets."""
    tau = 0.75
    e = engaged_at_steady_state(t, b, o, rate, tau)
    n = t + b + o
    assert 0.0 < e < min(t, b)
    assert rate * (t - e) * (b - e) / n == pytest.approx(e / tau, rel=1e-9)
    x, h = 0.0, 0.001
    for _ in range(40_000):  # 40 h, explicit Euler far inside its stability limit
        x += h * (rate * (t - x) * (b - x) / n - x / tau)
    assert x == pytest.approx(e, rel=1e-4)


def test_nothing_engages_without_drug_targets_or_t_cells():
    assert engaged_at_steady_state(0.0, 1e10, 1e10, 1.0, 0.75) == 0.0
    assert engaged_at_steady_state(1e10, 0.0, 1e10, 1.0, 0.75) == 0.0
    assert engaged_at_steady_state(1e10, 1e10, 1e10, 0.0, 0.75) == 0.0
    assert synapse_probability(load_config(None), 0.0) == 0.0


def test_the_tissue_at_entry_follows_the_blood_t_cells_and_the_marrow_leukemia():
    cfg = load_config(
        None, {"lymphoid.enabled": True, "patient.t_cells_per_ul": 400.0, "patient.marrow_blast_fraction": 0.3}
    )
    tissue = LymphoidTissue.for_patient(cfg, 5e6)
    lc = cfg.lymphoid
    assert tissue.t_cells == pytest.approx(lc.t_cells_per_blood_t_cell * 400.0 * 5e6)
    assert tissue.other_cells == pytest.approx(lc.other_cells_per_t_cell * tissue.t_cells)
    assert tissue.blasts == pytest.approx(lc.blasts_per_marrow_blast * 0.3 * cfg.patient.marrow_nucleated_cells)
    # off (the default): no T-cells in the tissue, nothing to engage, and nothing ever changes
    off = LymphoidTissue.for_patient(load_config(None, {"patient.marrow_blast_fraction": 0.3}), 5e6)
    assert off.t_cells == 0.0 and off.blasts == 0.0 and off.idle


def test_without_drug_the_extramedullary_blasts_grow_at_the_untreated_rate():
    """No blinatumomab, no dexamethasone: ``B(t) = B0 exp((birth - death) t)``, no synapses."""
    ds = run(
        **SMALL,
        treatment__regimen="none",
        treatment__dexamethasone_prephase="never",
        dexamethasone__premedication_mg=0.0,
    )
    cfg = make_config(**SMALL)
    net = cfg.disease.blast_birth_rate_per_day - cfg.disease.blast_death_rate_per_day
    b = ds.lymphoid_blasts.values
    t = ds.time.values
    assert b[0] > 0
    np.testing.assert_allclose(b, b[0] * np.exp(net * t), rtol=1e-9)
    assert float(ds.lymphoid_engaged.max()) == 0.0


def test_under_blinatumomab_the_lymphoid_t_cells_clear_the_extramedullary_blasts():
    """The tissue holds many more T-cells than blasts: in the first week of the step-up dose its
    blasts fall a thousand-fold, and never rise while the drug is infused."""
    ds = run(**{**SMALL, "simulation__days": 7.0}, patient__marrow_blast_fraction=0.4)
    b = ds.lymphoid_blasts.values
    assert float(ds.lymphoid_engaged.max()) > 0
    assert np.all(np.diff(b[1:]) <= 0.0)
    assert b[-1] < 1e-3 * b[0]


def test_a_pre_phase_debulks_the_extramedullary_blasts_as_it_does_the_marrow():
    # The mechanism at the debulking rate's prior (0.2/day), not at its calibrated value, so the
    # hazard is large enough to tell the two compartments apart whatever the calibration sets.
    common = {
        **SMALL,
        "simulation__days": 0.5,
        "patient__marrow_blast_fraction": 0.8,
        "treatment__regimen": "none",
        "dexamethasone__blast_kill_per_day_max": 0.2,
    }
    never = run(**common, treatment__dexamethasone_prephase="never")
    always = run(**common, treatment__dexamethasone_prephase="always")
    model = BlinatumomabModel(make_config(**common, treatment__dexamethasone_prephase="always"))
    hazard = glucocorticoid.cumulative_hazard(model, model.glucocorticoid_clock_h, 0.0)
    assert hazard > 0.1
    ratio = float(always.lymphoid_blasts[0] / never.lymphoid_blasts[0])
    assert ratio == pytest.approx(math.exp(-hazard), rel=1e-12)


def test_the_lymphoid_surge_grows_with_burden():
    """At equal marrow T-cells (the marrow holds its T-cell fraction at any burden) and without a
    pre-phase, the IFN-gamma the tissue adds, and its engaged T-cells, rise with the leukemia."""
    common = {**SMALL, "simulation__days": 2.5, "treatment__dexamethasone_prephase": "never"}
    added, engaged = [], []
    for x in (0.1, 0.3, 0.6):
        on = run(**common, patient__marrow_blast_fraction=x)
        off = run(**{**common, "lymphoid__enabled": False}, patient__marrow_blast_fraction=x)
        added.append(float(on.ifng.max() - off.ifng.max()))
        engaged.append(float(on.lymphoid_engaged.max()))
    assert 0.0 < added[0] < added[1] < added[2]
    assert engaged[0] < engaged[1] < engaged[2]


def test_switched_off_the_tissue_changes_nothing():
    """Off (the default), or on without T-cells or without blasts, the tissue is idle; the runs are the
    same bit for bit, the tissue's variables zero."""
    a = run(**{**SMALL, "lymphoid__enabled": False})
    b = run(**SMALL, lymphoid__t_cells_per_blood_t_cell=0.0)
    c = run(**SMALL, lymphoid__blasts_per_marrow_blast=0.0)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
        np.testing.assert_array_equal(a[name].values, c[name].values, err_msg=name)
    assert float(abs(a.lymphoid_blasts).max()) == 0.0 and float(abs(a.lymphoid_engaged).max()) == 0.0
