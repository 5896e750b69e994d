"""Integer codes shared by the kernels and the state module.

They live in ``kernels/`` so that editing one invalidates the kernel cache
(see ``kernels/__init__.py``); numba freezes them as compile-time constants.
"""

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
