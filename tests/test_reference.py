"""The Mesa reference model against the numba kernels.

The reference (:mod:`blinasim.reference.mesa_model`) draws the same counter-based random
numbers, keeps the same slot numbering and visits agents in the same order as
the kernels, so the two implementations must agree exactly: at every record,
in every count, and in the full agent state. Per-kernel tests run one phase of
both on the same hand-built state (the reference's agents exported into a
numba :class:`blinasim.core.state.State`); property tests check kernel invariants.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid

from blinasim.core.model import POPULATIONS, BlinatumomabModel
from blinasim.core.processes import chemotherapy
from blinasim.core.state import TARGET_FIELDS, TCELL_FIELDS, Store
from blinasim.kernels import census as C
from blinasim.kernels import encounter, initial, killing, rng
from blinasim.kernels.layout import (
    NO_PARTNER,
    PHENO_CD19_NEGATIVE,
    PHENO_CD19_POSITIVE,
    PHENO_MYELOID,
    POS_BLOOD,
    POS_DEAD,
)
from blinasim.kernels.motility import moore_neighbour
from blinasim.reference import mesa_model as R
from blinasim.reference.mesa_model import Blast, NormalBCell, OtherMarrowCell, ReferenceModel, TCell
from tests.conftest import agents, make_config, total

# ----------------------------------------------------------------- helpers


def small_config(**dotted):
    """A tiny patient (24x24 lattice, 1 day, flat clinical dose), recorded every slow step."""
    base = {
        "simulation__lattice_size": 24,
        "simulation__days": 1.0,
        "simulation__record_every_hours": 1.0,
        "simulation__slow_step_hours": 1.0,
        "treatment__regimen": "flat",
    }
    base.update(dotted)
    return make_config(**base)


#: resistance switched on strongly: pre-existing CD19-negative and CD19-low blasts,
#: CD19 loss and (KMT2A) lineage switch at division
STRONG_RESISTANCE = {
    "disease__cd19_loss_per_division": 0.05,
    "patient__kmt2a_rearranged": True,
    "disease__lineage_switch_per_division_kmt2a": 0.05,
    "disease__cd19_negative_fraction": 0.1,
    "disease__cd19_low_fraction": 0.2,
}

#: the new arms, for the property tests
ARMS = {
    "plain": {},
    "resistance": STRONG_RESISTANCE,
    "checkpoint": {"treatment__checkpoint_inhibitor": "pembrolizumab", "treatment__ipilimumab": True},
    "chemotherapy": {"treatment__chemotherapy": "salvage"},
}


def twin(ref: ReferenceModel) -> BlinatumomabModel:
    """A numba model holding exactly the reference's current state, clock, drug and
    checkpoint-inhibitor levels and cytokines."""
    m = BlinatumomabModel(ref.config, seed=ref.run_seed)
    m.state = ref.export_state()
    for name in (
        "tick",
        "dose_rate",
        "concentration",
        "redistribution_adaptation",
        "redistribution_drive",
        "bridge_factor",
        "baseline_t_cells",
        "pd1_occupancy",
        "ctla4_blockade",
        "treg_suppression",
        "cd19_losses",
        "lineage_switches",
        "normal_b_supply_per_day",
        "blast_weight",
        "blast_rescaled_cells",
    ):
        setattr(m, name, getattr(ref, name))
    for name, value in vars(ref.cytokines).items():
        if isinstance(value, int | float):
            setattr(m.cytokines, name, value)
    for name in ("births", "deaths", "killed_by_kind", "blast_event_cells", "_blast_events_flushed"):
        getattr(m, name)[:] = getattr(ref, name)
    return m


def assert_same_state(ref: ReferenceModel, m: BlinatumomabModel) -> None:
    """Slot counts, dead counts, every field of every living slot, the lattice and the event counters."""
    a, b = ref.export_state(), m.state
    for store in ("targets", "tcells"):
        sa, sb = getattr(a, store), getattr(b, store)
        assert (sa.n, sa.dead) == (sb.n, sb.dead), store
        np.testing.assert_array_equal(sa.pos[: sa.n], sb.pos[: sb.n], err_msg=f"{store}.pos")
        live = sb.pos[: sb.n] != POS_DEAD
        for name in sa.fields:
            x, y = getattr(sa, name)[: sa.n][live], getattr(sb, name)[: sb.n][live]
            assert x.tobytes() == y.tobytes(), f"{store}.{name}"
    np.testing.assert_array_equal(a.site_kind, b.site_kind)
    occupied = b.site_kind == 1
    np.testing.assert_array_equal(a.site_slot[occupied], b.site_slot[occupied])
    for name in ("births", "deaths", "killed_by_kind"):
        np.testing.assert_array_equal(getattr(ref, name), getattr(m, name), err_msg=name)
    assert (ref.cd19_losses, ref.lineage_switches) == (m.cd19_losses, m.lineage_switches)
    assert (ref.blast_weight, ref.blast_rescaled_cells) == (m.blast_weight, m.blast_rescaled_cells)
    assert ref.live_agents == m.live_agents


def clear(ref: ReferenceModel) -> None:
    """Remove every agent: an empty marrow and blood, to hand-build a state."""
    for agent in list(ref.agents):
        agent.remove()
    ref.target_slots, ref.tcell_slots = [], []
    ref.targets_dead = ref.tcells_dead = 0


def slow_tick(ref: ReferenceModel) -> int:
    """The first tick that runs the slow phases."""
    return ref.slow_every - 1


#: The slow phases of the targets after the cytokines (the former ``residents`` phase), in order.
TARGET_PHASES = ("chemotherapy", "blast_fate", "normal_b_supply", "marrow_turnover", "target_compaction")


def run_phases(ref: ReferenceModel, num: BlinatumomabModel, *names: str) -> None:
    """Run the named phases, in order, on the reference, then on the numba model."""
    for model in (ref, num):
        for name in names:
            model.run_phase(name)


# ------------------------------------------------------------ random numbers


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    tick=st.integers(0, 10**8),
    stream=st.integers(1, 11),
    slot=st.integers(0, 2**32),
    k=st.integers(0, 64),
)
def test_python_rng_is_bit_identical_to_numba(seed, tick, stream, slot, k):
    u = R.draw_uniform(seed, tick, stream, slot, k)
    assert 0.0 <= u < 1.0
    assert u.hex() == float(rng.draw_uniform(seed, tick, stream, slot, k)).hex()
    assert R.draw_normal(seed, tick, stream, slot, k).hex() == float(rng.draw_normal(seed, tick, stream, slot, k)).hex()


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    tick=st.integers(0, 10**6),
    mean=st.one_of(st.floats(0.0, 60.0), st.floats(50.0, 1e4), st.just(0.0)),
)
def test_python_poisson_equals_numba(seed, tick, mean):
    assert R.draw_poisson(seed, tick, rng.NORMAL_B_SUPPLY, 2**31, 0, mean) == rng.draw_poisson(
        seed, tick, rng.NORMAL_B_SUPPLY, 2**31, 0, mean
    )


def test_python_rng_matches_a_block_of_numba_draws():
    n = 5000
    expected = rng.uniform_array(987654321, 42, rng.ENCOUNTER, n)
    key = R.stream_key(987654321, 42, rng.ENCOUNTER)
    got = np.array([R.uniform(key, i, 0) for i in range(n)])
    assert got.tobytes() == expected.tobytes()


@settings(max_examples=300, deadline=None)
@given(e=st.floats(0.0, 1.0, width=32), e50=st.floats(0.01, 1.0), hill=st.floats(0.1, 20.0))
def test_effector_function_port_is_bit_identical(e, e50, hill):
    got = R.effector_function(e, e50, hill)
    assert got.hex() == float(killing.effector_function(np.float32(e), e50, hill)).hex()


@settings(max_examples=300, deadline=None)
@given(
    u=st.floats(0.0, 1.0, exclude_max=True),
    cd19=st.floats(0.0, 1e5),
    negative=st.floats(0.0, 0.5),
    low=st.floats(0.0, 0.5),
    factor=st.floats(0.0, 1.0),
)
def test_escape_variant_port_equals_kernel(u, cd19, negative, low, factor):
    got, expected = (
        R.escape_variant(u, cd19, negative, low, factor),
        initial.escape_variant(u, cd19, negative, low, factor),
    )
    assert got[0].hex() == float(expected[0]).hex() and got[1] == expected[1]


def test_moore_neighbour_mapping_is_the_kernels():
    for side in (3, 5, 8):
        for site in range(side * side):
            for d in range(9):
                assert R.moore_neighbour(site, side, d) == moore_neighbour(site, side, d)


# ------------------------------------------------------------- mesa idioms


def test_reference_is_idiomatic_mesa():
    ref = ReferenceModel(small_config())
    assert isinstance(ref.grid, OrthogonalMooreGrid) and ref.grid.torus
    types = set(ref.agents_by_type)
    assert {Blast, NormalBCell, TCell, OtherMarrowCell} <= types
    assert all(isinstance(a, CellAgent) for a in ref.agents)
    # Blood is well mixed: circulating agents have no grid cell.
    blood = [a for a in ref.living_targets() + ref.living_tcells() if a.cell is None]
    assert blood and all(a.cell is None for a in blood)
    # One resident per site at most; T-cells crawl over residents.
    for cell in ref.grid.all_cells:
        assert sum(not isinstance(a, TCell) for a in cell.agents) <= 1
    assert ref.live_agents == len(ref.agents)
    assert ref.run_seed == BlinatumomabModel(ref.config).run_seed


# --------------------------------------------- whole runs: exact equality


def assert_same_run(cfg, seed=None):
    ref = ReferenceModel(cfg, seed)
    num = BlinatumomabModel(cfg, seed)
    assert_same_state(ref, num)  # the same patient
    ref.run()
    num.run()
    assert ref.tick == num.tick == ref.n_ticks
    a, b = ref.to_dataset(), num.to_dataset()
    assert set(b.data_vars) <= set(a.data_vars)
    for name in b.data_vars:
        x, y = a[name].values, b[name].values
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    for name in (
        "rec_counts",
        "rec_kills",
        "rec_births",
        "rec_deaths",
        "rec_pdl1_sum",
        "rec_blast_weight",
        "rec_blast_event_cells",
        "rec_blast_rescaled_cells",
    ):
        np.testing.assert_array_equal(getattr(ref, name), getattr(num, name), err_msg=name)
    assert_same_state(ref, num)
    return ref, num


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_equals_kernels_at_every_record(seed):
    _ref, num = assert_same_run(small_config(simulation__days=2.0, simulation__seed=seed))
    # The comparison is not vacuous: the drug worked.
    assert num.rec_kills.sum() > 0 and num.rec_counts[:, 10:12].max() > 0


def test_reference_equals_kernels_with_blood_traffic_and_frequent_compaction():
    """Finer agents (more circulating agents), compaction at 2% dead slots."""
    cfg = small_config(
        simulation__lattice_size=32,
        simulation__days=1.5,
        patient__marrow_nucleated_cells=1e11,
        simulation__compact_dead_fraction=0.02,
        simulation__seed=11,
        tcells__blood_contact_ul_per_h=0.05,
    )
    _ref, num = assert_same_run(cfg)
    assert num.rec_counts[0, [1, 7, 9]].min() > 0  # blasts, normal B and T-cells in blood
    assert num.rec_counts[:, 11].max() > 0  # synapses in blood


def test_reference_equals_kernels_with_fast_growth_expansion_and_exhaustion():
    """Step-up dosing, dividing blasts (contact inhibition, displacement), T-cell
    expansion and contraction, exhaustion past the threshold."""
    cfg = small_config(
        simulation__days=2.0,
        simulation__seed=3,
        treatment__regimen="rr_step_up",
        disease__blast_birth_rate_per_day=2.0,
        tcells__activated_division_per_day=3.0,
        tcells__exhaustion_per_engaged_day=40.0,
        tcells__exhausted_threshold=0.2,
        patient__marrow_t_cell_fraction=0.1,
    )
    _ref, num = assert_same_run(cfg)
    assert num.rec_births[-1, 0] > 0 and num.rec_births[-1, 2] > 0
    assert num.rec_counts[:, 12].max() > 0  # exhausted T-cells


def test_reference_equals_kernels_with_displaced_t_cells_returning():
    """Marrow T-cells displaced by infiltration, a leukemia that dies away fast and a strong homeostatic
    expansion: the T-cell set point follows each model's own census of the normal marrow."""
    cfg = small_config(
        simulation__days=2.0,
        simulation__seed=7,
        patient__marrow_blast_fraction=0.8,
        patient__marrow_t_cell_share_of_normal=0.2,
        disease__blast_death_rate_per_day=3.0,
        tcells__homeostatic_expansion_per_day=3.0,
    )
    _ref, num = assert_same_run(cfg)
    t_marrow = num.rec_counts[:, 8]
    assert t_marrow[-1] > 1.2 * t_marrow[0]  # the displaced T-cells came back


def test_reference_equals_kernels_with_t_cells_exhausted_at_entry():
    """T-cells that enter part-way to exhaustion (``tcells.entry_exhaustion_per_blast_fraction``): both
    models start every T-cell at the same exhaustion and carry it through recovery, accrual and division."""
    cfg = small_config(
        simulation__days=2.0,
        simulation__seed=6,
        patient__marrow_blast_fraction=0.8,
        tcells__entry_exhaustion_per_blast_fraction=0.6,
        tcells__activated_division_per_day=3.0,
    )
    _ref, num = assert_same_run(cfg)
    assert {t.exhaustion for t in ReferenceModel(cfg).living_tcells()} == {R.f32(0.6 * 0.8)}
    assert num.rec_kills.sum() > 0


def test_reference_equals_kernels_with_the_lymphoid_tissue():
    """Spleen and lymph nodes on (docs/model.md 7.19): both models advance the same compartment from
    their own counts; its IFN-gamma, competence and kills feed the cytokines and, through the grades,
    the protocol."""
    cfg = small_config(
        simulation__days=2.0,
        simulation__seed=4,
        patient__marrow_blast_fraction=0.4,
        lymphoid__enabled=True,
        cytokines__damp_release_pg_per_cell=3e-5,
    )
    _ref, num = assert_same_run(cfg)
    assert num.rec_lymphoid_engaged.max() > 0 and num.rec_lymphoid_blasts[-1] < num.rec_lymphoid_blasts[0]


def test_reference_equals_kernels_without_drug():
    _ref, num = assert_same_run(small_config(treatment__regimen="none", simulation__days=1.0, simulation__seed=5))
    assert num.rec_counts[:, 10:12].max() == 0


def test_reference_equals_kernels_with_resistance():
    """Baseline escape variants, CD19 noise, loss and lineage switch at division (under
    immune pressure), phenotype-specific kinetics, IFN-gamma-induced PD-L1."""
    cfg = small_config(
        simulation__days=2.0, simulation__seed=4, disease__blast_birth_rate_per_day=1.0, **STRONG_RESISTANCE
    )
    ref, num = assert_same_run(cfg)
    assert num.cd19_losses > 0 and num.lineage_switches > 0
    assert num.rec_counts[0, C.C_BLASTS_CD19_NEG] > 0  # pre-existing CD19-negative blasts
    assert num.rec_counts[-1, C.C_BLASTS_SWITCHED] > 0  # myeloid blasts
    blasts = [c for c in ref.living_targets() if isinstance(c, Blast)]
    assert {c.phenotype for c in blasts} == {PHENO_CD19_POSITIVE, PHENO_CD19_NEGATIVE, PHENO_MYELOID}
    assert max(c.pdl1 for c in blasts) > 2 * ref.config.disease.pdl1_baseline  # induced by IFN-gamma


def test_reference_equals_kernels_with_checkpoint_inhibitors():
    """Nivolumab (PD-1 occupancy lifts the PD-1:PD-L1 brake on lysis and division) and
    ipilimumab (CTLA-4 blockade raises activated division), with fast exhaustion."""
    common = {
        "simulation__days": 2.0,
        "simulation__seed": 6,
        "tcells__exhaustion_per_engagement": 0.1,
        "tcells__activated_division_per_day": 3.0,
    }
    cfg = small_config(treatment__checkpoint_inhibitor="nivolumab", treatment__ipilimumab=True, **common)
    ref, num = assert_same_run(cfg)
    assert ref.pd1_occupancy > 0.5 and ref.ctla4_blockade > 0.5
    assert num.rec_counts[:, C.C_T_EXHAUSTED].max() > 0
    # The combination changed the trajectory (same draws, different rules).
    plain = BlinatumomabModel(small_config(**common))
    plain.run()
    assert not np.array_equal(plain.rec_kills, num.rec_kills)
    assert plain.births[2] != num.births[2]


def test_reference_equals_kernels_with_salvage_chemotherapy():
    """A one-day chemotherapy course from day 0.5 alongside blinatumomab: cytotoxic
    deaths in every population, no marrow refill during the course, then a ramp back."""
    cfg = small_config(
        simulation__days=2.0,
        simulation__seed=8,
        treatment__chemotherapy="salvage",
        treatment__chemotherapy_start_day=0.5,
        chemotherapy__course_days=1,
        chemotherapy__marrow_recovery_days=1.0,
        chemotherapy__other_marrow_kill_per_day=3.0,
        marrow__other_death_rate_per_day=2.0,
    )
    _ref, num = assert_same_run(cfg)
    assert num.deaths.min() > 0
    # Myelosuppression: other marrow cells fall during the course, refill after it.
    other = num.rec_counts[:, C.C_OTHER_MARROW]
    course = (num.rec_time_days > 0.5) & (num.rec_time_days <= 1.5)
    assert other[course].min() < other[0] / 2
    assert (np.diff(num.rec_births[:, 3])[course[1:]] == 0).all()  # no refill during the course
    assert num.rec_births[-1, 3] > num.rec_births[course][-1, 3]  # refill after it


@pytest.mark.slow
def test_reference_equals_kernels_on_a_longer_run():
    cfg = small_config(
        simulation__lattice_size=32,
        simulation__days=3.0,
        patient__marrow_nucleated_cells=3e10,
        patient__marrow_t_cell_fraction=0.2,
        tcells__activated_division_per_day=3.0,
        simulation__compact_dead_fraction=0.05,
        simulation__seed=7,
    )
    assert_same_run(cfg)


# ---------------------------------------------- one kernel, one rule at a time


def test_initialisation_builds_the_same_patient():
    for seed in (0, 9):
        cfg = small_config(patient__marrow_nucleated_cells=1e11, simulation__seed=seed, **STRONG_RESISTANCE)
        ref, num = ReferenceModel(cfg), BlinatumomabModel(cfg)
        assert_same_state(ref, num)
        np.testing.assert_array_equal(ref.rec_counts[0], num.rec_counts[0])
        assert ref.baseline_counts == num.baseline_counts
        np.testing.assert_array_equal(ref.target_egress_per_day, num.target_egress_per_day)
        assert ref.clearance_l_per_h == num.clearance_l_per_h
        # Baseline escape variants in marrow (draw 5) and blood (draw 3); blasts start at baseline PD-L1.
        blasts = [c for c in ref.living_targets() if isinstance(c, Blast)]
        for where in (lambda c: c.cell is not None, lambda c: c.cell is None):
            some = [c for c in blasts if where(c)]
            assert {c.phenotype for c in some} == {PHENO_CD19_POSITIVE, PHENO_CD19_NEGATIVE}
            assert all((c.cd19 == 0.0) == (c.phenotype == PHENO_CD19_NEGATIVE) for c in some)
        low = cfg.disease.blast_cd19_median * cfg.disease.cd19_low_factor * 2
        assert sum(0.0 < c.cd19 < low for c in blasts) > 0.1 * len(blasts)  # CD19-low
        assert {c.pdl1 for c in blasts} == {R.f32(cfg.disease.pdl1_baseline)}
        assert {c.pdl1 for c in ref.living_targets() if isinstance(c, NormalBCell)} == {0.0}


def test_trafficking_rule_matches_kernel():
    ref = ReferenceModel(small_config(patient__marrow_nucleated_cells=1e11, tcells__marrow_homing_per_day=50.0))
    ref.tick = slow_tick(ref)
    ref.redistribution_drive = 0.5
    num = twin(ref)
    before = ref.export_state()
    run_phases(ref, num, "tcell_trafficking", "target_trafficking")
    assert_same_state(ref, num)
    tc = num.state.tcells
    assert not np.array_equal(before.tcells.pos[: tc.n], tc.pos[: tc.n])


def test_motility_rule_matches_kernel_from_hand_placed_t_cells():
    ref = ReferenceModel(small_config(simulation__lattice_size=16))
    clear(ref)
    side = ref.side
    sites = [0, side - 1, side * side - 1, side * (side - 1), 5 * side + 7, 5 * side + 7]
    for s in sites:
        ref.add_t_cell(ref.cell_at(s), 6.6e4)
    in_blood = ref.add_t_cell(None, 6.6e4)
    engaged = ref.add_t_cell(ref.cell_at(3), 6.6e4)
    engaged.partner = ref.add_target(Blast, ref.cell_at(3), 2e4, clock=10.0)
    engaged.partner.engaged = True
    for tick in range(5):
        ref.tick = tick
        num = twin(ref)
        run_phases(ref, num, "motility")
        assert_same_state(ref, num)
    assert in_blood.cell is None and ref.site_of(engaged.cell) == 3
    # A walk of <= ceil(3.6) steps a tick, 5 ticks: Chebyshev distance on the torus <= 20.
    for start, t in zip(sites, ref.living_tcells(), strict=False):
        x, y = t.cell.coordinate
        dx = min(abs(x - start % side), side - abs(x - start % side))
        dy = min(abs(y - start // side), side - abs(y - start // side))
        assert max(dx, dy) <= 5 * math.ceil(3.6)


def test_encounter_without_drug_forms_no_synapse():
    ref = ReferenceModel(small_config(patient__marrow_t_cell_fraction=0.3))
    ref.bridge_factor = 0.0
    num = twin(ref)
    run_phases(ref, num, "encounter")
    assert_same_state(ref, num)
    assert all(t.partner is None for t in ref.living_tcells())
    assert (num.state.tcells.view("partner") == NO_PARTNER).all()


def test_encounter_rule_matches_kernel_with_drug():
    cfg = small_config(
        patient__marrow_t_cell_fraction=0.3, patient__marrow_nucleated_cells=1e11, tcells__blood_contact_ul_per_h=1.0
    )
    ref = ReferenceModel(cfg)
    ref.bridge_factor = 1e-4  # ~ 1 - exp(-0.5 * 1e-4 * 2.2e4 / 2) = 0.42 per contact
    for tick in range(3):
        ref.tick = tick
        num = twin(ref)
        run_phases(ref, num, "encounter")
        assert_same_state(ref, num)
    engaged = [t for t in ref.living_tcells() if t.partner is not None]
    assert engaged and any(t.cell is None for t in engaged)  # marrow and blood synapses
    assert all(t.partner.engaged and t.activation == 1.0 and t.exhaustion > 0.0 for t in engaged)
    partners = [t.partner for t in engaged]
    assert len(set(map(id, partners))) == len(partners)  # one T-cell per target


def test_synapse_completes_after_synapse_hours_and_kills():
    ref = ReferenceModel(small_config(tcells__lysis_probability=1.0))
    clear(ref)
    blast = ref.add_target(Blast, ref.cell_at(10), 2e4, clock=50.0)
    t = ref.add_t_cell(ref.cell_at(11), 6.6e4)
    normal_b = ref.add_target(NormalBCell, None, 2e4)
    t_blood = ref.add_t_cell(None, 6.6e4)
    for cell, partner in ((t, blast), (t_blood, normal_b)):
        cell.partner, partner.engaged = partner, True
        cell.synapse_h = R.f32(ref.config.tcells.synapse_hours)
    ticks = math.ceil(ref.config.tcells.synapse_hours / ref.dt_hours)  # 0.75 h / 0.1 h -> 8
    for tick in range(ticks):
        ref.tick = tick
        num = twin(ref)
        run_phases(ref, num, "killing")
        assert_same_state(ref, num)
        done = tick == ticks - 1
        assert (t.partner is None) == done and (t_blood.partner is None) == done
        assert (ref.target_slots[0] is None) == done
    assert ref.killed_by_kind.tolist() == [1, 1]
    assert t.kills == t_blood.kills == 1 and t.exhaustion > 0.0
    assert ref.resident(ref.cell_at(10)) is None


def test_synapse_of_a_whole_number_of_ticks_lasts_exactly_that_long():
    ref = ReferenceModel(small_config(tcells__synapse_hours=0.5, tcells__lysis_probability=1.0))
    clear(ref)
    blast = ref.add_target(Blast, ref.cell_at(10), 2e4, clock=50.0)
    t = ref.add_t_cell(ref.cell_at(10), 6.6e4)
    t.partner, blast.engaged, t.synapse_h = blast, True, R.f32(0.5)
    num = twin(ref)
    for tick in range(5):
        num.tick = tick
        num.run_phase("killing")
    assert num.killed_by_kind[1] == 1


def test_blood_encounters_scale_with_blood_target_density():
    n_t, n_targets, p_contact = 1000, 2000, 5e-4
    tc = Store(TCELL_FIELDS, n_t)
    tc.pos[:], tc.partner[:], tc.cd3[:] = POS_BLOOD, NO_PARTNER, 6.6e4
    tc.activation[:] = tc.exhaustion[:] = tc.synapse_h[:] = tc.kills[:] = 0
    tg = Store(TARGET_FIELDS, n_targets)
    tg.pos[:], tg.cd19[:], tg.engaged[:] = POS_BLOOD, 2e4, 0
    listed, free = np.empty(n_targets, np.int32), np.empty(n_targets, np.int32)
    n_listed = encounter.list_blood_targets(n_targets, tg.record, listed)
    n_listed, n_free = encounter.free_blood_targets(listed, n_listed, tg.record, free)
    assert n_listed == n_free == n_targets
    formed = encounter.form_synapses(
        1,  # seed
        0,  # tick
        n_t,
        tc.record,
        tg.record,
        (np.zeros(1, np.int8), np.zeros(1, np.int32)),  # a one-site lattice
        1,
        1.0,
        p_contact,  # per-target contact probability this tick
        1.0,  # bridge factor: adhesion ~ 1
        6.6e4,
        1.0,
        0.75,
        0.005,  # exhaustion per engagement
        free,
        n_free,
    )
    # 2000 free targets: P(a T-cell meets one) = 1 - (1 - 5e-4)**2000 = 0.63, so ~600 synapses, not ~0.5.
    assert formed > 300


@pytest.mark.parametrize(("pd1_occupancy", "ctla4_blockade", "treg"), [(0.0, 0.0, 0.0), (0.8, 0.9, 0.3)])
def test_t_cell_fate_rule_matches_kernel_with_division_death_and_compaction(pd1_occupancy, ctla4_blockade, treg):
    """Also the PD-1:PD-L1 brake (mean blast PD-L1 x free PD-1), the CTLA-4 expansion gain
    and the regulatory-T suppression (from the mean T-cell activation)."""
    cfg = small_config(
        patient__treg_fraction_of_cd4=treg,
        tcells__activated_division_per_day=10.0,
        tcells__death_rate_per_day=2.0,
        patient__marrow_t_cell_fraction=0.3,
        patient__marrow_nucleated_cells=1e11,
        simulation__compact_dead_fraction=0.01,
    )
    ref = ReferenceModel(cfg)
    for i, t in enumerate(ref.living_tcells()):
        t.activation = R.f32(i % 5 / 4)
        t.exhaustion = R.f32(i % 3 / 5)
    for j, c in enumerate(ref.living_targets()):
        c.pdl1 = R.f32(j % 7 / 6)
    ref.pd1_occupancy, ref.ctla4_blockade = pd1_occupancy, ctla4_blockade
    ref.tick = slow_tick(ref)
    num = twin(ref)
    n_before = len(ref.tcell_slots)
    run_phases(ref, num, "tcell_fate", "tcell_sort")
    assert_same_state(ref, num)
    assert ref.treg_suppression == num.treg_suppression
    assert (ref.treg_suppression > 0.1) == (treg > 0)
    assert ref.births[2] > 0 and ref.deaths[2] > 0
    assert ref.tcells_dead == 0 and [t.slot for t in ref.tcell_slots] == list(range(len(ref.tcell_slots)))
    assert len(ref.tcell_slots) == n_before + ref.births[2] - ref.deaths[2]


def test_residents_rule_matches_kernel():
    cfg = small_config(
        disease__blast_birth_rate_per_day=5.0,
        disease__blast_death_rate_per_day=1.0,
        normal_b__death_rate_per_day=2.0,
        marrow__other_death_rate_per_day=2.0,
        patient__marrow_nucleated_cells=1e11,
        patient__normal_b_fraction=0.3,
        simulation__compact_dead_fraction=0.01,
    )
    ref = ReferenceModel(cfg)
    for tick in (slow_tick(ref), 2 * ref.slow_every - 1):
        ref.tick = tick
        num = twin(ref)
        run_phases(ref, num, *TARGET_PHASES)
        assert_same_state(ref, num)
    assert ref.births[[0, 1, 3]].min() > 0 and ref.deaths[[0, 1, 3]].min() > 0
    assert ref.targets_dead == 0  # compacted, as the kernel's store


def test_contact_inhibition_blocks_a_crowded_division():
    cfg = small_config(
        disease__blast_death_rate_per_day=0.0,
        disease__daughter_placement_attempts=8,
        normal_b__death_rate_per_day=0.0,
        marrow__other_death_rate_per_day=0.0,
    )
    ref = ReferenceModel(cfg)
    clear(ref)
    centre = 5 * ref.side + 5
    mother = ref.add_target(Blast, ref.cell_at(centre), 2e4, clock=0.01)
    for d in range(8):
        ref.add_target(NormalBCell, ref.cell_at(R.moore_neighbour(centre, ref.side, d)), 2e4)
    ref.normal_b_supply_per_day = 0.0
    ref.tick = slow_tick(ref)
    num = twin(ref)
    num.normal_b_supply_per_day = 0.0
    run_phases(ref, num, *TARGET_PHASES)
    assert_same_state(ref, num)
    assert ref.births[0] == 0 and mother.clock > 0.0 and len(ref.target_slots) == 9


def test_census_matches_kernel():
    ref = ReferenceModel(small_config(simulation__days=0.5, patient__marrow_nucleated_cells=1e11))
    num = BlinatumomabModel(ref.config)
    for _ in range(ref.n_ticks):
        ref.step()
        num.step()
    np.testing.assert_array_equal(ref.rec_counts[: ref.rec_index], num.rec_counts[: num.rec_index])
    assert ref.rec_index == num.rec_index == ref.n_records


def test_chemotherapy_exposure_rule_matches_kernel():
    """Targets by slot (holes included), other marrow cells by site, T-cells by slot;
    cells in a synapse are spared."""
    cfg = small_config(
        simulation__lattice_size=16,
        treatment__chemotherapy="salvage",
        chemotherapy__blast_kill_per_day=20.0,
        chemotherapy__normal_b_kill_per_day=20.0,
        chemotherapy__other_marrow_kill_per_day=20.0,
        chemotherapy__t_cell_kill_per_day=20.0,
    )
    ref = ReferenceModel(cfg)
    clear(ref)
    for s in range(0, ref.n_sites, 2):
        cell = ref.cell_at(s)
        k = s // 2 % 3
        if k == 0:
            ref.add_target(Blast, cell, 2e4, clock=50.0)
        elif k == 1:
            ref.add_target(NormalBCell, cell, 2e4)
        else:
            OtherMarrowCell(ref, cell)
    for c in range(20):
        ref.add_target(Blast if c % 2 else NormalBCell, None, 2e4, clock=50.0)
        ref.add_t_cell(None, 6.6e4)
        ref.add_t_cell(ref.cell_at(7 * c + 1), 6.6e4)
    ref.target_slots[4].die()  # holes: draws stay addressed by slot
    ref.tcell_slots[3].die()
    pairs = []
    for target in (ref.target_slots[0], ref.target_slots[-1]):  # one synapse in marrow, one in blood
        t = ref.add_t_cell(target.cell, 6.6e4)
        t.partner, target.engaged, t.synapse_h = target, True, R.f32(0.5)
        pairs.append((t, target))
    dt_days = ref.dt_hours * ref.slow_every / 24.0
    for tick in range(3):
        ref.tick = tick
        num = twin(ref)
        ref.expose_to_chemotherapy(dt_days)
        chemotherapy.expose(num, dt_days)
        assert_same_state(ref, num)
    assert ref.deaths.min() > 0  # blasts, normal B, T-cells and other marrow cells
    assert all(t.slot is not None and ref.tcell_slots[t.slot] is t for t, _ in pairs)
    assert all(ref.target_slots[c.slot] is c for _, c in pairs)
    assert ref.living_tcells() and len(ref.agents_by_type.get(OtherMarrowCell, [])) > 0


@pytest.mark.parametrize(("start_day", "hours"), [(0.0, 1), (10.0, 1), (0.0, 36)])
def test_residents_rule_around_a_chemotherapy_course_matches_kernel(start_day, hours):
    """Exposure runs first during a course; the marrow does not refill during it and
    ramps back after it (a one-day course, 1 h in it, before it, 12 h after it)."""
    cfg = small_config(
        patient__marrow_nucleated_cells=1e11,
        marrow__other_death_rate_per_day=5.0,
        chemotherapy__t_cell_kill_per_day=10.0,
        chemotherapy__course_days=1,
        chemotherapy__marrow_recovery_days=1.0,
        treatment__chemotherapy="salvage",
        treatment__chemotherapy_start_day=start_day,
    )
    ref = ReferenceModel(cfg)
    ref.tick = hours * ref.slow_every - 1
    num = twin(ref)
    run_phases(ref, num, *TARGET_PHASES)
    assert_same_state(ref, num)
    in_course = start_day == 0.0 and hours <= 24
    assert (ref.deaths[2] > 0) == in_course  # T-cells die only by chemotherapy here
    assert (ref.births[3] == 0) == in_course  # no refill during a course


def test_pdl1_relaxes_towards_the_ifng_target():
    """Every living blast not in a synapse, in marrow or blood; normal B cells keep none."""
    cfg = small_config(
        disease__blast_death_rate_per_day=0.0,
        normal_b__death_rate_per_day=0.0,
        disease__pdl1_response_days=0.5,
    )
    ref = ReferenceModel(cfg)
    clear(ref)
    ref.normal_b_supply_per_day = 0.0
    free = [ref.add_target(Blast, ref.cell_at(s), 2e4, clock=50.0, pdl1=p) for s, p in ((3, 0.0), (40, 0.3), (77, 1.0))]
    free.append(ref.add_target(Blast, None, 2e4, clock=50.0, pdl1=0.05))
    engaged = ref.add_target(Blast, ref.cell_at(100), 2e4, clock=50.0, pdl1=0.05)
    t = ref.add_t_cell(engaged.cell, 6.6e4)
    t.partner, engaged.engaged, t.synapse_h = engaged, True, R.f32(0.5)
    normal_b = ref.add_target(NormalBCell, ref.cell_at(5), 2e4)
    ref.cytokines.ifng = 40.0
    ref.tick = slow_tick(ref)
    before = [c.pdl1 for c in free]
    num = twin(ref)
    run_phases(ref, num, *TARGET_PHASES)
    assert_same_state(ref, num)
    dis = cfg.disease
    target = dis.pdl1_baseline + (dis.pdl1_max - dis.pdl1_baseline) * 40.0 / (40.0 + dis.pdl1_ifng_ec50_pg_per_ml)
    keep = math.exp(-(ref.dt_hours * ref.slow_every / 24.0) / 0.5)
    assert [c.pdl1 for c in free] == [R.f32(target + (p - target) * keep) for p in before]
    assert engaged.pdl1 == R.f32(0.05) and normal_b.pdl1 == 0.0


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_cd19_inheritance_loss_and_lineage_switch_at_division(noise):
    """Every mother divides (in marrow and blood): CD19 inherited with noise (draw 12),
    lineage switch (draw 14, not from myeloid mothers), else CD19 loss (draw 15, CD19+
    mothers only); the daughter's clock uses its own phenotype's cycle."""
    cfg = small_config(
        disease__blast_death_rate_per_day=0.0,
        disease__myeloid_death_rate_per_day=0.0,
        normal_b__death_rate_per_day=0.0,
        disease__cd19_division_log_sd=noise,
        disease__cd19_loss_per_division=0.3,
        patient__kmt2a_rearranged=True,
        disease__lineage_switch_per_division_kmt2a=0.1,
    )
    ref = ReferenceModel(cfg)
    clear(ref)
    ref.normal_b_supply_per_day = 0.0
    ref.cytokines.ifng = 20.0  # immune pressure raises the switch probability
    phenotypes = (PHENO_CD19_POSITIVE, PHENO_CD19_POSITIVE, PHENO_CD19_NEGATIVE, PHENO_MYELOID)
    mothers = []
    marrow_sites = iter((4 * (k // 6) + 1) * ref.side + 4 * (k % 6) + 1 for k in range(36))  # 3 apart: room
    for c in range(48):
        pheno = phenotypes[c % 4]
        cd19 = 0.0 if pheno != PHENO_CD19_POSITIVE else (2e4 if c % 8 else 2e3)  # some CD19-low
        cell = ref.cell_at(next(marrow_sites)) if c % 3 else None
        mothers.append(ref.add_target(Blast, cell, cd19, clock=0.01, pdl1=0.3, phenotype=pheno))
    ref.tick = slow_tick(ref)
    num = twin(ref)
    run_phases(ref, num, *TARGET_PHASES)
    assert_same_state(ref, num)
    daughters = ref.target_slots[len(mothers) :]
    assert ref.births[0] == len(daughters) == len(mothers)  # every mother found room
    switches = losses = 0
    for m, d in zip(mothers, daughters, strict=True):
        assert d.pdl1 == m.pdl1 and (d.cell is None) == (m.cell is None)
        if d.phenotype == PHENO_MYELOID:
            switches += m.phenotype != PHENO_MYELOID
            assert d.cd19 == 0.0
        elif d.phenotype == PHENO_CD19_NEGATIVE:
            losses += m.phenotype == PHENO_CD19_POSITIVE
            assert d.cd19 == 0.0 and m.phenotype != PHENO_MYELOID
        else:
            assert m.phenotype == PHENO_CD19_POSITIVE and d.cd19 > 0.0
            assert (d.cd19 == m.cd19) == (noise == 0.0)
        if m.phenotype == PHENO_MYELOID:
            assert d.phenotype == PHENO_MYELOID
    assert switches == ref.lineage_switches > 0 and losses == ref.cd19_losses > 0


def test_killing_brake_matches_kernel():
    """Lysis x effector function of exhaustion x PD-1:PD-L1 brake; anti-PD-1 lifts the
    brake, so with the same draws it kills a superset."""

    def killers(occupancy: float) -> set[int]:
        cfg = small_config(
            tcells__lysis_probability=1.0,
            tcells__exhaustion_per_engaged_day=0.0,
            tcells__pd1_lysis_inhibition=1.0,
            patient__treg_fraction_of_cd4=0.0,  # no non-killing regulatory T-cells
        )
        ref = ReferenceModel(cfg)
        clear(ref)
        for i in range(80):
            target = ref.add_target(Blast, None, 2e4, clock=50.0, pdl1=(i % 5) / 4)
            t = ref.add_t_cell(None, 6.6e4, exhaustion=(i // 5) / 16)
            t.partner, target.engaged, t.synapse_h = target, True, R.f32(ref.dt_hours)  # ends this tick
        ref.pd1_occupancy = occupancy
        num = twin(ref)
        run_phases(ref, num, "killing")
        assert_same_state(ref, num)
        assert all(t.partner is None for t in ref.living_tcells())
        # Fresh T-cells (no PD-1, full effector function) always kill.
        assert all(t.kills == 1 for t in ref.living_tcells()[:5])
        return {t.slot for t in ref.living_tcells() if t.kills}

    braked, lifted = killers(0.0), killers(0.85)
    assert braked < lifted


# ---------------------------------------------------- properties of the kernels


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    tick=st.integers(0, 230),
    side=st.sampled_from([16, 20, 24]),
    blast_fraction=st.floats(0.0, 0.95),
    arm=st.sampled_from(sorted(ARMS)),
)
def test_one_slow_step_from_any_state_is_identical(seed, tick, side, blast_fraction, arm):
    cfg = small_config(
        simulation__lattice_size=side,
        patient__marrow_blast_fraction=blast_fraction,
        patient__marrow_nucleated_cells=1e11,
        simulation__seed=seed,
        **ARMS[arm],
    )
    ref = ReferenceModel(cfg)
    ref.tick = tick
    ref.concentration = 2000.0
    num = twin(ref)
    for _ in range(ref.slow_every):
        ref.step()
        num.step()
    assert_same_state(ref, num)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    blast_fraction=st.floats(0.0, 0.95),
    t_fraction=st.floats(0.0, 0.3),
    start_day=st.sampled_from([0.25, 0.5, 2.0]),
    dose=st.floats(1.0, 200.0),
    arm=st.sampled_from(sorted(ARMS)),
)
def test_kernel_invariants(seed, blast_fraction, t_fraction, start_day, dose, arm):
    """No negative counts; births - deaths = change in every population; no synapse
    and no kill before the drug starts (and none at all if it never does)."""
    cfg = make_config(
        simulation__lattice_size=20,
        simulation__days=1.0,
        simulation__seed=seed,
        patient__marrow_blast_fraction=blast_fraction,
        patient__marrow_t_cell_fraction=t_fraction,
        patient__marrow_nucleated_cells=1e11,
        treatment__regimen="custom",
        treatment__schedule=[{"start_day": start_day, "end_day": start_day + 1.0, "dose_ug_per_day": dose}],
        **ARMS[arm],
    )
    model = BlinatumomabModel(cfg)
    model.run()
    ds = model.to_dataset()
    assert (model.rec_counts >= 0).all()
    births = agents(ds, ds.cumulative_births)
    deaths = agents(ds, ds.cumulative_deaths)
    populations = {
        "blast": total(ds, "blasts"),
        "normal_b": total(ds, "normal_b_cells"),
        "t_cell": total(ds, "t_cells"),
        "other_marrow": ds.other_marrow_cells.values,
    }
    for i, name in enumerate(POPULATIONS):
        if name == "blast":
            # Blast agents carry an adaptive weight: the books balance in cells, with the merges.
            cells = populations[name]
            flow = ds.cumulative_births.values[:, i] - ds.cumulative_deaths.values[:, i] + ds.blast_merge_cells.values
            np.testing.assert_allclose(cells - cells[0], flow, rtol=0, atol=1e-9 * max(cells[0], 1.0), err_msg=name)
            continue
        n = agents(ds, populations[name])
        np.testing.assert_array_equal(n - n[0], births[:, i] - deaths[:, i], err_msg=name)
    before = ds.time.values < start_day - 1e-9
    assert float(ds.t_cells_engaged.values[before].max()) == 0.0
    assert float(ds.kills.values[before].sum()) == 0.0 and float(ds.normal_b_kills.values[before].sum()) == 0.0
    # Every synapse pairs one T-cell with one living target.
    partners = model.state.tcells.view("partner")
    engaged = partners[partners != NO_PARTNER]
    assert len(np.unique(engaged)) == len(engaged)
    assert (model.state.targets.pos[engaged] != POS_DEAD).all()
    assert int(model.state.targets.view("engaged").sum()) == len(engaged)
