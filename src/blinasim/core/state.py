"""Struct-of-arrays agent stores and the marrow lattice.

Every store has a fixed capacity and a slot count ``n``; dead agents are
flagged (``pos == POS_DEAD``) and squeezed out by compaction now and then.
Kernels append daughters at ``n``; they never grow a store themselves: when a
store is full a kernel returns the slot it stopped at, the model grows the
store (:meth:`Store.grow`) and resumes. The fields and their dtypes are chosen
once, in :mod:`blinasim.kernels.layout` (the layout the kernels read).

Two stores and one lattice:

* ``targets``: CD19-lineage cells, the drug's targets: leukemic blasts
  (``kind == KIND_BLAST``, with CD19 density, PD-L1, phenotype and a division
  clock) and normal B cells (``kind == KIND_NORMAL_B``).
* ``tcells``: T-cells with CD3 density, activation, exhaustion, kill count,
  synapse partner (a target slot) and synapse timer.
* the marrow lattice: ``site_kind`` (empty, a target, or another nucleated
  marrow cell) and ``site_slot`` (the target's slot). Other nucleated marrow
  cells (myeloid, erythroid) exist only as lattice contents.

The T-cell store is kept in lattice order (marrow T-cells by site, then blood)
by a sort on the slow clock, for memory locality (``kernels.compaction.sort_t_cells``).

``pos`` encodes the compartment: a site index (>= 0) in marrow,
``POS_BLOOD`` in blood, ``POS_DEAD`` for a dead slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from blinasim.kernels.layout import (
    POS_DEAD,
    SITE_KIND_DTYPE,
    SITE_SLOT_DTYPE,
    TARGET_FIELDS,
    TCELL_FIELDS,
)

__all__ = [
    "POPULATIONS",
    "P_BLAST",
    "P_NORMAL_B",
    "P_OTHER_MARROW",
    "P_T_CELL",
    "SITE_KIND_DTYPE",
    "SITE_SLOT_DTYPE",
    "TARGET_FIELDS",
    "TCELL_FIELDS",
    "State",
    "Store",
]

#: The populations whose births and deaths are recorded (the ``population`` dimension of the output).
POPULATIONS = ("blast", "normal_b", "t_cell", "other_marrow")
#: Their indices in the birth and death counters (``model.births``, ``model.deaths``).
P_BLAST, P_NORMAL_B, P_T_CELL, P_OTHER_MARROW = range(len(POPULATIONS))


class Store:
    """A struct-of-arrays store: one numpy array per field, a capacity and a slot count.

    Each field is an attribute (``store.pos``); :attr:`record` holds the same
    arrays as one tuple in field order, the argument a kernel takes for the
    whole store (positions in :mod:`blinasim.kernels.layout`). Only
    :meth:`grow` replaces the arrays, and it replaces both views at once.
    """

    def __init__(self, fields: dict[str, np.dtype], capacity: int):
        self.fields = dict(fields)
        self.capacity = max(int(capacity), 16)
        self.n = 0
        self.dead = 0
        self._set_arrays([np.empty(self.capacity, dtype=dtype) for dtype in self.fields.values()])
        self.pos[:] = POS_DEAD

    def _set_arrays(self, arrays: list[np.ndarray]) -> None:
        #: the arrays in field order: the record a kernel takes for this store
        self.record: tuple[np.ndarray, ...] = tuple(arrays)
        for name, array in zip(self.fields, arrays, strict=True):
            setattr(self, name, array)

    def grow(self, minimum: int) -> None:
        """Reallocate to at least ``minimum`` slots (by 1.5x steps); contents are kept."""
        if minimum <= self.capacity:
            return
        new_capacity = max(int(minimum), int(self.capacity * 1.5) + 16)
        arrays = []
        for old, dtype in zip(self.record, self.fields.values(), strict=True):
            new = np.empty(new_capacity, dtype=dtype)
            new[: self.n] = old[: self.n]
            arrays.append(new)
        self._set_arrays(arrays)
        self.pos[self.n :] = POS_DEAD
        self.capacity = new_capacity

    @property
    def live(self) -> int:
        """Number of living agents."""
        return self.n - self.dead

    @property
    def bytes_per_slot(self) -> int:
        return sum(dt.itemsize for dt in self.fields.values())

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.fields)

    def view(self, name: str) -> np.ndarray:
        """The used part (slots 0..n-1) of one field."""
        return getattr(self, name)[: self.n]


@dataclass
class State:
    """All agent state of one virtual patient."""

    side: int
    targets: Store
    tcells: Store
    site_kind: np.ndarray = field(repr=False)
    site_slot: np.ndarray = field(repr=False)
    scratch: np.ndarray = field(repr=False)
    #: slots of the CD19+ targets in blood (engaged or not) in slot order, kept by the
    #: encounter phase between slow steps; None when a slow phase has changed the targets
    #: (``kernels.encounter.list_blood_targets`` makes it again)
    blood_targets: np.ndarray | None = field(default=None, repr=False)
    #: the lattice as the record a kernel takes: ``(site_kind, site_slot)`` (never reallocated)
    lattice: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lattice = (self.site_kind, self.site_slot)

    @classmethod
    def allocate(cls, side: int, target_capacity: int, tcell_capacity: int) -> State:
        n_sites = side * side
        return cls(
            side=side,
            targets=Store(TARGET_FIELDS, target_capacity),
            tcells=Store(TCELL_FIELDS, tcell_capacity),
            site_kind=np.zeros(n_sites, dtype=SITE_KIND_DTYPE),
            site_slot=np.full(n_sites, -1, dtype=SITE_SLOT_DTYPE),
            scratch=np.empty(max(target_capacity, 16), dtype=np.int32),
        )

    @property
    def n_sites(self) -> int:
        return self.side * self.side

    def ensure_scratch(self) -> None:
        """Keep the int32 scratch buffer as large as the target store."""
        if self.scratch.shape[0] < self.targets.capacity:
            self.scratch = np.empty(self.targets.capacity, dtype=np.int32)

    @property
    def nbytes(self) -> int:
        """Bytes of agent state (stores, lattice and scratch)."""
        return (
            self.targets.nbytes
            + self.tcells.nbytes
            + self.site_kind.nbytes
            + self.site_slot.nbytes
            + self.scratch.nbytes
            + (self.blood_targets.nbytes if self.blood_targets is not None else 0)
        )
