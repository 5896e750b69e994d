"""The memory layout the kernels and the state module share: the fields of the
agent stores, the records the kernels take, and the integer codes.

A kernel takes each agent store as one argument, its *record*: a tuple of the
store's arrays in field order (:attr:`blinasim.core.state.Store.record`), and
the marrow lattice as one more (:attr:`blinasim.core.state.State.lattice`).
A kernel names the fields it uses on its first lines, by the positions below
(``t_pos = tcells[T_POS]``). A plain tuple, not a namedtuple: numba types a
plain tuple of arrays on its fast path, as cheaply as loose arrays, while a
namedtuple's type is looked up by its class and field names, about a
microsecond more per record and call; over the nine records the fast kernels
take each tick that would be a fifth of a tick of a 48 x 48 patient.

They live in ``kernels/`` so that editing one invalidates the kernel cache
(see ``kernels/__init__.py``); numba freezes them as compile-time constants.
"""

import numpy as np

# Fields of the target store (CD19-lineage cells: blasts and normal B cells), in record order.
TARGET_FIELDS: dict[str, np.dtype] = {
    "pos": np.dtype(np.int32),
    "cd19": np.dtype(np.float32),  # molecules per cell
    "pdl1": np.dtype(np.float32),  # relative PD-L1 level (1 = baseline-high)
    "clock": np.dtype(np.float32),  # hours to next division (blasts)
    "kind": np.dtype(np.int8),
    "phenotype": np.dtype(np.int8),
    "engaged": np.dtype(np.uint8),
}
TG_POS, TG_CD19, TG_PDL1, TG_CLOCK, TG_KIND, TG_PHENOTYPE, TG_ENGAGED = range(7)

# Fields of the T-cell store, in record order.
TCELL_FIELDS: dict[str, np.dtype] = {
    "pos": np.dtype(np.int32),
    "partner": np.dtype(np.int32),  # target slot in a synapse, or NO_PARTNER
    "cd3": np.dtype(np.float32),  # molecules per cell
    "activation": np.dtype(np.float32),  # 0-1
    "exhaustion": np.dtype(np.float32),  # 0-1
    "synapse_h": np.dtype(np.float32),  # hours left in the current synapse
    "kills": np.dtype(np.uint16),
}
T_POS, T_PARTNER, T_CD3, T_ACTIVATION, T_EXHAUSTION, T_SYNAPSE_H, T_KILLS = range(7)

# The lattice record: what each site holds, and the slot of the target there.
SITE_KIND_DTYPE = np.dtype(np.int8)
SITE_SLOT_DTYPE = np.dtype(np.int32)
L_KIND, L_SLOT = range(2)

# Marrow lattice site contents (``site_kind``).
SITE_EMPTY = 0
SITE_TARGET = 1  # a CD19-lineage resident (blast or normal B); ``site_slot`` names it
SITE_OTHER = 2  # another nucleated marrow cell (myeloid, erythroid)

# Position codes of mobile agents (``pos``): >= 0 is a marrow site index.
POS_BLOOD = -1
POS_DEAD = -2

# Kinds of the target store.
KIND_NORMAL_B = 0
KIND_BLAST = 1

# Blast phenotypes.
PHENO_CD19_POSITIVE = 0
PHENO_CD19_NEGATIVE = 1
PHENO_MYELOID = 2

# No synapse partner.
NO_PARTNER = -1
