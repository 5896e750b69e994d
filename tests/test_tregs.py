"""Regulatory T-cells (Duell 2017): blinatumomab-activated Tregs suppress T-cell division and lysis."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from blinasim.core.model import BlinatumomabModel
from blinasim.core.processes.killing import lysis_probability
from blinasim.core.processes.tcell_fate import treg_suppression
from tests.conftest import make_config, run


def test_suppression_needs_tregs_and_activation():
    cfg = make_config(patient__treg_fraction_of_cd4=0.2)
    assert treg_suppression(cfg, 0.0) == 0.0
    assert treg_suppression(make_config(patient__treg_fraction_of_cd4=0.0), 1.0) == 0.0
    assert treg_suppression(make_config(patient__cd4_fraction=0.0), 1.0) == 0.0
    assert treg_suppression(make_config(tcells__treg_suppression_max=0.0), 1.0) == 0.0


def test_suppression_is_a_hill_function_of_the_activated_treg_share():
    """Half of the maximum where activated Tregs / T-cells equals the half-maximal share,
    rising with the Treg share and with activation, never above the maximum."""
    half, s_max = 0.05, 0.8
    common = {
        "patient__cd4_fraction": 0.5,
        "tcells__treg_suppression_half": half,
        "tcells__treg_suppression_max": s_max,
    }
    at_half = make_config(patient__treg_fraction_of_cd4=2 * half, **common)  # rho = 0.5 * 0.1 = half
    assert math.isclose(treg_suppression(at_half, 1.0), s_max / 2)
    shares = [0.01, 0.05, 0.1, 0.2, 0.6]
    by_share = [treg_suppression(make_config(patient__treg_fraction_of_cd4=f, **common), 1.0) for f in shares]
    assert all(a < b for a, b in itertools.pairwise(by_share))
    assert by_share[-1] < s_max
    by_activation = [treg_suppression(at_half, a) for a in (0.1, 0.5, 1.0)]
    assert by_activation[0] < by_activation[1] < by_activation[2]


def test_regulatory_t_cells_do_not_kill_and_suppression_lowers_lysis():
    cfg = make_config(patient__cd4_fraction=0.5, patient__treg_fraction_of_cd4=0.1, tcells__lysis_probability=0.9)
    assert math.isclose(lysis_probability(cfg, 0.0), 0.9 * (1 - 0.05))
    assert math.isclose(lysis_probability(cfg, 0.5), 0.9 * (1 - 0.05) * 0.5)


def max_suppression(**dotted) -> float:
    """Step a patient for a week and return the largest suppression seen on the slow clock."""
    model = BlinatumomabModel(make_config(simulation__days=7.0, **dotted))
    seen = 0.0
    while model.running:
        model.step()
        seen = max(seen, model.treg_suppression)
    return seen


@pytest.mark.slow
def test_suppression_follows_engagement_so_it_hits_high_burden_patients():
    """With the same Treg share, a patient with 60% marrow blasts activates the T-cells (and
    so the Tregs) far more than an MRD patient at 0.5% blasts, and is suppressed more."""
    tregs = {"patient__treg_fraction_of_cd4": 0.15, "patient__peripheral_blasts_per_ul": 0.0}
    high = max_suppression(patient__marrow_blast_fraction=0.6, **tregs)
    mrd = max_suppression(patient__marrow_blast_fraction=0.005, **tregs)
    assert high > 0.2
    assert mrd < 0.5 * high


@pytest.mark.slow
def test_tregs_blunt_expansion_and_killing_of_a_high_burden_patient():
    """Same patient and seed (common random numbers) without and with a high Treg share:
    with Tregs fewer T-cells are born, fewer blasts die, and the output records the suppression."""
    common = {
        "simulation__days": 10.0,
        "patient__marrow_blast_fraction": 0.6,
        "tcells__activated_division_per_day": 0.5,
    }
    without = run(patient__treg_fraction_of_cd4=0.0, **common)
    with_tregs = run(patient__treg_fraction_of_cd4=0.25, **common)
    assert float(without.treg_suppression.max()) == 0.0
    assert float(with_tregs.treg_suppression.max()) > 0.3
    t_births = {
        name: float(ds.cumulative_births.sel(population="t_cell").isel(time=-1))
        for name, ds in (("without", without), ("with", with_tregs))
    }
    assert t_births["with"] < 0.8 * t_births["without"]
    assert float(with_tregs.kills.sum()) < 0.9 * float(without.kills.sum())
    assert np.all(with_tregs.treg_suppression.values < make_config().tcells.treg_suppression_max)
