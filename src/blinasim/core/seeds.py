"""Run seeds (docs/model.md, Design concepts): ``SeedSequence(root_seed, spawn_key=(sample, replicate))``.

A run's seed depends on the root seed, the sample (parameter set or virtual
patient) and the replicate, never on the arm or on submission order: two arms
of one experiment therefore share their random numbers (common random numbers).
"""

from __future__ import annotations

import numpy as np


def run_seed(root_seed: int, sample: int = 0, replicate: int = 0) -> int:
    """The 63-bit seed of one run."""
    seq = np.random.SeedSequence(int(root_seed), spawn_key=(int(sample), int(replicate)))
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
