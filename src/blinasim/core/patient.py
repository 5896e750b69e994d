"""What the numba model and the Mesa reference share: the patient's derived
numbers, the drug plan, and a base class with the clock and the phase loop.

:class:`PatientModel` holds everything of a virtual patient that is not agent
state: the clocks, the phase loop over a phase list
(:data:`blinasim.core.phases.PHASES`), the drug schedule, PK, protocol engine,
cytokine model and combination drugs, and the record arrays.
:class:`blinasim.core.model.BlinatumomabModel` (numba stores) and
:class:`blinasim.reference.mesa_model.ReferenceModel` (Mesa agents) derive from
it and add their agents.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import mesa
import numpy as np

from blinasim.clinical.combination import CombinationDrugs
from blinasim.clinical.cytokines import CytokineModel, DrugEffects
from blinasim.clinical.lymphoid import LymphoidTissue
from blinasim.clinical.pk import OneCompartmentPK, patient_clearance, renal_clearance_factor
from blinasim.clinical.protocol import ProtocolEngine, Schedule, build_schedule, needs_prephase
from blinasim.clinical.seizures import SeizureModel
from blinasim.clinical.tki import TkiExposure
from blinasim.core.phases import Phase
from blinasim.core.processes import blast_fate, glucocorticoid, normal_b_supply, record, tcell_fate, trafficking
from blinasim.core.seeds import run_seed
from blinasim.params.schema import Config


@dataclass(frozen=True)
class PatientPlan:
    """Numbers derived from the config before any agent is placed."""

    side: int
    n_sites: int
    #: real cells represented by one simulated cell
    cells_per_agent: float
    blood_volume_ul: float
    #: probability that an occupied baseline site holds a blast / a normal B cell
    p_blast: float
    p_normal_b: float
    n_blood_blasts: int
    n_blood_b: int
    n_t_blood: int
    n_t_marrow: int
    target_capacity: int
    tcell_capacity: int
    #: mean blast cycle time (h); 1e30 when blasts do not divide
    mean_cycle_hours: float


def plan_patient(config: Config) -> PatientPlan:
    """Agent scale, baseline composition and store capacities of a patient."""
    cfg, pat = config, config.patient
    side = cfg.simulation.lattice_size
    n_sites = side * side
    residents_expected = n_sites * pat.marrow_cellularity
    nucleated_expected = residents_expected / (1.0 - cfg.baseline_marrow_t_cell_fraction)
    cells_per_agent = pat.marrow_nucleated_cells / nucleated_expected
    blood_ul = pat.blood_volume_l * 1e6
    p_blast = min(1.0, cfg.baseline_marrow_blast_fraction * nucleated_expected / residents_expected)
    p_normal_b = (1.0 - p_blast) * pat.normal_b_fraction

    def agents(per_ul: float) -> int:
        return round(per_ul * blood_ul / cells_per_agent)

    n_blood_blasts = agents(pat.peripheral_blasts_per_ul)
    n_blood_b = agents(pat.b_cells_per_ul)
    n_t_blood = agents(pat.t_cells_per_ul)
    n_t_marrow = round(nucleated_expected * cfg.baseline_marrow_t_cell_fraction)
    target_cap = int(residents_expected * (p_blast + p_normal_b) * 1.25) + n_blood_blasts + n_blood_b + 64
    t_cap = int((n_t_marrow + n_t_blood) * 1.25) + 64
    return PatientPlan(
        side=side,
        n_sites=n_sites,
        cells_per_agent=cells_per_agent,
        blood_volume_ul=blood_ul,
        p_blast=p_blast,
        p_normal_b=p_normal_b,
        n_blood_blasts=n_blood_blasts,
        n_blood_b=n_blood_b,
        n_t_blood=n_t_blood,
        n_t_marrow=n_t_marrow,
        target_capacity=target_cap,
        tcell_capacity=t_cap,
        mean_cycle_hours=blast_fate.mean_cycle_hours(cfg.disease.blast_birth_rate_per_day),
    )


@dataclass(frozen=True)
class EquilibriumRates:
    """Trafficking and supply rates that make the baseline patient an equilibrium."""

    target_homing_per_day: np.ndarray  # indexed by target kind
    target_egress_per_day: np.ndarray
    t_homing_per_day: float
    t_egress_per_day: float
    normal_b_supply_per_day: float


def equilibrium_rates(
    config: Config, plan: PatientPlan, counts: dict[int, tuple[int, int]], empty_share: float
) -> EquilibriumRates:
    """Egress and supply rates from the placed baseline cells.

    ``counts[kind] = (in marrow, in blood)`` of the targets; ``empty_share`` is the
    share of empty lattice sites after placement. Egress:
    :func:`blinasim.core.processes.trafficking.equilibrium_egress`; normal-B supply:
    :func:`blinasim.core.processes.normal_b_supply.equilibrium_supply_per_day`.
    """
    homing, egress, t_homing, t_egress = trafficking.equilibrium_egress(
        config, plan.n_t_blood, plan.n_t_marrow, counts, empty_share
    )
    return EquilibriumRates(
        target_homing_per_day=homing,
        target_egress_per_day=egress,
        t_homing_per_day=t_homing,
        t_egress_per_day=t_egress,
        normal_b_supply_per_day=normal_b_supply.equilibrium_supply_per_day(config, counts),
    )


@dataclass(frozen=True)
class DrugPlan:
    """The infusion schedule and this patient's PK."""

    schedule: Schedule
    clearance_l_per_h: float
    pk: OneCompartmentPK
    #: planned infusion rate (ug/day) at the start of every tick
    planned_rate: np.ndarray


def plan_drug(config: Config, seed: int, n_ticks: int, dt_hours: float) -> DrugPlan:
    """Schedule, clearance (with its between-patient draw) and per-tick planned rates."""
    cfg = config
    schedule = build_schedule(cfg.treatment, cfg.patient)
    clearance_l_per_h = patient_clearance(
        cfg.drug.clearance_l_per_h,
        cfg.drug.clearance_log_sd,
        cfg.patient.body_surface_area_m2,
        cfg.drug.clearance_bsa_exponent,
        seed,
        renal_clearance_factor(
            cfg.patient.creatinine_clearance_ml_per_min,
            cfg.drug.renal_impairment_below_ml_per_min,
            cfg.drug.renal_impairment_clearance_factor,
        ),
    )
    pk = OneCompartmentPK(clearance_l_per_h, cfg.drug.volume_l)
    tick_starts = np.arange(n_ticks, dtype=np.float64) * dt_hours / 24.0
    return DrugPlan(schedule, clearance_l_per_h, pk, schedule.rates_on_grid(tick_starts))


class PatientModel(mesa.Model):
    """A virtual patient on its clocks: the base of the numba model and of the Mesa reference.

    A subclass sets :attr:`phases` (the phase list with its own functions) and
    places its agents in ``_init_patient``; this class sets the clocks, the drug
    and clinical machinery and the record arrays, records the baseline, and
    steps through the phase list.

    Parameters
    ----------
    config
        A validated :class:`blinasim.params.schema.Config`.
    seed
        The run seed. Default: derived from ``config.simulation.seed`` with
        :func:`blinasim.core.seeds.run_seed` (sample 0, replicate 0).
    profile
        Accumulate wall time per phase in :attr:`phase_seconds`.
    """

    #: the phase list this model runs
    phases: tuple[Phase, ...] = ()

    def __init__(self, config: Config, seed: int | None = None, profile: bool = False):
        self.run_seed = int(run_seed(config.simulation.seed) if seed is None else seed)
        super().__init__(rng=np.random.default_rng(self.run_seed))
        self.config = config
        self.profile = profile
        self.phase_seconds = {p.name: 0.0 for p in self.phases}
        self._due: dict[tuple[bool, bool], tuple[tuple[Phase, ...], tuple[Phase, ...]]] = {}
        sim = config.simulation
        self.dt_hours = sim.dt_hours
        self.slow_every = round(sim.slow_step_hours / sim.dt_hours)
        self.record_every = self.slow_every * round(sim.record_every_hours / sim.slow_step_hours)
        self.n_ticks = math.floor(sim.days * 24.0 / sim.dt_hours + 1e-9)
        self.n_records = self.n_ticks // self.record_every + 1
        self.tick = 0

        self._init_patient()
        self._init_drug()
        record.init_records(self)
        self.run_phase("record")
        #: the non-leukemic share of the nucleated marrow at entry (the T-cell set point's reference)
        self.normal_share_at_entry = tcell_fate.normal_marrow_share(
            self.rec_counts[0], self.rec_blast_weight[0], self.cells_per_agent
        )

    def _init_patient(self) -> None:
        """Place the baseline agents and set the derived rates (subclasses)."""
        raise NotImplementedError

    def adopt_equilibrium(self, plan: PatientPlan, counts: dict[int, tuple[int, int]], empty_share: float) -> None:
        """Set the baseline trafficking and supply rates (:func:`equilibrium_rates`) from the placed agents.

        ``counts`` maps a target kind to its (marrow, blood) agents at baseline;
        ``empty_share`` is the share of empty marrow sites. Both models call it
        once their baseline agents are placed.
        """
        rates = equilibrium_rates(self.config, plan, counts, empty_share)
        self.target_homing_per_day = rates.target_homing_per_day
        self.target_egress_per_day = rates.target_egress_per_day
        self.t_homing_per_day = rates.t_homing_per_day
        self.t_egress_per_day = rates.t_egress_per_day
        self.normal_b_supply_per_day = rates.normal_b_supply_per_day
        self.baseline_counts = counts

    def _init_drug(self) -> None:
        drug = plan_drug(self.config, self.run_seed, self.n_ticks, self.dt_hours)
        self.schedule = drug.schedule
        self.clearance_l_per_h = drug.clearance_l_per_h
        self.pk = drug.pk
        self.planned_rate = drug.planned_rate
        self.drug_effects = DrugEffects([], [])
        self.cytokines = CytokineModel(self.config)
        self.cytokines.effects = self.drug_effects
        self.protocol = ProtocolEngine(
            self.config, self.schedule, self.drug_effects, needs_prephase(self.config), self.dt_hours
        )
        self.seizures = SeizureModel(self.config, self.run_seed, self.dt_hours)
        #: end (h) of the time the glucocorticoid phase has integrated (slow clock): it starts at the first
        #: dexamethasone dose (a pre-phase or premedication before the first infusion) or the start
        self.glucocorticoid_clock_h = min([0.0, *(t for t, _ in self.drug_effects.dex_doses)])
        #: spleen and lymph nodes (compartment; advanced in the cytokines phase), after a pre-phase's debulking
        prephase = (
            glucocorticoid.cumulative_hazard(self, self.glucocorticoid_clock_h, 0.0)
            if self.config.lymphoid.enabled
            else 0.0
        )
        self.lymphoid = LymphoidTissue.for_patient(self.config, self.blood_volume_ul, prephase)
        first_infusion = min((seg.start_day for seg in self.schedule.segments), default=self.config.treatment.start_day)
        self.combination = CombinationDrugs(self.config, first_infusion, self.run_seed)
        self.pd1_occupancy = 0.0
        self.ctla4_blockade = 0.0
        #: the tyrosine kinase inhibitor: BCR::ABL1 inhibition of Ph+ blasts, T-cell suppression (end of tick)
        self.tki = TkiExposure(self.config)
        self.abl1_inhibition = 0.0
        self.tki_t_cell_suppression = 0.0
        #: share of activated division and lysis suppressed by regulatory T-cells (slow clock)
        self.treg_suppression = 0.0
        self.dose_rate = 0.0
        self.concentration = 0.0
        self.redistribution_adaptation = 0.0
        self.redistribution_drive = 0.0
        self.bridge_factor = 0.0

    # ---------------------------------------------------------------- stepping

    def step(self) -> None:
        """Advance one tick through the phase list."""
        slow, record_due = self.is_slow_tick, self.is_record_tick
        # The phases due in such a tick, in list order: made once per kind of tick (and again
        # if the phase list was replaced).
        made = self._due.get((slow, record_due))
        if made is None or made[0] is not self.phases:
            due = tuple(p for p in self.phases if p.due(slow, record_due))
            made = self._due[(slow, record_due)] = (self.phases, due)
        due = made[1]
        if self.profile:
            for phase in due:
                t0 = time.perf_counter()
                phase.run(self)
                self.phase_seconds[phase.name] += time.perf_counter() - t0
        else:
            for phase in due:
                phase.run(self)
        self.tick += 1
        if self.tick >= self.n_ticks:
            self.running = False

    def run_phase(self, name: str) -> None:
        """Run one phase by name, whatever its clock (set-up, tests); not profiled."""
        for phase in self.phases:
            if phase.name == name:
                phase.run(self)
                return
        raise KeyError(f"no phase {name!r}; phases: {', '.join(p.name for p in self.phases)}")

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Step to the end of ``simulation.days``; ``progress(tick, n_ticks)`` is called every record."""
        while self.tick < self.n_ticks:
            self.step()
            if progress is not None and self.tick % self.record_every == 0:
                progress(self.tick, self.n_ticks)

    @property
    def is_slow_tick(self) -> bool:
        """Whether this tick ends a slow step (the slow phases run)."""
        return (self.tick + 1) % self.slow_every == 0

    @property
    def is_record_tick(self) -> bool:
        """Whether this tick ends a record interval (the record runs)."""
        return (self.tick + 1) % self.record_every == 0

    @property
    def tick_end_hours(self) -> float:
        """Simulated hours at the end of the current tick."""
        return (self.tick + 1) * self.dt_hours
