"""Seizures under blinatumomab: a hazard that rises with the neurotoxicity grade.

Seizures are the rarest of blinatumomab's serious neurological events: 4 of
189 adults with R/R B-ALL (2.1%) had convulsions in MT103-211 (Topp 2015), and
2.1-8.3% across the adult phase 2 trials, within the 13-17% who had grade >= 3
neurological events (Stein 2019). They occur with the cytokine-driven
encephalopathy, so the model draws them from a per-day hazard set by the
neurotoxicity grade of the tick (``toxicity.seizure_hazard_per_day``, one value
per grade 1-4). Every modelled seizure is an ICANS grade-3 event (any clinical
seizure that resolves rapidly; Lee 2019), which the protocol answers with a
hold and an anti-epileptic, and a second seizure ends treatment (the label).

The draw is one uniform number per tick from the counter-based stream
``SEIZURE`` (:mod:`blinasim.kernels.rng`), drawn only while the hazard is
positive, so seizures never shift any other process's random numbers and
both models (numba and the Mesa reference) see the same seizures.
"""

from __future__ import annotations

import math

import numpy as np

from blinasim.kernels.rng import SEIZURE, stream_key, uniform

#: the ICANS grade of a modelled seizure (any clinical seizure that resolves rapidly, Lee 2019)
SEIZURE_GRADE = 3


class SeizureModel:
    """Seizure events of one patient: ``step`` gives the grade of a seizure in a tick (0: none)."""

    def __init__(self, config, seed: int, dt_hours: float):
        self.hazard_per_day = tuple(config.toxicity.seizure_hazard_per_day)
        self.seed = np.uint64(seed)  # run seeds use all 64 bits
        self.dt_days = dt_hours / 24.0

    def probability(self, neuro_grade: int) -> float:
        """Chance of a seizure within one tick at this neurotoxicity grade (exact for a constant hazard)."""
        if neuro_grade <= 0:
            return 0.0
        hazard = self.hazard_per_day[min(neuro_grade, len(self.hazard_per_day)) - 1]
        return -math.expm1(-hazard * self.dt_days)

    def step(self, tick: int, neuro_grade: int) -> int:
        """Grade of the seizure in tick ``tick`` (:data:`SEIZURE_GRADE`), or 0 if none."""
        p = self.probability(neuro_grade)
        if p <= 0.0:
            return 0
        key = np.uint64(stream_key(self.seed, np.int64(tick), SEIZURE))  # numba returns a Python int
        u = uniform(key, 0, 0)
        return SEIZURE_GRADE if u < p else 0
