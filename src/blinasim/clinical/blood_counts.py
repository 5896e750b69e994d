"""Blood counts (neutrophils, platelets) from the modelled marrow: a Friberg-type transit model.

Count recovery decides between CR, CRh and CRi (:mod:`blinasim.clinical.endpoints`), and the
trials define it by blood counts: neutrophils (ANC) and platelets. The lattice has no blood
counts; it has the marrow that makes them. Its normal hematopoiesis (other nucleated marrow
cells relative to a normal marrow, ``normal_hematopoiesis`` of the run) falls when blasts crowd
the marrow or chemotherapy empties it and rises as the marrow refills. This module turns that
series into blood counts with the semi-mechanistic myelosuppression model of Friberg et al.
(2002): a proliferating pool feeds three maturation (transit) compartments at rate ``k_tr``,
the last feeds the circulating cells, which leave at ``k_circ``, and a feedback
``(C_ref / C)^gamma`` (G-CSF for neutrophils, thrombopoietin for platelets) raises the output
of the marrow when the count is low.

Here the proliferating pool is the lattice's normal hematopoiesis ``h(t)`` (1 = a normal
marrow) rather than an ODE compartment of its own: the lattice already keeps that pool at its
size (refill of emptied sites) and lets blasts and chemotherapy shrink it. Leukemic cells also
suppress the output of the normal progenitors that remain beside them (they remodel the niche
and displace progenitors from it, [Colmone2008]), beyond the space they take: the pool's
output is ``u = h x (1 - b)^k`` with ``b`` the marrow blast fraction and ``k``
(``counts.leukemic_suppression``) calibrated (docs/validation.md). The flux into the first
transit compartment is ``k_circ x C_ref x u x (C_ref / C)^gamma``, so a normal marrow
(``u = 1``) holds the count at ``C_ref`` and a marrow at output ``u`` holds it at
``C_ref x u^(1 / (1 + gamma))``.

``C_ref``, the count of this patient's marrow freed of leukemia, follows from the patient's
count at entry (``patient.neutrophils_per_ul``, ``patient.platelets_per_nl``) and the marrow at
entry: ``C_ref = C_0 / u_0^(1 / (1 + gamma))``, at most the upper limit of normal
(``counts.*_upper_normal*``). A patient with low counts and little leukemia therefore has a
damaged marrow (prior therapy) and recovers only partly (CRh); one whose counts are low because
blasts crowd the marrow recovers fully once they are cleared (CR). When the patient's recovered
counts are given instead (``patient.neutrophils_recovered_per_ul``,
``patient.platelets_recovered_per_nl``: what prior therapy left of the marrow, which does not
depend on the leukemia), ``C_ref`` is that count and the entry count is the steady state of the
crowded marrow, ``C_0 = C_ref x u_0^(1 / (1 + gamma))``: drawn so, a cohort's damage to the
marrow is independent of its burden, where entry counts drawn independently of burden make the
low-burden patients the damaged ones. The compartments start at
steady state for the entry count; where the cap applies, the count relaxes towards what the
crowded marrow supports.

The counts are a deterministic post-processing of the run's recorded ``normal_hematopoiesis``
and ``marrow_blast_fraction`` (no random numbers, no feedback into the lattice): the output
``u`` (:func:`marrow_output`) is interpolated linearly between
records and the ODEs are integrated with classical Runge-Kutta steps of at most
:data:`MAX_STEP_DAYS`, so they are reproducible and can be recomputed from a stored run.

Config: ``counts.*`` (model parameters), ``patient.neutrophils_per_ul``,
``patient.platelets_per_nl`` (the entry counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from blinasim.params.schema import Config

#: The longest Runge-Kutta step (days); the fastest rate (neutrophil transit, ~1.1/day) needs
#: far less than this for a relative error below 1e-6.
MAX_STEP_DAYS = 0.05


@dataclass(frozen=True)
class Lineage:
    """The parameters of one blood lineage's transit model.

    Attributes
    ----------
    transit_per_day
        ``k_tr``: rate from one maturation compartment to the next (3 compartments).
    elimination_per_day
        ``k_circ``: loss of circulating cells.
    feedback
        ``gamma``: exponent of the feedback ``(C_ref / C)^gamma`` on the marrow's output.
    entry_count
        The patient's count at the start of the run (``C_0``).
    upper_normal
        The upper limit of ``C_ref`` (the count of a normal marrow).
    """

    transit_per_day: float
    elimination_per_day: float
    feedback: float
    entry_count: float
    upper_normal: float
    recovered: float | None = None

    def entry_and_reference(self, u0: float) -> tuple[float, float]:
        """``(C_0, C_ref)`` at entry marrow output ``u0``: from the entry count (``C_ref`` inferred,
        :meth:`reference_count`), or, when the patient's recovered count is given, ``C_ref`` is that
        count (at most the upper limit of normal) and ``C_0 = C_ref u0^(1 / (1 + gamma))``, the
        steady state of the crowded marrow at entry."""
        if self.recovered is None:
            return self.entry_count, self.reference_count(u0)
        c_ref = min(self.recovered, self.upper_normal)
        return c_ref * max(u0, 0.0) ** (1.0 / (1.0 + self.feedback)), c_ref

    def reference_count(self, u0: float) -> float:
        """``C_ref``: the count this patient's marrow holds when normal (``u = 1``), from the entry count
        at marrow output ``u0``, capped at the upper limit of normal."""
        if u0 <= 0.0:
            return self.upper_normal
        return min(self.entry_count / u0 ** (1.0 / (1.0 + self.feedback)), self.upper_normal)


def marrow_output(hematopoiesis: np.ndarray, blast_fraction: np.ndarray, config: Config) -> np.ndarray:
    """``u = h x (1 - b)^k``: the output of the normal marrow relative to a normal one, from its share
    ``h`` (crowding, aplasia) and the suppression by the leukemic cells beside it (blast fraction
    ``b``, exponent ``counts.leukemic_suppression``); NaN is read as no output."""
    h = np.nan_to_num(np.asarray(hematopoiesis, dtype=np.float64), nan=0.0)
    b = np.clip(np.nan_to_num(np.asarray(blast_fraction, dtype=np.float64), nan=1.0), 0.0, 1.0)
    return np.maximum(h, 0.0) * (1.0 - b) ** config.counts.leukemic_suppression


def neutrophils(config: Config) -> Lineage:
    """The neutrophil lineage of a config (count per uL)."""
    c = config.counts
    return Lineage(
        c.neutrophil_transit_per_day,
        c.neutrophil_transit_per_day,  # Friberg 2002: k_circ = k_tr
        c.neutrophil_feedback,
        config.patient.neutrophils_per_ul,
        c.neutrophils_upper_normal_per_ul,
        config.patient.neutrophils_recovered_per_ul,
    )


def platelets(config: Config) -> Lineage:
    """The platelet lineage of a config (count per nL, i.e. 10^9/L)."""
    c = config.counts
    return Lineage(
        c.platelet_transit_per_day,
        c.platelet_elimination_per_day,
        c.platelet_feedback,
        config.patient.platelets_per_nl,
        c.platelets_upper_normal_per_nl,
        config.patient.platelets_recovered_per_nl,
    )


def _rates(state: list[float], h: float, lin: Lineage, c_ref: float) -> list[float]:
    """d/dt of (transit 1, 2, 3, circulating) at marrow share ``h``."""
    t1, t2, t3, circ = state
    k, kc = lin.transit_per_day, lin.elimination_per_day
    drive = (c_ref / max(circ, 1e-12 * c_ref)) ** lin.feedback
    inflow = kc * c_ref * max(h, 0.0) * drive
    return [inflow - k * t1, k * (t1 - t2), k * (t2 - t3), k * t3 - kc * circ]


def count_series(times: np.ndarray, output: np.ndarray, lin: Lineage) -> np.ndarray:
    """The circulating count of one lineage on the record times.

    Parameters
    ----------
    times
        Record times (days, ascending).
    output
        The normal marrow's output at those times (:func:`marrow_output`; 1 = a normal marrow);
        NaN is read as 0.
    lin
        The lineage (:func:`neutrophils`, :func:`platelets`).

    Returns
    -------
    numpy.ndarray
        The count at each record time, in the lineage's unit; the first is the entry count.
    """
    t = np.asarray(times, dtype=np.float64)
    h = np.nan_to_num(np.asarray(output, dtype=np.float64), nan=0.0)
    out = np.empty(len(t))
    if len(t) == 0:
        return out
    c0, c_ref = lin.entry_and_reference(float(h[0]))
    pool = lin.elimination_per_day * c0 / lin.transit_per_day  # each transit compartment at steady state for C_0
    state = [pool, pool, pool, c0]
    out[0] = c0
    for i in range(1, len(t)):
        span = t[i] - t[i - 1]
        steps = max(1, math.ceil(span / MAX_STEP_DAYS - 1e-9))
        dt = span / steps
        h_a, slope = h[i - 1], (h[i] - h[i - 1]) / span if span > 0 else 0.0
        for s in range(steps):
            x = s * dt
            ha, hm, hb = h_a + slope * x, h_a + slope * (x + dt / 2), h_a + slope * (x + dt)
            k1 = _rates(state, ha, lin, c_ref)
            k2 = _rates([v + dt / 2 * d for v, d in zip(state, k1, strict=True)], hm, lin, c_ref)
            k3 = _rates([v + dt / 2 * d for v, d in zip(state, k2, strict=True)], hm, lin, c_ref)
            k4 = _rates([v + dt * d for v, d in zip(state, k3, strict=True)], hb, lin, c_ref)
            state = [
                max(v + dt / 6 * (a + 2 * b + 2 * c + d), 0.0)
                for v, a, b, c, d in zip(state, k1, k2, k3, k4, strict=True)
            ]
        out[i] = state[3]
    return out


def blood_counts(
    times: np.ndarray, hematopoiesis: np.ndarray, blast_fraction: np.ndarray, config: Config
) -> tuple[np.ndarray, np.ndarray]:
    """``(neutrophils per uL, platelets per nL)`` on the record times of a run, from its normal
    hematopoiesis and marrow blast fraction."""
    u = marrow_output(hematopoiesis, blast_fraction, config)
    return count_series(times, u, neutrophils(config)), count_series(times, u, platelets(config))
