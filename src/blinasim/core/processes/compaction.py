"""Compaction of the stores (phases ``tcell_sort`` and ``target_compaction``, slow clock).

Bookkeeping, not biology: no cell changes, only the slots cells sit in, and so
the slots that address their random draws (the reference renumbers its agents
by the same rule at the same moments). Every slow step the T-cell store drops
its dead and is sorted by lattice site (blood last); the target store is
compacted into lattice order when the dead exceed a share of its slots. Both
keep cells that are near on the lattice near in memory (docs/performance.md).

Config: ``simulation.compact_dead_fraction``.
Kernels: :func:`blinasim.kernels.compaction.sort_t_cells`,
:func:`blinasim.kernels.compaction.compact_targets`.
Reference: ``ReferenceModel._sort_t_cells``, ``ReferenceModel._compact_targets``.
"""

from __future__ import annotations

from typing import Any

from blinasim.kernels import compaction


def run_t_cells(model: Any) -> None:
    """Phase ``tcell_sort``: drop the dead T-cells and put the living in lattice order."""
    st, tc = model.state, model.state.tcells
    tc.n = compaction.sort_t_cells(tc.n, st.n_sites, tc.record)
    tc.dead = 0


def run_targets(model: Any) -> None:
    """Phase ``target_compaction``: squeeze out the dead targets once they exceed
    ``simulation.compact_dead_fraction`` of the slots; renumber the living by place."""
    st, tg, tc = model.state, model.state.targets, model.state.tcells
    if tg.dead > model.config.simulation.compact_dead_fraction * tg.n:
        tg.n = compaction.compact_targets(tg.n, tg.record, st.lattice, tc.n, tc.record, st.scratch)
        tg.dead = 0
        st.blood_targets = None  # slots renumbered: list the blood targets again
