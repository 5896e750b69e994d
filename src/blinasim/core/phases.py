"""The phase list: the order of everything in a tick, with each phase's clock.

One entry per process, in the order of operations of a tick. Fast phases run
every tick (``simulation.dt_hours``, 0.1 h by default); slow phases at the end
of every slow step (``simulation.slow_step_hours``, 1 h); the record every
``simulation.record_every_hours``. Each phase's function, rate formulas and
config keys are in its module of :mod:`blinasim.core.processes`; its kernel in
:mod:`blinasim.kernels`. The Mesa reference runs the same list with its own
rule for each phase that touches agents (:func:`with_runs`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from blinasim.core.processes import (
    blast_fate,
    blast_scale,
    chemotherapy,
    compaction,
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

FAST, SLOW, RECORD = "fast", "slow", "record"


@dataclass(frozen=True)
class Phase:
    """One entry of the phase list: a name, its clock, the function that runs it on a model and what it does."""

    name: str
    clock: str  # FAST, SLOW or RECORD
    run: Callable[[Any], None]
    description: str

    def due(self, slow: bool, record: bool) -> bool:
        """Whether the phase runs in a tick that ends a slow step (``slow``) and a record interval (``record``)."""
        return self.clock == FAST or (self.clock == SLOW and slow) or (self.clock == RECORD and record)


PHASES: tuple[Phase, ...] = (
    Phase("protocol", FAST, protocol.run, "toxicity rules, premedication, infusion rate of this tick"),
    Phase("pk", FAST, pk.run, "exact one-compartment drug level; redistribution drive; bridge factor"),
    Phase("tcell_trafficking", FAST, trafficking.run_t_cells, "free T-cells between blood and marrow"),
    Phase("target_trafficking", SLOW, trafficking.run_targets, "free blasts and normal B between marrow and blood"),
    Phase("motility", FAST, motility.run, "random walk of free marrow T-cells"),
    Phase("encounter", FAST, encounter.run, "contacts and synapse formation (avidity model)"),
    Phase("killing", FAST, killing.run, "synapse timers, lysis, release; exhaustion accrual"),
    Phase("tcell_fate", SLOW, tcell_fate.run, "Treg suppression; activation decay, division, contraction, death"),
    Phase("tcell_sort", SLOW, compaction.run_t_cells, "T-cell store: drop the dead, sort by lattice site"),
    Phase("cytokines", FAST, cytokines.run, "serum IFN-gamma and IL-6, CRS and neurotoxicity grades"),
    Phase("chemotherapy", SLOW, chemotherapy.run, "cytotoxic exposure during a salvage course"),
    Phase("glucocorticoid", SLOW, glucocorticoid.run, "dexamethasone-induced apoptosis of B-lineage blasts"),
    Phase("blast_fate", SLOW, blast_fate.run, "blast division and death, CD19 loss, lineage switch; normal-B death"),
    Phase(
        "blast_scale", SLOW, blast_scale.run, "blast agents split or merge: their weight in cells follows the disease"
    ),
    Phase("normal_b_supply", SLOW, normal_b_supply.run, "new normal B cells from precursors"),
    Phase("marrow_turnover", SLOW, marrow_turnover.run, "death and refill of other marrow cells"),
    Phase("target_compaction", SLOW, compaction.run_targets, "target store: squeeze out the dead when enough"),
    Phase("record", RECORD, record.run, "census and clinical state into the preallocated output arrays"),
)


def with_runs(runs: Mapping[str, Callable[[Any], None]], phases: tuple[Phase, ...] = PHASES) -> tuple[Phase, ...]:
    """The phase list with the functions of ``runs`` (by phase name) in place of its own.

    ``runs`` must name every phase exactly once: a model that mirrors the
    phase list (the Mesa reference) then runs the same phases, in the same
    order, on the same clocks.
    """
    names = [p.name for p in phases]
    if sorted(runs) != sorted(names):
        missing, extra = sorted(set(names) - set(runs)), sorted(set(runs) - set(names))
        raise ValueError(f"runs must name every phase once: missing {missing}, unknown {extra}")
    return tuple(dataclasses.replace(p, run=runs[p.name]) for p in phases)
