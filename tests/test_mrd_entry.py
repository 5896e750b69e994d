"""Cohort entry by measured MRD (issue: BLAST patients entered 2-3x above the trial's MRD).

MRD counts leukemic cells among marrow mononuclear cells; the marrow blast fraction counts them
among all nucleated cells. ``patient.marrow_mrd`` sets the baseline by the first, as MRD trials
enrol, and the run's own MRD read-out at day 0 must then be that value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from blinasim.core.model import simulate
from blinasim.params.schema import ConfigError, load_config
from blinasim.trials.cohort import COHORTS, draw_cohort
from blinasim.trials.trial import cohort_settings


def test_mrd_sets_the_blast_fraction_by_the_assay_denominator():
    cfg = load_config(None, {"patient.marrow_mrd": 1e-2, "patient.marrow_t_cell_fraction": 0.06})
    x = cfg.baseline_marrow_blast_fraction
    p, f = cfg.patient, cfg.marrow.mononuclear_fraction_of_other
    t, b = p.marrow_t_cell_fraction, p.normal_b_fraction
    # Forward: the composition of the nucleated marrow and its mononuclear part.
    normal_b = (1 - t - x) * b
    other = (1 - t - x) * (1 - b)
    assert x / (x + t + normal_b + f * other) == pytest.approx(1e-2, rel=1e-12)
    # Granulocytes are left out of the denominator, so MRD is well above the blast share.
    assert 1.5 < 1e-2 / x < 3.5
    # Without marrow_mrd the blast fraction is the configured one.
    assert load_config(None, {}).baseline_marrow_blast_fraction == load_config(None, {}).patient.marrow_blast_fraction


def test_run_starts_at_the_drawn_mrd():
    """The day-0 MRD read-out of a run equals patient.marrow_mrd within the placement noise."""
    mrd = 0.02
    cfg = load_config(
        None,
        {
            **cohort_settings("blast"),
            "patient.marrow_mrd": mrd,
            "simulation.lattice_size": 160,
            "simulation.days": 0.5,
            "course.plan": "none",
            "treatment.regimen": "none",
        },
    )
    ds = simulate(cfg, seed=11)
    observed = float(ds.mrd.values[0])
    # Blasts are placed site by site (binomial); 4 SD of the count.
    n_sites = cfg.simulation.lattice_size**2 * cfg.patient.marrow_cellularity
    blasts = n_sites * cfg.baseline_marrow_blast_fraction
    assert abs(observed - mrd) < 4 * mrd / math.sqrt(blasts)
    # The old entry (the same number as a blast share) starts 2-3x higher.
    old = simulate(cfg.with_overrides({"patient.marrow_mrd": None, "patient.marrow_blast_fraction": mrd}), seed=11)
    assert float(old.mrd.values[0]) > 1.8 * observed


def test_bad_mrd_is_one_clear_message():
    with pytest.raises(ConfigError, match=r"patient\.marrow_mrd"):
        load_config(None, {"patient.marrow_mrd": 1.5})


@pytest.mark.parametrize(("name", "low"), [("blast", 1e-3), ("mrd_1e4", 1e-4)])
def test_mrd_cohorts_enter_at_their_threshold(name, low):
    patients = draw_cohort(name, 2000, seed=3)
    mrd = np.array([p["patient.marrow_mrd"] for p in patients])
    assert mrd.min() >= low and mrd.max() <= 0.11
    assert "patient.marrow_blast_fraction" not in patients[0]
    # Most of BLAST's patients entered below 1e-2 and under a tenth at 1e-1 or more (shape, not a fit).
    decade = np.log10(mrd / low)
    assert 0.4 < np.mean(decade < 1) < 0.6
    assert np.mean(decade >= 2) < 0.15
    assert name in COHORTS
