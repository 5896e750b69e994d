"""One virtual patient: a Mesa model whose hot loops are numba kernels.

The order of a tick is the phase list :data:`PHASES` (defined in
:mod:`blinasim.core.phases`), one list in one place; each phase's function,
rate formulas and config keys are in its module of
:mod:`blinasim.core.processes`, its kernel in :mod:`blinasim.kernels`. Fast
phases run every tick (``simulation.dt_hours``, 0.1 h by default); slow phases
at the end of every slow step (``simulation.slow_step_hours``, 1 h); the record
every ``simulation.record_every_hours``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from blinasim.core.output import build_dataset
from blinasim.core.patient import PatientModel, plan_patient
from blinasim.core.phases import PHASES, Phase
from blinasim.core.state import POPULATIONS, State
from blinasim.kernels import initial
from blinasim.kernels.layout import KIND_BLAST, KIND_NORMAL_B, POS_DEAD, SITE_EMPTY, SITE_OTHER
from blinasim.params.schema import Config, validate_config

__all__ = ["PHASES", "POPULATIONS", "BlinatumomabModel", "Phase", "simulate"]


class BlinatumomabModel(PatientModel):
    """A virtual patient under blinatumomab: agents in struct-of-arrays stores, phases run by numba kernels.

    Constructed as :class:`blinasim.core.patient.PatientModel` (``config``, ``seed``,
    ``profile``); runs :data:`PHASES`.
    """

    phases = PHASES

    # ----------------------------------------------------------------- set-up

    def _init_patient(self) -> None:
        cfg = self.config
        plan = plan_patient(cfg)
        self.plan = plan
        #: real cells represented by one simulated cell
        self.cells_per_agent = plan.cells_per_agent
        self.blood_volume_ul = plan.blood_volume_ul
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
            st.lattice,
            cfg.patient.marrow_cellularity,
            plan.p_blast,
            plan.p_normal_b,
            tg.record,
            dis.blast_cd19_median,
            dis.blast_cd19_log_sd,
            nb.cd19_median,
            nb.cd19_log_sd,
            plan.mean_cycle_hours,
            *escape,
        )
        for sub, count, kind, median, log_sd in (
            (initial.SUB_BLOOD_BLASTS, n_blood_blasts, KIND_BLAST, dis.blast_cd19_median, dis.blast_cd19_log_sd),
            (initial.SUB_BLOOD_B, n_blood_b, KIND_NORMAL_B, nb.cd19_median, nb.cd19_log_sd),
        ):
            tg.n = initial.add_blood_targets(
                seed, sub, count, kind, tg.n, tg.record, median, log_sd, plan.mean_cycle_hours, *escape
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
                tc.record,
                tcfg.cd3_median,
                tcfg.cd3_log_sd,
                cfg.entry_exhaustion,
            )
        self.baseline_t_cells = max(tc.n, 1)

        kind = tg.view("kind")
        in_marrow = tg.view("pos") >= 0
        counts = {k: (int(np.sum(in_marrow & (kind == k))), int(np.sum(~in_marrow & (kind == k)))) for k in (0, 1)}
        empty_share = float(np.count_nonzero(st.site_kind == SITE_EMPTY)) / n_sites
        self.adopt_equilibrium(plan, counts, empty_share)

    # ------------------------------------------------------- state summaries

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
