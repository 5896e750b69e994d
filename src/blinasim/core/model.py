"""One virtual patient: a Mesa model whose hot loops are numba kernels.

The order of a tick is :data:`PHASES`, one list in one place. Fast phases run
every tick (``simulation.dt_hours``, 0.1 h by default); slow phases run at the
end of every slow step (``simulation.slow_step_hours``, 1 h); the record runs
every ``simulation.record_every_hours``.
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
from blinasim.clinical.pk import OneCompartmentPK, molar, patient_clearance
from blinasim.clinical.protocol import ProtocolEngine, Schedule, build_schedule, needs_prephase
from blinasim.core.output import build_dataset
from blinasim.core.seeds import run_seed
from blinasim.core.state import POPULATIONS, State
from blinasim.kernels import (
    census,
    chemotherapy,
    encounter,
    initial,
    killing,
    motility,
    residents,
    tcell_fate,
    trafficking,
)
from blinasim.kernels.layout import KIND_BLAST, KIND_NORMAL_B, POS_DEAD, SITE_EMPTY, SITE_OTHER
from blinasim.kernels.rng import NORMAL_B_SUPPLY, draw_poisson
from blinasim.params.schema import Config, validate_config


@dataclass(frozen=True)
class Phase:
    """One entry of the phase list: a name, the method that runs it and its clock."""

    name: str
    method: str
    clock: str  # "fast", "slow" or "record"
    description: str


PHASES: tuple[Phase, ...] = (
    Phase("protocol", "_protocol", "fast", "toxicity rules, premedication, infusion rate of this tick"),
    Phase("pk", "_pk", "fast", "exact one-compartment drug level; T-cell redistribution drive"),
    Phase("trafficking", "_trafficking", "fast", "T-cells every tick; blasts and normal B on the slow clock"),
    Phase("motility", "_motility", "fast", "random walk of free marrow T-cells"),
    Phase("encounter", "_encounter", "fast", "contacts and synapse formation (avidity model)"),
    Phase("killing", "_killing", "fast", "synapse timers, lysis, release; exhaustion accrual"),
    Phase("tcell_fate", "_tcell_fate", "slow", "activation decay, division, contraction, death"),
    Phase("cytokines", "_cytokines", "fast", "serum IFN-gamma and IL-6, CRS and neurotoxicity grades"),
    Phase("residents", "_residents", "slow", "blast division and death, normal B supply and death, marrow turnover"),
    Phase("record", "_record", "record", "census into the preallocated output arrays"),
)

# Event counters (cumulative, agents): births and deaths per population.
_P_BLAST, _P_B, _P_T, _P_OTHER = range(4)


class BlinatumomabModel(mesa.Model):
    """A virtual patient under blinatumomab.

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

    def __init__(self, config: Config, seed: int | None = None, profile: bool = False):
        self.run_seed = int(run_seed(config.simulation.seed) if seed is None else seed)
        super().__init__(rng=np.random.default_rng(self.run_seed))
        self.config = config
        self.profile = profile
        self.phase_seconds = {p.name: 0.0 for p in PHASES}
        sim = config.simulation
        self.dt_hours = sim.dt_hours
        self.slow_every = round(sim.slow_step_hours / sim.dt_hours)
        self.record_every = self.slow_every * round(sim.record_every_hours / sim.slow_step_hours)
        self.n_ticks = math.floor(sim.days * 24.0 / sim.dt_hours + 1e-9)
        self.n_records = self.n_ticks // self.record_every + 1
        self.tick = 0

        self._init_patient()
        self._init_drug()
        self._init_records()
        self._record()

    # ----------------------------------------------------------------- set-up

    def _init_patient(self) -> None:
        cfg = self.config
        plan = plan_patient(cfg)
        self.plan = plan
        #: real cells represented by one simulated cell
        self.cells_per_agent = plan.cells_per_agent
        self.blood_volume_ul = plan.blood_volume_ul
        self.mean_cycle_hours = plan.mean_cycle_hours
        myeloid_birth = cfg.disease.myeloid_birth_rate_per_day
        #: mean cycle time (h) by blast phenotype: CD19+, CD19-negative, myeloid
        self.mean_cycle_hours_by_phenotype = np.array(
            [plan.mean_cycle_hours, plan.mean_cycle_hours, 24.0 / myeloid_birth if myeloid_birth > 0 else 1e30]
        )
        n_sites = plan.n_sites
        n_blood_blasts, n_blood_b = plan.n_blood_blasts, plan.n_blood_b
        self.state = st = State.allocate(plan.side, plan.target_capacity, plan.tcell_capacity)
        tg, tc = st.targets, st.tcells
        dis, nb, tcfg = cfg.disease, cfg.normal_b, cfg.tcells
        seed = self.run_seed
        # Baseline escape variants and PD-L1 of blasts (initial.escape_variant).
        escape = (dis.cd19_negative_fraction, dis.cd19_low_fraction, dis.cd19_low_factor, dis.pdl1_baseline)
        # A marrow resident set at baseline cannot exceed the capacity computed
        # from its expectation by more than sampling noise; be safe anyway.
        tg.grow(n_sites + n_blood_blasts + n_blood_b + 64)
        st.ensure_scratch()
        tg.n = initial.populate_marrow(
            seed,
            n_sites,
            st.site_kind,
            st.site_slot,
            cfg.patient.marrow_cellularity,
            plan.p_blast,
            plan.p_normal_b,
            tg.pos,
            tg.cd19,
            tg.pdl1,
            tg.clock,
            tg.kind,
            tg.phenotype,
            tg.engaged,
            dis.blast_cd19_median,
            dis.blast_cd19_log_sd,
            nb.cd19_median,
            nb.cd19_log_sd,
            self.mean_cycle_hours,
            *escape,
        )
        tg.n = initial.add_blood_targets(
            seed,
            initial.SUB_BLOOD_BLASTS,
            n_blood_blasts,
            KIND_BLAST,
            tg.n,
            tg.pos,
            tg.cd19,
            tg.pdl1,
            tg.clock,
            tg.kind,
            tg.phenotype,
            tg.engaged,
            dis.blast_cd19_median,
            dis.blast_cd19_log_sd,
            self.mean_cycle_hours,
            *escape,
        )
        tg.n = initial.add_blood_targets(
            seed,
            initial.SUB_BLOOD_B,
            n_blood_b,
            KIND_NORMAL_B,
            tg.n,
            tg.pos,
            tg.cd19,
            tg.pdl1,
            tg.clock,
            tg.kind,
            tg.phenotype,
            tg.engaged,
            nb.cd19_median,
            nb.cd19_log_sd,
            self.mean_cycle_hours,
            *escape,
        )
        tc.grow(plan.n_t_marrow + plan.n_t_blood + 16)
        for sub, count, in_marrow in (
            (initial.SUB_T_MARROW, plan.n_t_marrow, True),
            (initial.SUB_T_BLOOD, plan.n_t_blood, False),
        ):
            tc.n = initial.add_t_cells(
                seed,
                sub,
                count,
                in_marrow,
                n_sites,
                tc.n,
                tc.pos,
                tc.partner,
                tc.cd3,
                tc.activation,
                tc.exhaustion,
                tc.synapse_h,
                tc.kills,
                tcfg.cd3_median,
                tcfg.cd3_log_sd,
            )
        self.baseline_t_cells = max(tc.n, 1)
        #: share of activated division and lysis suppressed by regulatory T-cells (slow clock)
        self.treg_suppression = 0.0

        kind = tg.view("kind")
        in_marrow = tg.view("pos") >= 0
        counts = {k: (int(np.sum(in_marrow & (kind == k))), int(np.sum(~in_marrow & (kind == k)))) for k in (0, 1)}
        empty_share = float(np.count_nonzero(st.site_kind == SITE_EMPTY)) / n_sites
        rates = equilibrium_rates(cfg, plan, counts, empty_share)
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
        first_infusion = min((seg.start_day for seg in self.schedule.segments), default=self.config.treatment.start_day)
        self.combination = CombinationDrugs(self.config, first_infusion)
        self.pd1_occupancy = 0.0
        self.ctla4_blockade = 0.0
        self.dose_rate = 0.0
        self.concentration = 0.0
        self.redistribution_adaptation = 0.0
        self.redistribution_drive = 0.0
        self.bridge_factor = 0.0

    def _init_records(self) -> None:
        n = self.n_records
        self.rec_time_days = np.arange(n, dtype=np.float64) * self.record_every * self.dt_hours / 24.0
        self.rec_dose_rate = np.zeros(n)
        self.rec_concentration = np.zeros(n)
        self.rec_cycle = self.schedule.cycles_on_grid(self.rec_time_days)
        self.rec_redistribution = np.zeros(n)
        self.rec_il6 = np.zeros(n)
        self.rec_ifng = np.zeros(n)
        self.rec_crs_grade = np.zeros(n, dtype=np.int8)  # maximum over the record interval
        self.rec_crs_signal = np.zeros(n)  # maximum over the record interval
        self.rec_neuro_grade = np.zeros(n, dtype=np.int8)
        self.rec_neuro_exposure = np.zeros(n)  # maximum over the record interval
        self.rec_status = np.zeros(n, dtype=np.int8)
        self.rec_dex_mg = np.zeros(n)
        self.rec_dex_suppression = np.zeros(n)
        self.rec_toci_doses = np.zeros(n, dtype=np.int16)
        self.rec_toci_blockade = np.zeros(n)
        self.rec_competence = np.zeros(n)
        self.rec_cd19_losses = np.zeros(n, dtype=np.int64)  # cumulative events (agents)
        self.rec_lineage_switches = np.zeros(n, dtype=np.int64)
        self.rec_pd1_occupancy = np.zeros(n)
        self.rec_treg_suppression = np.zeros(n)
        self._interval_crs = 0
        self._interval_crs_signal = 0.0
        self._interval_neuro = 0
        self._interval_neuro_exposure = 0.0
        self.max_crs_grade = 0
        self.max_neuro_grade = 0
        self.rec_counts = np.zeros((n, census.C_SIZE), dtype=np.int64)
        self.rec_pdl1_sum = np.zeros(n)
        self.rec_kills = np.zeros((n, 2), dtype=np.int64)  # [normal_b, blast] killed during the interval
        self.rec_births = np.zeros((n, len(POPULATIONS)), dtype=np.int64)
        self.rec_deaths = np.zeros((n, len(POPULATIONS)), dtype=np.int64)
        self.rec_index = 0
        self.births = np.zeros(len(POPULATIONS), dtype=np.int64)
        self.deaths = np.zeros(len(POPULATIONS), dtype=np.int64)
        self.killed_by_kind = np.zeros(2, dtype=np.int64)
        self._killed_at_last_record = np.zeros(2, dtype=np.int64)
        self._census_row = np.zeros(census.C_SIZE, dtype=np.int64)
        self._t_events = np.zeros(2, dtype=np.int64)
        self._tg_events = np.zeros(residents.EV_SIZE, dtype=np.int64)
        self._chemo_events = np.zeros(4, dtype=np.int64)
        #: cumulative CD19-loss and lineage-switch events (agents)
        self.cd19_losses = 0
        self.lineage_switches = 0

    # ---------------------------------------------------------------- stepping

    def step(self) -> None:
        """Advance one tick through the phase list."""
        slow = (self.tick + 1) % self.slow_every == 0
        record = (self.tick + 1) % self.record_every == 0
        for phase in PHASES:
            if (phase.clock == "slow" and not slow) or (phase.clock == "record" and not record):
                continue
            if self.profile:
                t0 = time.perf_counter()
                getattr(self, phase.method)()
                self.phase_seconds[phase.name] += time.perf_counter() - t0
            else:
                getattr(self, phase.method)()
        self.tick += 1
        if self.tick >= self.n_ticks:
            self.running = False

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Step to the end of ``simulation.days``; ``progress(tick, n_ticks)`` is called every record."""
        while self.tick < self.n_ticks:
            self.step()
            if progress is not None and self.tick % self.record_every == 0:
                progress(self.tick, self.n_ticks)

    @property
    def is_slow_tick(self) -> bool:
        return (self.tick + 1) % self.slow_every == 0

    # ------------------------------------------------------------------ phases

    def _protocol(self) -> None:
        cyt = self.cytokines
        self.dose_rate = self.protocol.step(self.tick * self.dt_hours, cyt.crs_grade, cyt.neuro_grade)

    def _cytokines(self) -> None:
        tc = self.state.tcells
        engaged = int(np.count_nonzero(tc.partner[: tc.n] >= 0))
        share = engaged / tc.live if tc.live > 0 else 0.0
        cyt = self.cytokines
        cyt.step((self.tick + 1) * self.dt_hours, self.dt_hours, engaged * self.cells_per_agent, share)
        self._track_cytokine_interval()

    def _track_cytokine_interval(self) -> None:
        """Maxima over the record interval of the grades and of the signals they are graded from."""
        cyt = self.cytokines
        self._interval_crs = max(self._interval_crs, cyt.crs_grade)
        self._interval_crs_signal = max(self._interval_crs_signal, cyt.crs_signal)
        self._interval_neuro = max(self._interval_neuro, cyt.neuro_grade)
        self._interval_neuro_exposure = max(self._interval_neuro_exposure, cyt.neuro_exposure)

    def _pk(self) -> None:
        cfg = self.config
        self.concentration = self.pk.advance(self.concentration, self.dose_rate, self.dt_hours)
        c = self.concentration
        effect = c / (c + cfg.tcells.margination_ec50_pg_per_ml)
        keep = math.exp(-self.dt_hours / 24.0 / cfg.tcells.margination_adaptation_days)
        self.redistribution_adaptation = effect + (self.redistribution_adaptation - effect) * keep
        self.redistribution_drive = max(0.0, effect - self.redistribution_adaptation)
        cm = molar(c, cfg.drug.molecular_weight_kda)
        kd = cfg.drug.kd_cd19_nm * 1e-9
        self.bridge_factor = cfg.drug.contact_area_fraction * cm / (cm + kd)
        day = self.tick_end_hours / 24.0
        self.pd1_occupancy = self.combination.pd1_occupancy(day)
        self.ctla4_blockade = self.combination.ctla4_blockade(day)

    def _trafficking(self) -> None:
        st, tc, tg = self.state, self.state.tcells, self.state.targets
        dt_days = self.dt_hours / 24.0
        fold = 1.0 + self.config.tcells.margination_fold * self.redistribution_drive
        p_in = -math.expm1(-self.t_homing_per_day * fold * dt_days)
        p_out = -math.expm1(-self.t_egress_per_day * dt_days)
        trafficking.traffic_t_cells(self.run_seed, self.tick, tc.n, tc.pos, tc.partner, st.n_sites, p_in, p_out)
        if self.is_slow_tick:
            dt_slow = dt_days * self.slow_every
            p_home = -np.expm1(-self.target_homing_per_day * dt_slow)
            p_egress = -np.expm1(-self.target_egress_per_day * dt_slow)
            trafficking.traffic_targets(
                self.run_seed,
                self.tick,
                tg.n,
                tg.pos,
                tg.kind,
                tg.engaged,
                st.site_kind,
                st.site_slot,
                st.n_sites,
                p_home,
                p_egress,
            )
            st.blood_targets = None  # targets moved: list the blood ones again

    def _motility(self) -> None:
        cfg, st, tc = self.config, self.state, self.state.tcells
        steps = cfg.tcells.speed_um_per_min * self.dt_hours * 60.0 / cfg.simulation.site_diameter_um
        motility.move_t_cells(self.run_seed, self.tick, tc.n, tc.pos, tc.partner, st.side, steps)

    def _encounter(self) -> None:
        cfg, st, tc, tg = self.config, self.state, self.state.tcells, self.state.targets
        tcfg = cfg.tcells
        if self.bridge_factor <= 0.0:
            return  # no drug, no bridge, no synapse (and no draws)
        # The free CD19+ blood targets at the start of the phase, in slot order: from the
        # list of CD19+ blood targets, made again only after a slow phase changed targets.
        if st.blood_targets is None:
            n_listed = encounter.list_blood_targets(tg.n, tg.pos, tg.cd19, st.scratch)
            st.blood_targets = st.scratch[:n_listed].copy()
        n_listed, n_blood = encounter.free_blood_targets(
            st.blood_targets, st.blood_targets.shape[0], tg.pos, tg.engaged, st.scratch
        )
        st.blood_targets = st.blood_targets[:n_listed]
        # Blood: P(meet some free CD19+ target in dt) = 1 - exp(-k * density * dt);
        # the kernel counts the free targets n and uses density * dt * k = per_target * n.
        per_target = tcfg.blood_contact_ul_per_h * self.cells_per_agent / self.blood_volume_ul * self.dt_hours
        encounter.form_synapses(
            self.run_seed,
            self.tick,
            tc.n,
            tc.pos,
            tc.partner,
            tc.cd3,
            tc.activation,
            tc.exhaustion,
            tc.synapse_h,
            tg.cd19,
            tg.engaged,
            st.site_kind,
            st.site_slot,
            st.side,
            tcfg.contacts_per_hour * self.dt_hours,
            per_target,
            self.bridge_factor,
            tcfg.cd3_engagement_half_density,
            cfg.drug.adhesion_beta,
            tcfg.synapse_hours,
            tcfg.exhaustion_per_engagement,
            st.scratch,
            n_blood,
        )

    def _killing(self) -> None:
        st, tc, tg, tcfg = self.state, self.state.tcells, self.state.targets, self.config.tcells
        killed = killing.resolve_synapses(
            self.run_seed,
            self.tick,
            self.dt_hours,
            tc.n,
            tc.partner,
            tc.synapse_h,
            tc.exhaustion,
            tc.kills,
            tg.pos,
            tg.kind,
            tg.pdl1,
            tg.engaged,
            st.site_kind,
            st.site_slot,
            lysis_probability(self.config, self.treg_suppression),
            tcfg.exhaustion_per_engaged_day / 24.0,
            tcfg.exhaustion_e50,
            tcfg.exhaustion_hill,
            tcfg.pd1_lysis_inhibition,
            1.0 - self.pd1_occupancy,
            self.killed_by_kind,
        )
        tg.dead += killed

    def _tcell_fate(self) -> None:
        tcfg, tc = self.config.tcells, self.state.tcells
        dt_days = self.dt_hours * self.slow_every / 24.0
        excess = max(0.0, tc.live / self.baseline_t_cells - 1.0)
        keep_act = math.exp(-math.log(2.0) / tcfg.activation_half_life_days * dt_days)
        recovery = tcfg.exhaustion_recovery_per_day * dt_days
        pd1_brake = tcfg.pd1_proliferation_inhibition * self.mean_blast_pdl1() * (1.0 - self.pd1_occupancy)
        self.treg_suppression = treg_suppression(self.config, self.mean_t_activation())
        expansion = (1.0 + self.config.checkpoint.ipilimumab_expansion_gain * self.ctla4_blockade) * (
            1.0 - self.treg_suppression
        )
        self._t_events[:] = 0
        start, stop = 0, tc.n
        while start >= 0:
            start, tc.n = tcell_fate.t_cell_fate(
                self.run_seed,
                self.tick,
                start,
                stop,
                tc.n,
                tc.capacity,
                tc.pos,
                tc.partner,
                tc.cd3,
                tc.activation,
                tc.exhaustion,
                tc.synapse_h,
                tc.kills,
                keep_act,
                recovery,
                tcfg.death_rate_per_day,
                tcfg.activated_division_per_day,
                tcfg.death_rate_per_day,
                tcfg.contraction_rate_per_day * excess,
                dt_days,
                tcfg.exhaustion_e50,
                tcfg.exhaustion_hill,
                pd1_brake,
                expansion,
                self._t_events,
            )
            if start >= 0:
                tc.grow(int(tc.capacity * 1.5) + 16)
        self.births[_P_T] += self._t_events[0]
        self.deaths[_P_T] += self._t_events[1]
        tc.dead += int(self._t_events[1])
        # Every slow step: drop the dead and put the T-cells in lattice order (bookkeeping
        # for memory locality; it renumbers the slots, so the draws follow the new order).
        tc.n = census.sort_t_cells(
            tc.n, self.state.n_sites, tc.pos, tc.partner, tc.cd3, tc.activation, tc.exhaustion, tc.synapse_h, tc.kills
        )
        tc.dead = 0

    def _residents(self) -> None:
        cfg, st, tg = self.config, self.state, self.state.targets
        dt_days = self.dt_hours * self.slow_every / 24.0
        dt_hours = self.dt_hours * self.slow_every
        dis = cfg.disease
        st.blood_targets = None  # targets divide, die, change CD19, are supplied and compacted: list again
        if self.combination.chemotherapy_active(self.tick_end_hours / 24.0):
            self._chemotherapy(dt_days)
        p_blast_death, p_b_death, pdl1_target, pdl1_keep, p_switch = resident_rates(cfg, self.cytokines.ifng, dt_days)
        ev = self._tg_events
        ev[:] = 0
        start, stop = 0, tg.n
        while start >= 0:
            start, tg.n = residents.target_fate(
                self.run_seed,
                self.tick,
                start,
                stop,
                tg.n,
                tg.capacity,
                tg.pos,
                tg.cd19,
                tg.pdl1,
                tg.clock,
                tg.kind,
                tg.phenotype,
                tg.engaged,
                st.site_kind,
                st.site_slot,
                st.side,
                dt_hours,
                self.mean_cycle_hours_by_phenotype,
                p_blast_death,
                p_b_death,
                dis.daughter_placement_attempts,
                pdl1_target,
                pdl1_keep,
                dis.cd19_division_log_sd,
                dis.cd19_loss_per_division,
                p_switch,
                ev,
            )
            if start >= 0:
                tg.grow(int(tg.capacity * 1.5) + 16)
                st.ensure_scratch()
        self.births[_P_BLAST] += ev[residents.EV_BLAST_BIRTH]
        self.deaths[_P_BLAST] += ev[residents.EV_BLAST_DEATH]
        self.deaths[_P_B] += ev[residents.EV_B_DEATH]
        self.deaths[_P_OTHER] += ev[residents.EV_OTHER_DISPLACED]
        tg.dead += int(ev[residents.EV_BLAST_DEATH] + ev[residents.EV_B_DEATH])
        self.cd19_losses += int(ev[residents.EV_CD19_LOSS])
        self.lineage_switches += int(ev[residents.EV_LINEAGE_SWITCH])

        # The number of new normal B cells this slow step (slot -1 of the supply stream).
        n_new = int(
            draw_poisson(self.run_seed, self.tick, NORMAL_B_SUPPLY, 2**31, 0, self.normal_b_supply_per_day * dt_days)
        )
        if n_new:
            tg.grow(tg.n + n_new)
            st.ensure_scratch()
            before = tg.n
            tg.n = residents.supply_normal_b(
                self.run_seed,
                self.tick,
                n_new,
                tg.n,
                tg.pos,
                tg.cd19,
                tg.pdl1,
                tg.clock,
                tg.kind,
                tg.phenotype,
                tg.engaged,
                st.site_kind,
                st.site_slot,
                st.n_sites,
                cfg.normal_b.cd19_median,
                cfg.normal_b.cd19_log_sd,
            )
            self.births[_P_B] += tg.n - before

        # Chemotherapy also kills the precursors that refill the marrow: no refill during a
        # course, then a ramp back to normal (combination.CombinationDrugs.marrow_refill_factor).
        refill = self.combination.marrow_refill_factor(self.tick_end_hours / 24.0)
        p_other_death, p_refill = marrow_turnover_probabilities(cfg, refill, dt_days)
        born, died = residents.marrow_turnover(
            self.run_seed, self.tick, st.n_sites, st.site_kind, st.site_slot, p_other_death, p_refill
        )
        self.births[_P_OTHER] += born
        self.deaths[_P_OTHER] += died

        if tg.dead > cfg.simulation.compact_dead_fraction * tg.n:
            tc = st.tcells
            tg.n = census.compact_targets(
                tg.n,
                tg.pos,
                tg.cd19,
                tg.pdl1,
                tg.clock,
                tg.kind,
                tg.phenotype,
                tg.engaged,
                st.site_kind,
                st.site_slot,
                st.n_sites,
                tc.n,
                tc.partner,
                st.scratch,
            )
            tg.dead = 0

    def _record(self) -> None:
        st, tc, tg = self.state, self.state.tcells, self.state.targets
        r = self.rec_index
        self.rec_pdl1_sum[r] = census.take_census(
            tc.n,
            tc.pos,
            tc.partner,
            tc.exhaustion,
            self.config.tcells.exhausted_threshold,
            tg.n,
            tg.pos,
            tg.kind,
            tg.phenotype,
            tg.cd19,
            tg.pdl1,
            st.site_kind,
            st.n_sites,
            self._census_row,
        )
        self.rec_counts[r] = self._census_row
        self.rec_dose_rate[r] = self.dose_rate
        self.rec_concentration[r] = self.concentration
        self.rec_redistribution[r] = self.redistribution_drive
        self._record_clinical(r)
        self.rec_kills[r] = self.killed_by_kind - self._killed_at_last_record
        self._killed_at_last_record[:] = self.killed_by_kind
        deaths = self.deaths.copy()
        deaths[_P_BLAST] += self.killed_by_kind[KIND_BLAST]
        deaths[_P_B] += self.killed_by_kind[KIND_NORMAL_B]
        self.rec_births[r] = self.births
        self.rec_deaths[r] = deaths
        self.rec_index += 1

    def _chemotherapy(self, dt_days: float) -> None:
        """Cytotoxic exposure of one slow step during a chemotherapy course (phase 9)."""
        ch, st, tg, tc = self.config.chemotherapy, self.state, self.state.targets, self.state.tcells
        ev = self._chemo_events
        ev[:] = 0
        chemotherapy.cytotoxic_exposure(
            self.run_seed,
            self.tick,
            tc.n,
            tc.pos,
            tc.partner,
            tg.n,
            tg.pos,
            tg.kind,
            tg.engaged,
            st.site_kind,
            st.site_slot,
            st.n_sites,
            -math.expm1(-ch.blast_kill_per_day * dt_days),
            -math.expm1(-ch.normal_b_kill_per_day * dt_days),
            -math.expm1(-ch.other_marrow_kill_per_day * dt_days),
            -math.expm1(-ch.t_cell_kill_per_day * dt_days),
            ev,
        )
        self.deaths[_P_BLAST] += ev[chemotherapy.EV_BLAST]
        self.deaths[_P_B] += ev[chemotherapy.EV_NORMAL_B]
        self.deaths[_P_OTHER] += ev[chemotherapy.EV_OTHER]
        self.deaths[_P_T] += ev[chemotherapy.EV_T]
        tg.dead += int(ev[chemotherapy.EV_BLAST] + ev[chemotherapy.EV_NORMAL_B])
        tc.dead += int(ev[chemotherapy.EV_T])

    def mean_t_activation(self) -> float:
        """Mean activation of the living T-cells (0 without T-cells)."""
        tc = self.state.tcells
        live = tc.pos[: tc.n] != POS_DEAD
        count = int(np.count_nonzero(live))
        return float(tc.activation[: tc.n][live].astype(np.float64).sum() / count) if count else 0.0

    def mean_blast_pdl1(self) -> float:
        """Mean relative PD-L1 of the living blasts (0 without blasts)."""
        tg = self.state.targets
        n = tg.n
        blasts = (tg.pos[:n] != POS_DEAD) & (tg.kind[:n] == KIND_BLAST)
        count = int(np.count_nonzero(blasts))
        return float(tg.pdl1[:n][blasts].astype(np.float64).sum() / count) if count else 0.0

    def _record_clinical(self, r: int) -> None:
        """Cytokines, grades and protocol events of the interval ending now."""
        cyt = self.cytokines
        t_end = self.tick_end_hours if r > 0 else 0.0
        t_start = -math.inf if r == 0 else t_end - self.record_every * self.dt_hours
        self.rec_il6[r] = cyt.il6
        self.rec_ifng[r] = cyt.ifng
        self.rec_crs_grade[r] = self._interval_crs if r > 0 else cyt.crs_grade
        self.rec_crs_signal[r] = self._interval_crs_signal if r > 0 else cyt.crs_signal
        self._interval_crs_signal = 0.0
        self.rec_neuro_grade[r] = self._interval_neuro if r > 0 else cyt.neuro_grade
        self.rec_neuro_exposure[r] = self._interval_neuro_exposure if r > 0 else cyt.neuro_exposure
        self._interval_neuro_exposure = 0.0
        self.max_crs_grade = max(self.max_crs_grade, int(self.rec_crs_grade[r]))
        self.max_neuro_grade = max(self.max_neuro_grade, int(self.rec_neuro_grade[r]))
        self._interval_crs = self._interval_neuro = 0
        self.rec_status[r] = self.protocol.status
        effects = self.drug_effects
        self.rec_dex_mg[r] = sum(mg for t, mg in effects.dex_doses if t_start < t <= t_end)
        self.rec_toci_doses[r] = sum(1 for t in effects.toci_doses if t_start < t <= t_end)
        self.rec_dex_suppression[r] = cyt.dex_suppression
        self.rec_toci_blockade[r] = cyt.toci_blockade
        self.rec_competence[r] = cyt.competence
        self.rec_cd19_losses[r] = self.cd19_losses
        self.rec_lineage_switches[r] = self.lineage_switches
        self.rec_pd1_occupancy[r] = self.pd1_occupancy
        self.rec_treg_suppression[r] = self.treg_suppression

    @property
    def tick_end_hours(self) -> float:
        """Simulated hours at the end of the current tick."""
        return (self.tick + 1) * self.dt_hours

    # ------------------------------------------------------------------ output

    @property
    def bytes_per_agent(self) -> float:
        """Bytes of agent state per living agent (lattice included)."""
        return self.state.nbytes / max(self.live_agents, 1)

    @property
    def live_agents(self) -> int:
        """Blasts, normal B cells, T-cells and other nucleated marrow cells alive now."""
        st = self.state
        return st.targets.live + st.tcells.live + int(np.count_nonzero(st.site_kind == SITE_OTHER))

    def to_dataset(self):
        """The run as an ``xarray.Dataset`` following the output contract (docs/output.md)."""
        return build_dataset(self)


# ---------------------------------------------------------------------------
# Derived quantities of one patient, shared with the Mesa reference model
# (:mod:`blinasim.reference.mesa_model`) so that both build the same patient.


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
    nucleated_expected = residents_expected / (1.0 - pat.marrow_t_cell_fraction)
    cells_per_agent = pat.marrow_nucleated_cells / nucleated_expected
    blood_ul = pat.blood_volume_l * 1e6
    p_blast = min(1.0, pat.marrow_blast_fraction * nucleated_expected / residents_expected)
    p_normal_b = (1.0 - p_blast) * pat.normal_b_fraction

    def agents(per_ul: float) -> int:
        return round(per_ul * blood_ul / cells_per_agent)

    n_blood_blasts = agents(pat.peripheral_blasts_per_ul)
    n_blood_b = agents(pat.b_cells_per_ul)
    n_t_blood = agents(pat.t_cells_per_ul)
    n_t_marrow = round(nucleated_expected * pat.marrow_t_cell_fraction)
    target_cap = int(residents_expected * (p_blast + p_normal_b) * 1.25) + n_blood_blasts + n_blood_b + 64
    t_cap = int((n_t_marrow + n_t_blood) * 1.25) + 64
    dis = cfg.disease
    mean_cycle_hours = 24.0 / dis.blast_birth_rate_per_day if dis.blast_birth_rate_per_day > 0 else 1e30
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
        mean_cycle_hours=mean_cycle_hours,
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
    share of empty lattice sites after placement.

    Homing rates are parameters; egress rates are derived so that the baseline
    split between marrow and blood is an equilibrium. A homing resident settles
    only on an empty site, so its effective homing rate is the attempt rate times
    the baseline empty-site share. Normal B supply from (unsimulated)
    CD19-negative precursors balances their death at baseline.
    """
    dis, nb, tcfg = config.disease, config.normal_b, config.tcells
    homing = {KIND_BLAST: dis.blast_homing_per_day, KIND_NORMAL_B: nb.homing_per_day}
    target_homing_per_day = np.zeros(2)
    target_egress_per_day = np.zeros(2)
    for k in (KIND_NORMAL_B, KIND_BLAST):
        marrow_n, blood_n = counts[k]
        target_homing_per_day[k] = homing[k]
        target_egress_per_day[k] = homing[k] * empty_share * blood_n / marrow_n if marrow_n > 0 else 0.0
    t_homing_per_day = tcfg.marrow_homing_per_day
    n_t_blood, n_t_marrow = plan.n_t_blood, plan.n_t_marrow
    t_egress_per_day = t_homing_per_day * n_t_blood / n_t_marrow if n_t_marrow > 0 else 0.0
    normal_b_supply_per_day = nb.death_rate_per_day * (counts[KIND_NORMAL_B][0] + counts[KIND_NORMAL_B][1])
    return EquilibriumRates(
        target_homing_per_day=target_homing_per_day,
        target_egress_per_day=target_egress_per_day,
        t_homing_per_day=t_homing_per_day,
        t_egress_per_day=t_egress_per_day,
        normal_b_supply_per_day=normal_b_supply_per_day,
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
    )
    pk = OneCompartmentPK(clearance_l_per_h, cfg.drug.volume_l)
    tick_starts = np.arange(n_ticks, dtype=np.float64) * dt_hours / 24.0
    return DrugPlan(schedule, clearance_l_per_h, pk, schedule.rates_on_grid(tick_starts))


def treg_share(config: Config) -> float:
    """Regulatory T-cells as a share of all T-cells: CD4 share x Treg share of CD4."""
    return config.patient.cd4_fraction * config.patient.treg_fraction_of_cd4


def treg_suppression(config: Config, mean_activation: float) -> float:
    """Share of activated division and lysis suppressed by activated regulatory T-cells.

    Blinatumomab engages regulatory T-cells (CD3+) as it engages the others;
    activated, they suppress T-cell proliferation and CD8 lysis of ALL cells
    through IL-10 (Duell 2017). Tregs are a share ``rho`` = CD4 share x Treg
    share of CD4 of the T-cells, engaged as often as the rest, so the activated
    Tregs are ``x = rho * mean activation`` of all T-cells, and the suppression is
    ``s_max * x^n / (x^n + x50^n)``. Shared with the reference model.
    """
    tcfg = config.tcells
    x = treg_share(config) * mean_activation
    if x <= 0.0 or tcfg.treg_suppression_max <= 0.0:
        return 0.0
    q = (x / tcfg.treg_suppression_half) ** tcfg.treg_suppression_hill
    return tcfg.treg_suppression_max * q / (1.0 + q)


def lysis_probability(config: Config, suppression: float) -> float:
    """Probability that a completed synapse kills, before exhaustion and PD-1.

    Synapses made by regulatory T-cells (a share CD4 x Treg-of-CD4 of the
    T-cells, which engage but do not kill) and the Treg suppression of lysis
    both lower it. Shared with the reference model.
    """
    return config.tcells.lysis_probability * (1.0 - treg_share(config)) * (1.0 - suppression)


def marrow_turnover_probabilities(config: Config, refill: float, dt_days: float) -> tuple[float, float]:
    """Per-slow-step death probability of an other marrow cell and refill probability of an empty site.

    Death at ``d x reserve`` and refill at ``d x reserve x c / (1 - c) x refill``
    keep the normal cellularity ``c`` as the equilibrium; the patient's
    hematopoietic reserve sets how fast an emptied marrow refills (count
    recovery), ``refill`` the chemotherapy ramp. Shared with the reference model.
    """
    c = config.marrow.normal_cellularity
    d = config.marrow.other_death_rate_per_day * config.patient.hematopoietic_reserve
    return -math.expm1(-d * dt_days), -math.expm1(-d * c / (1.0 - c) * refill * dt_days)


def resident_rates(config: Config, ifng: float, dt_days: float) -> tuple[np.ndarray, float, float, float, float]:
    """Per-slow-step inputs of ``residents.target_fate``, shared with the reference model.

    Returns the blast death probability by phenotype (CD19+, CD19-negative, myeloid),
    the normal-B death probability, the PD-L1 target (IFN-gamma-induced) and its keep
    factor, and the lineage-switch probability per division (KMT2A flag, immune pressure).
    """
    dis = config.disease
    p_blast_death = -np.expm1(
        -np.array([dis.blast_death_rate_per_day, dis.blast_death_rate_per_day, dis.myeloid_death_rate_per_day])
        * dt_days
    )
    p_b_death = -math.expm1(-config.normal_b.death_rate_per_day * dt_days)
    pdl1_target = dis.pdl1_baseline + (dis.pdl1_max - dis.pdl1_baseline) * ifng / (ifng + dis.pdl1_ifng_ec50_pg_per_ml)
    pdl1_keep = math.exp(-dt_days / dis.pdl1_response_days)
    pressure = ifng / (ifng + dis.immune_pressure_ec50_pg_per_ml)
    base_switch = (
        dis.lineage_switch_per_division_kmt2a if config.patient.kmt2a_rearranged else dis.lineage_switch_per_division
    )
    p_switch = min(1.0, base_switch * (1.0 + dis.lineage_switch_pressure_gain * pressure))
    return p_blast_death, p_b_death, pdl1_target, pdl1_keep, p_switch


def simulate(
    config: Config | dict | None = None,
    *,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
):
    """Simulate one virtual patient and return its ``xarray.Dataset``.

    Parameters
    ----------
    config
        A :class:`Config`, a nested dict (validated), or None for the defaults.
    seed
        Explicit run seed; by default derived from ``simulation.seed``.
    progress
        Optional callback ``progress(tick, n_ticks)``.
    """
    if config is None or isinstance(config, dict):
        config = validate_config(config)
    model = BlinatumomabModel(config, seed=seed)
    model.run(progress=progress)
    return model.to_dataset()
