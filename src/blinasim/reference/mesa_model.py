"""The Mesa reference model: the rules of the numba kernels written as idiomatic Mesa.

Every cell is a :class:`mesa.discrete_space.CellAgent` on a toroidal
:class:`mesa.discrete_space.OrthogonalMooreGrid` (the marrow); blood is a
well-mixed compartment, so an agent in blood has no grid cell (``cell is None``).
Each rule is a plain-Python method whose docstring names the kernel it
mirrors. The model is slow and readable: it is the oracle the kernels are
tested against (``tests/test_reference.py``) and the baseline of the benchmark.

How the reference stays bit-identical to :class:`blinasim.core.model.BlinatumomabModel`:

* **Same random numbers.** A pure-Python port of the counter-based SplitMix64
  generator of :mod:`blinasim.kernels.rng` (Python ints masked to 64 bits);
  every draw is addressed by (run seed, tick, stream, slot, draw index), exactly
  as in the kernels.
* **Same slots.** Draws are addressed by an agent's slot in the numba stores,
  so the reference keeps the same numbering: each agent has a ``slot``;
  daughters are appended at the end; a dead agent leaves a hole (``None``) in
  its slot list; the lists are compacted (slots renumbered) by the same rule
  and at the same moments as the stores: the targets when enough of them
  are dead, the T-cells every slow step; both are put in lattice order
  (marrow by site, then blood), as the numba stores are for memory locality
  (:meth:`ReferenceModel._compact_targets`, :meth:`ReferenceModel._sort_t_cells`).
  Within a phase agents are visited in slot order, like the kernels.
* **Same lattice.** Site index ``y * side + x`` of the grid cell ``(x, y)``;
  neighbours by :func:`moore_neighbour`, a copy of
  :func:`blinasim.kernels.motility.moore_neighbour` (Mesa's own neighbourhood
  order is not used for draws).
* **Same arithmetic.** Fields that are float32 in the numba stores (CD19, CD3,
  activation, exhaustion, synapse timer, division clock, PD-L1) are held as
  Python floats rounded to float32 on every store (:func:`f32`); arithmetic
  is float64, as numba promotes float32 operands.
* **Same patient.** The derived quantities come from the shared helpers
  :func:`blinasim.core.patient.plan_patient`, :func:`blinasim.core.patient.equilibrium_rates`
  and :func:`blinasim.core.patient.plan_drug`; placement ports
  :mod:`blinasim.kernels.initial` (baseline escape variants included).
* **Same phases and clocks.** Both models derive from
  :class:`blinasim.core.patient.PatientModel` (clocks, phase loop, drug and
  clinical machinery, record arrays) and run the phase list
  :data:`blinasim.core.phases.PHASES`; the reference puts its own rule in
  every phase that touches agents (:attr:`ReferenceModel.phases`) and runs the
  agent-free phases (protocol, PK) as they are.
* **Same rates, by composition.** Every number computed from the config
  before a rule runs (probabilities per tick or slow step, the PD-L1 target,
  the lineage-switch probability, the Treg suppression, the lysis
  probability) comes from the rate functions of the process modules
  :mod:`blinasim.core.processes`, imported here, never copied.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid

from blinasim.core.output import build_dataset
from blinasim.core.patient import PatientModel, plan_patient
from blinasim.core.phases import with_runs
from blinasim.core.processes import (
    blast_fate,
    blast_scale,
    chemotherapy,
    cytokines,
    encounter,
    glucocorticoid,
    killing,
    marrow_turnover,
    motility,
    normal_b_supply,
    pk,
    protocol,
    record,
    tcell_fate,
    trafficking,
)
from blinasim.core.state import P_BLAST, P_NORMAL_B, P_OTHER_MARROW, P_T_CELL, State
from blinasim.kernels import census as C
from blinasim.kernels.blast_scale import RANDOM_SITE_TRIES, THIN_DRAW
from blinasim.kernels.initial import SUB_BLOOD_B, SUB_BLOOD_BLASTS, SUB_MARROW, SUB_T_BLOOD, SUB_T_MARROW
from blinasim.kernels.layout import (
    KIND_BLAST,
    KIND_NORMAL_B,
    NO_PARTNER,
    PHENO_CD19_NEGATIVE,
    PHENO_CD19_POSITIVE,
    PHENO_MYELOID,
    POS_BLOOD,
    POS_DEAD,
    SITE_EMPTY,
    SITE_OTHER,
    SITE_TARGET,
)
from blinasim.kernels.rng import (
    BLAST_SCALE,
    CHEMOTHERAPY,
    ENCOUNTER,
    GLUCOCORTICOID,
    INIT,
    KILLING,
    MARROW_TURNOVER,
    MOTILITY,
    NORMAL_B_SUPPLY,
    RESIDENT_FATE,
    TCELL_FATE,
    TRAFFIC_RESIDENT,
    TRAFFIC_T,
)

# --------------------------------------------------------------------------
# Counter-based random numbers: a pure-Python port of blinasim.kernels.rng.

MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_TICK = 0xD1B54A32D192ED03
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def mix64(z: int) -> int:
    """SplitMix64 finalizer on a 64-bit unsigned int (mirrors ``kernels.rng.mix64``)."""
    z = ((z ^ (z >> 30)) * _MIX1) & MASK64
    z = ((z ^ (z >> 27)) * _MIX2) & MASK64
    return z ^ (z >> 31)


def stream_key(seed: int, tick: int, stream: int) -> int:
    """The key of one process at one tick (mirrors ``kernels.rng.stream_key``)."""
    z = mix64((seed + stream * _GOLDEN) & MASK64)
    return mix64(z ^ ((tick * _TICK) & MASK64))


def uniform(key: int, slot: int, k: int) -> float:
    """Draw ``k`` of ``slot`` under ``key``: a double in [0, 1) (mirrors ``kernels.rng.uniform``)."""
    return (mix64((key + slot * _GOLDEN + k * _MIX1) & MASK64) >> 11) * _TO_UNIT


def exponential(key: int, slot: int, k: int, mean: float) -> float:
    """Mirrors ``kernels.rng.exponential``."""
    return -mean * math.log(1.0 - uniform(key, slot, k))


def normal(key: int, slot: int, k: int) -> float:
    """Box-Muller with draws ``k``, ``k + 1`` (mirrors ``kernels.rng.normal``)."""
    u1 = 1.0 - uniform(key, slot, k)
    u2 = uniform(key, slot, k + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def lognormal(key: int, slot: int, k: int, median: float, log_sd: float) -> float:
    """Mirrors ``kernels.rng.lognormal``."""
    return median * math.exp(log_sd * normal(key, slot, k))


def poisson(key: int, slot: int, k: int, mean: float) -> int:
    """Poisson by inversion, rounded normal above a mean of 50 (mirrors ``kernels.rng.poisson``)."""
    if mean <= 0.0:
        return 0
    if mean > 50.0:
        x = mean + math.sqrt(mean) * normal(key, slot, k + 1)
        return max(0, math.floor(x + 0.5))
    u = uniform(key, slot, k)
    p = math.exp(-mean)
    cdf = p
    n = 0
    while u > cdf and n < 1000:
        n += 1
        p *= mean / n
        cdf += p
    return n


def draw_uniform(seed: int, tick: int, stream: int, slot: int, k: int) -> float:
    """One uniform draw by its full counter (mirrors ``kernels.rng.draw_uniform``)."""
    return uniform(stream_key(seed, tick, stream), slot, k)


def draw_normal(seed: int, tick: int, stream: int, slot: int, k: int) -> float:
    """Mirrors ``kernels.rng.draw_normal``."""
    return normal(stream_key(seed, tick, stream), slot, k)


def draw_poisson(seed: int, tick: int, stream: int, slot: int, k: int, mean: float) -> int:
    """Mirrors ``kernels.rng.draw_poisson``."""
    return poisson(stream_key(seed, tick, stream), slot, k, mean)


def f32(x: float) -> float:
    """Round to float32, as a store into a float32 array of the numba state does."""
    return float(np.float32(x))


def moore_neighbour(site: int, side: int, d: int) -> int:
    """Site of Moore neighbour ``d`` (0-7; 8 is the site itself) on the torus.

    A copy of ``kernels.motility.moore_neighbour``: ``d`` runs over the 3x3 block
    row by row (dy = -1, 0, 1; dx = -1, 0, 1), skipping the centre.
    """
    if d == 8:
        return site
    idx = d if d < 4 else d + 1
    x = (site % side + idx % 3 - 1) % side
    y = (site // side + idx // 3 - 1) % side
    return y * side + x


def adhesion_probability(bridge_factor: float, cd19: float, cd3: float, cd3_half: float, beta: float) -> float:
    """Probability that one contact becomes a synapse (mirrors ``kernels.encounter.adhesion_probability``)."""
    n_bridges = bridge_factor * cd19 * cd3 / (cd3 + cd3_half)
    return 1.0 - math.exp(-beta * n_bridges)


def blood_meet_probability(rate_per_target: float, n_targets: int) -> float:
    """Chance a free blood T-cell meets one of ``n_targets`` free targets in a tick
    (mirrors ``kernels.encounter.blood_meet_probability``)."""
    return 1.0 - math.exp(-rate_per_target * n_targets)


def effector_function(e: float, e50: float, hill: float) -> float:
    """Lytic and proliferative capacity left at exhaustion ``e`` (1 when fresh);
    mirrors ``kernels.killing.effector_function``."""
    try:
        x = (e / e50) ** hill
    except OverflowError:  # numba gives inf, and 1 / (1 + inf) = 0
        return 0.0
    return 1.0 / (1.0 + x)


def escape_variant(u: float, cd19: float, negative_fraction: float, low_fraction: float, low_factor: float):
    """(CD19, phenotype) of a baseline blast: CD19-negative with probability
    ``negative_fraction``, CD19-low (x ``low_factor``) with ``low_fraction``, else
    unchanged; mirrors ``kernels.initial.escape_variant``."""
    if u < negative_fraction:
        return 0.0, PHENO_CD19_NEGATIVE
    if u < negative_fraction + low_fraction:
        return cd19 * low_factor, PHENO_CD19_POSITIVE
    return cd19, PHENO_CD19_POSITIVE


# --------------------------------------------------------------------------
# Agents


class TCell(CellAgent):
    """A T-cell: crawls over the marrow residents (many may share a site) or circulates.

    ``partner`` is the :class:`CD19Cell` it is in a synapse with (or None).
    """

    def __init__(
        self, model: ReferenceModel, slot: int, cell, cd3: float, activation: float = 0.0, exhaustion: float = 0.0
    ):
        super().__init__(model)
        self.slot = slot
        self.cd3 = f32(cd3)
        self.activation = f32(activation)
        self.exhaustion = f32(exhaustion)
        self.synapse_h = 0.0
        self.kills = 0
        self.partner: CD19Cell | None = None
        self.cell = cell

    def traffic(self, p_to_marrow: float, p_to_blood: float) -> None:
        """Blood <-> marrow exchange of a free T-cell; mirrors ``kernels.trafficking.traffic_t_cells``."""
        if self.partner is not None:
            return
        m = self.model
        u = m.uniform(TRAFFIC_T, self.slot, 0)
        if self.cell is None:
            if u < p_to_marrow:
                self.cell = m.cell_at(int(m.uniform(TRAFFIC_T, self.slot, 1) * m.n_sites))
        elif u < p_to_blood:
            self.cell = None

    def move(self, whole: int, frac: float) -> None:
        """Random walk of ``whole`` (+1 with probability ``frac``) Moore steps;
        mirrors ``kernels.motility.move_t_cells``."""
        if self.cell is None or self.partner is not None:
            return
        m = self.model
        n_steps = whole + (1 if m.uniform(MOTILITY, self.slot, 0) < frac else 0)
        site = m.site_of(self.cell)
        for s in range(n_steps):
            site = moore_neighbour(site, m.side, int(m.uniform(MOTILITY, self.slot, 1 + s) * 8.0))
        self.cell = m.cell_at(site)

    def seek_synapse(
        self,
        whole: int,
        frac: float,
        p_meet_blood: float,
        blood_targets: list[CD19Cell],
        bridge_factor: float,
        cd3_half: float,
        beta: float,
        synapse_hours: float,
        exhaustion_per_engagement: float,
    ) -> bool:
        """Probe contacts and form a synapse; mirrors ``kernels.encounter.form_synapses``.

        In marrow: ``whole`` (+1 with probability ``frac``) contacts with random
        cells of the 3x3 block around the T-cell (its own site included). In
        blood: with probability ``1 - exp(-p_meet_blood * n)`` one contact with a
        random entry of the ``n`` ``blood_targets`` (the free CD19+ blood targets at
        the start of the phase); ``p_meet_blood`` is the contact rate per target.
        A synapse sets activation to 1 and adds ``exhaustion_per_engagement`` of
        the remaining way to full exhaustion. Returns True when a synapse formed.
        """
        if self.partner is not None:
            return False
        m = self.model
        i = self.slot
        target = None
        if self.cell is not None:
            n_contacts = whole + (1 if m.uniform(ENCOUNTER, i, 0) < frac else 0)
            site = m.site_of(self.cell)
            for c in range(n_contacts):
                s = moore_neighbour(site, m.side, int(m.uniform(ENCOUNTER, i, 1 + 2 * c) * 9.0))
                other = m.resident(m.cell_at(s))
                if not isinstance(other, CD19Cell) or other.engaged or other.cd19 <= 0.0:
                    continue
                p = adhesion_probability(bridge_factor, other.cd19, self.cd3, cd3_half, beta)
                if m.uniform(ENCOUNTER, i, 2 + 2 * c) < p:
                    target = other
                    break
        elif blood_targets and m.uniform(ENCOUNTER, i, 0) < blood_meet_probability(p_meet_blood, len(blood_targets)):
            other = blood_targets[int(m.uniform(ENCOUNTER, i, 1) * len(blood_targets))]
            if not other.engaged and m.uniform(ENCOUNTER, i, 2) < adhesion_probability(
                bridge_factor, other.cd19, self.cd3, cd3_half, beta
            ):
                target = other
        if target is None:
            return False
        self.partner = target
        target.engaged = True
        self.synapse_h = f32(synapse_hours)
        self.activation = 1.0
        self.exhaustion = f32(1.0 - (1.0 - self.exhaustion) * (1.0 - exhaustion_per_engagement))
        return True

    def resolve_synapse(
        self,
        dt_hours: float,
        keep: float,
        lysis_probability: float,
        e50: float,
        hill: float,
        pd1_inhibition: float,
        pd1_free: float,
    ) -> int | None:
        """Advance the synapse one tick; at its end lyse the partner with probability
        ``lysis_probability * effector_function(e) * brake`` and release it, where
        ``brake = 1 - pd1_inhibition * e * PD-L1 of the target * pd1_free`` (PD-1
        rises with exhaustion ``e``; ``pd1_free`` is the share of PD-1 not blocked by
        an anti-PD-1 antibody). Exhaustion accrues while engaged. Mirrors
        ``kernels.killing.resolve_synapses``.

        Returns the kind of the killed target, or None.
        """
        target = self.partner
        if target is None:
            return None
        self.exhaustion = f32(1.0 - (1.0 - self.exhaustion) * keep)
        self.synapse_h = f32(self.synapse_h - dt_hours)
        if self.synapse_h > 1e-4:
            return None
        killed = None
        e = self.exhaustion
        brake = 1.0 - pd1_inhibition * e * target.pdl1 * pd1_free
        if self.model.uniform(KILLING, self.slot, 0) < lysis_probability * effector_function(e, e50, hill) * brake:
            killed = target.kind
            target.die()
            if self.kills < 65535:
                self.kills += 1
        target.engaged = False
        self.partner = None
        self.synapse_h = 0.0
        return killed

    def fate(
        self,
        activation_keep: float,
        exhaustion_recovery: float,
        homeostatic_division_rate: float,
        activated_division_rate: float,
        death_rate: float,
        contraction_rate: float,
        dt: float,
        e50: float,
        hill: float,
        pd1_brake: float,
        expansion_factor: float,
    ) -> None:
        """One slow step of decay, death and division of a free T-cell;
        mirrors ``kernels.tcell_fate.t_cell_fate``.

        Exhaustion recovers at ``exhaustion_recovery`` (rate x dt) scaled by ``1 - a``:
        only once stimulation stops. Activated division is scaled by
        ``expansion_factor`` (CTLA-4 blockade), the effector function left at
        exhaustion ``e`` and the PD-1:PD-L1 brake ``1 - pd1_brake * e``."""
        if self.partner is not None:
            return
        m = self.model
        a = self.activation * activation_keep  # float64, as in the kernel
        self.activation = f32(a)
        e = self.exhaustion * math.exp(-exhaustion_recovery * (1.0 - a))  # recovery once stimulation stops
        self.exhaustion = f32(e)
        if m.uniform(TCELL_FATE, self.slot, 0) < 1.0 - math.exp(-(death_rate + contraction_rate * (1.0 - a)) * dt):
            m.deaths[P_T_CELL] += 1
            self.die()
        elif m.uniform(TCELL_FATE, self.slot, 1) < 1.0 - math.exp(
            -(
                homeostatic_division_rate
                + activated_division_rate
                * expansion_factor
                * a
                * effector_function(e, e50, hill)
                * (1.0 - pd1_brake * e)
            )
            * dt
        ):
            m.add_t_cell(self.cell, self.cd3, activation=a, exhaustion=e)
            m.births[P_T_CELL] += 1

    def expose(self, p_death: float, slot_offset: int) -> None:
        """Lymphodepletion by chemotherapy, sparing a T-cell in a synapse; mirrors the
        T-cell loop of ``kernels.chemotherapy.cytotoxic_exposure`` (draws at slot
        ``slot_offset + slot``, after the targets and the lattice sites)."""
        if self.partner is not None:
            return
        m = self.model
        if m.uniform(CHEMOTHERAPY, slot_offset + self.slot, 0) < p_death:
            m.deaths[P_T_CELL] += 1
            self.die()

    def die(self) -> None:
        """Leave a hole in the slot list and leave the model."""
        self.model.tcell_slots[self.slot] = None
        self.model.tcells_dead += 1
        self.remove()


class CD19Cell(CellAgent):
    """A cell of the CD19 lineage, the drug's target: one per marrow site at most, or in blood."""

    kind: ClassVar[int]
    #: index of the population in the birth and death counters
    population: ClassVar[int]

    def __init__(
        self,
        model: ReferenceModel,
        slot: int,
        cell,
        cd19: float,
        clock: float = 0.0,
        pdl1: float = 0.0,
        phenotype: int = PHENO_CD19_POSITIVE,
    ):
        super().__init__(model)
        self.slot = slot
        self.cd19 = f32(cd19)
        self.pdl1 = f32(pdl1)
        self.clock = f32(clock)
        self.phenotype = phenotype
        self.engaged = False
        self.cell = cell

    def traffic(self, p_home: np.ndarray, p_egress: np.ndarray) -> None:
        """Egress from marrow, or homing to a random site that is taken only if empty;
        mirrors ``kernels.trafficking.traffic_targets``."""
        if self.engaged:
            return
        m = self.model
        u = m.uniform(TRAFFIC_RESIDENT, self.slot, 0)
        if self.cell is None:
            if u < p_home[self.kind]:
                cell = m.cell_at(int(m.uniform(TRAFFIC_RESIDENT, self.slot, 1) * m.n_sites))
                if m.resident(cell) is None:
                    self.cell = cell
        elif u < p_egress[self.kind]:
            self.cell = None

    def expose(self, p_death: float) -> None:
        """Cytotoxic death during a chemotherapy course, sparing a cell in a synapse;
        mirrors the target loop of ``kernels.chemotherapy.cytotoxic_exposure``."""
        if self.engaged:
            return
        m = self.model
        if m.uniform(CHEMOTHERAPY, self.slot, 0) < p_death:
            m.deaths[self.population] += 1
            self.die()

    def die(self) -> None:
        """Free the site, leave a hole in the slot list and leave the model."""
        self.model.target_slots[self.slot] = None
        self.model.targets_dead += 1
        self.remove()


class Blast(CD19Cell):
    """A leukemic blast with a division clock (hours to its next division) and a
    phenotype (CD19+, CD19-negative or lineage-switched myeloid)."""

    kind: ClassVar[int] = KIND_BLAST
    population: ClassVar[int] = P_BLAST

    def fate(self, rates: blast_fate.BlastFateRates, mean_cycle_hours: list[float], p_death: list[float]) -> None:
        """Apoptosis, PD-L1 relaxation, or division when the clock runs out, with
        contact-inhibited placement of the daughter; mirrors the blast branch of
        ``kernels.blast_fate.target_fate``.

        ``rates`` come from :func:`blinasim.core.processes.blast_fate.fate_rates`;
        ``mean_cycle_hours`` and ``p_death`` are its phenotype-indexed arrays as
        lists. The daughter's CD19 and phenotype come from :meth:`daughter_phenotype`.
        """
        if self.engaged:
            return
        m = self.model
        j = self.slot
        if m.uniform(RESIDENT_FATE, j, 0) < p_death[self.phenotype]:
            m.deaths[P_BLAST] += 1
            self.die()
            return
        self.relax_pdl1(rates.pdl1_target, rates.pdl1_keep)
        clock = self.clock - rates.dt_hours
        if clock > 0.0:
            self.clock = f32(clock)
            return
        self.clock = f32(clock - mean_cycle_hours[self.phenotype] * math.log(1.0 - m.uniform(RESIDENT_FATE, j, 1)))
        dest = None
        if self.cell is not None:
            site = m.site_of(self.cell)
            for a in range(rates.placement_attempts):
                cell = m.cell_at(moore_neighbour(site, m.side, int(m.uniform(RESIDENT_FATE, j, 3 + a) * 8.0)))
                occupant = m.resident(cell)
                if occupant is None or isinstance(occupant, OtherMarrowCell):
                    if occupant is not None:
                        occupant.displace()
                    dest = cell
                    break
            if dest is None:
                return  # contact inhibition: no room around the mother, no division
        cd19, phenotype = self.daughter_phenotype(rates.cd19_noise_log_sd, rates.p_cd19_loss, rates.p_lineage_switch)
        m.add_target(
            Blast,
            dest,
            cd19,
            clock=clock - mean_cycle_hours[phenotype] * math.log(1.0 - m.uniform(RESIDENT_FATE, j, 2)),
            pdl1=self.pdl1,
            phenotype=phenotype,
        )
        m.births[P_BLAST] += 1

    def relax_pdl1(self, target: float, keep: float) -> None:
        """PD-L1 relaxes towards the IFN-gamma-induced ``target`` (``keep`` = exp(-dt / tau));
        mirrors ``kernels.blast_fate.target_fate`` (after the death check, before the clock)."""
        self.pdl1 = f32(target + (self.pdl1 - target) * keep)

    def daughter_phenotype(
        self, cd19_noise_log_sd: float, p_cd19_loss: float, p_lineage_switch: float
    ) -> tuple[float, int]:
        """CD19 (float64, rounded when stored) and phenotype of a daughter; mirrors the
        division of ``kernels.blast_fate.target_fate``.

        CD19 is inherited with lognormal noise (normal draw 12). A mother that is not
        myeloid switches lineage with ``p_lineage_switch`` (draw 14: myeloid, no
        CD19); otherwise a CD19+ mother loses CD19 with ``p_cd19_loss`` (draw 15).
        """
        m = self.model
        j = self.slot
        phenotype = self.phenotype
        cd19 = self.cd19
        if cd19 > 0.0 and cd19_noise_log_sd > 0.0:
            cd19 = cd19 * math.exp(cd19_noise_log_sd * normal(m.key(RESIDENT_FATE), j, 12))
        if phenotype != PHENO_MYELOID and m.uniform(RESIDENT_FATE, j, 14) < p_lineage_switch:
            m.lineage_switches += 1
            return 0.0, PHENO_MYELOID
        if phenotype == PHENO_CD19_POSITIVE and m.uniform(RESIDENT_FATE, j, 15) < p_cd19_loss:
            m.cd19_losses += 1
            return 0.0, PHENO_CD19_NEGATIVE
        return cd19, phenotype


class NormalBCell(CD19Cell):
    """A normal (non-leukemic) B cell: it does not divide; new ones come from the supply."""

    kind: ClassVar[int] = KIND_NORMAL_B
    population: ClassVar[int] = P_NORMAL_B

    def fate(self, p_death: float) -> None:
        """Death at a constant hazard; mirrors the normal-B branch of ``kernels.blast_fate.target_fate``."""
        if self.engaged:
            return
        if self.model.uniform(RESIDENT_FATE, self.slot, 0) < p_death:
            self.model.deaths[P_NORMAL_B] += 1
            self.die()


class OtherMarrowCell(CellAgent):
    """A non-B nucleated marrow cell (myeloid, erythroid): occupies a site, has no slot."""

    def __init__(self, model: ReferenceModel, cell):
        super().__init__(model)
        self.cell = cell

    def turnover(self, p_death: float) -> None:
        """Death at a constant hazard; mirrors the death branch of ``kernels.marrow_turnover.marrow_turnover``
        (draws are addressed by the site index)."""
        m = self.model
        if m.uniform(MARROW_TURNOVER, m.site_of(self.cell), 0) < p_death:
            m.deaths[P_OTHER_MARROW] += 1
            self.remove()

    def expose(self, p_death: float, slot: int) -> None:
        """Myelosuppression during a chemotherapy course; mirrors the site loop of
        ``kernels.chemotherapy.cytotoxic_exposure`` (draw at ``slot``: the target
        slot count plus the site index)."""
        m = self.model
        if m.uniform(CHEMOTHERAPY, slot, 0) < p_death:
            m.deaths[P_OTHER_MARROW] += 1
            self.remove()

    def displace(self) -> None:
        """Crowded out by a blast daughter (``kernels.blast_fate.target_fate``)."""
        self.model.deaths[P_OTHER_MARROW] += 1
        self.remove()


# --------------------------------------------------------------------------
# The model


class ReferenceModel(PatientModel):
    """A virtual patient under blinatumomab, one Mesa agent per cell.

    Same base (:class:`blinasim.core.patient.PatientModel`: constructor, clocks,
    drug and clinical machinery, recorded arrays) and phase list
    (:data:`blinasim.core.phases.PHASES`, with the rules below in :attr:`phases`)
    as :class:`blinasim.core.model.BlinatumomabModel`; with the same config and
    seed it produces the same trajectory.
    """

    # ------------------------------------------------------------ lattice, draws

    def cell_at(self, site: int):
        """The grid cell of a lattice site index."""
        return self._site_cells[site]

    def site_of(self, cell) -> int:
        """The lattice site index ``y * side + x`` of a grid cell."""
        x, y = cell.coordinate
        return y * self.side + x

    @staticmethod
    def resident(cell) -> CellAgent | None:
        """The resident (a CD19 cell or another marrow cell) of a grid cell, if any; T-cells do not count."""
        for agent in cell.agents:
            if not isinstance(agent, TCell):
                return agent
        return None

    def key(self, stream: int, tick: int | None = None) -> int:
        """The counter key of ``stream`` at this tick (or at ``tick``), cached."""
        t = self.tick if tick is None else tick
        key = self._keys.get((t, stream))
        if key is None:
            key = self._keys[(t, stream)] = stream_key(self.run_seed, t, stream)
        return key

    def uniform(self, stream: int, slot: int, k: int, tick: int | None = None) -> float:
        """Draw ``k`` of ``slot`` in ``stream`` at this tick (or at ``tick``)."""
        return uniform(self.key(stream, tick), slot, k)

    def living_targets(self) -> list[CD19Cell]:
        """Living CD19-lineage cells in slot order."""
        return [a for a in self.target_slots if a is not None]

    def living_tcells(self) -> list[TCell]:
        """Living T-cells in slot order."""
        return [a for a in self.tcell_slots if a is not None]

    def add_target(self, cls: type[CD19Cell], cell, cd19: float, clock: float = 0.0, **kw) -> CD19Cell:
        """Append a blast or normal B cell at the next slot (``cell=None``: in blood)."""
        agent = cls(self, len(self.target_slots), cell, cd19, clock=clock, **kw)
        self.target_slots.append(agent)
        return agent

    def add_t_cell(self, cell, cd3: float, activation: float = 0.0, exhaustion: float = 0.0) -> TCell:
        """Append a T-cell at the next slot (``cell=None``: in blood)."""
        agent = TCell(self, len(self.tcell_slots), cell, cd3, activation=activation, exhaustion=exhaustion)
        self.tcell_slots.append(agent)
        return agent

    # ------------------------------------------------------------------ set-up

    def _init_patient(self) -> None:
        """Make the lattice and place the baseline cells; mirrors ``kernels.initial`` and
        ``BlinatumomabModel._init_patient``."""
        cfg, pat, dis, nb, tcfg = (
            self.config,
            self.config.patient,
            self.config.disease,
            self.config.normal_b,
            self.config.tcells,
        )
        self._keys: dict[tuple[int, int], int] = {}
        self.side = cfg.simulation.lattice_size
        self.n_sites = self.side * self.side
        self.grid = OrthogonalMooreGrid((self.side, self.side), torus=True, random=self.random)
        self._site_cells = [self.grid[(s % self.side, s // self.side)] for s in range(self.n_sites)]
        #: agents by slot; a dead agent leaves None until compaction
        self.target_slots: list[CD19Cell | None] = []
        self.tcell_slots: list[TCell | None] = []
        self.targets_dead = 0
        self.tcells_dead = 0

        plan = plan_patient(cfg)
        self.plan = plan
        self.cells_per_agent = plan.cells_per_agent
        self.blood_volume_ul = plan.blood_volume_ul
        escape = (dis.cd19_negative_fraction, dis.cd19_low_fraction, dis.cd19_low_factor)
        seed = self.run_seed

        # populate_marrow
        key = stream_key(seed, SUB_MARROW, INIT)
        for s in range(self.n_sites):
            if uniform(key, s, 0) >= pat.marrow_cellularity:
                continue
            u = uniform(key, s, 1)
            cell = self.cell_at(s)
            if u >= plan.p_blast + plan.p_normal_b:
                OtherMarrowCell(self, cell)
            elif u < plan.p_blast:
                cd19 = lognormal(key, s, 2, dis.blast_cd19_median, dis.blast_cd19_log_sd)
                cd19, phenotype = escape_variant(uniform(key, s, 5), cd19, *escape)
                self.add_target(
                    Blast,
                    cell,
                    cd19,
                    clock=exponential(key, s, 4, plan.mean_cycle_hours),
                    pdl1=dis.pdl1_baseline,
                    phenotype=phenotype,
                )
            else:
                self.add_target(NormalBCell, cell, lognormal(key, s, 2, nb.cd19_median, nb.cd19_log_sd))

        # add_blood_targets: blasts get the escape variants (draw 3) and baseline PD-L1
        for sub, count, cls, median, log_sd in (
            (SUB_BLOOD_BLASTS, plan.n_blood_blasts, Blast, dis.blast_cd19_median, dis.blast_cd19_log_sd),
            (SUB_BLOOD_B, plan.n_blood_b, NormalBCell, nb.cd19_median, nb.cd19_log_sd),
        ):
            key = stream_key(seed, sub, INIT)
            for c in range(count):
                cd19 = lognormal(key, c, 0, median, log_sd)
                if cls is Blast:
                    cd19, phenotype = escape_variant(uniform(key, c, 3), cd19, *escape)
                    clock = exponential(key, c, 2, plan.mean_cycle_hours)
                    self.add_target(cls, None, cd19, clock=clock, pdl1=dis.pdl1_baseline, phenotype=phenotype)
                else:
                    self.add_target(cls, None, cd19)

        # add_t_cells
        for sub, count, in_marrow in ((SUB_T_MARROW, plan.n_t_marrow, True), (SUB_T_BLOOD, plan.n_t_blood, False)):
            key = stream_key(seed, sub, INIT)
            for c in range(count):
                cell = self.cell_at(int(uniform(key, c, 0) * self.n_sites)) if in_marrow else None
                cd3 = lognormal(key, c, 1, tcfg.cd3_median, tcfg.cd3_log_sd)
                self.add_t_cell(cell, cd3, exhaustion=cfg.entry_exhaustion)
        self.baseline_t_cells = max(len(self.tcell_slots), 1)

        counts = {k: (0, 0) for k in (KIND_NORMAL_B, KIND_BLAST)}
        for a in self.target_slots:
            marrow, blood = counts[a.kind]
            counts[a.kind] = (marrow + 1, blood) if a.cell is not None else (marrow, blood + 1)
        empty_share = sum(1 for cell in self._site_cells if self.resident(cell) is None) / self.n_sites
        self.adopt_equilibrium(plan, counts, empty_share)

    # ------------------------------------------------------------------ phases

    def step(self) -> None:
        """Advance one tick through the phase list (:attr:`phases`)."""
        self._keys.clear()
        super().step()

    def _tcell_trafficking(self) -> None:
        p_in, p_out = trafficking.t_cell_probabilities(
            self.config, self.t_homing_per_day, self.t_egress_per_day, self.redistribution_drive, self.dt_hours
        )
        for t in self.living_tcells():
            t.traffic(p_in, p_out)

    def _target_trafficking(self) -> None:
        p_home, p_egress = trafficking.target_probabilities(
            self.target_homing_per_day, self.target_egress_per_day, self.dt_hours, self.slow_every
        )
        for c in self.living_targets():
            c.traffic(p_home, p_egress)

    def _motility(self) -> None:
        steps = motility.steps_per_tick(self.config, self.dt_hours)
        whole = math.floor(steps)
        frac = steps - whole
        for t in self.living_tcells():
            t.move(whole, frac)

    def _encounter(self) -> None:
        cfg = self.config
        tcfg = cfg.tcells
        if self.bridge_factor <= 0.0:
            return
        per_target = encounter.blood_contact_per_target(cfg, self.cells_per_agent, self.blood_volume_ul, self.dt_hours)
        contacts = encounter.contacts_per_tick(cfg, self.dt_hours)
        whole = math.floor(contacts)
        frac = contacts - whole
        blood_targets = [c for c in self.living_targets() if c.cell is None and not c.engaged and c.cd19 > 0.0]
        for t in self.living_tcells():
            t.seek_synapse(
                whole,
                frac,
                per_target,
                blood_targets,
                self.bridge_factor,
                tcfg.cd3_engagement_half_density,
                cfg.drug.adhesion_beta,
                tcfg.synapse_hours,
                tcfg.exhaustion_per_engagement,
            )

    def _killing(self) -> None:
        tcfg = self.config.tcells
        keep = math.exp(-killing.exhaustion_per_hour(self.config) * self.dt_hours)  # as the kernel
        for t in self.living_tcells():
            kind = t.resolve_synapse(
                self.dt_hours,
                keep,
                killing.lysis_probability(self.config, self.treg_suppression, self.tki_t_cell_suppression),
                tcfg.exhaustion_e50,
                tcfg.exhaustion_hill,
                tcfg.pd1_lysis_inhibition,
                1.0 - self.pd1_occupancy,
            )
            if kind is not None:
                self.killed_by_kind[kind] += 1

    def _tcell_fate(self) -> None:
        dt_days = self.dt_hours * self.slow_every / 24.0
        self.treg_suppression = tcell_fate.treg_suppression(self.config, self.mean_t_activation())
        rates = tcell_fate.fate_rates(
            self.config,
            dt_days,
            len(self.tcell_slots) - self.tcells_dead,
            tcell_fate.current_set_point(
                self, lambda: tcell_fate.normal_marrow_share(self._census()[0], self.blast_weight, self.cells_per_agent)
            ),
            self.mean_blast_pdl1(),
            self.pd1_occupancy,
            self.ctla4_blockade,
            self.treg_suppression,
            self.tki_t_cell_suppression,
        )
        stop = len(self.tcell_slots)  # daughters born now are visited from the next slow step
        for slot in range(stop):
            t = self.tcell_slots[slot]
            if t is not None:
                t.fate(*rates)

    def _cytokines(self) -> None:
        """Count the engaged T-cells among the agents and advance the (agent-free) cytokine model."""
        living = self.living_tcells()
        engaged = sum(1 for t in living if t.partner is not None)
        cytokines.advance(self, engaged, len(living))

    def _chemotherapy(self) -> None:
        """During a course, one slow step of exposure (as ``core.processes.chemotherapy.run``)."""
        if self.combination.chemotherapy_active(self.tick_end_hours / 24.0):
            self.expose_to_chemotherapy(self.dt_hours * self.slow_every / 24.0)

    def _glucocorticoid(self) -> None:
        """Dexamethasone debulking (as ``core.processes.glucocorticoid.run``): free B-lineage
        blasts die by slot, mirroring ``kernels.glucocorticoid.lymphoblast_apoptosis``."""
        p = glucocorticoid.step_probability(self)
        if p <= 0.0:
            return
        for c in self.living_targets():
            if isinstance(c, Blast) and not c.engaged and c.phenotype != PHENO_MYELOID:
                if self.uniform(GLUCOCORTICOID, c.slot, 0) < p:
                    self.deaths[P_BLAST] += 1
                    c.die()

    def expose_to_chemotherapy(self, dt_days: float) -> None:
        """Cytotoxic exposure for ``dt_days``; mirrors ``kernels.chemotherapy.cytotoxic_exposure``
        as called by ``core.processes.chemotherapy.expose``: targets by slot, then other
        marrow cells by site (draws at slot ``n + site``, ``n`` the target slot count),
        then T-cells by slot (draws at ``n + n_sites + slot``)."""
        p = chemotherapy.kill_probabilities(self.combination.regimen, dt_days)
        p_by_kind = {KIND_BLAST: p.blast, KIND_NORMAL_B: p.normal_b}
        n = len(self.target_slots)
        for c in self.living_targets():
            c.expose(p_by_kind[c.kind])
        for s, cell in enumerate(self._site_cells):
            occupant = self.resident(cell)
            if isinstance(occupant, OtherMarrowCell):
                occupant.expose(p.other_marrow, n + s)
        for t in self.living_tcells():
            t.expose(p.t_cell, n + self.n_sites)

    def _blast_fate(self) -> None:
        """Blast fate and normal-B death, visiting the targets in slot order as
        ``kernels.blast_fate.target_fate`` does, with the rates of
        :func:`blinasim.core.processes.blast_fate.fate_rates`."""
        rates = blast_fate.fate_rates(
            self.config, self.cytokines.ifng, self.dt_hours * self.slow_every, self.abl1_inhibition
        )
        mean_cycle = rates.mean_cycle_hours.tolist()
        p_death = rates.p_blast_death.tolist()
        stop = len(self.target_slots)
        for slot in range(stop):
            c = self.target_slots[slot]
            if c is None:
                continue
            if isinstance(c, Blast):
                c.fate(rates, mean_cycle, p_death)
            else:
                c.fate(rates.p_b_death)

    def _blast_scale(self) -> None:
        """Split or thin the blast agents by the rule of :mod:`blinasim.core.processes.blast_scale`;
        mirrors ``kernels.blast_scale.duplicate_blasts`` and ``thin_blasts`` (slot order, same draws)."""
        blasts = [c for c in self.living_targets() if isinstance(c, Blast)]
        step = blast_scale.decision(len(blasts), self.blast_weight, self.cells_per_agent, self.config)
        if step == blast_scale.KEEP:
            return
        blast_scale.apply(self, step)
        if step == blast_scale.COARSEN:
            removed = 0
            for c in blasts:
                if not c.engaged and self.uniform(BLAST_SCALE, c.slot, THIN_DRAW) < 0.5:
                    c.die()
                    removed += 1
            blast_scale.account(self, step, len(blasts), len(blasts) - removed)
            return
        mean_cycle = blast_fate.mean_cycle_hours_by_phenotype(self.config).tolist()
        attempts = self.config.disease.daughter_placement_attempts
        copies = 0
        for c in blasts:
            j = c.slot
            dest = None
            if c.cell is not None:
                dest = self._copy_cell(j, self.site_of(c.cell), attempts)
                if dest is None:
                    continue
                occupant = self.resident(dest)
                if occupant is not None:
                    occupant.displace()
            clock = -mean_cycle[c.phenotype] * math.log(1.0 - self.uniform(BLAST_SCALE, j, 0))
            self.add_target(Blast, dest, c.cd19, clock=clock, pdl1=c.pdl1, phenotype=c.phenotype)
            copies += 1
        blast_scale.account(self, step, len(blasts), len(blasts) + copies)

    def _copy_cell(self, j: int, site: int, attempts: int):
        """The grid cell for the copy of the marrow blast in slot ``j``; mirrors ``kernels.blast_scale.copy_site``."""

        def free(cell) -> bool:
            occupant = self.resident(cell)
            return occupant is None or isinstance(occupant, OtherMarrowCell)

        for a in range(attempts):
            cell = self.cell_at(moore_neighbour(site, self.side, int(self.uniform(BLAST_SCALE, j, 1 + a) * 8.0)))
            if free(cell):
                return cell
        for a in range(RANDOM_SITE_TRIES):
            cell = self.cell_at(int(self.uniform(BLAST_SCALE, j, 20 + a) * self.n_sites))
            if free(cell):
                return cell
        start = int(self.uniform(BLAST_SCALE, j, 19) * self.n_sites)
        for i in range(self.n_sites):
            cell = self.cell_at((start + i) % self.n_sites)
            if free(cell):
                return cell
        return None

    def mean_t_activation(self) -> float:
        """Mean activation of the living T-cells, summed as ``BlinatumomabModel.mean_t_activation``
        does (numpy pairwise sum of the float32 values in slot order)."""
        a = np.array([t.activation for t in self.living_tcells()], dtype=np.float32).astype(np.float64)
        return float(a.sum() / len(a)) if len(a) else 0.0

    def mean_blast_pdl1(self) -> float:
        """Mean PD-L1 of the living blasts (0 without blasts), summed as
        ``BlinatumomabModel.mean_blast_pdl1`` does (numpy pairwise sum in slot order)."""
        pdl1 = np.array([c.pdl1 for c in self.living_targets() if isinstance(c, Blast)], dtype=np.float64)
        return float(pdl1.sum() / len(pdl1)) if len(pdl1) else 0.0

    def _normal_b_supply(self) -> None:
        """New normal B cells from unsimulated precursors, each at one random site taken
        only if empty; mirrors ``kernels.normal_b_supply.supply_normal_b`` (the count is a
        Poisson draw at slot ``COUNT_SLOT`` of the supply stream, as in the model)."""
        nb = self.config.normal_b
        dt_days = self.dt_hours * self.slow_every / 24.0
        key = stream_key(self.run_seed, self.tick, NORMAL_B_SUPPLY)
        n_new = poisson(key, normal_b_supply.COUNT_SLOT, 0, self.normal_b_supply_per_day * dt_days)
        for c in range(n_new):
            cell = self.cell_at(int(uniform(key, c, 0) * self.n_sites))
            if self.resident(cell) is not None:
                continue
            self.add_target(NormalBCell, cell, lognormal(key, c, 1, nb.cd19_median, nb.cd19_log_sd))
            self.births[P_NORMAL_B] += 1

    def _marrow_turnover(self) -> None:
        """Death of other marrow cells and refill of empty sites, site by site;
        mirrors ``kernels.marrow_turnover.marrow_turnover``. Refill is scaled by the
        shared ``CombinationDrugs.marrow_refill_factor`` (none during a
        chemotherapy course, then a ramp back to normal), as in the numba model."""
        refill = self.combination.marrow_refill_factor(self.tick_end_hours / 24.0)
        dt_days = self.dt_hours * self.slow_every / 24.0
        p_other_death, p_refill = marrow_turnover.turnover_probabilities(self.config, refill, dt_days)
        for s, cell in enumerate(self._site_cells):
            occupant = self.resident(cell)
            if isinstance(occupant, OtherMarrowCell):
                occupant.turnover(p_other_death)
            elif occupant is None and self.uniform(MARROW_TURNOVER, s, 0) < p_refill:
                OtherMarrowCell(self, cell)
                self.births[P_OTHER_MARROW] += 1

    def _sort_t_cells(self) -> None:
        """Drop the dead T-cells and renumber the living by place: in marrow by site
        index, then those in blood; T-cells at the same place keep their order
        (Python's sort is stable). Mirrors ``kernels.compaction.sort_t_cells``, which the
        numba model runs every slow step so that T-cells near each other on the
        lattice are near each other in memory; here it only renumbers the slots,
        which address the random draws."""

        def place(t: TCell) -> int:
            return self.n_sites if t.cell is None else self.site_of(t.cell)

        self.tcell_slots = sorted(self.living_tcells(), key=place)
        for i, t in enumerate(self.tcell_slots):
            t.slot = i
        self.tcells_dead = 0

    def _compact_targets(self) -> None:
        """When the dead exceed ``simulation.compact_dead_fraction`` of the slots, drop the
        holes and renumber the living by place: marrow cells by site index, then those in
        blood in slot order (Python's sort is stable). Mirrors
        ``kernels.compaction.compact_targets``, which orders the store by site so that
        cells near each other on the lattice are near each other in memory."""
        if self.targets_dead <= self.config.simulation.compact_dead_fraction * len(self.target_slots):
            return

        def place(c: CD19Cell) -> int:
            return self.n_sites if c.cell is None else self.site_of(c.cell)

        self.target_slots = sorted(self.living_targets(), key=place)
        for i, agent in enumerate(self.target_slots):
            agent.slot = i
        self.targets_dead = 0

    def _record(self) -> None:
        """Census of the agents, then the shared record row."""
        row, pdl1 = self._census()
        record.store_interval(self, row, pdl1)

    def _census(self) -> tuple[np.ndarray, float]:
        """The census row and the summed blast PD-L1 (mirrors ``kernels.census.take_census``)."""
        row = np.zeros(C.C_SIZE, dtype=np.int64)
        threshold = self.config.tcells.exhausted_threshold
        for t in self.living_tcells():
            col = 1 if t.cell is None else 0
            row[C.C_T + col] += 1
            if t.partner is not None:
                row[C.C_T_ENGAGED + col] += 1
            if t.exhaustion > threshold:
                row[C.C_T_EXHAUSTED + col] += 1
        pdl1 = 0.0
        for c in self.living_targets():
            col = 1 if c.cell is None else 0
            if isinstance(c, Blast):
                row[C.C_BLASTS + col] += 1
                if c.phenotype == PHENO_MYELOID:
                    row[C.C_BLASTS_SWITCHED + col] += 1
                if c.phenotype != PHENO_CD19_POSITIVE or c.cd19 <= 0.0:
                    row[C.C_BLASTS_CD19_NEG + col] += 1
                pdl1 += c.pdl1
            else:
                row[C.C_NORMAL_B + col] += 1
        others = self.agents_by_type.get(OtherMarrowCell)
        row[C.C_OTHER_MARROW] = len(others) if others is not None else 0
        return row, pdl1

    #: The phase list of the numba model, with this model's rule in every phase that
    #: touches agents; the agent-free phases (protocol, PK) run the shared functions.
    phases = with_runs(
        {
            "protocol": protocol.run,
            "pk": pk.run,
            "tcell_trafficking": _tcell_trafficking,
            "target_trafficking": _target_trafficking,
            "motility": _motility,
            "encounter": _encounter,
            "killing": _killing,
            "tcell_fate": _tcell_fate,
            "tcell_sort": _sort_t_cells,
            "cytokines": _cytokines,
            "chemotherapy": _chemotherapy,
            "glucocorticoid": _glucocorticoid,
            "blast_fate": _blast_fate,
            "blast_scale": _blast_scale,
            "normal_b_supply": _normal_b_supply,
            "marrow_turnover": _marrow_turnover,
            "target_compaction": _compact_targets,
            "record": _record,
        }
    )

    # ------------------------------------------------------------------ output

    @property
    def live_agents(self) -> int:
        """Blasts, normal B cells, T-cells and other nucleated marrow cells alive now."""
        return len(self.agents)

    def to_dataset(self):
        """The run as an ``xarray.Dataset``, variable by variable like ``BlinatumomabModel.to_dataset``."""
        ds = build_dataset(self)
        ds.attrs["implementation"] = "mesa reference (blinasim.reference.mesa_model.ReferenceModel)"
        return ds

    def export_state(self) -> State:
        """The agents as a numba :class:`blinasim.core.state.State` with the same slot layout.

        Dead slots have ``pos == POS_DEAD`` and zeros elsewhere (the numba stores
        keep stale values there). Used by the equivalence tests to run a kernel on
        exactly the state the reference holds.
        """
        st = State.allocate(self.side, len(self.target_slots) + 16, len(self.tcell_slots) + 16)
        tg, tc = st.targets, st.tcells
        for name in tg.fields:
            if name != "pos":
                getattr(tg, name)[:] = 0
        for name in tc.fields:
            if name not in ("pos", "partner"):
                getattr(tc, name)[:] = 0
        tc.partner[:] = NO_PARTNER
        for s, cell in enumerate(self._site_cells):
            occupant = self.resident(cell)
            if isinstance(occupant, CD19Cell):
                st.site_kind[s] = SITE_TARGET
                st.site_slot[s] = occupant.slot
            elif occupant is not None:
                st.site_kind[s] = SITE_OTHER
            else:
                st.site_kind[s] = SITE_EMPTY
        tg.n, tg.dead = len(self.target_slots), self.targets_dead
        for j, c in enumerate(self.target_slots):
            if c is None:
                tg.pos[j] = POS_DEAD
                continue
            tg.pos[j] = POS_BLOOD if c.cell is None else self.site_of(c.cell)
            tg.cd19[j], tg.pdl1[j], tg.clock[j] = c.cd19, c.pdl1, c.clock
            tg.kind[j], tg.phenotype[j], tg.engaged[j] = c.kind, c.phenotype, int(c.engaged)
        tc.n, tc.dead = len(self.tcell_slots), self.tcells_dead
        for i, t in enumerate(self.tcell_slots):
            if t is None:
                tc.pos[i] = POS_DEAD
                continue
            tc.pos[i] = POS_BLOOD if t.cell is None else self.site_of(t.cell)
            tc.partner[i] = NO_PARTNER if t.partner is None else t.partner.slot
            tc.cd3[i], tc.activation[i], tc.exhaustion[i] = t.cd3, t.activation, t.exhaustion
            tc.synapse_h[i], tc.kills[i] = t.synapse_h, t.kills
        st.ensure_scratch()
        return st
