"""Struct-of-arrays agent stores and the marrow lattice.

Every store has a fixed capacity and a slot count ``n``; dead agents are
flagged (``pos == POS_DEAD``) and squeezed out by compaction now and then.
Kernels append daughters at ``n``; they never grow a store themselves: when a
store is full a kernel returns the slot it stopped at, the model grows the
store (:meth:`Store.grow`) and resumes. Dtypes are chosen once, here.

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
by a sort on the slow clock, for memory locality (``kernels.census.sort_t_cells``).

``pos`` encodes the compartment: a site index (>= 0) in marrow,
``POS_BLOOD`` in blood, ``POS_DEAD`` for a dead slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from blinasim.kernels.layout import POS_DEAD

TARGET_FIELDS: dict[str, np.dtype] = {
    "pos": np.dtype(np.int32),
    "cd19": np.dtype(np.float32),  # molecules per cell
    "pdl1": np.dtype(np.float32),  # relative PD-L1 level (1 = baseline-high)
    "clock": np.dtype(np.float32),  # hours to next division (blasts)
    "kind": np.dtype(np.int8),
    "phenotype": np.dtype(np.int8),
    "engaged": np.dtype(np.uint8),
}

TCELL_FIELDS: dict[str, np.dtype] = {
    "pos": np.dtype(np.int32),
    "partner": np.dtype(np.int32),  # target slot in a synapse, or NO_PARTNER
    "cd3": np.dtype(np.float32),  # molecules per cell
    "activation": np.dtype(np.float32),  # 0-1
    "exhaustion": np.dtype(np.float32),  # 0-1
    "synapse_h": np.dtype(np.float32),  # hours left in the current synapse
    "kills": np.dtype(np.uint16),
}

#: The populations whose births and deaths are recorded (the ``population`` dimension of the output).
POPULATIONS = ("blast", "normal_b", "t_cell", "other_marrow")

SITE_KIND_DTYPE = np.dtype(np.int8)
SITE_SLOT_DTYPE = np.dtype(np.int32)


class Store:
    """A struct-of-arrays store: one numpy array per field, a capacity and a slot count."""

    def __init__(self, fields: dict[str, np.dtype], capacity: int):
        self.fields = dict(fields)
        self.capacity = max(int(capacity), 16)
        self.n = 0
        self.dead = 0
        for name, dtype in self.fields.items():
            setattr(self, name, np.empty(self.capacity, dtype=dtype))
        self.pos[:] = POS_DEAD

    def grow(self, minimum: int) -> None:
        """Reallocate to at least ``minimum`` slots (by 1.5x steps); contents are kept."""
        if minimum <= self.capacity:
            return
        new_capacity = max(int(minimum), int(self.capacity * 1.5) + 16)
        for name, dtype in self.fields.items():
            old = getattr(self, name)
            new = np.empty(new_capacity, dtype=dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
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
