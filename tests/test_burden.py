"""Burden through mechanisms: dexamethasone debulking (the pre-phase's clinical purpose), the
marrow effector-to-target ratio, and what they do to response and CRS."""

from __future__ import annotations

import numpy as np
import pytest

from blinasim.kernels.glucocorticoid import lymphoblast_apoptosis
from blinasim.kernels.layout import (
    KIND_BLAST,
    KIND_NORMAL_B,
    PHENO_CD19_NEGATIVE,
    PHENO_CD19_POSITIVE,
    PHENO_MYELOID,
    POS_BLOOD,
    POS_DEAD,
    SITE_EMPTY,
    SITE_TARGET,
    TARGET_FIELDS,
    TG_POS,
)
from tests.conftest import NO_TOX_RULES, run

#: a high-burden patient that meets the label's pre-phase rule (> 50% marrow blasts)
HIGH = {
    "simulation__lattice_size": 48,
    "simulation__days": 1.0,
    "simulation__record_every_hours": 1.0,
    "patient__marrow_blast_fraction": 0.8,
    "treatment__regimen": "none",
}


def marrow_blasts_at_start(ds) -> float:
    """Marrow blasts at the first record after the first slow step (the baseline record is before it)."""
    return float(ds.blasts.sel(compartment="marrow").values[1])


def test_pre_phase_dexamethasone_debulks_before_the_first_infusion():
    """The 5-day pre-phase acts on the baseline blasts: fewer at the first record than without it,
    by about the integrated hazard (at 0.2/day: x ~0.9 occupancy x 5 days, ~60% fewer)."""
    strong = {"dexamethasone__blast_kill_per_day_max": 0.2}
    without = run(**HIGH, treatment__dexamethasone_prephase="never", treatment__dexamethasone_premedication=False)
    with_pre = run(
        **HIGH, **strong, treatment__dexamethasone_prephase="always", treatment__dexamethasone_premedication=False
    )
    ratio = marrow_blasts_at_start(with_pre) / marrow_blasts_at_start(without)
    assert 0.25 < ratio < 0.6
    # The drug does not kill without the mechanism.
    off = run(
        **HIGH,
        treatment__dexamethasone_prephase="always",
        treatment__dexamethasone_premedication=False,
        dexamethasone__blast_kill_per_day_max=0.0,
    )
    assert marrow_blasts_at_start(off) == marrow_blasts_at_start(without)


def test_glucocorticoid_clock_starts_with_the_model_at_the_first_dose():
    """The glucocorticoid phase's clock is model state from the start: at the first pre-phase dose
    (5 days before the first infusion) with a pre-phase, at 0 without one; each slow step moves it on."""
    from blinasim.core.model import BlinatumomabModel
    from blinasim.reference.mesa_model import ReferenceModel
    from tests.conftest import make_config

    common = {"patient__marrow_blast_fraction": 0.8, "treatment__dexamethasone_premedication": False}
    pre = make_config(**common, treatment__dexamethasone_prephase="always")
    days = pre.dexamethasone.prephase_days
    for cls in (BlinatumomabModel, ReferenceModel):
        assert cls(pre, seed=1).glucocorticoid_clock_h == pytest.approx(-24.0 * days)
    plain = BlinatumomabModel(make_config(**common, treatment__dexamethasone_prephase="never"), seed=1)
    assert plain.glucocorticoid_clock_h == 0.0
    model = BlinatumomabModel(pre, seed=1)
    for _ in range(model.slow_every):
        model.step()
    assert model.glucocorticoid_clock_h == pytest.approx(pre.simulation.slow_step_hours)


def test_glucocorticoids_kill_only_free_lymphoid_blasts():
    """Lineage-switched (myeloid) blasts have left the lymphoid programme, a blast in a synapse is
    left to it, and normal B cells are not counted here: at certain death only free lymphoid blasts go."""
    kind = np.array([KIND_BLAST, KIND_BLAST, KIND_BLAST, KIND_BLAST, KIND_NORMAL_B], dtype=np.int8)
    pheno = np.array([PHENO_CD19_POSITIVE, PHENO_CD19_NEGATIVE, PHENO_MYELOID, PHENO_CD19_POSITIVE, 0], dtype=np.int8)
    engaged = np.array([0, 0, 0, 1, 0], dtype=np.uint8)
    pos = np.array([0, 1, 2, 3, POS_BLOOD], dtype=np.int32)
    n = len(kind)
    targets = tuple(
        {"pos": pos, "kind": kind, "phenotype": pheno, "engaged": engaged}.get(name, np.zeros(n, dtype=dt))
        for name, dt in TARGET_FIELDS.items()
    )
    lattice = (np.full(4, SITE_TARGET, dtype=np.int8), np.arange(4, dtype=np.int32))
    killed = lymphoblast_apoptosis(7, 0, n, targets, lattice, 1.0)
    assert killed == 2
    assert list(targets[TG_POS]) == [POS_DEAD, POS_DEAD, 2, 3, POS_BLOOD]
    assert list(lattice[0]) == [SITE_EMPTY, SITE_EMPTY, SITE_TARGET, SITE_TARGET]


def test_infiltration_displaces_marrow_t_cells():
    """With ``patient.marrow_t_cell_share_of_normal`` the marrow T-cells are a share of the marrow the
    leukemia has not replaced: the effector:target ratio falls ~(1 - x) / x with the blast fraction x."""
    from blinasim.params.schema import load_config

    def e_to_t(x):
        cfg = load_config(None, {"patient.marrow_blast_fraction": x, "patient.marrow_t_cell_share_of_normal": 0.08})
        return cfg.baseline_marrow_t_cell_fraction / cfg.baseline_marrow_blast_fraction

    assert e_to_t(0.2) / e_to_t(0.9) == pytest.approx((0.8 / 0.2) / (0.1 / 0.9))
    # Unset, the configured T-cell share holds at every burden (the calibrated default).
    plain = load_config(None, {"patient.marrow_blast_fraction": 0.9})
    assert plain.baseline_marrow_t_cell_fraction == plain.patient.marrow_t_cell_fraction
    # With MRD entry the two definitions are solved together: the run's MRD is still the drawn MRD.
    cfg = load_config(None, {"patient.marrow_mrd": 0.01, "patient.marrow_t_cell_share_of_normal": 0.08})
    x, t = cfg.baseline_marrow_blast_fraction, cfg.baseline_marrow_t_cell_fraction
    b, f = cfg.patient.normal_b_fraction, cfg.marrow.mononuclear_fraction_of_other
    mononuclear = x + t + (1 - t - x) * (b + f * (1 - b))
    assert x / mononuclear == pytest.approx(0.01, rel=1e-12)


def test_pyroptotic_damps_raise_il6_with_the_kills():
    """Targets lysed by pyroptosis feed myeloid IL-6 ([Liu2020]): off by default, and when on the
    IL-6 peak rises while IFN-gamma (the T-cells' own release) is unchanged."""
    common = {
        "simulation__lattice_size": 40,
        "simulation__days": 3.0,
        "patient__marrow_blast_fraction": 0.7,
        "treatment__dexamethasone_prephase": "never",
        **NO_TOX_RULES,
    }
    off = run(**common)
    on = run(**common, cytokines__damp_release_pg_per_cell=3e-4)
    assert float(on.kills.sum()) > 0
    np.testing.assert_array_equal(on.ifng.values, off.ifng.values)
    assert float(on.il6.max()) > 1.5 * float(off.il6.max())


def test_the_t_cell_set_point_follows_the_normal_marrow():
    """Displaced marrow T-cells have a set point that scales with the non-leukemic share of the marrow;
    without displacement it is the entry count."""
    from blinasim.core.processes import tcell_fate
    from blinasim.kernels import census
    from blinasim.params.schema import load_config

    row = np.zeros(census.C_SIZE, dtype=np.int64)
    row[census.C_BLASTS], row[census.C_BLASTS + 1] = 30, 999  # blood blasts do not count
    row[census.C_NORMAL_B], row[census.C_T], row[census.C_OTHER_MARROW] = 5, 5, 50
    # 30 blast agents of 2 cells against 60 agents of 1 cell: a 50% normal marrow.
    assert tcell_fate.normal_marrow_share(row, 2.0, 1.0) == pytest.approx(0.5)
    assert tcell_fate.normal_marrow_share(np.zeros(census.C_SIZE, dtype=np.int64), 1.0, 1.0) == 1.0
    displaced = load_config(
        None, {"patient.marrow_t_cell_share_of_normal": 0.065, "tcells.homeostatic_expansion_per_day": 0.1}
    )
    plain = load_config(None, {"tcells.homeostatic_expansion_per_day": 0.1})
    switched_off = load_config(
        None, {"patient.marrow_t_cell_share_of_normal": 0.065, "tcells.homeostatic_expansion_per_day": 0.0}
    )
    # 1000 T-cells at entry, 400 of them in a marrow that was 20% normal and is now 60% normal:
    # the marrow's part triples.
    assert tcell_fate.set_point(displaced, 1000, 400, 0.2, 0.6) == pytest.approx(1000 + 400 * 2)
    assert tcell_fate.set_point(displaced, 1000, 400, 0.2, 0.2) == pytest.approx(1000)
    assert tcell_fate.set_point(plain, 1000, 400, 0.2, 0.6) == 1000
    assert tcell_fate.set_point(switched_off, 1000, 400, 0.2, 0.6) == 1000  # rate 0: the regrowth is off


def test_displaced_t_cells_return_as_the_leukemia_clears():
    """A packed marrow whose leukemia dies away (no drug: a high blast death rate) regains the T-cells
    the infiltration displaced, by homeostatic proliferation below the set point; without that
    proliferation (rate 0) the marrow keeps its entry T-cells."""
    common = {
        "simulation__lattice_size": 40,
        "simulation__days": 30.0,
        "patient__marrow_blast_fraction": 0.8,
        "patient__marrow_t_cell_share_of_normal": 0.065,
        "disease__blast_death_rate_per_day": 0.5,
        "treatment__regimen": "none",
        "treatment__dexamethasone_prephase": "never",
        "treatment__dexamethasone_premedication": False,
    }
    on, off = (
        run(**common, tcells__homeostatic_expansion_per_day=0.1),
        run(**common, tcells__homeostatic_expansion_per_day=0.0),
    )
    assert float(on.marrow_blast_fraction[-1]) < 0.05  # the leukemia has cleared
    t_on = on.t_cells.sel(compartment="marrow").values
    t_off = off.t_cells.sel(compartment="marrow").values
    assert t_off[-1] < 1.3 * t_off[0]
    # The normal marrow is back (~4x its entry share): the T-cells regrow towards it.
    assert t_on[-1] > 2.0 * t_on[0]
    assert t_on[-1] > 1.5 * t_off[-1]


def test_partial_displacement_keeps_more_marrow_t_cells_at_high_burden():
    """``patient.marrow_t_cell_displacement`` below 1: the T-cells' share of the non-leukemic marrow rises
    with the burden as odds(s) x normal ** (g - 1), so a packed marrow keeps more of its T-cells; at 1 the
    share is the drawn one at every burden (the defaults, bit for bit)."""
    from blinasim.params.schema import load_config

    def cfg(x, g, **more):
        return load_config(
            None,
            {
                "patient.marrow_blast_fraction": x,
                "patient.marrow_t_cell_share_of_normal": 0.08,
                "patient.marrow_t_cell_displacement": g,
                **more,
            },
        )

    assert load_config(None, {}).patient.marrow_t_cell_displacement == 1.0
    s = 0.08
    for x in (0.2, 0.7, 0.95):
        full = cfg(x, 1.0)
        assert full.marrow_t_cell_share_at(1.0 - x) == s
        assert full.baseline_marrow_t_cell_fraction == s * (1.0 - x)
        half = cfg(x, 0.5)
        odds = s / (1 - s) * (1.0 - x) ** -0.5
        assert half.marrow_t_cell_share_at(1.0 - x) == pytest.approx(odds / (1 + odds), rel=1e-12)
        assert s * (1.0 - x) < half.baseline_marrow_t_cell_fraction < 1.0 - x
    # Less displacement, more T-cells in a packed marrow; none at all in a marrow without normal cells.
    t = [cfg(0.9, g).baseline_marrow_t_cell_fraction for g in (1.0, 0.5, 0.0)]
    assert t[0] < t[1] < t[2] < 0.1
    assert cfg(0.9, 0.0).marrow_t_cell_share_at(0.0) == 1.0
    # Nearly undisplaced at 0 while the normal marrow is well above the T-cells' share.
    assert cfg(0.7, 0.0).baseline_marrow_t_cell_fraction == pytest.approx(s, rel=0.25)
    # MRD entry is solved with the burden-dependent share: the run's MRD is still the drawn MRD.
    mrd_cfg = load_config(
        None,
        {
            "patient.marrow_mrd": 0.01,
            "patient.marrow_t_cell_share_of_normal": s,
            "patient.marrow_t_cell_displacement": 0.5,
        },
    )
    x, t = mrd_cfg.baseline_marrow_blast_fraction, mrd_cfg.baseline_marrow_t_cell_fraction
    b, f = mrd_cfg.patient.normal_b_fraction, mrd_cfg.marrow.mononuclear_fraction_of_other
    assert x / (x + t + (1 - t - x) * (b + f * (1 - b))) == pytest.approx(0.01, rel=1e-9)


def test_partially_displaced_t_cells_set_point_follows_their_share_of_the_marrow():
    """The set point's marrow part scales with the T-cells' share of the whole marrow, normal share x
    its T-cell share: less regrowth than the proportional law's as the leukemia clears."""
    from blinasim.core.processes import tcell_fate
    from blinasim.params.schema import load_config

    half = load_config(
        None,
        {
            "patient.marrow_t_cell_share_of_normal": 0.08,
            "patient.marrow_t_cell_displacement": 0.5,
            "tcells.homeostatic_expansion_per_day": 0.1,
        },
    )
    share = half.marrow_t_cell_share_at
    expected = 1000 + 400 * (share(0.6) * 0.6 / (share(0.2) * 0.2) - 1)
    assert tcell_fate.set_point(half, 1000, 400, 0.2, 0.6) == pytest.approx(expected, rel=1e-12)
    assert 1000 < expected < 1000 + 400 * 2  # regrows, but less than the proportional law's tripling
    assert tcell_fate.set_point(half, 1000, 400, 0.2, 0.2) == pytest.approx(1000)


def test_a_packed_marrow_places_more_t_cells_when_less_displaced():
    common = {
        "simulation__lattice_size": 40,
        "simulation__days": 0.25,
        "patient__marrow_blast_fraction": 0.9,
        "patient__marrow_t_cell_share_of_normal": 0.08,
        "treatment__regimen": "none",
        "treatment__dexamethasone_prephase": "never",
    }
    full, half = run(**common), run(**common, patient__marrow_t_cell_displacement=0.5)
    t_full = float(full.t_cells.sel(compartment="marrow").values[0])
    t_half = float(half.t_cells.sel(compartment="marrow").values[0])
    # 0.08 x 0.1 of the marrow against odds(0.08) x 10 ** 0.5 as a share of the 10% normal marrow: ~2.6x.
    odds = 0.08 / 0.92 * 10**0.5
    assert t_half / t_full == pytest.approx(odds / (1 + odds) / 0.08, rel=0.15)


def test_t_cells_exhausted_at_entry_in_proportion_to_the_burden():
    """``tcells.entry_exhaustion_per_blast_fraction`` k: every T-cell enters at exhaustion k x (x the baseline
    marrow blast fraction; 0 by default). It takes lysis and leaves the cytokine release of the
    first engagements alone; the in-vitro co-culture keeps fresh donor T-cells."""
    from blinasim.core.model import BlinatumomabModel
    from blinasim.params.schema import load_config
    from blinasim.trials.calibration.assay import IN_VITRO

    assert load_config(None, {}).entry_exhaustion == 0.0
    key = "tcells.entry_exhaustion_per_blast_fraction"
    for x in (0.1, 0.5, 0.9):
        cfg = load_config(None, {"patient.marrow_blast_fraction": x, key: 0.6})
        assert cfg.entry_exhaustion == pytest.approx(0.6 * x, rel=1e-12)
    # A patient entering by MRD carries almost none.
    assert load_config(None, {"patient.marrow_mrd": 1e-3, key: 1.0}).entry_exhaustion < 1e-3
    assert load_config(None, {key: 1.0, **IN_VITRO}).entry_exhaustion == 0.0  # as in_vitro_assay merges them

    def run(k):
        cfg = load_config(
            None,
            {
                "patient.marrow_blast_fraction": 0.8,
                "simulation.lattice_size": 48,
                "simulation.days": 2.0,
                "simulation.seed": 3,
                "treatment.dexamethasone_prephase": "never",
                key: k,
            },
        )
        model = BlinatumomabModel(cfg)
        e0 = model.state.tcells.view("exhaustion").astype(np.float64)
        model.run()
        return e0, model

    (e_fresh, fresh), (e_tired, tired) = run(0.0), run(1.0)
    assert np.all(e_fresh == 0.0)
    assert np.allclose(e_tired, 0.8, atol=1e-6) and e_tired.size == e_fresh.size
    assert tired.rec_kills.sum() < 0.5 * fresh.rec_kills.sum()
    # The same T-cells engage: the first day's IFN-gamma is kept (its peak within a tenth).
    day1 = slice(0, int(24.0 / fresh.config.simulation.record_every_hours) + 1)
    assert tired.rec_ifng[day1].max() > 0.9 * fresh.rec_ifng[day1].max() > 0.0
