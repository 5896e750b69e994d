"""Disease below one agent: blast agents whose weight adapts (blinasim.core.processes.blast_scale).

The rule must (1) be mirrored exactly by the Mesa reference, (2) leave the
expected course unbiased, and (3) make extinction the stochastic end of a
linear birth-death process at the single-cell floor.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from blinasim.core.model import BlinatumomabModel
from blinasim.core.processes import blast_scale
from blinasim.kernels.layout import KIND_BLAST, POS_DEAD, SITE_EMPTY, SITE_OTHER
from conftest import make_config
from test_reference import assert_same_run, small_config


def test_reference_equals_kernels_while_blast_agents_split():
    """A handful of blast agents: the weight halves every slow step down to 1-2 cells."""
    cfg = small_config(
        simulation__days=1.0,
        simulation__seed=4,
        patient__marrow_blast_fraction=0.004,
        disease__min_blast_agents=8,
        disease__max_blast_agents=64,
    )
    _ref, num = assert_same_run(cfg)
    weights = num.rec_blast_weight
    assert weights[-1] < weights[0] / 4  # it split, several times
    assert num.rec_counts[-1, 0] + num.rec_counts[-1, 1] >= 8


def test_reference_equals_kernels_while_blast_agents_merge():
    """Growing disease at a small weight: the agents merge back (thinning draws mirrored)."""
    cfg = small_config(
        simulation__days=2.0,
        simulation__seed=9,
        treatment__regimen="none",
        patient__marrow_blast_fraction=0.006,
        disease__blast_birth_rate_per_day=4.0,
        disease__blast_death_rate_per_day=0.0,
        disease__min_blast_agents=8,
        disease__max_blast_agents=32,
    )
    _ref, num = assert_same_run(cfg)
    w = num.rec_blast_weight
    assert (np.diff(w) > 0).any() and (np.diff(w) < 0).any()  # split at first, merged later
    assert w.max() <= num.cells_per_agent


def _blast_cells(ds) -> np.ndarray:
    return ds.blasts.sum("compartment").values


def test_splitting_leaves_the_expected_course_unbiased():
    """Mean blast cells over patients with and without sub-agent resolution agree with exp((b - d) t)."""
    b, d, days = 0.6, 0.2, 4.0
    common = dict(
        simulation__lattice_size=24,
        simulation__days=days,
        simulation__dt_hours=1.0,
        simulation__slow_step_hours=1.0,
        simulation__record_every_hours=24.0,
        treatment__regimen="none",
        patient__marrow_blast_fraction=0.01,
        disease__blast_birth_rate_per_day=b,
        disease__blast_death_rate_per_day=d,
    )
    finals = []
    for seed in range(60):
        model = BlinatumomabModel(make_config(simulation__seed=seed, **common))
        model.run()
        ds = model.to_dataset()
        cells = _blast_cells(ds)
        finals.append(cells[-1] / cells[0])
    finals = np.asarray(finals)
    expected = math.exp((b - d) * days)
    se = finals.std(ddof=1) / math.sqrt(len(finals))
    assert abs(finals.mean() - expected) < 4 * se + 0.02 * expected


def _birth_death_patient(seed: int, n0: int, b: float, d: float, days: float) -> BlinatumomabModel:
    """A marrow with ``n0`` single-cell blast agents, no T-cells and no drug."""
    cfg = make_config(
        simulation__lattice_size=24,
        simulation__days=days,
        simulation__dt_hours=1.0,
        simulation__slow_step_hours=1.0,
        simulation__record_every_hours=24.0,
        simulation__seed=seed,
        treatment__regimen="none",
        patient__marrow_blast_fraction=0.05,
        patient__marrow_t_cell_fraction=0.0,
        patient__t_cells_per_ul=0.0,
        patient__peripheral_blasts_per_ul=0.0,
        disease__blast_birth_rate_per_day=b,
        disease__blast_death_rate_per_day=d,
        disease__max_blast_agents=1_000_000,
    )
    model = BlinatumomabModel(cfg)
    tg, st = model.state.targets, model.state
    kept = 0
    for j in range(tg.n):
        if tg.pos[j] == POS_DEAD or tg.kind[j] != KIND_BLAST:
            continue
        if kept < n0 and tg.pos[j] >= 0:
            kept += 1
            continue
        if tg.pos[j] >= 0:
            st.site_kind[tg.pos[j]] = SITE_OTHER
            st.site_slot[tg.pos[j]] = -1
        tg.pos[j] = POS_DEAD
        tg.dead += 1
    assert kept == n0
    model.blast_weight = 1.0  # the single-cell floor: no further split
    return model


def extinction_probability(n0: int, b: float, d: float, t: float) -> float:
    """P(extinct by t) of a linear birth-death process from n0 (Kendall 1948)."""
    g = math.exp((b - d) * t)
    return (d * (g - 1.0) / (b * g - d)) ** n0


@pytest.mark.slow
def test_extinction_at_the_single_cell_floor_follows_the_birth_death_law():
    b, d, n0, days, runs = 0.5, 0.25, 2, 20.0, 300
    extinct = 0
    for seed in range(runs):
        model = _birth_death_patient(seed, n0, b, d, days)
        model.run()
        tg = model.state.targets
        alive = np.count_nonzero((tg.pos[: tg.n] != POS_DEAD) & (tg.kind[: tg.n] == KIND_BLAST))
        extinct += alive == 0
    p = extinction_probability(n0, b, d, days)
    se = math.sqrt(p * (1 - p) / runs)
    assert 0.2 < p < 0.3
    assert abs(extinct / runs - p) < 3.5 * se, (extinct / runs, p)


def test_copies_go_to_free_sites_and_inherit_the_phenotype():
    cfg = small_config(
        patient__marrow_blast_fraction=0.004,
        disease__min_blast_agents=64,
        disease__max_blast_agents=512,
        simulation__seed=2,
    )
    model = BlinatumomabModel(cfg)
    tg, st = model.state.targets, model.state
    live = (tg.pos[: tg.n] != POS_DEAD) & (tg.kind[: tg.n] == KIND_BLAST)
    before = int(np.count_nonzero(live))
    weight = model.blast_weight
    blast_scale.run(model)
    live = (tg.pos[: tg.n] != POS_DEAD) & (tg.kind[: tg.n] == KIND_BLAST)
    assert int(np.count_nonzero(live)) == 2 * before
    assert model.blast_weight == weight / 2
    sites = tg.pos[: tg.n][live]
    marrow = sites[sites >= 0]
    assert len(np.unique(marrow)) == len(marrow)  # one cell per site
    assert (st.site_kind[marrow] != SITE_EMPTY).all()
