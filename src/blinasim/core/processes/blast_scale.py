"""Disease below one agent: blast agents whose weight adapts (phase ``blast_scale``, slow clock).

At the agent scale of the lattice (``cells_per_agent``, ~1e7-1e8 cells) the
last blast agent's death would end the disease at once: a floor near MRD 1e-4.
So blast agents are *super-individuals* whose weight in cells adapts to the
disease. Each slow step, after division and death:

* fewer than ``disease.min_blast_agents`` blast agents (and a weight of at
  least 2 cells): the weight halves and every blast agent splits in two;
* more than ``disease.max_blast_agents`` blast agents (and a weight below
  ``cells_per_agent``): the weight doubles and each free blast agent is kept
  with probability 1/2.

The weight is ``cells_per_agent / 2**k``, so it returns exactly to
``cells_per_agent`` as the disease grows back, and it stops between 1 and 2
cells: then each blast agent is one cell (or two), every division, death and
kill is a single-cell event, and extinction is the stochastic end of a
birth-death process, not a floor. Per-cell rates do not change with the
weight (a blast agent's division, death and kill hazards are per cell: its
clock, its apoptosis and the T-cell contacts at its site), so the expected
course does not depend on the weight; only its noise does, as it should.
Design and its limits: docs/model.md (disease below one agent).

Config: ``disease.min_blast_agents``, ``disease.max_blast_agents``,
``disease.daughter_placement_attempts``. Kernel: :mod:`blinasim.kernels.blast_scale`.
Reference: ``ReferenceModel._blast_scale``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from blinasim.core.processes.blast_fate import mean_cycle_hours_by_phenotype
from blinasim.core.state import P_BLAST, P_OTHER_MARROW
from blinasim.kernels import blast_scale
from blinasim.kernels.layout import KIND_BLAST
from blinasim.params.schema import Config

REFINE, KEEP, COARSEN = -1, 0, 1

#: blast events counted per agent and kept in cells: kills, births, deaths, CD19 losses, lineage switches
BLAST_EVENTS = ("kills", "births", "deaths", "cd19_losses", "lineage_switches")


def decision(n_blast_agents: int, weight: float, cells_per_agent: float, config: Config) -> int:
    """:data:`REFINE` (halve the weight, split), :data:`COARSEN` (double, thin) or :data:`KEEP`."""
    dis = config.disease
    if 0 < n_blast_agents < dis.min_blast_agents and weight >= 2.0:
        return REFINE
    if n_blast_agents > dis.max_blast_agents and weight < cells_per_agent:
        return COARSEN
    return KEEP


def blast_agent_events(model: Any) -> np.ndarray:
    """The cumulative blast events in agents, in the order of :data:`BLAST_EVENTS`."""
    return np.array(
        [
            model.killed_by_kind[KIND_BLAST],
            model.births[P_BLAST],
            model.deaths[P_BLAST],
            model.cd19_losses,
            model.lineage_switches,
        ],
        dtype=np.int64,
    )


def init_weights(model: Any) -> None:
    """Start at ``cells_per_agent`` cells per blast agent, with the cell-weighted event totals at zero."""
    model.blast_weight = float(model.cells_per_agent)
    model.blast_event_cells = np.zeros(len(BLAST_EVENTS))
    model._blast_events_flushed = np.zeros(len(BLAST_EVENTS), dtype=np.int64)
    #: net cells added (+) or removed (-) by merging (and by copies that found no site): the
    #: books of births - deaths balance the blast count only with it
    model.blast_rescaled_cells = 0.0


def flush_events(model: Any) -> None:
    """Add the blast events since the last flush, in cells at the current weight, to the totals."""
    now = blast_agent_events(model)
    model.blast_event_cells += (now - model._blast_events_flushed) * model.blast_weight
    model._blast_events_flushed = now


def apply(model: Any, step: int) -> None:
    """Change the weight by ``step`` (before the agents are split or thinned), flushing the events first."""
    flush_events(model)
    model.blast_weight = model.blast_weight / 2.0 if step == REFINE else model.blast_weight * 2.0


def account(model: Any, step: int, before: int, after: int) -> None:
    """Book the cells that splitting or merging ``before`` blast agents into ``after`` did not conserve."""
    old_weight = model.blast_weight * 2.0 if step == REFINE else model.blast_weight / 2.0
    model.blast_rescaled_cells += after * model.blast_weight - before * old_weight


def run(model: Any) -> None:
    """Split or thin the blast agents when the rule says so (numba stores)."""
    st, tg = model.state, model.state.targets
    n_blasts = blast_scale.count_blasts(tg.n, tg.record)
    step = decision(n_blasts, model.blast_weight, model.cells_per_agent, model.config)
    if step == KEEP:
        return
    apply(model, step)
    if step == REFINE:
        tg.grow(tg.n + n_blasts + 16)
        st.ensure_scratch()
        st.blood_targets = None
        ev = np.zeros(3, dtype=np.int64)
        tg.n = blast_scale.duplicate_blasts(
            model.run_seed,
            model.tick,
            tg.n,
            tg.record,
            st.lattice,
            st.side,
            mean_cycle_hours_by_phenotype(model.config),
            model.config.disease.daughter_placement_attempts,
            ev,
        )
        model.deaths[P_OTHER_MARROW] += ev[1]
        account(model, step, n_blasts, n_blasts + int(ev[0]))
    else:
        st.blood_targets = None
        removed = blast_scale.thin_blasts(model.run_seed, model.tick, tg.n, tg.record, st.lattice)
        tg.dead += removed
        account(model, step, n_blasts, n_blasts - removed)
